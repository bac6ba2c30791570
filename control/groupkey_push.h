// GROUPKEY-PUSH (RFC 6407 4, exchange 33): the rekey message, built by a KS and opened by a
// GM, and its RFC 8263 acknowledgement (unicast rekeys). Pure functions over a KEK state.
//
//   HDR*(cookies = KEK SPI, message id 0), SEQ, [D,] SA, KD, SIG
//
// Everything after the header is CBC-encrypted with the KEK (AES-CBC or 3DES-CBC), padded
// with zeros to the block (IKEv1 has no pad-length byte). Two IV modes exist:
//   - RFC 6407: a fresh random IV per message, sent in clear between the ISAKMP header and
//     the ciphertext (the header length counts it);
//   - Cisco's 2011 reference (spec 5 "Interop tolerance"): the IV of the KD's
//     KEK_ALGORITHM_KEY (IV || key) for every rekey under that KEK, nothing sent.
// open_push() tries both and says which one produced a message whose signature verified.
//
// Signature: RSA PKCS#1 v1.5 over hash("rekey" | HDR | SEQ [| D] | SA | KD), the payloads
// in plaintext with their generic headers, SIG excluded. HDR is the 28-byte ISAKMP header
// exactly as sent (E flag set, length = the whole datagram), which a sender knows before
// signing because the signature length is the modulus length. Both hash encodings
// (DigestInfo, raw hash) are accepted; opened_push::form says which verified.
//
// Replay rule (spec 7 "KEK rekey seq reset to 1 rejected as replay"): a push is accepted
// only with SEQ > the last accepted SEQ *under the same KEK*. When a push installs a new
// KEK (a KD KEK key packet), the SEQ counter restarts: the next push, under the new KEK,
// is accepted from SEQ 1. rekey_receiver applies this rule.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "control/byte_io.h"
#include "control/gdoi_payloads.h"
#include "control/gdoi_sa.h"
#include "control/groupkey_errors.h"
#include "control/ike_crypto.h"

