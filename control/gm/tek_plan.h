// Downloaded SA TEKs + TEK keys -> what the data plane installs: ESP SAs (by SPI, each
// serving a policy index), the ACL as ace_recs (deny TEKs -> bypass, permit -> protect
// with the SA's policy index), and the TBAR settings. Pure: no rings, no clock.
//
// Policy indices: the data plane switches outbound traffic per policy index. Every SPI's
// set of ACEs gets one, kept stable across rekeys (same ACEs -> same index), so a rekey's
// new SPI takes over exactly the traffic of the SPI it replaces.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "control/gdoi_payloads.h"
#include "crypto/transform.h"
#include "dataplane/ctrl_msg.h"

namespace gm::control::gmd {

/// One ESP SA to install.
struct tek_sa {
  uint32_t spi = 0;
  crypto::transform_id transform = crypto::transform_id::aes_gcm_128;
  uint32_t policy_index = 0;
  ctrl::replay replay = ctrl::replay::none;
  uint32_t window = 0;  ///< ms (time) or packets (counter)
  uint32_t lifetime_s = 0;
  key_bytes key;       ///< cipher key || GCM salt
  key_bytes auth_key;  ///< HMAC key (CBC transforms)
};

struct tek_plan {
  std::vector<tek_sa> sas;
  std::vector<ctrl::ace_rec> aces;   ///< KS ACL, in order (local ACL not included)
  std::vector<std::string> acl_text; ///< "access-list permit ip 10.1.0.0 0.0.255.255 ..."
  std::optional<uint64_t> pseudotime_ms;
  uint32_t tbar_window_ms = 0;
};

/// Why a policy was refused: the text names the SPI and the transform (spec §7: a refused
/// transform is logged once, by name, and the GM backs off).
struct plan_error {
  std::string what;
};

/// Stable policy indices across rekeys (see above).
///
/// A policy replacement (the KS changed its ACL and sent it in a TEK rekey) brings an ACE
/// set never seen before. When that plan's permit ACEs form one set, and so did the plan
/// before it (one IPsec profile per group, as GETVPN deploys), the new set takes over the
/// old set's index: the new ACL is classified at once, onto the index whose outbound SA is
/// still the old TEK, and the new TEK activates on the same index after the GAP delay.
/// With a fresh index instead, the new ACL would point at an index with no outbound SA
/// until then (drops), and peers' packets still under the old SA would fail the inner
/// policy check. Taking over also keeps indices from running out across many changes.
class policy_indexer {
 public:
  /// Call once per plan with its distinct permit ACE sets, before index_for().
  void begin_plan(const std::set<std::string>& ace_set_keys);
  /// The index for a set of ACEs (its text key); a new one when unseen. Empty when every
  /// index is taken.
  std::optional<uint32_t> index_for(const std::string& ace_set_key);
  void reset() {
    _by_key.clear();
    _last_single.reset();
  }

 private:
  std::map<std::string, uint32_t> _by_key;
  std::optional<std::string> _last_single;  ///< the previous plan's only ACE set
};

/// GDOI ESP transform id + key length + auth algorithm -> our transform (empty: unknown).
std::optional<crypto::transform_id> transform_of(const sa_tek& tek);

std::variant<tek_plan, plan_error> plan_teks(const std::vector<sa_tek>& teks,
                                             const std::map<uint32_t, key_packet>& keys,
                                             const std::vector<crypto::transform_id>& allowed,
                                             policy_indexer& indexer);

/// The IOS text of one SA TEK's ACE ("permit udp host 10.1.1.1 eq 848 any").
std::string ace_text(const sa_tek& tek);

}  // namespace gm::control::gmd
