// Inbound ESP: SPI lookup, ICV verify, decrypt, padding and next-header checks, outer
// header strip. TBAR metadata is decoded into meta(); the replay decision is tbar/'s.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "crypto/esp_lcore.h"
#include "crypto/esp_sa.h"

namespace gm::crypto {

/// Decrypts `n` single-segment mbufs whose data starts at an outer IPv4 header, in place.
/// Good packets end up at pkts[0..ret), data starting at the inner IPv4 header, with
/// meta() holding the SA slot and any TBAR stamp. Bad packets are at pkts[ret..n) with
/// meta()->reason set and counted; the caller frees them.
uint16_t esp_decrypt_burst(esp_lcore& lc, const sa_lookup& lookup, rte_mbuf** pkts, uint16_t n);

}  // namespace gm::crypto
