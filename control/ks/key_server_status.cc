// key_server::status(): the engine's state as the ks_status the show renderers read.
#include <algorithm>

#include "control/ks/key_server.h"
#include "control/ks/ks_policy.h"
#include "control/ks_status.h"

namespace gm::control::ks {

namespace {

std::vector<uint32_t> to_vector(const std::deque<uint32_t>& d) { return {d.begin(), d.end()}; }

uint32_t seconds_between(mono_time from, mono_time to) {
  if (to <= from) {
    return 0;
  }
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(to - from).count());
}

std::vector<trace_row> rows(const event_trace& t, trace_subsystem s) {
  std::vector<trace_row> out;
  for (const trace_line& l : t.snapshot(s)) {
    out.push_back({l.stamp, l.entry.text});
  }
  return out;
}

std::string acl_line(const std::string& group, const policy_ace& a) {
  return "access-list " + group + " " + a.ace.text;
}

}  // namespace

ks_status key_server::status() const {
  const mono_time now = _clock.mono();
  const auto transport = _cfg->rekey.transport == rekey_transport::unicast
                             ? control::rekey_transport::unicast
                             : control::rekey_transport::multicast;
  ks_group_status g;
  g.name = _cfg->group_name;
  g.identity = _cfg->group_id;
  g.server = _cfg->listen;
  for (const policy_ace& a : _cfg->acl) {
    g.acl.push_back(acl_line(_cfg->group_name, a));
  }

  ks_kek_policy k;
  k.transport = transport;
  k.spi = _kek.state.spi;
  k.encrypt_alg = _cfg->kek.cipher == ike::cipher::aes_cbc ? "AES" : "3DES";
  k.iv_length = static_cast<uint32_t>(_kek.state.iv.size());
  k.key_size_bytes = static_cast<uint32_t>(_kek.state.key.size());
  k.orig_life_s = _cfg->kek.lifetime_s;
  k.remaining_life_s = remaining_s(_kek.expires, now);
  k.sig_hash_enabled = true;
  k.sig_key_length = static_cast<uint32_t>(_public_der.size());
  k.sig_size = _signer.bits() / 8;
  k.sig_key_name = _cfg->kek.rsa_key;
  g.kek = k;

  const crypto::transform_info& xf = crypto::info(_cfg->tek.transform);
  for (auto it = _teks.rbegin(); it != _teks.rend(); ++it) {  // newest first, as IOS lists
    ks_tek_policy t;
    t.spi = it->spi;
    t.access_list = _cfg->group_name;
    t.transform = std::string(xf.ios_name);
    t.alg_key_size_bytes = static_cast<uint32_t>(it->alg_key.size());
    t.sig_key_size_bytes = static_cast<uint32_t>(it->integrity_key.size());
    t.orig_life_s = _cfg->tek.lifetime_s;
    t.remaining_life_s = remaining_s(it->expires, now);
    t.tek_life_s = _cfg->tek.lifetime_s;
    t.elapsed_s = seconds_between(it->created, now);
    t.antireplay_window = _cfg->tek.replay == replay_mode::time ? _cfg->tek.window : 0;
    t.replay_value_ms = pseudotime_ms();
    g.teks.push_back(std::move(t));
    g.rekey.teks.push_back({_cfg->tek.lifetime_s, remaining_s(it->expires, now)});
  }

  g.rekey.transport = transport;
  g.rekey.seq = _seq;
  g.rekey.rekeys_sent = _counters.rekeys;
  g.rekey.rekeys_retransmitted = _rekeys_retransmitted;
  g.rekey.kek_lifetime_s = _cfg->kek.lifetime_s;
  g.rekey.kek_remaining_s = remaining_s(_kek.expires, now);
  g.rekey.retransmit_period_s = _cfg->rekey.retransmit_period_s;
  g.rekey.retransmit_count = _cfg->rekey.retransmit_count;
  if (_last_rekey_wall) {
    g.rekey.last_rekey_time = ios_timestamp(*_last_rekey_wall);
  }

  for (const auto& [addr, m] : _members) {
    ks_member_status s;
    s.addr = addr;
    s.group_id = _cfg->group_id;
    s.group_name = _cfg->group_name;
    s.ks_addr = _cfg->listen;
    s.registered_at = ios_timestamp(m.registered_wall);
    s.rekeys_sent = m.rekeys_sent;
    s.rekey_retries = m.retries;
    s.acks_received = m.acks_received;
    s.acks_missed = m.acks_missed;
    s.sent_seqs = to_vector(m.sent_seqs);
    s.acked_seqs = to_vector(m.acked_seqs);
    s.status = m.pending ? member_state::rekey_pending : member_state::registered;
    g.members.push_back(std::move(s));
  }

  ks_status st;
  st.groups.push_back(std::move(g));
  st.trace.registration = rows(_trace, trace_subsystem::registration);
  st.trace.rekey = rows(_trace, trace_subsystem::rekey);
  st.trace.exit = rows(_trace, trace_subsystem::exit);
  return st;
}

}  // namespace gm::control::ks
