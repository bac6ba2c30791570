// Helpers the GROUPKEY-PULL and GROUPKEY-PUSH code share (not a public interface): finding
// payloads in a decoded chain, the bytes a HASH or signature covers, constant-time compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "control/byte_io.h"
#include "control/gdoi_message.h"
#include "control/isakmp.h"

namespace gm::control::detail {

/// The first payload of type T in a decoded chain, or nullptr.
template <typename T>
const T* find(const std::vector<gdoi_payload>& ps) {
  for (const gdoi_payload& p : ps) {
    if (const T* t = std::get_if<T>(&p)) {
      return t;
    }
  }
  return nullptr;
}

/// The bytes of `chain` (which starts at message offset `base`) from the start of top-level
/// payload `first` to the end of payload `last` (inclusive), generic headers included.
/// Empty when first > last.
inline std::span<const uint8_t> payload_span(std::span<const uint8_t> chain, std::size_t base,
                                             const std::vector<payload_extent>& ext,
                                             std::size_t first, std::size_t last) {
  if (first > last || last >= ext.size()) {
    return {};
  }
  const std::size_t from = ext[first].offset - base;
  const std::size_t to = ext[last].offset + ext[last].length - base;
  return chain.subspan(from, to - from);
}

/// Compares in time independent of where the first difference lies.
inline bool equal_ct(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) {
    return false;
  }
  uint8_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d |= static_cast<uint8_t>(a[i] ^ b[i]);
  }
  return d == 0;
}

inline bytes be32(uint32_t v) {
  bytes b;
  byte_writer(b).u32(v);
  return b;
}

/// HASH (or SIG) payload first, then `rest` (an encoded payload chain starting with
/// `rest_first`, or empty).
inline std::optional<codec_error> prepend(bytes& out, uint8_t type, std::span<const uint8_t> body,
                                          uint8_t rest_first, std::span<const uint8_t> rest) {
  byte_writer w(out);
  if (auto e = put_payload(w, rest.empty() ? payload::none : rest_first, body, type)) {
    return e;
  }
  w.put(rest);
  return std::nullopt;
}

}  // namespace gm::control::detail
