// Burst conventions shared by every stage: at most max_burst packets per internal pass;
// a stage returns the count of good packets, which precede the bad ones in the array.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

namespace gm {

inline constexpr uint16_t max_burst = 64;

/// Runs `stage(pkts, k)` over chunks of at most max_burst and compacts the results so that
/// all good packets precede all bad ones across chunks, each group in arrival order.
template <typename Stage>
uint16_t in_chunks(rte_mbuf** pkts, uint16_t n, Stage&& stage) {
  if (n <= max_burst) {
    return stage(pkts, n);
  }
  uint16_t good = 0;
  for (uint16_t off = 0; off < n; off += max_burst) {
    const uint16_t len = static_cast<uint16_t>(n - off < max_burst ? n - off : max_burst);
    const uint16_t g = stage(pkts + off, len);
    // Rotate this chunk's good packets down to join the earlier good ones.
    for (uint16_t i = 0; i < g; ++i) {
      rte_mbuf* m = pkts[off + i];
      for (uint16_t j = off + i; j > good + i; --j) {
        pkts[j] = pkts[j - 1];
      }
      pkts[good + i] = m;
    }
    good = static_cast<uint16_t>(good + g);
  }
  return good;
}

}  // namespace gm
