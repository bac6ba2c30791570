#include "control/attributes.h"

namespace gm::control {

attribute attribute::basic(uint16_t type, uint16_t v) {
  return attribute{type, true, bytes{static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}};
}

attribute attribute::variable(uint16_t type, bytes v) {
  return attribute{type, false, std::move(v)};
}

attribute attribute::integer(uint16_t type, uint64_t v) {
  if (v <= 0xffff) {
    return basic(type, static_cast<uint16_t>(v));
  }
  return fixed(type, v, v <= 0xffffffffu ? 4 : 8);
}

attribute attribute::fixed(uint16_t type, uint64_t v, std::size_t len) {
  attribute a{type, false, bytes(len)};
  for (std::size_t i = 0; i < len; ++i) {
    a.value[i] = static_cast<uint8_t>(v >> (8 * (len - 1 - i)));
  }
  return a;
}

std::optional<codec_error> read_attribute(byte_reader& r, attribute& a, std::size_t& at,
                                          uint8_t payload_type) {
  at = r.offset();
  uint16_t af_type = 0;
  uint16_t len_or_value = 0;
  if (!r.u16(af_type) || !r.u16(len_or_value)) {
    return make_error(codec_errc::truncated_attribute, at, payload_type);
  }
  a.type = af_type & attr_type_max;
  a.tv = (af_type & attr_af_bit) != 0;
  if (a.tv) {
    a.value = {static_cast<uint8_t>(len_or_value >> 8), static_cast<uint8_t>(len_or_value)};
    return std::nullopt;
  }
  std::span<const uint8_t> v;
  if (!r.take(len_or_value, v)) {
    return make_error(codec_errc::truncated_attribute, at + 2, payload_type);
  }
  a.value.assign(v.begin(), v.end());
  return std::nullopt;
}

result<std::vector<attribute>> decode_attributes(std::span<const uint8_t> area, std::size_t base,
                                                 uint8_t payload_type) {
  std::vector<attribute> out;
  byte_reader r(area, base);
  while (!r.empty()) {
    attribute a;
    std::size_t at = 0;
    if (auto e = read_attribute(r, a, at, payload_type)) {
      return *e;
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::optional<codec_error> write_attribute(byte_writer& w, const attribute& a,
                                           uint8_t payload_type) {
  if (a.type > attr_type_max || (a.tv && a.value.size() != 2) ||
      (!a.tv && a.value.size() > 0xffff)) {
    return make_error(codec_errc::value_too_long, w.size(), payload_type);
  }
  if (a.tv) {
    w.u16(static_cast<uint16_t>(a.type | attr_af_bit));
    w.put(a.value);
    return std::nullopt;
  }
  w.u16(a.type);
  w.u16(static_cast<uint16_t>(a.value.size()));
  w.put(a.value);
  return std::nullopt;
}

std::optional<codec_error> write_attributes(byte_writer& w, const std::vector<attribute>& as,
                                            uint8_t payload_type) {
  for (const attribute& a : as) {
    if (auto e = write_attribute(w, a, payload_type)) {
      return e;
    }
  }
  return std::nullopt;
}

std::optional<codec_error> attribute_uint(const attribute& a, std::size_t at, uint8_t payload_type,
                                          uint64_t max, uint64_t& v) {
  if (a.value.empty() || a.value.size() > 8) {
    return make_error(codec_errc::bad_attribute_length, at, payload_type);
  }
  v = be_uint(a.value);
  if (v > max) {
    return make_error(codec_errc::attribute_out_of_range, at, payload_type);
  }
  return std::nullopt;
}

}  // namespace gm::control
