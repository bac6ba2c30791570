// The named rings between control and data plane, created by the primary and looked up
// by the secondary: "<prefix>_to_dp" (requests), "<prefix>_from_dp" (acks) and
// "<prefix>_events" (unknown SPI, TBAR failures). Events have their own ring so that a
// flood of them, or nobody reading them, can never crowd out an ack.
#pragma once

#include <string>

#include <rte_ring.h>

#include "dataplane/ctrl_msg.h"

namespace gm::ctrl {

struct rings {
  rte_ring* to_dp = nullptr;
  rte_ring* from_dp = nullptr;
  rte_ring* events = nullptr;

  /// Primary: creates both rings (multi-producer, single-consumer). Empty error on success.
  static rings create(const std::string& prefix, std::string& error);
  /// Secondary (or tests in the same process): finds existing rings.
  static rings lookup(const std::string& prefix, std::string& error);

  bool send_to_dp(const msg& m) const;
  bool recv_at_dp(msg& m) const;
  bool send_from_dp(const msg& m) const;
  bool recv_from_dp(msg& m) const;
  bool send_event(const msg& m) const;  ///< any lcore (multi-producer)
  bool recv_event(msg& m) const;
};

}  // namespace gm::ctrl
