// Outbound ESP, tunnel mode with header preservation (spec section 3): the outer IPv4
// header copies the inner addresses, DSCP/ECN and TTL; DF per SA; fresh IP id.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "crypto/esp_lcore.h"
#include "crypto/esp_sa.h"

namespace gm::crypto {

/// Encrypts `n` single-segment mbufs whose data starts at an inner IPv4 header, in place.
/// `pseudotime_ms` stamps the TBAR metadata when the SA has time-based replay.
/// Returns the number of good packets, now at pkts[0..ret); the rest are at pkts[ret..n)
/// with meta()->reason set and counted; the caller frees them.
uint16_t esp_encrypt_burst(esp_lcore& lc, const esp_sa& sa, rte_mbuf** pkts, uint16_t n,
                           uint64_t pseudotime_ms);

/// Bytes an SA adds to an inner packet of `inner_len` bytes (outer IP to ICV).
uint32_t esp_overhead(const esp_sa& sa, uint32_t inner_len);

/// The largest inner length L with L + esp_overhead(sa, L) <= mtu, or 0 if none fits:
/// the data plane's MTU check compares against it once per burst instead of working out
/// each packet's padding.
uint32_t esp_max_inner_len(const esp_sa& sa, uint32_t mtu);

}  // namespace gm::crypto
