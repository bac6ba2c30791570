// What a registration (GROUPKEY-PULL) or a rekey (GROUPKEY-PUSH) delivers to a GM, and what
// a key server offers for a group. Plain values built from the codec's payload structs; the
// daemons turn them into data-plane SAs and the KEK state for later rekeys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "control/gdoi_payloads.h"
#include "control/gdoi_sa.h"

namespace gm::control {

/// The keys of one group as the KS delivered them.
struct group_keys {
  std::optional<sa_kek> kek;                ///< SA KEK policy; kek->spi = the rekey cookies
  std::optional<key_packet> kek_keys;       ///< KEK key packet: algorithm_key = IV || key,
                                            ///< signature_key = KS public key (DER SPKI)
  std::vector<sa_tek> teks;                 ///< every ACE in order; deny ACEs have spi 0
  std::map<uint32_t, key_packet> tek_keys;  ///< TEK key packets by SPI (permit TEKs only)
  std::optional<gap_payload> gap;           ///< GAP the KS sent in the SA
  std::optional<uint32_t> seq;              ///< SEQ of message 4 / of the push
  std::optional<key_packet> sid;            ///< SID key packet (type 4) when a sender id was given
  id_forms forms;                           ///< ID-length forms the KS used (interop log line)

  /// The sender id value (SID_VALUE attribute, RFC 6407 5.5.3) of the SID key packet.
  std::optional<uint64_t> sender_id() const;
};

/// SID key packet attributes (RFC 6407 5.5.3).
namespace sid_attr {
inline constexpr uint16_t number_of_sid_bits = 1;
inline constexpr uint16_t sid_value = 2;
}  // namespace sid_attr

/// A SID key packet (type 4, no SPI) carrying NUMBER_OF_SID_BITS and SID_VALUE.
key_packet make_sid_packet(uint16_t sid_bits, uint32_t sid);

/// Fills `out` from an SA (policy) and a KD (keys); the KD's key packets land by type.
/// Does not check them against each other: callers run check_keys first.
void add_keys(group_keys& out, const sa_payload& sa, const kd_payload& kd);

/// What a key server serves for a group in GROUPKEY-PULL.
struct ks_offer {
  sa_payload sa;                  ///< message 2: SA KEK (optional), SA TEKs, GAP
  kd_payload kd;                  ///< message 4: KEK and TEK key packets
  std::optional<uint32_t> seq;    ///< message 4: current rekey SEQ (RFC 6407: sent when a KEK is)
  std::optional<key_packet> sid;  ///< SID key packet, added to message 4's KD only when the GM
                                  ///< asked for a sender id in message 3 (GAP)
};

}  // namespace gm::control
