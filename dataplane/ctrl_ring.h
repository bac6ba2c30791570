// The two named rings between control and data plane, created by the primary and looked up
// by the secondary: "<prefix>_to_dp" (requests) and "<prefix>_from_dp" (acks and events).
#pragma once

#include <string>

#include <rte_ring.h>

#include "dataplane/ctrl_msg.h"

namespace gm::ctrl {

struct rings {
  rte_ring* to_dp = nullptr;
  rte_ring* from_dp = nullptr;

  /// Primary: creates both rings (multi-producer, single-consumer). Empty error on success.
  static rings create(const std::string& prefix, std::string& error);
  /// Secondary (or tests in the same process): finds existing rings.
  static rings lookup(const std::string& prefix, std::string& error);

  bool send_to_dp(const msg& m) const;
  bool recv_at_dp(msg& m) const;
  bool send_from_dp(const msg& m) const;
  bool recv_from_dp(msg& m) const;
};

}  // namespace gm::ctrl
