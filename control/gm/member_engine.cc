#include "control/gm/member_engine.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crypto/transform.h"

namespace gm::control::gmd {

namespace {

constexpr const char* drop_names[] = {
#define GM_X(n, t) #n,
    GM_RX_DROPS(GM_X)
#undef GM_X
};
constexpr const char* drop_texts[] = {
#define GM_X(n, t) t,
    GM_RX_DROPS(GM_X)
#undef GM_X
};
static_assert(std::size(drop_names) == rx_drop_count);

using std::chrono::milliseconds;
using std::chrono::seconds;

bool is_multicast(uint32_t host) { return (host >> 28) == 0xe; }

std::optional<uint32_t> kek_destination(const sa_kek& kek) {
  if ((kek.dst.type == id_type::ipv4_addr || kek.dst.type == id_type::ipv4_subnet) &&
      kek.dst.data.size() >= 4) {
    return static_cast<uint32_t>(kek.dst.data[0]) << 24 | static_cast<uint32_t>(kek.dst.data[1]) << 16 |
           static_cast<uint32_t>(kek.dst.data[2]) << 8 | kek.dst.data[3];
  }
  return std::nullopt;
}

std::string kek_alg_name(const sa_kek& k) {
  return k.attrs.algorithm.value_or(0) == kek_alg::des3 ? "3DES" : "AES";
}

}  // namespace

const char* text(rx_drop d) { return drop_texts[static_cast<std::size_t>(d)]; }
const char* name(rx_drop d) { return drop_names[static_cast<std::size_t>(d)]; }

member_engine::member_engine(const gm_config& cfg, gm_io io, dp_port* dp, const ops_clock& clock,
                           gm_log& log, event_trace& trace)
    : _cfg(cfg), _io(std::move(io)), _dp(dp), _clock(clock), _log(log), _trace(trace) {}

std::optional<uint32_t> member_engine::registered_with() const {
  if (_state != state::registered) return std::nullopt;
  return _cfg.servers[_server];
}

uint32_t member_engine::current_outbound_spi() const {
  for (const auto& [spi, s] : _sas) {
    if (s.outbound) return spi;
  }
  return 0;
}

void member_engine::start() {
  _server = 0;
  begin_attempt();
}

void member_engine::begin_attempt() {
  const mono_time now = _clock.mono();
  ++_attempts;
  _pull.reset();
  main_mode_config mc;
  mc.proposals = _cfg.phase1;
  mc.psk = _cfg.psk;
  mc.local_addr = _cfg.local_address;
  mc.peer_addr = _cfg.servers[_server];
  _mm = std::make_unique<main_mode_initiator>(std::move(mc));
  _state = state::phase1;
  _retransmits = 0;
  _trace.record(trace_subsystem::registration,
                "GDOI_REG_EVENT: REG_STARTED: Registration to KS " +
                    log_detail::to_text(ipv4_addr{_cfg.servers[_server]}) + " started for group " +
                    _cfg.group_name);
  send_current(_mm->start());
  _retransmit_at = now + seconds(_cfg.retransmit_s);
}

void member_engine::send_current(const bytes& b) {
  _io.send(_cfg.servers[_server], _cfg.server_port, b);
}

void member_engine::next_server(const char* why) {
  const uint32_t failed = _cfg.servers[_server];
  _mm.reset();
  _pull.reset();
  _trace.record(trace_subsystem::registration,
                std::string("GDOI_REG_EVENT: REG_FAILED: KS ") +
                    log_detail::to_text(ipv4_addr{failed}) + ": " + why);
  if (_server + 1 < _cfg.servers.size()) {
    ++_server;
    _log.emit<log_msg::gm_ks_unreachable>(ipv4_addr{failed}, _cfg.group_name,
                                          ipv4_addr{_cfg.servers[_server]});
    begin_attempt();
    return;
  }
  // Every KS failed: start over from the first after a pause, not in a tight loop.
  _log.emit<log_msg::gm_ks_unreachable>(ipv4_addr{failed}, _cfg.group_name,
                                        ipv4_addr{_cfg.servers.front()});
  _server = 0;
  _state = state::backoff;
  // Rounds over every KS back off: retry_all, 2x, 4x ... capped at 8x, plus up to a quarter
  // more that differs per GM (its address) and round, so that GMs that lost their KS at
  // the same moment do not all come back in the same second. Derived, not random: the
  // tests' clock stays deterministic.
  const auto base = milliseconds(seconds(_cfg.retry_all_s << std::min<uint32_t>(_failed_rounds, 3)));
  uint32_t h = (_cfg.local_address ^ (_failed_rounds * 0x9e3779b9u)) * 0x85ebca6bu;
  h ^= h >> 13;
  _backoff_until = _clock.mono() + base + base * (h % 251) / 1000;
  ++_failed_rounds;
}

void member_engine::drop(rx_drop d, uint32_t src, const std::string& why) {
  ++_drops[static_cast<std::size_t>(d)];
  const bool rekey = d == rx_drop::push_error || d == rx_drop::push_replay ||
                     d == rx_drop::push_not_registered;
  _trace.record(rekey ? trace_subsystem::rekey : trace_subsystem::registration,
                std::string(rekey ? "GDOI_REKEY_EVENT: " : "GDOI_REG_EVENT: ") + "DROPPED: from " +
                    log_detail::to_text(ipv4_addr{src}) + ": " + text(d) + ": " + why);
  _log.debug(debug_role::gm, rekey ? debug_category::rekey : debug_category::registration,
             debug_level::error, src, "GM dropped a datagram from {}: {}: {}", ipv4_addr{src},
             text(d), why);
}

void member_engine::on_datagram(uint32_t src, uint16_t sport, std::span<const uint8_t> dgram) {
  const auto h = decode_header(dgram);
  if (!h.ok()) {
    drop(rx_drop::not_isakmp, src, describe(h.error()));
    return;
  }
  if (h.value().exchange_type == exchange::groupkey_push) {
    on_push(src, sport, dgram);
    return;
  }
  if (src != _cfg.servers[_server]) {
    drop(rx_drop::unexpected_peer, src, "registration traffic from a KS we are not talking to");
    return;
  }
  if (_state == state::phase1 && h.value().exchange_type == exchange::identity_protection) {
    on_phase1(dgram);
  } else if (_state == state::pull && h.value().exchange_type == exchange::groupkey_pull) {
    on_pull(dgram);
  } else {
    drop(rx_drop::unexpected_exchange, src,
         "exchange " + std::to_string(h.value().exchange_type) + " in this state");
  }
}

void member_engine::on_phase1(std::span<const uint8_t> dgram) {
  const uint32_t ks = _cfg.servers[_server];
  const mm_result r = _mm->receive(dgram, _clock.mono());
  if (const auto* e = std::get_if<ike_error>(&r)) {
    drop(rx_drop::phase1_error, ks, describe(*e));
    if (e->code == ike_errc::auth_failed || e->code == ike_errc::no_proposal_chosen) {
      _log.emit<log_msg::ikmp_mode_failure>("Main", ipv4_addr{ks}, describe(*e));
    }
    return;
  }
  if (const auto& reply = std::get<std::optional<bytes>>(r)) {
    send_current(*reply);
    _retransmits = 0;
    _retransmit_at = _clock.mono() + seconds(_cfg.retransmit_s);
  }
  if (_mm->established()) {
    _p1 = std::make_unique<phase1_sa>(_mm->take_sa());
    _mm.reset();
    _pull = std::make_unique<pull_initiator>(*_p1, _cfg.identity, _cfg.request_sender_id);
    _state = state::pull;
    _trace.record(trace_subsystem::registration,
                  "GDOI_REG_EVENT: PHASE1_DONE: IKE SA with KS " + log_detail::to_text(ipv4_addr{ks}) +
                      " established; GROUPKEY-PULL started");
    send_current(_pull->start());
    _retransmits = 0;
    _retransmit_at = _clock.mono() + seconds(_cfg.retransmit_s);
  }
}

void member_engine::on_pull(std::span<const uint8_t> dgram) {
  const uint32_t ks = _cfg.servers[_server];
  const pull_step r = _pull->receive(dgram);
  if (const auto* e = std::get_if<pull_error>(&r)) {
    drop(rx_drop::pull_error, ks, describe(*e));
    return;
  }
  if (const auto& reply = std::get<std::optional<bytes>>(r)) {
    send_current(*reply);
    _retransmits = 0;
    _retransmit_at = _clock.mono() + seconds(_cfg.retransmit_s);
  }
  if (_pull->done()) {
    const group_keys keys = _pull->keys();
    _pull.reset();
    if (install(keys, true, ks)) {
      _state = state::registered;
      _failed_rounds = 0;
      ++_successes;
      _rekeys_since_reg = 0;
      _log.emit<log_msg::gm_regs_compl>(ipv4_addr{ks}, _cfg.group_name,
                                        ipv4_addr{_cfg.local_address});
      _log.emit<log_msg::gm_install_policies_success>(ipv4_addr{ks}, _cfg.group_name,
                                                      _cfg.identity);
      _trace.record(trace_subsystem::registration,
                    "GDOI_REG_EVENT: REG_COMPLETE: Registration to KS " +
                        log_detail::to_text(ipv4_addr{ks}) + " complete for group " + _cfg.group_name);
      schedule_reregister();
    }
  }
}

void member_engine::reject(uint32_t ks, const std::string& why) {
  // Spec §7 (ASR1000 bug): refuse once with a clear log, then back off; no re-register loop.
  if (why != _last_reject) {
    _log.emit<log_msg::gm_rejecting_sa_payload>(ipv4_addr{ks}, _cfg.group_name, why);
    _last_reject = why;
  }
  _trace.record(trace_subsystem::registration, "GDOI_REG_EVENT: POLICY_REJECTED: " + why);
  _state = state::backoff;
  _backoff_until = _clock.mono() + seconds(_cfg.reject_backoff_s);
}

ctrl::ack_result member_engine::dp_request(ctrl::msg& m) {
  if (_dp == nullptr) {
    m.wipe();
    return {0, "no data plane attached"};
  }
  return _dp->request(m);
}

bool member_engine::install_sas(const tek_plan& plan, bool activate_now, std::string& why) {
  const mono_time now = _clock.mono();
  for (const tek_sa& sa : plan.sas) {
    if (_sas.count(sa.spi)) continue;  // re-registration: the SA is installed already
    ctrl::msg m{};
    m.type = ctrl::msg_type::sa_add;
    auto& b = m.u.sa_add;
    b.spi = sa.spi;
    b.policy_index = sa.policy_index;
    b.transform = static_cast<uint8_t>(sa.transform);
    b.replay_mode = static_cast<uint8_t>(sa.replay);
    b.window = sa.window;
    b.df = 0;  // copy: header preservation keeps the inner DF
    b.key_len = static_cast<uint8_t>(sa.key.size());
    b.auth_key_len = static_cast<uint8_t>(sa.auth_key.size());
    std::copy(sa.key.begin(), sa.key.end(), b.key);
    std::copy(sa.auth_key.begin(), sa.auth_key.end(), b.auth_key);
    const ctrl::ack_result r = dp_request(m);
    // EEXIST: the data plane still holds this TEK from before (gm-control restarted while
    // the data plane kept forwarding): take it over as it is.
    if (!r.ok() && r.status != EEXIST) {
      why = "SPI " + std::to_string(sa.spi) + " (" + std::string(crypto::info(sa.transform).ios_name) +
            "): data plane refused: " + r.text;
      return false;
    }
    installed_sa rec;
    rec.sa = sa;
    rec.sa.key = key_bytes{};  // frees (and so wipes) the copy: the data plane holds the keys
    rec.sa.auth_key = key_bytes{};
    rec.installed = now;
    rec.expires = now + seconds(sa.lifetime_s == 0 ? 3600 : sa.lifetime_s);
    _sas[sa.spi] = std::move(rec);
    if (activate_now) {
      _schedule.push_back({now, scheduled::kind::activate, sa.spi});
    }
    _schedule.push_back({_sas[sa.spi].expires, scheduled::kind::remove, sa.spi});
  }
  return true;
}

bool member_engine::replace_policy(const tek_plan& plan, std::string& why) {
  std::vector<ctrl::ace_rec> aces;
  for (const classifier::ace& a : _cfg.local_acl) {
    aces.push_back(ctrl::ace_record(a, true));
  }
  aces.insert(aces.end(), plan.aces.begin(), plan.aces.end());
  if (_dp != nullptr) {
    const ctrl::ack_result r = _dp->replace_policy(aces);
    if (!r.ok()) {
      why = "data plane refused the ACL: " + r.text;
      return false;
    }
  }
  _acl_text = plan.acl_text;
  return true;
}

bool member_engine::install(const group_keys& keys, bool registration, uint32_t from) {
  if (keys.forms.legacy() && !_variant_logged) {
    _log.emit<log_msg::gm_ks_variant>(ipv4_addr{from}, _cfg.group_name, describe(keys.forms));
    _variant_logged = true;
  }
  std::string why;
  if (keys.kek && keys.kek_keys) {
    auto k = make_kek_state(*keys.kek, *keys.kek_keys,
                            _receiver ? std::span<const uint8_t>(_receiver->kek.ks_public_der)
                                      : std::span<const uint8_t>());
    if (auto* e = std::get_if<push_error>(&k)) {
      reject(from, "KEK: " + describe(*e));
      return false;
    }
    if (!_receiver) _receiver.emplace();
    _receiver->kek = std::move(std::get<kek_state>(k));
    _receiver->last_seq = keys.seq.value_or(0);
    _kek_policy = keys.kek;
    _kek_installed = _clock.mono();
    const auto dst = kek_destination(*keys.kek);
    set_transport(dst && is_multicast(*dst), dst);
  }
  if (keys.teks.empty()) return true;
  const auto planned = plan_teks(keys.teks, keys.tek_keys, _cfg.allowed_transforms, _indexer);
  if (const auto* e = std::get_if<plan_error>(&planned)) {
    reject(from, e->what);
    return false;
  }
  const tek_plan& plan = std::get<tek_plan>(planned);
  if (plan.pseudotime_ms) {
    ctrl::msg m{};
    m.type = ctrl::msg_type::pseudotime_sync;
    m.u.pt = {*plan.pseudotime_ms, plan.tbar_window_ms};
    const auto r = dp_request(m);
    if (!r.ok()) {
      reject(from, "pseudotime: " + r.text);
      return false;
    }
    const uint64_t mine = _pt_ms ? *_pt_ms + static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     _clock.mono() - _pt_at).count())
                                 : 0;
    _pt_ms = *plan.pseudotime_ms;
    _pt_at = _clock.mono();
    if (!r.text.empty()) {  // the data plane reports a large jump
      _log.emit<log_msg::pseudo_time_large>(mine / 1000, *plan.pseudotime_ms / 1000, _cfg.group_name);
    }
  }
  if (registration) {
    ctrl::msg m{};
    m.type = ctrl::msg_type::sender_id;
    const auto sid = keys.sender_id();
    m.u.sender.sid = sid ? static_cast<uint32_t>(*sid & 0xffff)
                         : (_cfg.sender_id != 0 ? _cfg.sender_id : (_cfg.local_address & 0xffff));
    if (!sid) {
      _trace.record(trace_subsystem::registration,
                    "GDOI_REG_EVENT: SENDER_ID: no SID from the KS; using " +
                        std::to_string(m.u.sender.sid) +
                        (_cfg.sender_id != 0 ? " (configured)" : " (from our address)"));
    }
    dp_request(m);
  }
  // Registration: the group's current TEKs are in use by every member: send with them now.
  // Rekey: inbound now, outbound after the activation delay (every GM must have the new
  // inbound SA before anyone sends with it).
  if (!install_sas(plan, registration, why) || !replace_policy(plan, why)) {
    _log.emit<log_msg::gm_install_policies_failed>(ipv4_addr{from}, _cfg.group_name, _cfg.identity, why);
    reject(from, why);
    return false;
  }
  if (!registration) {
    uint32_t atd = _cfg.activation_delay_s;
    if (keys.gap && keys.gap->activation_time_delay) atd = *keys.gap->activation_time_delay;
    for (const tek_sa& sa : plan.sas) {
      _schedule.push_back({_clock.mono() + seconds(atd), scheduled::kind::activate, sa.spi});
    }
  }
  _acl_from = from;
  _last_reject.clear();
  return true;
}

