#include "dataplane/group_state.h"

namespace gm::dataplane {

std::unique_ptr<group_state> build_static_state(const config& cfg, IMB_MGR* mgr,
                                                uint64_t mono_ns, std::string& error) {
  auto st = std::make_unique<group_state>();
  st->migration = cfg.migration;
  classifier::policy pol;
  pol.local = cfg.local_acl;
  if (cfg.static_group) {
    const static_sa_config& s = *cfg.static_group;
    auto sa = std::make_unique<crypto::esp_sa>();
    if (sa->keys.init(mgr, s.transform, s.key, s.auth_key) != crypto::key_error::none) {
      error = "static_group: key expansion failed";
      return nullptr;
    }
    sa->spi = s.spi;
    sa->slot = 0;
    sa->df = cfg.df;
    sa->tbar = s.replay == replay_mode::time;
    st->tbar_by_slot[0] = {sa->tbar, s.window * 1000};
    st->policy_index_by_slot[0] = 0;
    st->outbound[0] = sa.get();
    st->inbound.sas[st->inbound.count++] = sa.get();
    st->sas.push_back(std::move(sa));
    pol.ks = s.acl;
    st->pseudotime.sync(s.pseudotime_ms, mono_ns, s.window * 1000);
  }
  st->acl = classifier::acl_table::build(pol, error);
  if (!st->acl) {
    return nullptr;
  }
  return st;
}

}  // namespace gm::dataplane
