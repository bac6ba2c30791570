// The TBAR metadata header that rides inside the ESP payload ahead of the inner packet
// (spec GETVPN-GM.md section 4). Kept in this one codec so the layout can be swapped if a
// real Cisco capture shows otherwise.
//
//  0: inner proto (4 or 41) | 1: length = 16 | 2: option = 1 | 3: option length = 12
//  4: pseudotime in ms, uint64 big-endian | 12: sender id, uint32 big-endian (0 = none)
#pragma once

#include <cstddef>
#include <cstdint>

namespace gm::tbar {

inline constexpr uint8_t esp_next_header = 99;
inline constexpr std::size_t metadata_len = 16;
inline constexpr uint8_t option_timestamp = 1;
inline constexpr uint8_t option_len = 12;

struct metadata {
  uint8_t inner_proto;
  uint64_t pseudotime_ms;
  uint32_t sender_id;
};

enum class decode_status : uint8_t { ok, short_buffer, bad_length, bad_option, bad_inner_proto };

inline void encode(uint8_t* out, const metadata& m) {
  out[0] = m.inner_proto;
  out[1] = static_cast<uint8_t>(metadata_len);
  out[2] = option_timestamp;
  out[3] = option_len;
  for (int i = 0; i < 8; ++i) {
    out[4 + i] = static_cast<uint8_t>(m.pseudotime_ms >> (56 - 8 * i));
  }
  for (int i = 0; i < 4; ++i) {
    out[12 + i] = static_cast<uint8_t>(m.sender_id >> (24 - 8 * i));
  }
}

inline decode_status decode(const uint8_t* in, std::size_t len, metadata& m) {
  if (len < metadata_len) {
    return decode_status::short_buffer;
  }
  if (in[1] != metadata_len) {
    return decode_status::bad_length;
  }
  if (in[2] != option_timestamp || in[3] != option_len) {
    return decode_status::bad_option;
  }
  if (in[0] != 4 && in[0] != 41) {
    return decode_status::bad_inner_proto;
  }
  m.inner_proto = in[0];
  m.pseudotime_ms = 0;
  for (int i = 0; i < 8; ++i) {
    m.pseudotime_ms = (m.pseudotime_ms << 8) | in[4 + i];
  }
  m.sender_id = 0;
  for (int i = 0; i < 4; ++i) {
    m.sender_id = (m.sender_id << 8) | in[12 + i];
  }
  return decode_status::ok;
}

}  // namespace gm::tbar
