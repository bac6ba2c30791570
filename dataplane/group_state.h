// Everything a worker needs to know about the group, as one immutable snapshot: the SAs
// (inbound by SPI, outbound by policy index), the compiled policy and the pseudotime.
// The control side builds a new one for every change and publishes it whole.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "classifier/acl_table.h"
#include "crypto/esp_sa.h"
#include "dataplane/config.h"
#include "tbar/check.h"
#include "tbar/pseudotime.h"

namespace gm::dataplane {

inline constexpr uint32_t max_policy_index = 16;

struct group_state {
  /// Shared between successive states: a rekey builds a new state that keeps the SAs it
  /// does not change. Slots are stable for an SA's life.
  std::vector<std::shared_ptr<const crypto::esp_sa>> sas;
  crypto::sa_table inbound;                          ///< every SA, looked up by SPI
  std::array<const crypto::esp_sa*, max_policy_index> outbound{};  ///< by ACE sa_index
  std::array<uint32_t, crypto::max_sa_slots> policy_index_by_slot{};
  std::array<tbar::check_policy, crypto::max_sa_slots> tbar_by_slot{};
  /// Counter-based replay (two-GM groups): window in packets, 0 = off.
  std::array<uint32_t, crypto::max_sa_slots> counter_window_by_slot{};
  std::array<uint32_t, crypto::max_sa_slots> spi_by_slot{};
  std::shared_ptr<const classifier::acl_table> acl;
  tbar::pseudotime pseudotime;
  migration_mode migration = migration_mode::normal;
  /// The KS-allocated sender id for counter-mode IVs; 0 = the configured one.
  uint32_t sender_id = 0;
};

}  // namespace gm::dataplane