void member_engine::set_transport(bool multicast, std::optional<uint32_t> group) {
  if (multicast != _multicast && _successes > 0) {
    if (multicast) {
      _log.emit<log_msg::gm_rekey_trans_2_multi>(_cfg.group_name);
    } else {
      _log.emit<log_msg::gm_rekey_trans_2_uni>(_cfg.group_name);
    }
  }
  _multicast = multicast;
  if (_io.multicast) _io.multicast(multicast ? group : std::nullopt);
}

void member_engine::on_push(uint32_t src, uint16_t sport, std::span<const uint8_t> dgram) {
  if (!_receiver) {
    drop(rx_drop::push_not_registered, src, "no KEK yet");
    return;
  }
  const kek_state before = _receiver->kek;  // the ACK goes under the KEK the push came under
  const uint32_t last = _receiver->last_seq;
  auto r = _receiver->receive(dgram);
  if (auto* e = std::get_if<push_error>(&r)) {
    if (e->code == push_errc::replayed_seq) {
      ++_drops[static_cast<std::size_t>(rx_drop::push_replay)];
      _log.emit<log_msg::replay_failed>(_cfg.group_name, ipv4_addr{src}, "(not above)", last);
      _trace.record(trace_subsystem::rekey, "GDOI_REKEY_EVENT: REPLAY: rekey from " +
                                                log_detail::to_text(ipv4_addr{src}) +
                                                " with a SEQ not above " + std::to_string(last));
    } else {
      drop(rx_drop::push_error, src, describe(*e));
      _log.emit<log_msg::gm_rekey_verify_failed>(ipv4_addr{src}, _cfg.group_name, describe(*e));
    }
    return;
  }
  const opened_push& p = std::get<opened_push>(r);
  // Spec §5: the pre-RFC (Cisco 2011 reference) rekey forms are accepted; say so once.
  if ((p.form == ike::sig_form::raw_hash || p.static_iv) && !_push_variant_logged) {
    _log.emit<log_msg::gm_ks_variant>(
        ipv4_addr{src}, _cfg.group_name,
        std::string(p.form == ike::sig_form::raw_hash ? "raw-hash RSA signatures" : "DigestInfo RSA signatures") +
            (p.static_iv ? " and the static KEK IV" : " and per-message IVs") + " in rekeys");
    _push_variant_logged = true;
  }
  ++_rekeys_total;
  ++_rekeys_since_reg;
  (_multicast ? _multicast_rekeys : _unicast_rekeys) += 1;
  _last_rekey_from = src;
  _last_rekey_seq = p.seq;
  _last_rekey_at = _clock.mono();
  _log.emit<log_msg::gm_recv_rekey>(_cfg.group_name, ipv4_addr{src}, ipv4_addr{_cfg.local_address}, p.seq);
  _trace.record(trace_subsystem::rekey,
                "GDOI_REKEY_EVENT: REKEY_RCVD: From " + log_detail::to_text(ipv4_addr{src}) + " to " +
                    log_detail::to_text(ipv4_addr{_cfg.local_address}) + " with seq no " +
                    std::to_string(p.seq) + " for the group " + _cfg.group_name +
                    (p.form == ike::sig_form::raw_hash ? " (raw-hash signature)" : "") +
                    (p.static_iv ? " (static KEK IV)" : ""));
  // RFC 8263 5: ACK when the KEK's policy asks (multicast rekeys too), keyed from the KEK
  // the push came under, to the address and port it came from; ID protocol and port 0.
  if (before.ack_requested && !ack_type_supported(before.ack_type)) {
    if (!_ack_type_logged) {
      _trace.record(trace_subsystem::rekey,
                    "GDOI_REKEY_EVENT: ACK_NOT_SENT: KEK_ACK_REQUESTED " +
                        std::to_string(before.ack_type) +
                        " (an LKH acknowledgement) is not implemented; rekeys are still taken");
      _ack_type_logged = true;
    }
  } else if (before.ack_requested) {
    auto ack = build_push_ack(before, p.seq, id_payload{id_type::ipv4_addr, 0, 0,
                                                        [&] {
                                                          bytes b;
                                                          byte_writer w(b);
                                                          w.u32(_cfg.local_address);
                                                          return b;
                                                        }()});
    if (auto* d = std::get_if<bytes>(&ack)) {
      _io.send(src, sport, *d);
      ++_acks_sent;
      _trace.record(trace_subsystem::rekey, "GDOI_REKEY_EVENT: ACK_SENT: To " +
                                                log_detail::to_text(ipv4_addr{src}) + " with seq no " +
                                                std::to_string(p.seq));
    }
  }
  group_keys keys;
  add_keys(keys, p.sa, p.kd);
  keys.seq = p.seq;
  keys.forms = p.forms;
  if (p.sa.kek) {
    _kek_policy = p.sa.kek;
    const auto dst = kek_destination(*p.sa.kek);
    set_transport(dst && is_multicast(*dst), dst);
  }
  if (keys.kek_keys) {
    // rekey_receiver installed the new KEK already; remember the policy for show.
    _kek_installed = _clock.mono();
    _log.emit<log_msg::sa_kek_updated>();
  }
  keys.kek.reset();  // the receiver owns the KEK state
  keys.kek_keys.reset();
  if (!keys.teks.empty()) {
    if (install(keys, false, src)) _log.emit<log_msg::sa_tek_updated>();
  }
  if (p.del) {
    for (const bytes& spi_b : p.del->spis) {
      if (spi_b.size() != 4) continue;
      const uint32_t spi = static_cast<uint32_t>(spi_b[0]) << 24 | static_cast<uint32_t>(spi_b[1]) << 16 |
                           static_cast<uint32_t>(spi_b[2]) << 8 | spi_b[3];
      _log.emit<log_msg::gm_recv_delete>(_cfg.group_name);
      // Keep it for the activation delay so packets in flight still decrypt.
      _schedule.push_back({_clock.mono() + seconds(_cfg.activation_delay_s + 1),
                           scheduled::kind::remove, spi});
    }
  }
  schedule_reregister();
}

