// Counter-based anti-replay (RFC 4303 section 3.4.3, the alternative to TBAR for two-GM
// groups): a sliding bitmap of `size` sequence numbers (64..1024) ending at the highest
// seen. Check before the ICV is verified, update only after.
#pragma once

#include <array>
#include <cstdint>

namespace gm::tbar {

class replay_window {
 public:
  static constexpr uint32_t max_size = 1024;

  replay_window() : replay_window(64) {}
  /// `size` is clamped to 64..1024 and rounded up to a multiple of 64.
  explicit replay_window(uint32_t size) {
    size = size < 64 ? 64 : size > max_size ? max_size : size;
    _size = (size + 63) / 64 * 64;
  }

  uint32_t size() const { return _size; }
  uint32_t highest() const { return _top; }

  /// True if `seq` is new and inside the window (or ahead of it).
  bool check(uint32_t seq) const {
    if (seq == 0) {
      return false;  // never sent: ESP sequence numbers start at 1
    }
    if (seq > _top) {
      return true;
    }
    const uint32_t behind = _top - seq;
    if (behind >= _size) {
      return false;
    }
    return !bit(seq);
  }

  /// Records `seq` as received; call only after check() and ICV verification passed.
  void update(uint32_t seq) {
    if (seq > _top) {
      const uint32_t shift = seq - _top;
      if (shift >= _size) {
        _bits.fill(0);
      } else {
        for (uint32_t s = _top + 1; s < seq; ++s) {
          clear(s);  // the slots the window slides over are fresh
        }
      }
      _top = seq;
    }
    set(seq);
  }

 private:
  bool bit(uint32_t seq) const { return (_bits[(seq % _size) / 64] >> (seq % 64)) & 1; }
  void set(uint32_t seq) { _bits[(seq % _size) / 64] |= uint64_t{1} << (seq % 64); }
  void clear(uint32_t seq) { _bits[(seq % _size) / 64] &= ~(uint64_t{1} << (seq % 64)); }

  std::array<uint64_t, max_size / 64> _bits{};
  uint32_t _top = 0;
  uint32_t _size;
};

}  // namespace gm::tbar
