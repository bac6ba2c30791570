// The GDOI SA payload (RFC 6407 5.2) and what it carries: SA KEK (5.3), SA TEK (5.4) and
// GAP (5.6), plus our private TBAR attributes in the SA TEK (spec GETVPN-GM.md 4).
//
// Deny ACEs: the KS ACL is sent as one SA TEK per ACE; a deny ACE is an SA TEK with SPI 0
// and no key packet in the KD (our documented choice; sa_tek::deny()).
//
// ID data length interop: RFC 6407 writes the SA TEK src/dst ID data length in 2 bytes and
// the SA KEK's in 1 byte. Cisco's 2011 reference implementation writes the SA TEK's in 1
// byte; we also meet KEKs written with 2 bytes. The decoder tries the RFC form first, then
// the other, and keeps the one whose IDs, fixed fields and attributes exactly fill the
// payload; id_forms says which were seen. The encoder always writes RFC 6407 forms.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/attributes.h"
#include "control/byte_io.h"
#include "control/codec_result.h"

namespace gm::control {

inline constexpr uint32_t doi_gdoi = 2;

/// Identification types (RFC 2407 4.6.2.1).
namespace id_type {
inline constexpr uint8_t ipv4_addr = 1;
inline constexpr uint8_t fqdn = 2;
inline constexpr uint8_t user_fqdn = 3;
inline constexpr uint8_t ipv4_subnet = 4;
inline constexpr uint8_t ipv6_addr = 5;
inline constexpr uint8_t ipv6_subnet = 6;
inline constexpr uint8_t ipv4_range = 7;
inline constexpr uint8_t ipv6_range = 8;
inline constexpr uint8_t key_id = 11;
}  // namespace id_type

/// SA TEK protocol-id (RFC 6407 5.4).
namespace tek_protocol {
inline constexpr uint8_t esp = 1;
inline constexpr uint8_t ah = 2;
}  // namespace tek_protocol

/// ESP transform ids (RFC 2407 4.4.4, IANA).
namespace esp_transform {
inline constexpr uint8_t des3 = 3;
inline constexpr uint8_t null = 11;
inline constexpr uint8_t aes_cbc = 12;
inline constexpr uint8_t aes_gcm_16 = 20;
}  // namespace esp_transform

/// SA TEK attributes: IPsec DOI SA attributes (RFC 2407 4.5, RFC 6407 5.4.1) and ours.
namespace tek_attr {
inline constexpr uint16_t life_type = 1;
inline constexpr uint16_t life_duration = 2;
inline constexpr uint16_t group_description = 3;
inline constexpr uint16_t encapsulation_mode = 4;
inline constexpr uint16_t auth_algorithm = 5;
inline constexpr uint16_t key_length = 6;
inline constexpr uint16_t address_preservation = 14;
inline constexpr uint16_t sa_direction = 15;
inline constexpr uint16_t replay_method = 32001;  ///< ours: 1 counter, 2 time
inline constexpr uint16_t replay_window = 32002;  ///< ours: seconds (time) or packets
inline constexpr uint16_t pseudotime = 32003;     ///< ours: KS pseudotime, ms, 8 bytes
}  // namespace tek_attr

namespace life_type {
inline constexpr uint16_t seconds = 1;
inline constexpr uint16_t kilobytes = 2;
}  // namespace life_type
namespace encap_mode {
inline constexpr uint16_t tunnel = 1;
inline constexpr uint16_t transport = 2;
}  // namespace encap_mode
namespace auth_alg {
inline constexpr uint16_t hmac_md5 = 1;
inline constexpr uint16_t hmac_sha1 = 2;
inline constexpr uint16_t hmac_sha2_256 = 5;
}  // namespace auth_alg
namespace addr_preservation {
inline constexpr uint16_t none = 1;
inline constexpr uint16_t source_only = 2;
inline constexpr uint16_t destination_only = 3;
inline constexpr uint16_t source_and_destination = 4;
}  // namespace addr_preservation
namespace sa_dir {
inline constexpr uint16_t sender_only = 1;
inline constexpr uint16_t receiver_only = 2;
inline constexpr uint16_t symmetric = 3;
}  // namespace sa_dir
namespace replay {
inline constexpr uint16_t counter = 1;
inline constexpr uint16_t time = 2;
}  // namespace replay

/// SA KEK attributes (RFC 6407 5.3).
namespace kek_attr {
inline constexpr uint16_t management_algorithm = 1;
inline constexpr uint16_t algorithm = 2;
inline constexpr uint16_t key_length = 3;
inline constexpr uint16_t key_lifetime = 4;
inline constexpr uint16_t sig_hash_algorithm = 5;
inline constexpr uint16_t sig_algorithm = 6;
inline constexpr uint16_t sig_key_length = 7;
}  // namespace kek_attr
namespace kek_alg {
inline constexpr uint16_t des3 = 2;
inline constexpr uint16_t aes = 3;
}  // namespace kek_alg
namespace sig_hash {
inline constexpr uint16_t sha1 = 2;
inline constexpr uint16_t sha256 = 3;
}  // namespace sig_hash
namespace sig_alg {
inline constexpr uint16_t rsa = 1;
}  // namespace sig_alg

/// GAP attributes (RFC 6407 5.6).
namespace gap_attr {
inline constexpr uint16_t activation_time_delay = 1;
inline constexpr uint16_t deactivation_time_delay = 2;
inline constexpr uint16_t sender_id_request = 3;
}  // namespace gap_attr

/// A src or dst identity in an SA KEK / SA TEK: type, port, data (IPv4 subnet: address then
/// mask, network byte order).
struct sa_identity {
  uint8_t type = id_type::ipv4_subnet;
  uint16_t port = 0;
  bytes data;

