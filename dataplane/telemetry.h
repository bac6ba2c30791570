// DPDK telemetry endpoints under /gm/ (read them with dpdk-telemetry.py): every counter
// per port, per SA, per lcore and per drop reason. The control loop refreshes a summed
// copy of the counters; telemetry callbacks only read that copy, never worker state.
#pragma once

#include "dataplane/stats.h"

namespace gm::dataplane::telemetry {

/// Registers /gm/ports, /gm/sa, /gm/drops, /gm/replay, /gm/lcores. Call once after EAL init.
void register_endpoints();

/// Publishes a fresh view (called from the control loop, e.g. every 100 ms).
void update(const stats_view& total, const std::vector<stats_view>& per_lcore);

}  // namespace gm::dataplane::telemetry