void member_engine::remove_sa(uint32_t spi) {
  const auto it = _sas.find(spi);
  if (it == _sas.end()) return;
  ctrl::msg m{};
  m.type = ctrl::msg_type::sa_del;
  m.u.spi.spi = spi;
  dp_request(m);
  _trace.record(trace_subsystem::rekey, "GDOI_REKEY_EVENT: SA_REMOVED: SPI " + std::to_string(spi));
  _sas.erase(it);
}

void member_engine::schedule_reregister() {
  // Re-register before the newest TEK (and the KEK) expire when no rekey brings new ones.
  std::optional<mono_time> latest;
  for (const auto& [spi, s] : _sas) {
    if (!latest || s.expires > *latest) latest = s.expires;
  }
  if (_kek_policy && _kek_policy->attrs.key_lifetime) {
    const mono_time kek_exp = _kek_installed + seconds(*_kek_policy->attrs.key_lifetime);
    if (!latest || kek_exp < *latest) latest = kek_exp;
  }
  if (latest) {
    // Lifetimes shorter than reregister_before would put the time in the past (a
    // re-registration storm): then re-register halfway through what is left.
    const mono_time now = _clock.mono();
    const mono_time early = *latest - seconds(_cfg.reregister_before_s);
    _reregister_at = early > now ? early : now + (*latest - now) / 2;
  }
}

