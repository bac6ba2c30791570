// Whole GDOI messages: ISAKMP header + payload chain <-> typed payloads.
//
// Plaintext only: a message with the E flag decodes to codec_errc::encrypted; the control
// process decrypts the bytes after the header and hands them to decode_payloads (with
// tail::padding), and builds encrypted messages from encode_payloads + its own header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "control/byte_io.h"
#include "control/codec_result.h"
#include "control/gdoi_payloads.h"
#include "control/isakmp.h"

namespace gm::control {

struct gdoi_message {
  isakmp_header header;  ///< next_payload and length are recomputed by encode_message
  std::vector<gdoi_payload> payloads;
  bool operator==(const gdoi_message&) const = default;
};

/// Where a top-level payload lies in the decoded bytes (generic header included): what
/// HASH(n) and the rekey signature are computed over.
struct payload_extent {
  uint8_t type = 0;
  std::size_t offset = 0;
  std::size_t length = 0;
};

/// What a decode saw besides the payloads.
struct decode_info {
  id_forms forms;  ///< ID data length forms met in SA KEK / SA TEK payloads
  std::vector<payload_extent> extents;
};

struct decoded_payloads {
  std::vector<gdoi_payload> payloads;
  decode_info info;
};

struct decoded_message {
  gdoi_message message;
  decode_info info;
};

/// Decodes a payload chain that starts with `first`. `exchange_type` decides how an SA
/// payload is read: as a GDOI SA in GROUPKEY-PULL/PUSH, else kept as other_payload.
/// Proposal, transform and top-level SA KEK/SA TEK payloads are unexpected_payload.
result<decoded_payloads> decode_payloads(uint8_t first, std::span<const uint8_t> chain,
                                         std::size_t base, tail t, uint8_t exchange_type);

/// Decodes a whole plaintext datagram (header checks as decode_header).
result<decoded_message> decode_message(std::span<const uint8_t> datagram);

/// The payload chain alone (for the caller to encrypt); next payloads chained in order.
result<bytes> encode_payloads(const std::vector<gdoi_payload>& payloads);

/// Header + payloads; header.next_payload and header.length are set from the payloads.
result<bytes> encode_message(const gdoi_message& m);

}  // namespace gm::control
