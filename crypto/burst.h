// Bookkeeping shared by the burst stages: good packets first, bad ones after, in order.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "crypto/esp_lcore.h"
#include "dataplane/burst.h"
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

}  // namespace gm::crypto::detail