void member_engine::drain_events() {
  if (_dp == nullptr) return;
  ctrl::msg ev{};
  for (int i = 0; i < 64 && _dp->poll_event(ev); ++i) {
    if (ev.type == ctrl::msg_type::event_unknown_spi) {
      _log.emit<log_msg::recvd_pkt_inv_spi>(ipv4_addr{ntohl(ev.u.unknown_spi.dst)},
                                            spi32{ev.u.unknown_spi.spi},
                                            ipv4_addr{ntohl(ev.u.unknown_spi.src)});
    } else if (ev.type == ctrl::msg_type::event_tbar_fail) {
      const auto& t = ev.u.tbar_fail;
      char my[32], peer[32];
      std::snprintf(my, sizeof my, "%.2f", t.my_pt_ms / 1000.0);
      std::snprintf(peer, sizeof peer, "%.2f", t.peer_pt_ms / 1000.0);
      _log.emit<log_msg::timebased_replay_failed>(_cfg.group_name, std::string(my), std::string(peer),
                                                  t.window_ms / 1000, ipv4_addr{ntohl(t.src)},
                                                  ipv4_addr{_cfg.local_address});
    }
  }
}

void member_engine::tick() {
  const mono_time now = _clock.mono();
  drain_events();
  if ((_state == state::phase1 || _state == state::pull) && now >= _retransmit_at) {
    if (_retransmits >= _cfg.retransmit_count) {
      // Keys exist once message 4 came: silence after our message 5 means the KS could not
      // verify HASH_I, which with PSK authentication is nearly always a key mismatch.
      const bool after_msg5 = _state == state::phase1 && !_mm->sa().skeyid.empty();
      if (after_msg5) {
        _log.emit<log_msg::ikmp_mode_failure>(
            "Main", ipv4_addr{_cfg.servers[_server]},
            "no answer to message 5: the KS could not authenticate us (check the pre-shared key)");
      }
      next_server(after_msg5 ? "no answer to Main Mode message 5 (pre-shared key mismatch?)"
                  : _state == state::phase1 ? "no answer to Main Mode"
                                            : "no answer to GROUPKEY-PULL");
    } else {
      ++_retransmits;
      send_current(_state == state::phase1 ? _mm->last_sent() : _pull->last_sent());
      _retransmit_at = now + seconds(_cfg.retransmit_s << _retransmits);
    }
  }
  if (_state == state::backoff && now >= _backoff_until) {
    begin_attempt();
  }
  // Scheduled activations and removals, in time order.
  std::sort(_schedule.begin(), _schedule.end(), [](const scheduled& a, const scheduled& b) { return a.at < b.at; });
  while (!_schedule.empty() && _schedule.front().at <= now) {
    const scheduled s = _schedule.front();
    _schedule.erase(_schedule.begin());
    auto it = _sas.find(s.spi);
    if (it == _sas.end()) continue;
    if (s.what == scheduled::kind::activate) {
      ctrl::msg m{};
      m.type = ctrl::msg_type::sa_activate_outbound;
      m.u.spi.spi = s.spi;
      if (dp_request(m).ok()) {
        for (auto& [spi, rec] : _sas) {
          if (rec.sa.policy_index == it->second.sa.policy_index) rec.outbound = false;
        }
        it->second.outbound = true;
        _trace.record(trace_subsystem::rekey,
                      "GDOI_REKEY_EVENT: TEK_ACTIVATED: outbound now uses SPI " + std::to_string(s.spi));
      }
    } else if (it->second.expires <= now || s.at <= now) {
      remove_sa(s.spi);
    }
  }
  if (_state == state::registered && _reregister_at && now >= *_reregister_at) {
    _reregister_at.reset();
    _log.emit<log_msg::gm_re_register>(_cfg.group_name);
    _trace.record(trace_subsystem::registration,
                  "GDOI_REG_EVENT: RE_REGISTER: TEK/KEK about to expire and no rekey came");
    begin_attempt();
  }
}

