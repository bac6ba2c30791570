#include "dataplane/group_control.h"

#include <string.h>  // explicit_bzero (glibc)

#include <algorithm>
#include <cerrno>

#include <rte_memzone.h>

#include "tbar/replay_window.h"

namespace gm::dataplane {

group_control::group_control(snapshot<group_state>& state, IMB_MGR* mgr,
                             const std::array<bool, crypto::transform_count>& enabled,
                             const config& cfg)
    : _state(state), _mgr(mgr), _enabled(enabled), _cfg(cfg) {
  _policy.local = cfg.local_acl;
}

bool group_control::load_static(uint64_t mono_ns, std::string& error) {
  if (_cfg.static_group) {
    const static_sa_config& s = *_cfg.static_group;
    ctrl::sa_add_body b{};
    b.spi = s.spi;
    b.policy_index = 0;
    b.transform = static_cast<uint8_t>(s.transform);
    b.replay_mode = static_cast<uint8_t>(s.replay == replay_mode::time      ? ctrl::replay::time
                                         : s.replay == replay_mode::counter ? ctrl::replay::counter
                                                                            : ctrl::replay::none);
    b.df = static_cast<uint8_t>(_cfg.df);
    b.window = s.replay == replay_mode::time ? s.window * 1000 : s.window;
    b.key_len = static_cast<uint8_t>(s.key.size());
    b.auth_key_len = static_cast<uint8_t>(s.auth_key.size());
    std::copy(s.key.begin(), s.key.end(), b.key);  // (memcpy from an empty vector is UB)
    std::copy(s.auth_key.begin(), s.auth_key.end(), b.auth_key);
    const int rc = add_sa(b, error);
    explicit_bzero(&b, sizeof(b));  // (a memset of a dying local may be optimised away)
    if (rc != 0) {
      error = "static_group: " + error;
      return false;
    }
    _outbound_spi[0] = s.spi;
    _policy.ks = s.acl;
    _pt.sync(s.pseudotime_ms, mono_ns, s.window * 1000);
  }
  if (!rebuild_acl(error)) {
    return false;
  }
  publish();
  return true;
}

int group_control::add_sa(const ctrl::sa_add_body& b, std::string& why) {
  if (b.transform >= crypto::transform_count) {
    why = "unknown transform id " + std::to_string(b.transform);
    return EINVAL;
  }
  const auto xf = static_cast<crypto::transform_id>(b.transform);
  if (!_enabled[b.transform]) {
    why = "transform " + std::string(crypto::info(xf).name) + " failed its self-test";
    return ENOTSUP;
  }
  if (b.spi == 0) {
    why = "SPI " + std::to_string(b.spi) + " is reserved";
    return EINVAL;
  }
  if (_sas.count(b.spi) != 0) {
    why = "SPI " + std::to_string(b.spi) + " is already installed";
    return EEXIST;
  }
  if (b.policy_index >= max_policy_index) {
    why = "policy index " + std::to_string(b.policy_index) + " out of range";
    return EINVAL;
  }
  if (b.key_len > sizeof(b.key) || b.auth_key_len > sizeof(b.auth_key) ||
      b.df > static_cast<uint8_t>(crypto::df_mode::clear) || b.replay_mode > 2) {
    why = "malformed sa_add";
    return EINVAL;
  }
  if (_slots_used.all()) {
    why = "all " + std::to_string(crypto::max_sa_slots) + " SA slots in use";
    return ENOSPC;
  }
  while (_slots_used.test(_next_slot)) {
    _next_slot = static_cast<uint16_t>((_next_slot + 1) % crypto::max_sa_slots);
  }
  auto sa = std::make_shared<crypto::esp_sa>();
  const crypto::key_error ke = sa->keys.init(_mgr, xf, {b.key, b.key_len}, {b.auth_key, b.auth_key_len});
  if (ke != crypto::key_error::none) {
    why = ke == crypto::key_error::bad_cipher_key_len ? "wrong cipher key length for " : "wrong auth key length for ";
    why += crypto::info(xf).name;
    return EINVAL;
  }
  sa->spi = b.spi;
  sa->slot = _next_slot;
  sa->df = static_cast<crypto::df_mode>(b.df);
  sa->tbar = b.replay_mode == static_cast<uint8_t>(ctrl::replay::time);
  const bool counter = b.replay_mode == static_cast<uint8_t>(ctrl::replay::counter);
  if (counter && _cfg.workers != 1) {
    why = "counter replay needs one worker (sequence numbers are per lcore)";
    return EINVAL;
  }
  if (counter && (b.window < 64 || b.window > tbar::replay_window::max_size)) {
    why = "counter replay windows are 64..1024 packets";
    return EINVAL;
  }
  const uint16_t slot = sa->slot;
  _slots_used.set(slot);
  _next_slot = static_cast<uint16_t>((slot + 1) % crypto::max_sa_slots);
  _sas[b.spi] = {std::move(sa), b.policy_index, {b.replay_mode == 1, b.window},
                 counter ? b.window : 0};
  return 0;
}

bool group_control::rebuild_acl(std::string& why) {
  std::unique_ptr<classifier::acl_table> t = classifier::acl_table::build(_policy, why);
  if (!t) {
    return false;
  }
  _acl = std::move(t);
  return true;
}

int group_control::replace_policy(const ctrl::policy_body& b, std::string& why) {
  char name[sizeof(b.memzone) + 1] = {};
  std::memcpy(name, b.memzone, sizeof(b.memzone));
  const rte_memzone* mz = rte_memzone_lookup(name);
  if (mz == nullptr) {
    why = std::string("policy memzone '") + name + "' not found";
    return ENOENT;
  }
  if (static_cast<uint64_t>(b.count) * sizeof(ctrl::ace_rec) > mz->len) {
    why = "policy memzone is shorter than its ACE count";
    return EINVAL;
  }
  const auto* recs = static_cast<const ctrl::ace_rec*>(mz->addr);
  classifier::policy p;
  for (uint32_t i = 0; i < b.count; ++i) {
    const ctrl::ace_rec& r = recs[i];
    if (r.action < 1 || r.action > 3 || r.src_len > 32 || r.dst_len > 32 ||
        r.sa_index >= max_policy_index) {
      why = "ACE " + std::to_string(i) + " is malformed";
      return EINVAL;
    }
    classifier::ace a;
    a.act = static_cast<classifier::action>(r.action);
    a.proto = r.proto;
    a.src = {r.src, r.src_len};
    a.dst = {r.dst, r.dst_len};
    a.sport = {r.sport_lo, r.sport_hi};
    a.dport = {r.dport_lo, r.dport_hi};
    a.sa_index = r.sa_index;
    (r.local ? p.local : p.ks).push_back(a);
  }
  // The configured local deny ACL always stays in front.
  p.local.insert(p.local.begin(), _cfg.local_acl.begin(), _cfg.local_acl.end());
  std::swap(_policy, p);
  if (!rebuild_acl(why)) {
    std::swap(_policy, p);
    return EINVAL;
  }
  return 0;
}

ctrl::msg group_control::apply(const ctrl::msg& req, uint64_t mono_ns) {
  ctrl::msg ack{};
  ack.type = ctrl::msg_type::ack;
  ack.version = ctrl::msg_version;
  ack.seq = req.seq;
  std::string why;
  int rc = 0;
  if (req.version != ctrl::msg_version) {
    rc = EPROTO;
    why = "message version " + std::to_string(req.version) + " not understood";
  } else {
    switch (req.type) {
      case ctrl::msg_type::sa_add:
        rc = add_sa(req.u.sa_add, why);
        break;
      case ctrl::msg_type::sa_activate_outbound: {
        const auto it = _sas.find(req.u.spi.spi);
        if (it == _sas.end()) {
          rc = ENOENT;
          why = "no SA with SPI " + std::to_string(req.u.spi.spi);
        } else {
          _outbound_spi[it->second.policy_index] = req.u.spi.spi;
        }
        break;
      }
      case ctrl::msg_type::sa_del: {
        const auto it = _sas.find(req.u.spi.spi);
        if (it == _sas.end()) {
          rc = ENOENT;
          why = "no SA with SPI " + std::to_string(req.u.spi.spi);
          break;
        }
        for (auto& o : _outbound_spi) {
          if (o == req.u.spi.spi) o = 0;
        }
        _slots_used.reset(it->second.sa->slot);
        _sas.erase(it);  // keys are wiped when the last snapshot holding it is reclaimed
        break;
      }
      case ctrl::msg_type::policy_replace:
        rc = replace_policy(req.u.policy, why);
        break;
      case ctrl::msg_type::pseudotime_sync: {
        const tbar::sync_result r = _pt.sync(req.u.pt.ks_pt_ms, mono_ns, req.u.pt.window_ms);
        if (r.large_jump) {
          why = "%GDOI-4-PSEUDO_TIME_LARGE: delta " + std::to_string(r.delta_ms) + " ms" +
                (r.clamped ? " (clamped to the window)" : "");
        }
        break;
      }
      case ctrl::msg_type::sender_id:
        if (req.u.sender.sid > 0xffff) {
          rc = EINVAL;
          why = "sender id " + std::to_string(req.u.sender.sid) + " does not fit 16 bits";
        } else {
          _sender_id = req.u.sender.sid;
        }
        break;
      case ctrl::msg_type::flush:
        _sas.clear();
        _outbound_spi.fill(0);
        _slots_used.reset();
        _policy.ks.clear();
        rc = rebuild_acl(why) ? 0 : EINVAL;
        break;
      default:
        rc = EOPNOTSUPP;
        why = "unknown message type " + std::to_string(static_cast<int>(req.type));
        break;
    }
  }
  if (rc == 0) {
    publish();
  }
  ack.u.ack.status = rc;
  std::snprintf(ack.u.ack.text, sizeof(ack.u.ack.text), "%s", why.c_str());
  return ack;
}

void group_control::publish() {
  auto st = std::make_unique<group_state>();
  st->migration = _cfg.migration;
  st->acl = _acl;
  st->pseudotime = _pt;
  st->sender_id = _sender_id;
  for (const auto& [spi, e] : _sas) {
    st->sas.push_back(e.sa);
    st->inbound.sas[st->inbound.count++] = e.sa.get();
    st->policy_index_by_slot[e.sa->slot] = e.policy_index;
    st->tbar_by_slot[e.sa->slot] = e.tbar;
    st->counter_window_by_slot[e.sa->slot] = e.counter_window;
    st->spi_by_slot[e.sa->slot] = e.sa->spi;
  }
  for (uint32_t i = 0; i < max_policy_index; ++i) {
    if (_outbound_spi[i] != 0) {
      st->outbound[i] = _sas.at(_outbound_spi[i]).sa.get();
    }
  }
  _state.publish(std::move(st));
}

}  // namespace gm::dataplane
