// Bounded big-endian reads and writes for the GDOI/ISAKMP codec. The reader never reads
// past its span: every read says whether the bytes were there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "control/wiping_allocator.h"

namespace gm::control {

class byte_reader {
 public:
  /// `base` is the offset of `b` in the whole message, for error reports.
  explicit byte_reader(std::span<const uint8_t> b, std::size_t base = 0) : _b(b), _base(base) {}

  std::size_t remaining() const { return _b.size() - _pos; }
  bool empty() const { return _pos == _b.size(); }
  /// Offset of the next byte in the whole message.
  std::size_t offset() const { return _base + _pos; }

  bool u8(uint8_t& v) {
    if (remaining() < 1) {
      return false;
    }
    v = _b[_pos++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (remaining() < 2) {
      return false;
    }
    v = static_cast<uint16_t>(_b[_pos] << 8 | _b[_pos + 1]);
    _pos += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    if (remaining() < 4) {
      return false;
    }
    v = static_cast<uint32_t>(_b[_pos]) << 24 | static_cast<uint32_t>(_b[_pos + 1]) << 16 |
        static_cast<uint32_t>(_b[_pos + 2]) << 8 | _b[_pos + 3];
    _pos += 4;
    return true;
  }
  /// Takes the next `n` bytes as a sub-span.
  bool take(std::size_t n, std::span<const uint8_t>& out) {
    if (remaining() < n) {
      return false;
    }
    out = _b.subspan(_pos, n);
    _pos += n;
    return true;
  }
  /// A reader over the next `n` bytes (consumed here), keeping absolute offsets.
  bool sub(std::size_t n, byte_reader& out) {
    const std::size_t at = offset();
    std::span<const uint8_t> s;
    if (!take(n, s)) {
      return false;
    }
    out = byte_reader(s, at);
    return true;
  }
  bool peek_u8(std::size_t ahead, uint8_t& v) const {
    if (remaining() <= ahead) {
      return false;
    }
    v = _b[_pos + ahead];
    return true;
  }
  std::span<const uint8_t> rest() const { return _b.subspan(_pos); }

 private:
  std::span<const uint8_t> _b;
  std::size_t _base;
  std::size_t _pos = 0;
};

/// Reads an unsigned big-endian integer of 1..8 bytes.
inline uint64_t be_uint(std::span<const uint8_t> b) {
  uint64_t v = 0;
  for (uint8_t x : b) {
    v = v << 8 | x;
  }
  return v;
}

class byte_writer {
 public:
  explicit byte_writer(bytes& out) : _out(out) {}

  std::size_t size() const { return _out.size(); }
  void u8(uint8_t v) { _out.push_back(v); }
  void u16(uint16_t v) {
    _out.push_back(static_cast<uint8_t>(v >> 8));
    _out.push_back(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) {
      _out.push_back(static_cast<uint8_t>(v >> s));
    }
  }
  void put(std::span<const uint8_t> b) { _out.insert(_out.end(), b.begin(), b.end()); }
  void patch_u16(std::size_t at, uint16_t v) {
    _out[at] = static_cast<uint8_t>(v >> 8);
    _out[at + 1] = static_cast<uint8_t>(v);
  }
  void patch_u32(std::size_t at, uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) {
      _out[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
    }
  }
  void patch_u8(std::size_t at, uint8_t v) { _out[at] = v; }

 private:
  bytes& _out;
};

}  // namespace gm::control
