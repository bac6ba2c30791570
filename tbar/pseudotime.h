// The group's pseudotime (spec section 4): learned from the KS at registration and every
// rekey, ticked locally from a monotonic clock only, so that stepping the wall clock (NTP)
// never moves it. Times are passed in by the caller: the clock is injected.
#pragma once

#include <cstdint>

namespace gm::tbar {

struct sync_result {
  bool large_jump;      ///< |ks - local| exceeded the window: log %GDOI-4-PSEUDO_TIME_LARGE
  bool clamped;         ///< the KS value was behind by more than the window; we kept window
  int64_t delta_ms;     ///< ks value minus our value before the sync
};

class pseudotime {
 public:
  bool synced() const { return _synced; }

  /// Pseudotime in ms at monotonic time `mono_ns`. 0 before the first sync.
  uint64_t now_ms(uint64_t mono_ns) const {
    if (!_synced) {
      return 0;
    }
    return _pt_at_sync_ms + (mono_ns - _mono_at_sync_ns) / 1'000'000;
  }

  /// Adopts the KS pseudotime `ks_ms` at `mono_ns`. Never moves backwards by more than
  /// `window_ms`: a KS value further behind is clamped to (ours - window).
  sync_result sync(uint64_t ks_ms, uint64_t mono_ns, uint32_t window_ms) {
    sync_result r{false, false, 0};
    if (!_synced) {
      set(ks_ms, mono_ns);
      return r;
    }
    const uint64_t ours = now_ms(mono_ns);
    r.delta_ms = static_cast<int64_t>(ks_ms - ours);
    const uint64_t dist = r.delta_ms < 0 ? static_cast<uint64_t>(-r.delta_ms)
                                         : static_cast<uint64_t>(r.delta_ms);
    r.large_jump = dist > window_ms;
    if (r.delta_ms < 0 && dist > window_ms) {
      r.clamped = true;
      set(ours - window_ms, mono_ns);
    } else {
      set(ks_ms, mono_ns);
    }
    return r;
  }

 private:
  void set(uint64_t pt_ms, uint64_t mono_ns) {
    _pt_at_sync_ms = pt_ms;
    _mono_at_sync_ns = mono_ns;
    _synced = true;
  }
  uint64_t _pt_at_sync_ms = 0;
  uint64_t _mono_at_sync_ns = 0;
  bool _synced = false;
};

}  // namespace gm::tbar
