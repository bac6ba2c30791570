// IKEv1 Main Mode (RFC 2409 5, exchange type 2) with pre-shared-key authentication, the
// phase 1 that protects GDOI (spec 5: DOI 2 in the SA payload, UDP 848). Both sides are
// pure state machines: datagrams in, the datagram to send out, no sockets, no timers; the
// caller owns retransmission (resend last_sent()) and passes the time in.
//
//   initiator                        responder
//   1  HDR, SA                 ->
//                              <-    2  HDR, SA (the chosen transform)
//   3  HDR, KE, Ni             ->
//                              <-    4  HDR, KE, Nr
//   5  HDR*, IDii, HASH_I      ->
//                              <-    6  HDR*, IDir, HASH_R
//
// A datagram equal to the last one accepted is a retransmission: it is answered with
// last_sent() and not processed again. A refused datagram leaves the state as it was, so the
// genuine message can still arrive. Neither class is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "control/byte_io.h"
#include "control/ike_crypto.h"
#include "control/ike_error.h"
#include "control/phase1_sa.h"

namespace gm::control {

struct main_mode_config {
  /// Initiator: offered in this order of preference. Responder: the accepted set.
  std::vector<phase1_policy> proposals;
  key_bytes psk;
  uint32_t local_addr = 0;  ///< IPv4, host order; sent as our ID_IPV4_ADDR
  uint32_t peer_addr = 0;
};

/// What receive() gives back: the datagram to send next (nullopt: nothing to send), or why
/// the datagram was refused.
using mm_result = std::variant<std::optional<bytes>, ike_error>;

/// Nonce length we send (RFC 2409 5: 8..256 bytes).
inline constexpr std::size_t mm_nonce_len = 32;

namespace detail {
/// What both sides keep between messages.
struct mm_state {
  phase1_sa sa;
  key_bytes psk;
  std::optional<ike::dh_keypair> dh;
  bytes gxi, gxr, ni, nr;
  bytes sai_b;  ///< the initiator's SA payload body, as sent (HASH_I and HASH_R cover it)
  bytes last_sent;
  bytes last_received;
  int step = 0;  ///< number of the last message sent (initiator 1/3/5) or answered (2/4/6)
};
}  // namespace detail

class main_mode_initiator {
 public:
  explicit main_mode_initiator(main_mode_config cfg);

  /// Message 1 (new initiator cookie). Call once.
  bytes start();
  /// Takes message 2 (-> message 3), 4 (-> message 5) or 6 (-> nullopt, established).
  mm_result receive(std::span<const uint8_t> dgram, std::chrono::steady_clock::time_point now);
  mm_result receive(std::span<const uint8_t> dgram) {
    return receive(dgram, std::chrono::steady_clock::now());
  }

  bool established() const { return _established; }
  /// The SA so far (cookies from the start, keys after message 4, complete once established).
  const phase1_sa& sa() const { return _s.sa; }
  phase1_sa take_sa() { return std::move(_s.sa); }
  /// The last datagram sent, for retransmission.
  const bytes& last_sent() const { return _s.last_sent; }

 private:
  mm_result on_msg2(std::span<const uint8_t> dgram, const isakmp_header& h);
  mm_result on_msg4(std::span<const uint8_t> dgram, const isakmp_header& h);
  mm_result on_msg6(std::span<const uint8_t> dgram, const isakmp_header& h,
                    std::chrono::steady_clock::time_point now);

  std::vector<phase1_policy> _offered;
  detail::mm_state _s;
  bool _established = false;
};

class main_mode_responder {
 public:
  /// `psk_for` looks up the pre-shared key of a peer address (nullopt or empty: unknown peer).
  main_mode_responder(std::vector<phase1_policy> accepted,
                      std::function<std::optional<key_bytes>(uint32_t peer)> psk_for,
                      uint32_t local_addr, uint32_t peer_addr);

  /// Takes message 1 (-> 2), 3 (-> 4) or 5 (-> 6, established).
  mm_result receive(std::span<const uint8_t> dgram, std::chrono::steady_clock::time_point now);
  mm_result receive(std::span<const uint8_t> dgram) {
    return receive(dgram, std::chrono::steady_clock::now());
  }

  bool established() const { return _established; }
  const phase1_sa& sa() const { return _s.sa; }
  phase1_sa take_sa() { return std::move(_s.sa); }
  const bytes& last_sent() const { return _s.last_sent; }

 private:
  mm_result on_msg1(std::span<const uint8_t> dgram, const isakmp_header& h);
  mm_result on_msg3(std::span<const uint8_t> dgram, const isakmp_header& h);
  mm_result on_msg5(std::span<const uint8_t> dgram, const isakmp_header& h,
                    std::chrono::steady_clock::time_point now);

  std::vector<phase1_policy> _accepted;
  std::function<std::optional<key_bytes>(uint32_t)> _psk_for;
  detail::mm_state _s;
  bool _established = false;
};

/// The responder's rule for an offered policy: same cipher, key length, hash and group as an
/// accepted one, and a lifetime no longer than its (what IOS requires of a peer's policy).
bool acceptable(const phase1_policy& offered, const phase1_policy& accepted);

}  // namespace gm::control
