// An established IKEv1 phase-1 SA (RFC 2409): the keys GROUPKEY-PULL messages are hashed
// and encrypted with, and the per-exchange CBC IV chaining of RFC 2409 Appendix B.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>

#include "control/byte_io.h"
#include "control/ike_crypto.h"
#include "control/isakmp.h"

namespace gm::control {

struct phase1_policy {
  ike::cipher cipher = ike::cipher::aes_cbc;
  uint16_t key_bits = 256;
  ike::hash_alg hash = ike::hash_alg::sha256;
  ike::dh_group group = ike::dh_group::modp2048;
  uint32_t lifetime_s = 86400;
  bool operator==(const phase1_policy&) const = default;
};

struct phase1_sa {
  cookie icookie{};
  cookie rcookie{};
  phase1_policy policy;
  bool initiator = true;
  uint32_t local_addr = 0;  ///< IPv4, host order
  uint32_t peer_addr = 0;
  key_bytes skeyid;
  key_bytes skeyid_d;
  key_bytes skeyid_a;  ///< HASH(n) of GROUPKEY-PULL: prf(SKEYID_a, M-ID | ...)
  key_bytes skeyid_e;
  key_bytes enc_key;  ///< SKEYID_e expanded/truncated to the cipher's key length
  bytes phase1_iv;    ///< last CBC block of the last phase-1 message (base of phase-2 IVs)
  std::chrono::steady_clock::time_point established{};

  /// Per-message-id CBC state: RFC 2409 App. B. The first IV of an exchange with message
  /// id M is hash(phase1_iv | M) truncated to the block; after that, the last ciphertext
  /// block of the previous message of that exchange (either direction).
  std::map<uint32_t, bytes> exchange_iv;
};

/// Encrypts a plaintext payload chain for message id `header.message_id` under the
/// phase-1 SA: pads to the block size with zeros (IKEv1 has no pad-length byte; receivers
/// ignore what follows the last payload), sets the E flag and the header length, and
/// returns header || ciphertext. Advances the exchange IV. Empty when the SA's enc_key or
/// IV does not fit its cipher (a broken SA, never network input).
bytes protect(phase1_sa& sa, isakmp_header header, std::span<const uint8_t> payload_chain);

/// Decrypts the bytes after the header of `datagram` (which has the E flag) and returns the
/// plaintext chain (with its padding: decode with tail::padding). Advances the exchange IV.
/// Empty when the length is not a whole number of blocks.
/// RFC 2409 App. B advances the IV only for a message that authenticates: a caller whose
/// HASH check then fails restores `exchange_iv` as it was before the call.
std::optional<bytes> unprotect(phase1_sa& sa, std::span<const uint8_t> datagram);

/// The IV the next message of exchange `message_id` is encrypted with (nothing advances).
/// Message id 0 (phase 1 itself) starts from `phase1_iv`.
bytes next_iv(const phase1_sa& sa, uint32_t message_id);

}  // namespace gm::control
