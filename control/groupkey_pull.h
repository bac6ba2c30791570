// GROUPKEY-PULL (RFC 6407 3.2, exchange 32): the registration, as two pure state machines
// over an established phase-1 SA. No sockets, no timers: the daemon feeds datagrams in and
// sends what comes back, and retransmits last_sent() on its own timer.
//
//   GM -> KS  HDR*, HASH(1), Ni, ID       HASH(1) = prf(SKEYID_a, M-ID | Ni | ID)
//   KS -> GM  HDR*, HASH(2), Nr, SA       HASH(2) = prf(SKEYID_a, M-ID | Ni_b | Nr | SA)
//   GM -> KS  HDR*, HASH(3) [, GAP]       HASH(3) = prf(SKEYID_a, M-ID | Ni_b | Nr_b [| GAP])
//   KS -> GM  HDR*, HASH(4) [, SEQ], KD   HASH(4) = prf(SKEYID_a, M-ID | Ni_b | Nr_b [| SEQ] | KD)
//
// As in RFC 2409 Quick Mode, the payloads named after M-ID (and the nonce bodies aside) are
// hashed whole, generic headers included: in practice, every byte of the decrypted chain
// from the end of the HASH payload to the end of the last payload (padding excluded).
// Ni_b / Nr_b are nonce bodies without the generic header.
//
// Robustness: a datagram identical to the last one accepted is a retransmission and gets
// the identical reply (last_sent()) without touching any state; any failure (garbage, a
// wrong HASH, a message out of turn) returns a typed error and leaves the machine, and the
// phase-1 SA's CBC IV chain, exactly as they were.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <variant>

#include "control/byte_io.h"
#include "control/group_keys.h"
#include "control/groupkey_errors.h"
#include "control/phase1_sa.h"

namespace gm::control {

/// What a receive() returns: a reply to send (or none), or why the datagram was refused.
using pull_step = std::variant<std::optional<bytes>, pull_error>;

/// Length of the nonces we send (RFC 2409: 8..256 bytes).
inline constexpr std::size_t pull_nonce_len = 32;

/// The GM side. Not thread-safe; one per registration attempt.
class pull_initiator {
 public:
  /// `sa` must outlive this object. `group`: the group number (ID_KEY_ID, 4 bytes, big
  /// endian). `request_sender_id`: send GAP with SENDER_ID_REQUEST = 1 in message 3.
  pull_initiator(phase1_sa& sa, uint32_t group, bool request_sender_id);

  /// Message 1 (a fresh random message id and nonce). Call once.
  bytes start();
  /// Message 2 -> message 3 to send; message 4 -> nothing to send, done() turns true.
  pull_step receive(std::span<const uint8_t> dgram);

  bool done() const { return _state == state::done; }
  /// Valid once done().
  const group_keys& keys() const { return _keys; }
  /// The last message sent (for the daemon's retransmission timer).
  const bytes& last_sent() const { return _last_sent; }
  uint32_t message_id() const { return _mid; }
  uint32_t group() const { return _group; }

 private:
  enum class state : uint8_t { idle, sent_1, sent_3, done };
  pull_step on_message_2(std::span<const uint8_t> dgram);
  pull_step on_message_4(std::span<const uint8_t> dgram);

  phase1_sa& _sa;
  uint32_t _group;
  bool _request_sender_id;
  state _state = state::idle;
  uint32_t _mid = 0;
  bytes _ni;  ///< nonce bodies
  bytes _nr;
  sa_payload _sa_policy;  ///< SA of message 2, checked against message 4's KD
  group_keys _keys;
  bytes _last_sent;
  bytes _last_received;  ///< the datagram that produced _last_sent (retransmission check)
};

/// The KS policy hook. Called with the group number after message 1 verifies, with
/// sender_id_requested = false: the offer's SA goes into message 2 and its KD/SEQ into
/// message 4. If message 3 asks for a sender id and that offer carried no `sid`, it is
/// called once more with sender_id_requested = true, and only that offer's `sid` is used.
/// Returning nothing means "no such group": unknown_group.
using pull_policy =
    std::function<std::optional<ks_offer>(uint32_t group, bool sender_id_requested)>;

/// The KS side. Not thread-safe; one per message id (the daemon keys them by cookies and
/// message id).
class pull_responder {
 public:
  /// `sa` must outlive this object.
  pull_responder(phase1_sa& sa, pull_policy policy);

  /// Message 1 -> message 2 to send; message 3 -> message 4 to send, done() turns true.
  pull_step receive(std::span<const uint8_t> dgram);

  bool done() const { return _state == state::done; }
  /// The group the GM asked for (valid after message 1 was accepted).
  uint32_t group() const { return _group; }
  uint32_t message_id() const { return _mid; }
  /// Whether message 3 asked for a sender id, and the SID packet sent (if any).
  bool sender_id_requested() const { return _sid_requested; }
  const bytes& last_sent() const { return _last_sent; }

 private:
  enum class state : uint8_t { wait_1, sent_2, done };
  pull_step on_message_1(std::span<const uint8_t> dgram);
  pull_step on_message_3(std::span<const uint8_t> dgram);

  phase1_sa& _sa;
  pull_policy _policy;
  state _state = state::wait_1;
  uint32_t _mid = 0;
  uint32_t _group = 0;
  bool _sid_requested = false;
  bytes _ni;
  bytes _nr;
  std::optional<ks_offer> _offer;
  bytes _last_sent;
  bytes _last_received;
};

}  // namespace gm::control
