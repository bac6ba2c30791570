// Typed errors of the IKEv1 phase-1 exchange (Main Mode): every way a peer's message can be
// refused, declared once with its meaning. A codec error carries the codec_error inside.
#pragma once

#include <cstdint>
#include <string>

#include "control/codec_result.h"

namespace gm::control {

#define GM_IKE_ERRORS(X)                                                                  \
  X(codec, "the message does not decode (see the codec error)")                           \
  X(unexpected_message, "not the message this state expects (exchange, flags, payloads)") \
  X(bad_cookie, "the ISAKMP cookies do not belong to this exchange")                      \
  X(missing_payload, "a payload the message needs is absent")                             \
  X(no_proposal_chosen, "no offered transform is acceptable")                             \
  X(bad_proposal, "the responder's SA is not one of our transforms, chosen once")         \
  X(unknown_peer, "no pre-shared key for the peer's address")                             \
  X(bad_dh_value, "the peer's DH public value has the wrong length or is degenerate")     \
  X(bad_nonce, "the nonce is shorter than 8 or longer than 256 bytes (RFC 2409 5)")       \
  X(decrypt_failed, "encrypted payloads are not a whole number of cipher blocks")         \
  X(auth_failed, "HASH_I/HASH_R mismatch or undecodable plaintext: wrong pre-shared key") \
  X(bad_id, "the identification payload is not an ID_IPV4_ADDR")

enum class ike_errc : uint8_t {
#define GM_IKE_ERRC_ENUM(name, text) name,
  GM_IKE_ERRORS(GM_IKE_ERRC_ENUM)
#undef GM_IKE_ERRC_ENUM
};

/// Short identifier ("auth_failed").
const char* name(ike_errc e);
/// One-line meaning.
const char* text(ike_errc e);

struct ike_error {
  ike_errc code = ike_errc::codec;
  codec_error codec{};  ///< meaningful when code == ike_errc::codec

  bool operator==(const ike_error&) const = default;
};

inline ike_error ike_fail(ike_errc c) { return ike_error{c, {}}; }
inline ike_error ike_fail(const codec_error& e) { return ike_error{ike_errc::codec, e}; }

/// "auth_failed: HASH_I/HASH_R mismatch ..." or "codec: <describe(codec error)>".
std::string describe(const ike_error& e);

}  // namespace gm::control