namespace gm::control {

/// GROUPKEY-PUSH ACK exchange type (RFC 8263).
inline constexpr uint8_t groupkey_push_ack_exchange = 35;
/// SA KEK attribute by which a KS asks for ACKs (RFC 8263 2): KEK_ACK_REQUESTED.
inline constexpr uint16_t kek_ack_requested_attr = 9;
/// Its values (RFC 8263 2 and 8): the prf and the base key of the ACK's HASH.
namespace kek_ack_type {
inline constexpr uint16_t kek_sha256 = 1;  ///< REKEY_ACK_KEK_SHA256: HMAC-SHA-256, the KEK key
inline constexpr uint16_t lkh_sha256 = 2;  ///< REKEY_ACK_LKH_SHA256 (LKH: not implemented)
inline constexpr uint16_t kek_sha512 = 3;  ///< REKEY_ACK_KEK_SHA512: HMAC-SHA-512, the KEK key
inline constexpr uint16_t lkh_sha512 = 4;  ///< REKEY_ACK_LKH_SHA512 (LKH: not implemented)
}  // namespace kek_ack_type

/// What a GM (or KS) needs to open (or build) pushes under one KEK.
struct kek_state {
  kek_spi spi{};                ///< the push's cookies
  uint16_t alg = kek_alg::aes;  ///< kek_alg::aes / kek_alg::des3
  key_bytes key;                ///< 16/24/32 bytes (AES) or 24 (3DES)
  bytes iv;                     ///< the KD's IV (static-IV mode; ignored by RFC mode)
  ike::hash_alg sig_hash = ike::hash_alg::sha256;
  bytes ks_public_der;         ///< KS RSA public key, DER SubjectPublicKeyInfo
  bool ack_requested = false;  ///< SA KEK carried KEK_ACK_REQUESTED
  uint16_t ack_type = 0;       ///< its value (kek_ack_type); 0 when not requested
};

/// Builds a KEK state from an SA KEK and its KEK key packet (KEK_ALGORITHM_KEY = IV || key:
/// IV of one block, key of KEK_KEY_LENGTH bits, or the rest when the attribute is absent;
/// SIG_ALGORITHM_KEY = public key). `previous_public_der` is kept when the packet carries no
/// public key. bad_kek when the algorithm, lengths or hash are not ones we implement.
std::variant<kek_state, push_error> make_kek_state(
    const sa_kek& kek, const key_packet& keys, std::span<const uint8_t> previous_public_der = {});

struct rekey_build_options {
  ike::sig_form form = ike::sig_form::digest_info;
  bool static_iv = false;  ///< Cisco 2011 form: KD IV, not sent
};

/// KS: the whole datagram. `signer` must hold the private key matching ks_public_der.
std::variant<bytes, push_error> build_push(const kek_state& kek, const ike::rsa_key& signer,
                                           uint32_t seq, const sa_payload& sa, const kd_payload& kd,
                                           const std::optional<delete_payload>& del,
                                           const rekey_build_options& options = {});

struct opened_push {
  uint32_t seq = 0;
  sa_payload sa;
  kd_payload kd;
  std::optional<delete_payload> del;
  ike::sig_form form = ike::sig_form::digest_info;  ///< which signature encoding verified
  bool static_iv = false;                           ///< Cisco static-IV mode was used
  id_forms forms;                                   ///< ID-length forms met in SA KEK/TEKs
  bytes plaintext;  ///< header (E flag cleared, plaintext length) + payload chain: for logs
                    ///< and tshark; holds keys, so never written anywhere by default
};

/// GM: checks header (exchange 33, cookies = current SPI, message id 0, E flag), decrypts
/// (both IV modes), verifies the signature with current.ks_public_der, then SEQ > last_seq
/// and the SA/KD consistency (check_keys). Nothing is changed: the caller installs.
std::variant<opened_push, push_error> open_push(std::span<const uint8_t> dgram,
                                                const kek_state& current, uint32_t last_seq);

/// The GM's rekey state: current KEK and last accepted SEQ, with the replay rule above.
struct rekey_receiver {
  kek_state kek;
  uint32_t last_seq = 0;
  /// open_push(); on success last_seq = seq, but when the push carries a KEK key packet
  /// for a different KEK (another SPI or key: a KEK rekey) the new KEK replaces `kek` and
  /// last_seq restarts at 0. A KD that resends the current KEK changes nothing.
  std::variant<opened_push, push_error> receive(std::span<const uint8_t> dgram);
};

// RFC 8263 acknowledgement, GM -> KS (unicast rekeys):
//
//   HDR(cookies = the push's cookies, next payload HASH, version 1.0, exchange 35,
//       flags 0, message id 0), HASH, SEQ, ID
//
//   ack_key = prf(base_key, "GROUPKEY-PUSH ACK\0" | SPI | L)
//   HASH    = prf(ack_key, SEQ | ID)        (whole payloads, generic headers included)
//
// For KEK_ACK_REQUESTED = REKEY_ACK_KEK_SHA256 (1) prf is HMAC-SHA-256 and L = 512; for
// REKEY_ACK_KEK_SHA512 (3) HMAC-SHA-512 and L = 1024. base_key is the KEK key (the KD's
// KEK_ALGORITHM_KEY without its IV), SPI the push's initiator then responder cookie, the
// label is null-terminated, L two octets in network order (RFC 8263 4.2: L "MUST match
// the length of the base_key", i.e. the prf's block size; the ack_key itself is the prf's
// output, a feedback-mode KDF of one block with no IV and no counter). Keys shorter than
// the block are zero-filled, which HMAC does by definition. The ID is ID_IPV4_ADDR of the
// GM with protocol and port 0 (4.4). The LKH types (2, 4) need a pairwise LKH key we do
// not have: a GM asked for them does not ACK and stays in the group (RFC 8263 5).
//
// The HASH proves knowledge of the KEK (any group member), not who the member is (RFC
// 8263 8.1): the KS also matches the ID against the datagram's source.
//
// Source: RFC 8263 (its XML source text). The tests check the HASH against an independent
// Python computation of the formulas above (tests/control/groupkey_oracle_test.py).
//
// The push's signature input (top of this file) agrees with RFC 8263 3's summary of RFC
// 6407 ("a signature of a hash of the entire GROUPKEY-PUSH message (excepting the SIG
// payload octets) before it has been encrypted"); the "rekey" prefix, the E flag and the
// final length in the signed header are our reading of RFC 6407 4, whose text was not at
// hand: check them against it before interop with another KS.

/// Whether an SA KEK asks for acknowledgements./// Whether an SA KEK asks for acknowledgements.
bool ack_requested(const sa_kek& kek);
/// Its KEK_ACK_REQUESTED value (0 when absent).
uint16_t ack_type(const sa_kek& kek);
/// Whether we can build (and check) acknowledgements of this type: 1 and 3.
bool ack_type_supported(uint16_t type);
/// bad_kek when `kek.ack_type` is not one we implement (ack_type_supported).
std::variant<bytes, push_error> build_push_ack(const kek_state& kek, uint32_t seq,
                                               const id_payload& member);

struct opened_ack {
  uint32_t seq = 0;
  id_payload member;
};
/// KS: checks exchange 35, cookies = KEK SPI, the HASH; returns the member and SEQ.
std::variant<opened_ack, push_error> open_push_ack(std::span<const uint8_t> dgram,
                                                   const kek_state& kek);

}  // namespace gm::control
