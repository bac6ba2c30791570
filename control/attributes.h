// ISAKMP data attributes (RFC 2408 3.3) as GDOI uses them in SA KEK, SA TEK, GAP and KD
// payloads: TV (AF bit set: 2-byte value in the header) or TLV (2-byte length, value).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "control/byte_io.h"
#include "control/codec_result.h"

namespace gm::control {

inline constexpr uint16_t attr_af_bit = 0x8000;
inline constexpr uint16_t attr_type_max = 0x7fff;

struct attribute {
  uint16_t type = 0;  ///< without the AF bit
  bool tv = false;    ///< AF = 1: the value is the header's 2-byte field
  bytes value;        ///< TV: exactly 2 bytes, big-endian

  /// TV (basic) attribute.
  static attribute basic(uint16_t type, uint16_t v);
  /// TLV (variable) attribute.
  static attribute variable(uint16_t type, bytes v);
  /// An integer: TV when it fits 16 bits, else TLV of 4 (or 8) bytes (RFC 2408 3.3 lets
  /// variable-length attributes use TV when the value fits).
  static attribute integer(uint16_t type, uint64_t v);
  /// An integer as TLV of exactly `len` bytes (len 1..8).
  static attribute fixed(uint16_t type, uint64_t v, std::size_t len);

  bool operator==(const attribute&) const = default;
};

/// Reads the next attribute from `r` (a payload's attribute area). `at` gets the
/// attribute's offset. Errors: truncated_attribute (header or value past the area).
std::optional<codec_error> read_attribute(byte_reader& r, attribute& a, std::size_t& at,
                                          uint8_t payload_type);

/// Reads a whole attribute area (it must end exactly at an attribute boundary).
result<std::vector<attribute>> decode_attributes(std::span<const uint8_t> area, std::size_t base,
                                                 uint8_t payload_type);

/// value_too_long when a TLV value exceeds 65535 bytes, a TV value is not 2 bytes, or the
/// type does not fit 15 bits.
std::optional<codec_error> write_attribute(byte_writer& w, const attribute& a,
                                           uint8_t payload_type);
std::optional<codec_error> write_attributes(byte_writer& w, const std::vector<attribute>& as,
                                            uint8_t payload_type);

/// The attribute's value as an unsigned integer no larger than `max`: TV, or TLV of 1..8
/// bytes. bad_attribute_length otherwise.
std::optional<codec_error> attribute_uint(const attribute& a, std::size_t at, uint8_t payload_type,
                                          uint64_t max, uint64_t& v);

/// Stores an integer attribute into a slot that may be set once (duplicate_attribute).
template <typename T>
std::optional<codec_error> set_once(std::optional<T>& slot, const attribute& a, std::size_t at,
                                    uint8_t payload_type) {
  if (slot) {
    return make_error(codec_errc::duplicate_attribute, at, payload_type);
  }
  uint64_t v = 0;
  if (auto e = attribute_uint(a, at, payload_type, static_cast<T>(~T{0}), v)) {
    return e;
  }
  slot = static_cast<T>(v);
  return std::nullopt;
}

/// Appends `integer(type, *slot)` when the slot is set.
template <typename T>
void add_if(std::vector<attribute>& out, uint16_t type, const std::optional<T>& slot) {
  if (slot) {
    out.push_back(attribute::integer(type, *slot));
  }
}

}  // namespace gm::control
