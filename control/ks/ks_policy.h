// The group policy as GDOI payloads: the configured ACL and transform as SA TEKs (one per
// ACE; permit ACEs carry the generation's SPI, deny ACEs SPI 0 and no keys, spec 5), the
// KEK as an SA KEK and its key packet. Pure functions of the config and the key state.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "control/gdoi_payloads.h"
#include "control/gdoi_sa.h"
#include "control/groupkey_push.h"
#include "control/ks/ks_config.h"

namespace gm::control::ks {

/// Sender ids are 16 bits: the ESP IV of the GCM transforms carries 16 (README "Transforms").
inline constexpr uint16_t sid_bits = 16;

/// Whole seconds from `now` to `expires`, rounded up, 0 when past.
uint32_t remaining_s(std::chrono::steady_clock::time_point expires,
                     std::chrono::steady_clock::time_point now);

/// One SA TEK per ACE, in ACL order. `lifetime_s` is what is left of the generation;
/// `pseudotime_ms` goes into the TBAR attribute when the replay mode is time.
std::vector<sa_tek> build_sa_teks(const ks_config& cfg, uint32_t spi, uint32_t lifetime_s,
                                  uint64_t pseudotime_ms);

/// The SA TEK identities of one ACE (IPv4 subnet, or address for a host; the port of an
/// `eq` match, else 0 = any).
sa_identity ace_source(const classifier::ace& a);
sa_identity ace_destination(const classifier::ace& a);

/// SA KEK for `kek` (lifetime = what is left), with KEK_ACK_REQUESTED for unicast rekeys.
sa_kek build_sa_kek(const ks_config& cfg, const kek_state& kek, unsigned rsa_bits,
                    uint32_t lifetime_s);
/// KEK key packet: KEK_ALGORITHM_KEY = IV || key, SIG_ALGORITHM_KEY = KS public key.
key_packet build_kek_packet(const kek_state& kek);

/// GAP activation delay of a TEK rekey: long enough for every resend to reach every GM
/// before anyone sends on the new TEK, and shorter than what is left of the old one.
uint16_t activation_delay_s(const ks_config& cfg);

}  // namespace gm::control::ks
