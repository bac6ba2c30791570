// ISAKMP (RFC 2408) framing for GDOI (RFC 6407): the fixed 28-byte header and the generic
// payload chain (next payload, reserved, length). Bytes in, typed values or a typed
// codec_error out; no I/O, no crypto.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "control/byte_io.h"
#include "control/codec_result.h"

namespace gm::control {

/// Payload type numbers (RFC 2408 3.1, RFC 6407 5, RFC 3947).
namespace payload {
inline constexpr uint8_t none = 0;
inline constexpr uint8_t sa = 1;
inline constexpr uint8_t proposal = 2;
inline constexpr uint8_t transform = 3;
inline constexpr uint8_t key_exchange = 4;
inline constexpr uint8_t id = 5;
inline constexpr uint8_t cert = 6;
inline constexpr uint8_t cert_request = 7;
inline constexpr uint8_t hash = 8;
inline constexpr uint8_t sig = 9;
inline constexpr uint8_t nonce = 10;
inline constexpr uint8_t notify = 11;
inline constexpr uint8_t del = 12;
inline constexpr uint8_t vendor_id = 13;
inline constexpr uint8_t sa_kek = 15;
inline constexpr uint8_t sa_tek = 16;
inline constexpr uint8_t kd = 17;
inline constexpr uint8_t seq = 18;
inline constexpr uint8_t pop = 19;
inline constexpr uint8_t nat_d = 20;
inline constexpr uint8_t nat_oa = 21;
inline constexpr uint8_t gap = 22;
inline constexpr uint8_t private_first = 128;  ///< 128..255: private use (RFC 2408)
}  // namespace payload

/// True for the payload types this codec knows by number (it may still reject them where
/// they are out of place).
bool known_payload_type(uint8_t type);

/// Exchange types (RFC 2408 3.1, RFC 6407 3.2 / 4).
namespace exchange {
inline constexpr uint8_t identity_protection = 2;  ///< Main Mode
inline constexpr uint8_t aggressive = 4;
inline constexpr uint8_t informational = 5;
inline constexpr uint8_t groupkey_pull = 32;  ///< the number IKEv1 Quick Mode uses
inline constexpr uint8_t groupkey_push = 33;
}  // namespace exchange

/// Header flags (RFC 2408 3.1).
namespace flag {
inline constexpr uint8_t encryption = 0x01;
inline constexpr uint8_t commit = 0x02;
inline constexpr uint8_t authentication_only = 0x04;
inline constexpr uint8_t all = encryption | commit | authentication_only;
}  // namespace flag

inline constexpr std::size_t header_len = 28;
inline constexpr std::size_t generic_header_len = 4;
inline constexpr uint8_t version_1_0 = 0x10;
/// The reserved byte's top bit, read as IKEv2's "critical" bit for unknown payloads.
inline constexpr uint8_t critical_bit = 0x80;
/// Loop guard for a payload chain; a GROUPKEY-PUSH with a large policy stays far below.
inline constexpr std::size_t max_payloads = 512;

using cookie = std::array<uint8_t, 8>;

struct isakmp_header {
  cookie initiator_cookie{};  ///< GROUPKEY-PUSH: first half of the KEK SPI
  cookie responder_cookie{};  ///< GROUPKEY-PUSH: second half of the KEK SPI
  uint8_t next_payload = payload::none;
  uint8_t version = version_1_0;
  uint8_t exchange_type = exchange::groupkey_pull;
  uint8_t flags = 0;
  uint32_t message_id = 0;
  uint32_t length = 0;  ///< whole message, header included; the encoder fills it in

  bool operator==(const isakmp_header&) const = default;
};

/// Decodes and checks the 28-byte header against the datagram: version 1.0, no undefined
/// flags, length >= 28 and equal to the datagram size.
result<isakmp_header> decode_header(std::span<const uint8_t> datagram);
void encode_header(const isakmp_header& h, byte_writer& w);

/// One payload of a chain, as the generic header frames it. `body` excludes the 4-byte
/// generic header; `offset` is where the generic header starts in the message.
struct payload_view {
  uint8_t type = 0;
  uint8_t reserved = 0;
  std::span<const uint8_t> body;
  std::size_t offset = 0;
  std::size_t length = 0;  ///< generic header's length field (4 + body size)
};

/// What may follow the last payload of a chain.
enum class tail : uint8_t {
  exact,    ///< nothing (a plaintext message, or a nested chain that fills its parent)
  padding,  ///< anything (decrypted payloads: IKEv1 CBC padding; Cisco pads with zeros)
};

/// Walks a generic payload chain starting with payload type `first`, over `chain` (which
/// begins at `base` in the message). Checks every length against what is left, stops at
/// next payload = none, and rejects: a header that does not fit, a length < 4 or past the
/// end, bytes after the last payload (tail::exact), unknown payload types outside the
/// private range, unknown critical payloads, more than max_payloads payloads.
result<std::vector<payload_view>> walk_payloads(uint8_t first, std::span<const uint8_t> chain,
                                                std::size_t base, tail t = tail::exact);

/// Frames one payload: generic header (next payload, reserved 0, length) then `body`.
/// Fails with value_too_long when the body does not fit the 16-bit length.
std::optional<codec_error> put_payload(byte_writer& w, uint8_t next, std::span<const uint8_t> body,
                                       uint8_t type);

}  // namespace gm::control