void member_engine::clear() {
  _log.emit<log_msg::gm_clear_register>(_cfg.group_name);
  _trace.record(trace_subsystem::exit, "GDOI_EXIT_EVENT: CLEAR: clear crypto gdoi for group " + _cfg.group_name);
  // The SAs go, the downloaded ACL stays: until the new registration installs keys, traffic
  // the policy protects is dropped (no outbound SA), never sent in clear. The next
  // registration replaces the ACL.
  std::vector<uint32_t> spis;
  for (const auto& [spi, rec] : _sas) spis.push_back(spi);
  for (const uint32_t spi : spis) remove_sa(spi);
  _schedule.clear();
  _receiver.reset();
  _kek_policy.reset();
  _p1.reset();
  _reregister_at.reset();
  _rekeys_since_reg = 0;
  if (_io.multicast) _io.multicast(std::nullopt);
  _multicast = false;
  start();
}

void member_engine::fill_status(gm_status& s) const {
  const mono_time now = _clock.mono();
  auto secs_until = [&](mono_time t) {
    return t > now ? static_cast<uint32_t>(std::chrono::duration_cast<seconds>(t - now).count()) : 0u;
  };
  gm_group_status g;
  g.name = _cfg.group_name;
  g.identity = _cfg.identity;
  g.servers = _cfg.servers;
  g.member_addr = _cfg.local_address;
  g.registration = _state == state::registered ? registration_state::registered
                   : (_state == state::phase1 || _state == state::pull) ? registration_state::registering
                                                                        : registration_state::not_registered;
  if (_state == state::registered) g.registered_with = _cfg.servers[_server];
  if (_reregister_at) g.reregister_in_s = secs_until(*_reregister_at);
  g.succeeded_registrations = _successes;
  g.attempted_registrations = _attempts;
  g.last_rekey_from = _last_rekey_from;
  g.last_rekey_seq = _last_rekey_seq;
  if (_last_rekey_at) {
    g.last_rekey_age_s = static_cast<uint32_t>(std::chrono::duration_cast<seconds>(now - *_last_rekey_at).count());
  }
  g.unicast_rekeys_received = _unicast_rekeys;
  g.multicast_rekeys_received = _multicast_rekeys;
  g.rekeys_total = _rekeys_total;
  g.rekeys_after_register = _rekeys_since_reg;
  g.rekey_acks_sent = _acks_sent;
  g.acl_from = _acl_from;
  g.ks_acl = _acl_text;
  g.local_deny_acl = _cfg.local_acl_text;
  g.tek_interface = _cfg.interface;
  if (_kek_policy && _receiver) {
    kek_policy_status k;
    k.transport = _multicast ? rekey_transport::multicast : rekey_transport::unicast;
    if (_kek_policy->attrs.key_lifetime) {
      k.lifetime_remaining_s = secs_until(_kek_installed + seconds(*_kek_policy->attrs.key_lifetime));
    }
    k.encrypt_alg = kek_alg_name(*_kek_policy);
    k.key_size_bits = static_cast<uint32_t>(_receiver->kek.key.size() * 8);
    k.sig_hash_alg = _receiver->kek.sig_hash == ike::hash_alg::sha256 ? "HMAC_AUTH_SHA256" : "HMAC_AUTH_SHA";
    k.sig_key_length_bits = _kek_policy->attrs.sig_key_length.value_or(0);
    g.kek = k;
  }
  for (const auto& [spi, rec] : _sas) {
    tek_policy_status t;
    t.spi = spi;
    t.transform = std::string(crypto::info(rec.sa.transform).ios_name);
    t.remaining_lifetime_s = secs_until(rec.expires);
    if (rec.sa.replay == ctrl::replay::time) t.tbar_window_s = rec.sa.window / 1000;
    if (rec.sa.replay == ctrl::replay::counter) t.counter_window = rec.sa.window;
    const auto& info = crypto::info(rec.sa.transform);
    t.alg_key_size_bytes = info.key_len;
    t.sig_key_size_bytes = info.auth_key_len;
    g.teks.push_back(t);
  }
  // `show crypto ipsec sa`: the group's SAs on the WAN interface (GETVPN uses one SPI both
  // ways); the data plane's counters are folded in by the daemon (dp_telemetry).
  ipsec_interface_status i;
  i.interface = _cfg.interface;
  i.crypto_map = _cfg.group_name;
  i.local_addr = _cfg.local_address;
  i.current_outbound_spi = current_outbound_spi();
  for (const auto& [spi, rec] : _sas) {
    esp_sa_status e;
    e.spi = spi;
    const auto& info = crypto::info(rec.sa.transform);
    e.transform = std::string(info.ios_name);
    e.conn_id = 2000 + rec.sa.policy_index;
    e.remaining_lifetime_s = secs_until(rec.expires);
    e.iv_size = info.iv_len;
    e.time_based = rec.sa.replay == ctrl::replay::time;
    e.replay_window = e.time_based ? rec.sa.window / 1000 : rec.sa.window;
    e.status = rec.outbound || now < rec.expires ? sa_status::active : sa_status::expired;
    i.inbound.push_back(e);
    if (rec.outbound) i.outbound.push_back(e);
  }
  s.ipsec.push_back(std::move(i));
  replay_status r;
  r.group = _cfg.group_name;
  r.time_based = true;
  for (const auto& [spi, rec] : _sas) r.time_based = r.time_based && rec.sa.replay != ctrl::replay::counter;
  if (_pt_ms) {
    r.replay_value_ms = *_pt_ms + static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - _pt_at).count());
  }
  s.replay.push_back(std::move(r));
  s.groups.push_back(std::move(g));
  if (_p1) {
    s.isakmp_sas.push_back({_cfg.servers[_server], _cfg.local_address, isakmp_sa_state::gdoi_idle, 1001,
                            sa_status::active});
  }
  if (_receiver && _state == state::registered) {
    const uint32_t dst = _kek_policy ? kek_destination(*_kek_policy).value_or(_cfg.local_address)
                                     : _cfg.local_address;
    s.isakmp_sas.push_back({dst, _cfg.servers[_server], isakmp_sa_state::gdoi_rekey, 1002, sa_status::active});
    s.rekey_sas.push_back({dst, _cfg.servers[_server], 1002, sa_status::active});
  }
}

}  // namespace gm::control::gmd
