// Sums the per-lcore counters on read and formats them: IOS `show crypto ipsec sa` style
// for people, JSON for tests and tools.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crypto/esp_lcore.h"
#include "dataplane/config.h"
#include "dataplane/group_state.h"
#include "dataplane/worker.h"

namespace gm::dataplane {

struct sa_view {
  uint32_t spi;
  crypto::transform_id xf;
  bool tbar;
  uint32_t tbar_window_ms;
  crypto::sa_counters counters;
};

struct stats_view {
  port_counters lan;
  port_counters wan;
  crypto::sa_counters no_sa;
  tbar::replay_stats replay;
  std::vector<sa_view> sas;
  uint64_t idle_sleeps = 0;
  uint64_t worker_cpu_ns = 0;  ///< summed over workers; known once they have stopped
  stage_cycles cycles{};
  double elapsed_s = 0;  ///< forwarding time (set by the caller)
};

/// One worker's counters for the SAs of `gs`.
stats_view collect_one(const worker& w, const group_state& gs);
/// All workers summed.
stats_view collect(const std::vector<std::unique_ptr<worker>>& workers, const group_state& gs);
std::string format_ipsec_sa(const stats_view& v, const config& cfg);
std::string format_json(const stats_view& v);

}  // namespace gm::dataplane
