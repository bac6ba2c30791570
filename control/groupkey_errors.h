// Typed errors of the GDOI exchanges: GROUPKEY-PULL (registration, both sides) and
// GROUPKEY-PUSH (rekey) with its RFC 8263 acknowledgement. Declared once (name, meaning) like
// codec_result.h; a codec failure carries the codec_error that says where the bytes were bad.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "control/codec_result.h"

namespace gm::control {

#define GM_PULL_ERRORS(X)                                                                \
  X(codec, "the message does not decode (header or payload chain); see the codec error") \
  X(wrong_exchange, "exchange type is not GROUPKEY-PULL (32)")                           \
  X(wrong_cookies, "ISAKMP cookies are not those of this phase-1 SA")                    \
  X(wrong_message_id, "message id differs from the exchange's (or is 0)")                \
  X(not_encrypted, "E flag clear: GROUPKEY-PULL messages must be encrypted")             \
  X(decrypt_failed, "ciphertext is not a whole number of cipher blocks")                 \
  X(hash_not_first, "the first payload is not HASH")                                     \
  X(bad_hash, "HASH(n) does not match prf(SKEYID_a, M-ID | ...)")                        \
  X(missing_payload, "a payload the message must carry is absent (Ni, ID, Nr, SA, KD)")  \
  X(bad_nonce, "nonce shorter than 8 or longer than 256 bytes (RFC 2409 5)")             \
  X(bad_group_id, "ID is not ID_KEY_ID with a 4-byte group number")                      \
  X(unknown_group, "the key server serves no such group (policy returned nothing)")      \
  X(keys_missing, "KD does not carry the keys the SA needs; see the codec error")        \
  X(unexpected_message, "message arrived in a state that does not expect it")            \
  X(encode_failed, "our own message did not encode or encrypt (policy too large, broken SA)")

#define GM_PUSH_ERRORS(X)                                                                   \
  X(codec, "the message does not decode (header or payload chain); see the codec error")    \
  X(wrong_exchange, "exchange type is not GROUPKEY-PUSH (33) / GROUPKEY-PUSH ACK (35)")     \
  X(unknown_kek, "ISAKMP cookies are not the current KEK SPI")                              \
  X(bad_message_id, "GROUPKEY-PUSH message id is not 0")                                    \
  X(not_encrypted, "E flag clear: GROUPKEY-PUSH messages must be encrypted")                \
  X(decrypt_failed, "no IV mode yields a payload chain (wrong key or tampered ciphertext)") \
  X(missing_payload, "SEQ, SA, KD or SIG absent, or SEQ not first / SIG not last")          \
  X(bad_signature, "the RSA signature over \"rekey\" | HDR | payloads does not verify")     \
  X(replayed_seq, "SEQ is not larger than the last accepted one")                           \
  X(keys_missing, "KD does not carry the keys the SA needs; see the codec error")           \
  X(bad_kek, "KEK state unusable: algorithm, key/IV length, hash or public key")            \
  X(sign_failed, "the signer could not sign (no private key)")                              \
  X(bad_hash, "GROUPKEY-PUSH ACK HASH does not verify")                                     \
  X(encode_failed, "our own message did not encode")

enum class pull_errc : uint8_t {
#define GM_GROUPKEY_ERRC_ENUM(name, text) name,
  GM_PULL_ERRORS(GM_GROUPKEY_ERRC_ENUM)
};
enum class push_errc : uint8_t { GM_PUSH_ERRORS(GM_GROUPKEY_ERRC_ENUM) };
#undef GM_GROUPKEY_ERRC_ENUM

const char* name(pull_errc e);
const char* text(pull_errc e);
const char* name(push_errc e);
const char* text(push_errc e);

struct pull_error {
  pull_errc code = pull_errc::codec;
  std::optional<codec_error> detail;  ///< set for codec and keys_missing
  bool operator==(const pull_error&) const = default;
};

struct push_error {
  push_errc code = push_errc::codec;
  std::optional<codec_error> detail;  ///< set for codec and keys_missing
  bool operator==(const push_error&) const = default;
};

/// "bad_hash: HASH(n) does not match ..." (plus the codec error's description when present).
std::string describe(const pull_error& e);
std::string describe(const push_error& e);

}  // namespace gm::control
