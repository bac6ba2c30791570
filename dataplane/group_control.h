// The data plane's side of the control interface: applies sa_add / activate / del /
// policy_replace / pseudotime_sync / flush requests by building a new group_state and
// publishing it whole. Runs on the main lcore, never on a worker; not thread-safe.
//
// Rekey overlap lives in the data (STYLE rule 7): a new TEK is added for inbound at once,
// outbound switches when the control side sends sa_activate_outbound, and the old SA stays
// inbound until sa_del. Workers never pause.
#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "crypto/self_test.h"
#include "dataplane/config.h"
#include "dataplane/ctrl_msg.h"
#include "dataplane/group_state.h"
#include "dataplane/snapshot.h"

namespace gm::dataplane {

class group_control {
 public:
  group_control(snapshot<group_state>& state, IMB_MGR* mgr,
                const std::array<bool, crypto::transform_count>& enabled, const config& cfg);

  /// Installs the config's local ACL and static group, if any, and publishes.
  bool load_static(uint64_t mono_ns, std::string& error);

  /// Applies one request; returns the ack to send back (status 0 on success).
  ctrl::msg apply(const ctrl::msg& req, uint64_t mono_ns);

  std::size_t sa_count() const { return _sas.size(); }

 private:
  struct sa_entry {
    std::shared_ptr<const crypto::esp_sa> sa;
    uint32_t policy_index;
    tbar::check_policy tbar;
    uint32_t counter_window;  ///< packets; 0 unless counter-based replay
  };

  int add_sa(const ctrl::sa_add_body& b, std::string& why);
  int replace_policy(const ctrl::policy_body& b, std::string& why);
  bool rebuild_acl(std::string& why);
  void publish();

  snapshot<group_state>& _state;
  IMB_MGR* _mgr;
  std::array<bool, crypto::transform_count> _enabled;
  const config& _cfg;
  std::map<uint32_t, sa_entry> _sas;  ///< by SPI
  uint32_t _sender_id = 0;  ///< KS-allocated; 0 = configured
  std::array<uint32_t, max_policy_index> _outbound_spi{};  ///< 0 = none active
  std::bitset<crypto::max_sa_slots> _slots_used;
  uint16_t _next_slot = 0;  ///< round robin, so a slot's counters are rarely reused
  classifier::policy _policy;
  std::shared_ptr<const classifier::acl_table> _acl;
  tbar::pseudotime _pt;
};

}  // namespace gm::dataplane
