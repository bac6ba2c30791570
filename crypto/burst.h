// Bookkeeping shared by the burst stages: good packets first, bad ones after, in order.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "crypto/esp_lcore.h"
#include "dataplane/pkt_meta.h"

namespace gm::crypto::detail {

struct burst_split {
  rte_mbuf* good[max_burst];
  rte_mbuf* bad[max_burst];
  uint16_t ngood = 0;
  uint16_t nbad = 0;

  void drop(rte_mbuf* m, drop_reason r, sa_counters& c) {
    meta(m)->reason = r;
    ++c.drops[static_cast<std::size_t>(r)];
    bad[nbad++] = m;
  }

  /// Writes good then bad back into `out`; returns the good count.
  uint16_t write_back(rte_mbuf** out) const {
    for (uint16_t i = 0; i < ngood; ++i) {
      out[i] = good[i];
    }
    for (uint16_t i = 0; i < nbad; ++i) {
      out[ngood + i] = bad[i];
    }
    return ngood;
  }
};

/// Runs `stage` over chunks of at most max_burst and compacts the results so that all
/// good packets precede all bad ones across chunks.
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

}  // namespace gm::crypto::detail
