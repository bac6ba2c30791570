// IKEv1 phase-1 payloads (RFC 2408 3.4-3.6, RFC 2409 Appendix A): the SA payload with its
// ISAKMP proposal and KEY_IKE transforms, and the conversion between a transform's
// attributes and a phase1_policy. KE and Nonce bodies are plain bytes; the phase-1 ID is
// gdoi_payloads.h's id_payload with ID_IPV4_ADDR. Bytes in, typed values or a codec_error
// out; no crypto.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "control/attributes.h"
#include "control/byte_io.h"
#include "control/codec_result.h"
#include "control/gdoi_sa.h"
#include "control/phase1_sa.h"

namespace gm::control {

/// The phase-1 SA's DOI: GDOI (RFC 6407 2.1.1, spec 5). The decoder also takes the IPsec
/// DOI (1) that generic IKEv1 stacks send.
inline constexpr uint32_t doi_ipsec = 1;
/// IPsec DOI situation SIT_IDENTITY_ONLY (RFC 2407 4.2); GDOI's situation is 0.
inline constexpr uint32_t sit_identity_only = 1;

inline constexpr uint8_t proto_isakmp = 1;       ///< proposal protocol-id (RFC 2407 4.4.1)
inline constexpr uint8_t transform_key_ike = 1;  ///< transform id (RFC 2407 4.4.2)

/// Phase-1 attribute classes (RFC 2409 Appendix A).
namespace ike_attr {
inline constexpr uint16_t encryption = 1;
inline constexpr uint16_t hash = 2;
inline constexpr uint16_t auth_method = 3;
inline constexpr uint16_t group = 4;
inline constexpr uint16_t life_type = 11;
inline constexpr uint16_t life_duration = 12;
inline constexpr uint16_t key_length = 14;
}  // namespace ike_attr

/// Values of those classes.
namespace ike_value {
inline constexpr uint16_t enc_3des_cbc = 5;
inline constexpr uint16_t enc_aes_cbc = 7;
inline constexpr uint16_t hash_sha1 = 2;
inline constexpr uint16_t hash_sha256 = 4;
inline constexpr uint16_t auth_psk = 1;
inline constexpr uint16_t life_seconds = 1;
inline constexpr uint16_t life_kilobytes = 2;
}  // namespace ike_value

/// One KEY_IKE transform as it appears on the wire: the attributes we interpret, typed, and
/// everything else kept (so an unsupported offer is skipped, not refused).
struct ike_transform {
  uint8_t number = 1;
  uint8_t transform_id = transform_key_ike;
  std::optional<uint16_t> encryption;
  std::optional<uint16_t> hash;
  std::optional<uint16_t> auth_method;
  std::optional<uint16_t> group;
  std::optional<uint16_t> key_length;  ///< bits
  std::optional<uint32_t> life_seconds;
  std::optional<uint32_t> life_kilobytes;
  std::vector<attribute> other;  ///< any attribute not above, in order

  bool operator==(const ike_transform&) const = default;
};

struct ike_proposal {
  uint8_t number = 1;
  uint8_t protocol = proto_isakmp;
  bytes spi;  ///< phase 1: empty (the cookies are the SPI)
  std::vector<ike_transform> transforms;
  bool operator==(const ike_proposal&) const = default;
};

struct phase1_sa_payload {
  uint32_t doi = doi_gdoi;
  uint32_t situation = 0;
  std::vector<ike_proposal> proposals;
  bool operator==(const phase1_sa_payload&) const = default;
};

/// The transform that offers `p` with pre-shared-key authentication.
ike_transform transform_for(const phase1_policy& p, uint8_t number);
/// The policy a transform describes, when we support all of it: KEY_IKE, AES-CBC with key
/// length 128/192/256 or 3DES (no key length), SHA1 or SHA2-256, PSK, group 2 or 14, a
/// lifetime in seconds (none = RFC 2409's default of 8 hours). Empty otherwise.
std::optional<phase1_policy> policy_of(const ike_transform& t);

/// The SA body of Main Mode message 1: one ISAKMP proposal whose transforms are the
/// policies in order of preference.
phase1_sa_payload offer(const std::vector<phase1_policy>& policies);

/// SA payload body (after the generic header), at `base` in the message. Errors: bad_doi
/// (neither 1 nor 2), payload_length_too_small, unexpected_payload (anything but proposals
/// in the SA / transforms in a proposal), transform_count_mismatch, bad_spi_size,
/// truncated_attribute, bad_attribute_length, attribute_out_of_range, duplicate_attribute,
/// lifetime_unpaired, and the chain errors of walk_payloads.
result<phase1_sa_payload> decode_phase1_sa(std::span<const uint8_t> body, std::size_t base);
std::optional<codec_error> encode_phase1_sa(const phase1_sa_payload& sa, bytes& body);

}  // namespace gm::control
