// The receiver's time-based anti-replay check (spec section 4), a burst stage after ESP
// decrypt: accept iff |pt_packet - pt_local| <= window. Counters mirror IOS
// `show crypto gdoi gm replay`; failures are sampled into a small, rate-limited history.
#pragma once

#include <array>
#include <cstdint>

#include <rte_mbuf.h>

#include "tbar/pseudotime.h"

namespace gm::tbar {

/// Per-SA policy, indexed by the SA slot the decrypt stage stored in meta().
struct check_policy {
  bool time_based = false;  ///< false: the SA does not use TBAR; packets pass
  uint32_t window_ms = 0;
};

/// One sampled failure: what `show crypto gdoi gm replay` prints in its error history.
struct error_sample {
  uint64_t when_ns;
  uint32_t src;  ///< outer source address, network order
  uint64_t my_pt_ms;
  uint64_t peer_pt_ms;
  uint32_t window_ms;
};

/// Samples at most `per_minute` failures per minute into a ring of the last `capacity`.
class error_history {
 public:
  static constexpr uint32_t capacity = 32;
  static constexpr uint32_t per_minute = 10;

  void record(const error_sample& s);
  uint32_t size() const { return _count < capacity ? _count : capacity; }
  /// i = 0 is the oldest kept sample.
  const error_sample& at(uint32_t i) const;
  uint64_t suppressed() const { return _suppressed; }

 private:
  std::array<error_sample, capacity> _ring{};
  uint64_t _count = 0;
  uint64_t _minute_start_ns = 0;
  uint32_t _in_minute = 0;
  uint64_t _suppressed = 0;
};

/// Per-lcore TBAR counters (summed on read).
struct alignas(64) replay_stats {
  uint64_t input_packets = 0;        ///< checked and accepted
  uint64_t output_packets = 0;       ///< stamped on the way out (counted by the caller)
  uint64_t input_error_packets = 0;  ///< outside the window, or no stamp
  uint64_t output_error_packets = 0;
  uint64_t time_sync_errors = 0;  ///< checked before any KS pseudotime was known
  uint64_t max_time_delta_ms = 0;

  replay_stats& operator+=(const replay_stats& o);
};

struct check_lcore {
  replay_stats stats;
  error_history history;
};

/// Checks `n` decrypted packets (data at the inner IPv4 header; its source equals the outer
/// one under header preservation) at monotonic time `mono_ns`. Good packets end at
/// pkts[0..ret); the rest at pkts[ret..n) with meta()->reason set, counted in `st.stats`;
/// the caller charges them to its per-SA drop counters and frees them.
uint16_t check_burst(check_lcore& st, const pseudotime& pt, const check_policy* by_slot,
                     rte_mbuf** pkts, uint16_t n, uint64_t mono_ns);

}  // namespace gm::tbar
