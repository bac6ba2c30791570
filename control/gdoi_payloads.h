// GDOI payloads (RFC 6407 5, spec GETVPN-GM.md 5) as typed structs, with encode and decode
// of each payload body (the generic header is isakmp.h's business). The SA payload and
// what nests in it are in gdoi_sa.h; whole messages in gdoi_message.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "control/attributes.h"
#include "control/byte_io.h"
#include "control/codec_result.h"
#include "control/gdoi_sa.h"

namespace gm::control {

/// KD key packet types (RFC 6407 5.5).
namespace key_packet_type {
inline constexpr uint8_t tek = 1;
inline constexpr uint8_t kek = 2;
inline constexpr uint8_t lkh = 3;
inline constexpr uint8_t sid = 4;
}  // namespace key_packet_type

/// KD key packet attributes (RFC 6407 5.5.1, 5.5.2).
namespace kd_attr {
inline constexpr uint16_t tek_algorithm_key = 1;
inline constexpr uint16_t tek_integrity_key = 2;
inline constexpr uint16_t tek_source_auth_key = 3;
inline constexpr uint16_t kek_algorithm_key = 1;  ///< IV || key
inline constexpr uint16_t sig_algorithm_key = 2;  ///< KS public key (DER SubjectPublicKeyInfo)
}  // namespace kd_attr

inline constexpr std::size_t tek_spi_size = 4;
inline constexpr std::size_t kek_spi_size = 16;

/// One KD key packet. TEK: spi = 4 bytes, algorithm_key and integrity_key. KEK: spi = 16
/// bytes, algorithm_key and signature_key. Other types keep all attributes in `other`.
/// Keys sit in key_bytes, wiped when freed.
struct key_packet {
  uint8_t type = key_packet_type::tek;
  bytes spi;
  key_bytes algorithm_key;
  key_bytes integrity_key;  ///< TEK_INTEGRITY_KEY
  key_bytes signature_key;  ///< SIG_ALGORITHM_KEY
  std::vector<attribute> other;

  static key_packet tek(uint32_t spi, key_bytes alg, key_bytes integrity);
  static key_packet kek(const kek_spi& spi, key_bytes alg, key_bytes signature);
  /// The 4-byte SPI of a TEK key packet as a number (0 when it is not 4 bytes).
  uint32_t tek_spi() const;
  bool operator==(const key_packet&) const = default;
};

struct kd_payload {
  std::vector<key_packet> packets;
  bool operator==(const kd_payload&) const = default;
};

struct seq_payload {
  uint32_t seq = 0;
  bool operator==(const seq_payload&) const = default;
};

/// Identification payload (RFC 2407 4.6.2); GDOI names the group with ID_KEY_ID (11) and a
/// 4-byte group number.
struct id_payload {
  uint8_t id_type = id_type::key_id;
  uint8_t protocol = 0;
  uint16_t port = 0;
  bytes data;

  static id_payload group(uint32_t group_number);
  /// The group number of an ID_KEY_ID with 4 bytes of data, read big-endian. (Cisco's 2011
  /// reference sends it in host byte order: the caller compares both orders.)
  std::optional<uint32_t> group_number() const;
  bool operator==(const id_payload&) const = default;
};

struct nonce_payload {
  bytes data;
  bool operator==(const nonce_payload&) const = default;
};

struct hash_payload {
  bytes data;
  bool operator==(const hash_payload&) const = default;
};

struct sig_payload {
  bytes data;
  bool operator==(const sig_payload&) const = default;
};

/// Delete (RFC 2408 3.15, RFC 6407 5.8): protocol-id 0 deletes a KEK (16-byte SPI), else a
/// TEK of that SA TEK protocol (4-byte SPI).
struct delete_payload {
  uint32_t doi = doi_gdoi;
  uint8_t protocol_id = tek_protocol::esp;
  uint8_t spi_size = tek_spi_size;
  std::vector<bytes> spis;
  bool operator==(const delete_payload&) const = default;
};

/// Anything carried but not interpreted here: notify, vendor id, certificates, KE, POP,
/// NAT-D, private-use payloads, and an SA outside GROUPKEY-PULL/PUSH (phase-1 proposals).
struct other_payload {
  uint8_t type = 0;
  bytes body;
  bool operator==(const other_payload&) const = default;
};

using gdoi_payload =
    std::variant<sa_payload, kd_payload, seq_payload, id_payload, nonce_payload, hash_payload,
                 sig_payload, delete_payload, gap_payload, other_payload>;

/// The payload type number a gdoi_payload is sent as.
uint8_t payload_type_of(const gdoi_payload& p);

result<kd_payload> decode_kd(std::span<const uint8_t> body, std::size_t base);
result<seq_payload> decode_seq(std::span<const uint8_t> body, std::size_t base);
result<id_payload> decode_id(std::span<const uint8_t> body, std::size_t base);
result<delete_payload> decode_delete(std::span<const uint8_t> body, std::size_t base);

std::optional<codec_error> encode_kd(const kd_payload& kd, bytes& body);
std::optional<codec_error> encode_seq(const seq_payload& s, bytes& body);
std::optional<codec_error> encode_id(const id_payload& id, bytes& body);
std::optional<codec_error> encode_delete(const delete_payload& d, bytes& body);

/// Checks an SA's policy against a KD's keys (same message for GROUPKEY-PUSH, messages 2
/// and 4 for GROUPKEY-PULL): every permit SA TEK (SPI != 0) has a TEK key packet with its
/// SPI; no key packet carries SPI 0 (deny ACEs have none); no two key packets of a type
/// share an SPI; a KEK key packet matches the SA KEK's SPI when the SA has one. Offsets in
/// the errors are 0 (two payloads are involved).
std::optional<codec_error> check_keys(const sa_payload& sa, const kd_payload& kd);

/// Any gdoi_payload's body.
std::optional<codec_error> encode_payload_body(const gdoi_payload& p, bytes& body);

}  // namespace gm::control