  static sa_identity ipv4_subnet(uint32_t addr, uint32_t mask, uint16_t port = 0);
  static sa_identity ipv4_addr(uint32_t addr, uint16_t port = 0);
  bool operator==(const sa_identity&) const = default;
};

struct sa_lifetime {
  uint16_t type = life_type::seconds;
  uint64_t duration = 0;
  bool operator==(const sa_lifetime&) const = default;
};

struct tek_attributes {
  std::vector<sa_lifetime> lifetimes;
  std::optional<uint16_t> encapsulation_mode;
  std::optional<uint16_t> auth_algorithm;
  std::optional<uint16_t> key_length;  ///< bits
  std::optional<uint16_t> address_preservation;
  std::optional<uint16_t> sa_direction;
  std::optional<uint16_t> replay_method;
  std::optional<uint32_t> replay_window;
  std::optional<uint64_t> pseudotime_ms;
  std::vector<attribute> other;  ///< any other attribute, kept and re-encoded last
  bool operator==(const tek_attributes&) const = default;
};

struct sa_tek {
  uint8_t protocol_id = tek_protocol::esp;
  uint8_t ip_protocol = 0;  ///< 0 = any
  sa_identity src;
  sa_identity dst;
  uint8_t transform_id = 0;
  uint32_t spi = 0;
  tek_attributes attrs;

  /// A deny ACE: SPI 0, no key packet.
  bool deny() const { return spi == 0; }
  bool operator==(const sa_tek&) const = default;
};

using kek_spi = std::array<uint8_t, 16>;

struct kek_attributes {
  std::optional<uint16_t> management_algorithm;
  std::optional<uint16_t> algorithm;
  std::optional<uint16_t> key_length;    ///< bits
  std::optional<uint32_t> key_lifetime;  ///< seconds
  std::optional<uint16_t> sig_hash_algorithm;
  std::optional<uint16_t> sig_algorithm;
  std::optional<uint16_t> sig_key_length;  ///< bits
  std::vector<attribute> other;
  bool operator==(const kek_attributes&) const = default;
};

struct sa_kek {
  uint8_t protocol = 17;  ///< IP protocol of the rekey (UDP)
  sa_identity src;
  sa_identity dst;
  kek_spi spi{};  ///< the rekey's ISAKMP cookies
  kek_attributes attrs;
  bool operator==(const sa_kek&) const = default;
};

struct gap_payload {
  std::optional<uint16_t> activation_time_delay;    ///< seconds
  std::optional<uint16_t> deactivation_time_delay;  ///< seconds
  std::optional<uint16_t> sender_id_request;
  std::vector<attribute> other;
  bool operator==(const gap_payload&) const = default;
};

/// DOI is always GDOI (2) and the situation always 0 (RFC 6407 5.2).
struct sa_payload {
  std::optional<sa_kek> kek;
  std::vector<sa_tek> teks;
  std::optional<gap_payload> gap;
  bool operator==(const sa_payload&) const = default;
};

/// Which ID data length forms a decode met (for a once-per-KS log line).
struct id_forms {
  bool tek_rfc = false;       ///< SA TEK, 2-byte ID length (RFC 6407)
  bool tek_one_byte = false;  ///< SA TEK, 1-byte ID length (Cisco 2011 reference)
  bool kek_rfc = false;       ///< SA KEK, 1-byte ID length (RFC 6407)
  bool kek_two_byte = false;  ///< SA KEK, 2-byte ID length
  void merge(const id_forms& o);
  /// True when any non-RFC 6407 form was seen.
  bool legacy() const { return tek_one_byte || kek_two_byte; }
  bool operator==(const id_forms&) const = default;
};

/// One line for the log, e.g. "SA TEK ID data length in 1 byte (Cisco 2011 reference form)";
/// empty when only RFC 6407 forms were seen.
std::string describe(const id_forms& f);

// Payload bodies: `body` excludes the generic header and starts at `base` in the message.
result<sa_payload> decode_sa(std::span<const uint8_t> body, std::size_t base,
                             id_forms* forms = nullptr);
result<sa_kek> decode_sa_kek(std::span<const uint8_t> body, std::size_t base,
                             id_forms* forms = nullptr);
result<sa_tek> decode_sa_tek(std::span<const uint8_t> body, std::size_t base,
                             id_forms* forms = nullptr);
result<gap_payload> decode_gap(std::span<const uint8_t> body, std::size_t base);

std::optional<codec_error> encode_sa(const sa_payload& sa, bytes& body);
std::optional<codec_error> encode_sa_kek(const sa_kek& kek, bytes& body);
std::optional<codec_error> encode_sa_tek(const sa_tek& tek, bytes& body);
std::optional<codec_error> encode_gap(const gap_payload& gap, bytes& body);

}  // namespace gm::control
