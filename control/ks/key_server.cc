#include "control/ks/key_server.h"

#include <algorithm>
#include <utility>

#include "control/event_trace.h"
#include "control/gdoi_message.h"
#include "control/groupkey_pull.h"
#include "control/isakmp.h"
#include "control/ks/ks_policy.h"
#include "control/main_mode.h"

namespace gm::control::ks {

namespace {

constexpr const char* drop_names[] = {
#define GM_KS_DROP_NAME(name, text) #name,
    GM_KS_DROPS(GM_KS_DROP_NAME)
#undef GM_KS_DROP_NAME
};
static_assert(std::size(drop_names) == ks_drop_count);

// An exchange nobody finishes is forgotten after this long; an established phase-1 SA
// after its lifetime.
constexpr std::chrono::seconds exchange_idle{120};
// IOS shows the last four SEQs sent and ACKed.
constexpr std::size_t seqs_kept = 4;

uint32_t bswap(uint32_t v) { return __builtin_bswap32(v); }

void remember(std::deque<uint32_t>& d, uint32_t seq) {
  d.push_front(seq);
  if (d.size() > seqs_kept) {
    d.pop_back();
  }
}

}  // namespace

const char* name(ks_drop d) { return drop_names[static_cast<std::size_t>(d)]; }

struct key_server::session {
  endpoint peer;
  std::unique_ptr<main_mode_responder> mm;
  std::unique_ptr<phase1_sa> sa;  // set once Main Mode is established
  std::map<uint32_t, std::unique_ptr<pull_responder>> pulls;  // by message id
  mono_time last_seen{};
  mono_time expires{};  // phase-1 lifetime once established
};

key_server::key_server(const ks_config& cfg, ike::rsa_key signer, const ops_clock& clock,
                       gm_log& log, event_trace& trace)
    : _cfg(&cfg),
      _signer(std::move(signer)),
      _public_der(_signer.public_der()),
      _clock(clock),
      _log(log),
      _trace(trace) {
  _teks.push_back(new_tek());
  _kek = new_kek();
}

key_server::~key_server() = default;

// ---- key material -------------------------------------------------------------------------

tek_generation key_server::new_tek() const {
  tek_generation t;
  const auto& xf = crypto::info(_cfg->tek.transform);
  do {
    const bytes r = ike::random_bytes(4);
    t.spi = static_cast<uint32_t>(be_uint(r));
    // SPIs 1..255 are reserved (RFC 4303); 0 is our deny-ACE SPI; never reuse a live one.
  } while (t.spi < 256 || std::any_of(_teks.begin(), _teks.end(),
                                      [&](const tek_generation& g) { return g.spi == t.spi; }));
  const bytes k = ike::random_bytes(std::size_t{xf.key_len} + xf.salt_len);
  t.alg_key.assign(k.begin(), k.end());
  if (xf.auth_key_len != 0) {
    const bytes a = ike::random_bytes(xf.auth_key_len);
    t.integrity_key.assign(a.begin(), a.end());
  }
  t.created = _clock.mono();
  t.expires = t.created + std::chrono::seconds(_cfg->tek.lifetime_s);
  return t;
}

kek_generation key_server::new_kek() const {
  kek_generation k;
  const bytes spi = ike::random_bytes(kek_spi_size);
  std::copy(spi.begin(), spi.end(), k.state.spi.begin());
  k.state.alg = _cfg->kek.cipher == ike::cipher::aes_cbc ? kek_alg::aes : kek_alg::des3;
  const bytes key = ike::random_bytes(_cfg->kek.key_bits / 8);
  k.state.key.assign(key.begin(), key.end());
  k.state.iv = ike::random_bytes(ike::block_len(_cfg->kek.cipher));
  k.state.sig_hash = _cfg->kek.sig_hash;
  k.state.ks_public_der = _public_der;
  k.state.ack_requested = _cfg->rekey.transport == rekey_transport::unicast;
  // REKEY_ACK_KEK_SHA256: the ACK's HASH is keyed from the KEK (RFC 8263 2.1).
  k.state.ack_type = k.state.ack_requested ? kek_ack_type::kek_sha256 : 0;
  k.created = _clock.mono();
  k.expires = k.created + std::chrono::seconds(_cfg->kek.lifetime_s);
  return k;
}

sa_kek key_server::make_sa_kek(const kek_generation& k) const {
  return build_sa_kek(*_cfg, k.state, _signer.bits(), remaining_s(k.expires, _clock.mono()));
}

key_packet key_server::make_kek_packet(const kek_generation& k) const {
  return build_kek_packet(k.state);
}

std::vector<sa_tek> key_server::make_sa_teks(const tek_generation& t) const {
  return build_sa_teks(*_cfg, t.spi, remaining_s(t.expires, _clock.mono()), pseudotime_ms());
}

key_packet key_server::make_tek_packet(const tek_generation& t) const {
  return key_packet::tek(t.spi, t.alg_key, t.integrity_key);
}

uint64_t key_server::pseudotime_ms() const {
  if (!_pseudotime_origin) {
    return 0;
  }
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(_clock.mono() - *_pseudotime_origin)
          .count());
}

uint32_t key_server::allocate_sid(uint32_t addr) {
  if (auto it = _sids.find(addr); it != _sids.end()) {
    return it->second;  // a GM that re-registers keeps its sender id
  }
  // 16-bit sender ids (the ESP IV layout, README "Transforms"); 0 means none.
  for (uint32_t tries = 0; tries < 0xffff; ++tries) {
    const uint32_t sid = _next_sid;
    _next_sid = _next_sid == 0xffff ? 1 : _next_sid + 1;
    const bool used = std::any_of(_sids.begin(), _sids.end(),
                                  [&](const auto& kv) { return kv.second == sid; });
    if (!used) {
      _sids[addr] = sid;
      return sid;
    }
  }
  return 0;
}

// ---- datagrams ----------------------------------------------------------------------------

void key_server::drop(ks_drop why, endpoint peer, const std::string& detail) {
  ++_counters.drops[static_cast<std::size_t>(why)];
  _log.debug(debug_role::ks, debug_category::registration, debug_level::error, peer.addr,
             "Dropped message from {}: {}: {}", ipv4_addr{peer.addr}, name(why), detail);
}

std::vector<outgoing> key_server::on_datagram(endpoint peer, std::span<const uint8_t> data) {
  auto h = decode_header(data);
  if (!h) {
    drop(ks_drop::malformed, peer, describe(h.error()));
    return {};
  }
  switch (h.value().exchange_type) {
    case exchange::identity_protection:
      return on_main_mode(peer, h.value(), data);
    case exchange::groupkey_pull:
      return on_pull(peer, h.value(), data);
    case groupkey_push_ack_exchange:
      return on_ack(peer, h.value(), data);
    default:
      drop(ks_drop::unknown_exchange, peer, std::to_string(h.value().exchange_type));
      return {};
  }
}

std::vector<outgoing> key_server::on_main_mode(endpoint peer, const isakmp_header& h,
                                               std::span<const uint8_t> data) {
  const mono_time now = _clock.mono();
  auto it = _sessions.find(h.initiator_cookie);
  if (it == _sessions.end() || it->second->peer.addr != peer.addr) {
    if (it != _sessions.end() || h.responder_cookie != cookie{}) {
      drop(ks_drop::no_session, peer, "Main Mode message for an unknown exchange");
      return {};
    }
    if (_cfg->psk_for(peer.addr) == nullptr) {
      _log.emit<log_msg::unauthorized_ipaddr>(_cfg->group_name, ipv4_addr{peer.addr});
      drop(ks_drop::phase1_failed, peer, "no pre-shared key for this address");
      return {};
    }
    auto s = std::make_unique<session>();
    s->peer = peer;
    // The PSK is looked up when message 5 needs it, in the config of that moment (a reload
    // may have replaced the one this exchange started under).
    s->mm = std::make_unique<main_mode_responder>(
        _cfg->phase1,
        [this](uint32_t addr) -> std::optional<key_bytes> {
          if (const key_bytes* k = _cfg->psk_for(addr)) {
            return *k;
          }
          return std::nullopt;
        },
        _cfg->listen, peer.addr);
    it = _sessions.emplace(h.initiator_cookie, std::move(s)).first;
    _trace.record(trace_subsystem::registration,
                  "GDOI_REG_EVENT: PHASE1_START: Main Mode from " +
                      log_detail::to_text(ipv4_addr{peer.addr}));
  }
  session& s = *it->second;
  s.peer = peer;
  s.last_seen = now;
  if (s.sa) {
    // Main Mode is over; a late retransmission of message 5 gets message 6 again.
    return {{peer, s.mm->last_sent()}};
  }
  auto step = s.mm->receive(data, now);
  if (auto* err = std::get_if<ike_error>(&step)) {
    _log.emit<log_msg::ikmp_mode_failure>("Main", ipv4_addr{peer.addr}, describe(*err));
    drop(ks_drop::phase1_failed, peer, describe(*err));
    if (!s.mm->established() && s.mm->last_sent().empty()) {
      _sessions.erase(it);  // nothing was sent: forget the attempt
    }
    return {};
  }
  std::vector<outgoing> out;
  if (auto& reply = std::get<std::optional<bytes>>(step)) {
    out.push_back({peer, std::move(*reply)});
  }
  if (s.mm->established()) {
    s.sa = std::make_unique<phase1_sa>(s.mm->take_sa());
    s.expires = now + std::chrono::seconds(s.sa->policy.lifetime_s);
    _log.debug(debug_role::ks, debug_category::registration, debug_level::event, peer.addr,
               "Phase 1 SA with {} established", ipv4_addr{peer.addr});
  }
  return out;
}

std::vector<outgoing> key_server::on_pull(endpoint peer, const isakmp_header& h,
                                          std::span<const uint8_t> data) {
  auto it = _sessions.find(h.initiator_cookie);
  if (it == _sessions.end() || !it->second->sa || it->second->peer.addr != peer.addr ||
      it->second->sa->rcookie != h.responder_cookie) {
    drop(ks_drop::no_session, peer, "GROUPKEY-PULL without an established phase-1 SA");
    return {};
  }
  session& s = *it->second;
  s.last_seen = _clock.mono();
  s.peer = peer;
  auto& pull = s.pulls[h.message_id];
  if (!pull) {
    pull = std::make_unique<pull_responder>(
        *s.sa, [this, peer](uint32_t group, bool sid_requested) {
          return offer(peer, group, sid_requested);
        });
  }
  const bool was_done = pull->done();
  auto step = pull->receive(data);
  if (auto* err = std::get_if<pull_error>(&step)) {
    if (err->code == pull_errc::unknown_group) {
      _log.emit<log_msg::ks_unauthorized>(ipv4_addr{peer.addr}, _cfg->group_name);
    }
    drop(ks_drop::pull_failed, peer, describe(*err));
    if (!pull->done() && pull->last_sent().empty()) {
      s.pulls.erase(h.message_id);
    }
    return {};
  }
  std::vector<outgoing> out;
  if (auto& reply = std::get<std::optional<bytes>>(step)) {
    out.push_back({peer, std::move(*reply)});
  }
  if (pull->done() && !was_done) {
    registered(peer, s);
  }
  return out;
}

std::optional<ks_offer> key_server::offer(endpoint peer, uint32_t group, bool sid_requested) {
  // Cisco's 2011 reference sends the group number in host byte order (spec 5).
  if (group != _cfg->group_id && bswap(group) != _cfg->group_id) {
    return std::nullopt;
  }
  const mono_time now = _clock.mono();
  if (!_pseudotime_origin) {
    _pseudotime_origin = now;  // pseudotime runs from the first registration
  }
  ks_offer o;
  o.sa.kek = make_sa_kek(_kek);
  // Every live generation, oldest first: a GM registering during a rollover gets both.
  for (const tek_generation& t : _teks) {
    auto teks = make_sa_teks(t);
    o.sa.teks.insert(o.sa.teks.end(), teks.begin(), teks.end());
    o.kd.packets.push_back(make_tek_packet(t));
  }
  o.kd.packets.push_back(make_kek_packet(_kek));
  o.seq = _seq;
  if (sid_requested && _cfg->sender_ids) {
    const uint32_t sid = allocate_sid(peer.addr);
    if (sid != 0) {
      o.sid = make_sid_packet(sid_bits, sid);
    }
  }
  return o;
}

void key_server::registered(endpoint peer, const session& s) {
  member& m = _members[peer.addr];
  const bool again = m.registered != mono_time{};
  m.peer = peer;
  m.registered = _clock.mono();
  m.registered_wall = _clock.wall();
  m.pending.reset();
  m.superseded.reset();
  m.missed_in_row = 0;
  ++_state_version;
  if (auto it = _sids.find(peer.addr); it != _sids.end()) {
    m.sender_id = it->second;
  }
  ++_counters.registrations;
  _log.emit<log_msg::ks_regs_compl>(_cfg->group_name, ipv4_addr{peer.addr});
  _trace.record(trace_subsystem::registration,
                std::string("GDOI_REG_EVENT: ") + (again ? "RE_REGISTERED" : "REGISTERED") +
                    ": GM " + log_detail::to_text(ipv4_addr{peer.addr}) + " in group " +
                    _cfg->group_name + " (seq " + std::to_string(_seq) + ")");
  (void)s;
}

std::vector<outgoing> key_server::on_ack(endpoint peer, const isakmp_header& h,
                                         std::span<const uint8_t> data) {
  const kek_generation* k = nullptr;
  if (kek_spi spi; std::copy(h.initiator_cookie.begin(), h.initiator_cookie.end(), spi.begin()),
      std::copy(h.responder_cookie.begin(), h.responder_cookie.end(), spi.begin() + 8),
      spi == _kek.state.spi) {
    k = &_kek;
  } else if (_prev_kek && spi == _prev_kek->state.spi) {
    k = &*_prev_kek;  // the ACK of a KEK rekey may come under the KEK it was sent with
  }
  if (k == nullptr) {
    drop(ks_drop::bad_ack, peer, "cookies name no current KEK");
    return {};
  }
  auto opened = open_push_ack(data, k->state);
  if (auto* err = std::get_if<push_error>(&opened)) {
    drop(ks_drop::bad_ack, peer, describe(*err));
    return {};
  }
  const opened_ack& ack = std::get<opened_ack>(opened);
  // The HASH proves the KEK, not the member: the ID must name the sender (groupkey_push.h).
  if (ack.member.id_type == id_type::ipv4_addr &&
      (ack.member.data.size() != 4 || be_uint(ack.member.data) != peer.addr)) {
    drop(ks_drop::bad_ack, peer, "ACK's ID names another member");
    return {};
  }
  auto mit = _members.find(peer.addr);
  const auto names = [&](const std::optional<member::pending_rekey>& p) {
    return p && p->seq == ack.seq && p->kek == k->state.spi;
  };
  if (mit == _members.end() || (!names(mit->second.pending) && !names(mit->second.superseded))) {
    drop(ks_drop::unexpected_ack, peer, "seq " + std::to_string(ack.seq));
    return {};
  }
  member& m = mit->second;
  if (names(m.pending)) {
    m.pending.reset();
  } else {
    m.superseded.reset();
  }
  ++m.acks_received;
  m.missed_in_row = 0;
  remember(m.acked_seqs, ack.seq);
  ++_counters.acks;
  _trace.record(trace_subsystem::rekey, "GDOI_REKEY_EVENT: ACK_RCVD: From " +
                                            log_detail::to_text(ipv4_addr{peer.addr}) +
                                            " seq " + std::to_string(ack.seq));
  return {};
}

// ---- rekeys -------------------------------------------------------------------------------

std::vector<outgoing> key_server::rekey(rekey_kind kind) {
  if (!_active) {
    // Two KSs rekeying one group would fork its keys: only the active one rekeys.
    _log.debug(debug_role::ks, debug_category::rekey, debug_level::error, std::nullopt,
               "Rekey for group {} not sent: this KS is passive (another KS is active)",
               _cfg->group_name);
    return {};
  }
  const mono_time now = _clock.mono();
  sa_payload sa;
  kd_payload kd;
  std::optional<kek_generation> next_kek;
  std::optional<tek_generation> next_tek;
  if (kind == rekey_kind::tek) {
    next_tek = new_tek();
    sa.teks = make_sa_teks(*next_tek);
    sa.gap = gap_payload{};
    sa.gap->activation_time_delay = activation_delay_s(*_cfg);
    kd.packets.push_back(make_tek_packet(*next_tek));
  } else {
    next_kek = new_kek();
    sa.kek = make_sa_kek(*next_kek);
    kd.packets.push_back(make_kek_packet(*next_kek));
  }
  const uint32_t seq = _seq + 1;
  rekey_build_options opts;
  opts.form = _cfg->interop.sig_form;
  opts.static_iv = _cfg->interop.static_kek_iv;
  auto built = build_push(_kek.state, _signer, seq, sa, kd, std::nullopt, opts);
  if (auto* err = std::get_if<push_error>(&built)) {
    _log.debug(debug_role::ks, debug_category::rekey, debug_level::error, std::nullopt,
               "Rekey for group {} not built: {}", _cfg->group_name, describe(*err));
    return {};
  }
  const kek_spi sent_under = _kek.state.spi;
  _seq = seq;
  if (next_tek) {
    _teks.push_back(std::move(*next_tek));
  }
  if (next_kek) {
    _prev_kek = std::move(_kek);
    _kek = std::move(*next_kek);
    _seq = 0;  // the next push, under the new KEK, carries SEQ 1
  }
  ++_counters.rekeys;
  ++_state_version;
  _last_rekey_wall = _clock.wall();
  auto dgram = std::make_shared<const bytes>(std::move(std::get<bytes>(built)));
  _trace.record(trace_subsystem::rekey,
                std::string("GDOI_REKEY_EVENT: REKEY_SENT: ") +
                    (kind == rekey_kind::tek ? "TEK" : "KEK") + " rekey for group " +
                    _cfg->group_name + " seq " + std::to_string(seq) + " to " +
                    std::to_string(_members.size()) + " member(s)");

  std::vector<outgoing> out;
  if (_cfg->rekey.transport == rekey_transport::multicast) {
    out.push_back({{_cfg->rekey.multicast_addr, _cfg->port}, *dgram});
    ++_counters.rekeys_sent;
    for (auto& [addr, m] : _members) {
      ++m.rekeys_sent;
      remember(m.sent_seqs, seq);
    }
    _log.emit<log_msg::ks_send_mcast_rekey>(_cfg->group_name, ipv4_addr{_cfg->listen},
                                            ipv4_addr{_cfg->rekey.multicast_addr}, seq);
    return out;
  }
  for (auto it = _members.begin(); it != _members.end();) {
    member& m = it->second;
    if (m.pending && m.pending->resends_left < _cfg->rekey.retransmit_count) {
      // Superseded after at least one resend went unanswered: that one is missed.
      if (missed(m)) {
        it = _members.erase(it);
        continue;
      }
    } else if (m.pending) {
      // Superseded before its first resend was due: its ACK may still be on the way (rekeys
      // a few seconds apart, a reload right after a rekey). It is neither ACKed nor missed
      // yet; a late ACK still counts.
      m.superseded = std::move(m.pending);
    }
    m.pending = member::pending_rekey{seq, sent_under, dgram, _cfg->rekey.retransmit_count,
                                      now + std::chrono::seconds(_cfg->rekey.retransmit_period_s)};
    ++m.rekeys_sent;
    remember(m.sent_seqs, seq);
    ++_counters.rekeys_sent;
    out.push_back({m.peer, *dgram});
    ++it;
  }
  _log.emit<log_msg::ks_send_unicast_rekey>(_cfg->group_name, ipv4_addr{_cfg->listen}, seq);
  return out;
}

bool key_server::missed(member& m) {
  ++m.acks_missed;
  ++m.missed_in_row;
  _trace.record(trace_subsystem::rekey, "GDOI_REKEY_EVENT: ACK_MISSED: From " +
                                            log_detail::to_text(ipv4_addr{m.peer.addr}) +
                                            " seq " + std::to_string(m.pending->seq));
  m.pending.reset();
  if (m.missed_in_row < _cfg->rekey.ack_missed_limit) {
    return false;
  }
  ++_counters.members_removed;
  ++_state_version;
  _log.emit<log_msg::ks_gm_revoked>(ipv4_addr{m.peer.addr}, _cfg->group_name);
  _trace.record(trace_subsystem::exit, "GDOI_EXIT_EVENT: GM_REMOVED: " +
                                           log_detail::to_text(ipv4_addr{m.peer.addr}) +
                                           " missed " + std::to_string(m.missed_in_row) +
                                           " rekeys in a row");
  _sids.erase(m.peer.addr);
  return true;
}

std::vector<outgoing> key_server::on_timer() {
  const mono_time now = _clock.mono();
  std::vector<outgoing> out;
  for (auto it = _members.begin(); _active && it != _members.end();) {
    member& m = it->second;
    if (!m.pending || now < m.pending->next) {
      ++it;
      continue;
    }
    if (m.pending->resends_left > 0) {
      --m.pending->resends_left;
      m.pending->next = now + std::chrono::seconds(_cfg->rekey.retransmit_period_s);
      ++m.retries;
      ++_counters.retransmits;
      ++_rekeys_retransmitted;
      out.push_back({m.peer, *m.pending->datagram});
      ++it;
    } else if (missed(m)) {
      it = _members.erase(it);
    } else {
      ++it;
    }
  }
  const auto before = std::chrono::seconds(_cfg->rekey.before_expiry_s);
  if (_active && now >= _kek.expires - before) {
    auto r = rekey(rekey_kind::kek);
    out.insert(out.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
  }
  if (_active && now >= _teks.back().expires - before) {
    auto r = rekey(rekey_kind::tek);
    out.insert(out.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
  }
  while (_teks.size() > 1 && _teks.front().expires <= now) {
    _trace.record(trace_subsystem::rekey, "GDOI_REKEY_EVENT: TEK_EXPIRED: SPI " +
                                              log_detail::to_text(spi32{_teks.front().spi}));
    _teks.pop_front();
  }
  if (_prev_kek && _prev_kek->expires <= now) {
    _prev_kek.reset();
  }
  for (auto it = _sessions.begin(); it != _sessions.end();) {
    const session& s = *it->second;
    const bool stale = s.sa ? now >= s.expires : now >= s.last_seen + exchange_idle;
    it = stale ? _sessions.erase(it) : std::next(it);
  }
  return out;
}

mono_time key_server::next_deadline() const {
  const auto before = std::chrono::seconds(_cfg->rekey.before_expiry_s);
  mono_time t = _active ? std::min(_kek.expires - before, _teks.back().expires - before)
                        : _clock.mono() + std::chrono::hours(1);
  if (_teks.size() > 1) {
    t = std::min(t, _teks.front().expires);
  }
  for (const auto& [addr, m] : _members) {
    if (m.pending && _active) {
      t = std::min(t, m.pending->next);
    }
  }
  for (const auto& [c, s] : _sessions) {
    t = std::min(t, s->sa ? s->expires : s->last_seen + exchange_idle);
  }
  return t;
}

std::string key_server::reload(const ks_config& next, std::vector<outgoing>& out) {
  out.clear();
  const ks_config& cur = *_cfg;
  // What GMs hold, or what the daemon bound to, cannot change under them: a restart (and
  // new registrations) is the honest way to change those.
  const std::pair<bool, const char*> fixed[] = {
      {next.listen != cur.listen || next.port != cur.port, "address/port"},
      {next.socket != cur.socket, "socket"},
      {next.group_name != cur.group_name || next.group_id != cur.group_id, "group"},
      {next.tek.transform != cur.tek.transform, "tek.transform"},
      {next.tek.replay != cur.tek.replay || next.tek.window != cur.tek.window, "tek.replay"},
      {next.kek.cipher != cur.kek.cipher || next.kek.key_bits != cur.kek.key_bits ||
           next.kek.sig_hash != cur.kek.sig_hash,
       "kek"},
      {next.kek.rsa_key != cur.kek.rsa_key || next.kek.rsa_bits != cur.kek.rsa_bits,
       "kek.rsa_key"},
      {next.rekey.transport != cur.rekey.transport ||
           next.rekey.multicast_addr != cur.rekey.multicast_addr ||
           next.rekey.multicast_ttl != cur.rekey.multicast_ttl,
       "rekey.transport"},
      {next.sender_ids != cur.sender_ids, "sender_ids"},
      {next.redundancy.state_file != cur.redundancy.state_file, "redundancy.state_file"},
      {next.interop.sig_form != cur.interop.sig_form ||
           next.interop.static_kek_iv != cur.interop.static_kek_iv ||
           next.interop.id_len != cur.interop.id_len,
       "interop"},
  };
  for (const auto& [differs, field] : fixed) {
    if (differs) {
      return std::string(field) + " changed: gm-ks must be restarted for that";
    }
  }
  const auto acl_text = [](const ks_config& c) {
    std::string t;
    for (const policy_ace& a : c.acl) t += a.ace.text + "\n";
    return t;
  };
  const bool acl_changed = acl_text(next) != acl_text(cur);
  _cfg = &next;
  _trace.record(trace_subsystem::rekey,
                "GDOI_REKEY_EVENT: POLICY_RELOADED: " + std::to_string(next.acl.size()) +
                    " ACE(s)" + (acl_changed ? ", ACL changed: TEK rekey" : ", ACL unchanged"));
  if (acl_changed) {
    // The new ACL travels in a TEK rekey (one SA TEK per ACE, under a new SPI); GMs apply it
    // at once and move outbound to the new TEK after the GAP delay. Registrations from now
    // on get it too, for every live generation.
    out = rekey(rekey_kind::tek);
  }
  return {};
}

void key_server::clear_members() {
  for (const auto& [addr, m] : _members) {
    _trace.record(trace_subsystem::exit,
                  "GDOI_EXIT_EVENT: GM_CLEARED: " + log_detail::to_text(ipv4_addr{addr}));
  }
  _members.clear();
  _sids.clear();
  ++_state_version;
}

// ---- key-state sharing --------------------------------------------------------------------

namespace {

uint64_t ms_of(mono_time t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

uint64_t ms_left(mono_time expires, mono_time now) {
  return expires > now ? static_cast<uint64_t>(
                             std::chrono::duration_cast<std::chrono::milliseconds>(expires - now)
                                 .count())
                       : 0;
}

}  // namespace

ks_shared_state key_server::export_state() const {
  const mono_time now = _clock.mono();
  ks_shared_state s;
  s.writer_addr = _cfg->listen;
  s.version = _state_version;
  s.heartbeat_mono_ms = ms_of(now);
  s.group_id = _cfg->group_id;
  s.public_key_hash = ike::digest(ike::hash_alg::sha256, _public_der);
  if (_pseudotime_origin) s.pseudotime_ms = pseudotime_ms();
  s.seq = _seq;
  s.kek.spi = _kek.state.spi;
  s.kek.alg = _kek.state.alg;
  s.kek.key = _kek.state.key;
  s.kek.iv = _kek.state.iv;
  s.kek.sig_hash = _kek.state.sig_hash;
  s.kek.ack_type = _kek.state.ack_type;
  s.kek.remaining_ms = ms_left(_kek.expires, now);
  for (const tek_generation& t : _teks) {
    s.teks.push_back({t.spi, t.alg_key, t.integrity_key, ms_left(t.expires, now)});
  }
  s.sids = _sids;
  s.next_sid = _next_sid;
  for (const auto& [addr, m] : _members) s.members.push_back({addr, m.peer.port});
  return s;
}

bool key_server::adopt_state(const ks_shared_state& s, std::string& why) {
  if (s.group_id != _cfg->group_id) {
    why = "group " + std::to_string(s.group_id) + " is not ours (" +
          std::to_string(_cfg->group_id) + ")";
    return false;
  }
  if (s.public_key_hash != ike::digest(ike::hash_alg::sha256, _public_der)) {
    why = "it signs with another RSA key (kek.rsa_key must be the same file on every KS)";
    return false;
  }
  const mono_time now = _clock.mono();
  const mono_time beat = mono_time{} + std::chrono::milliseconds(s.heartbeat_mono_ms);
  const auto until = [&](uint64_t remaining_ms) {
    return beat + std::chrono::milliseconds(remaining_ms);
  };
  std::deque<tek_generation> teks;
  for (const synced_tek& t : s.teks) {
    if (until(t.remaining_ms) <= now) continue;
    tek_generation g;
    g.spi = t.spi;
    g.alg_key = t.alg_key;
    g.integrity_key = t.integrity_key;
    g.created = now;
    g.expires = until(t.remaining_ms);
    teks.push_back(std::move(g));
  }
  if (teks.empty() || until(s.kek.remaining_ms) <= now) {
    why = "its TEKs or KEK have expired";
    return false;
  }
  const auto& xf = crypto::info(_cfg->tek.transform);
  for (const tek_generation& g : teks) {
    if (g.alg_key.size() != std::size_t{xf.key_len} + xf.salt_len ||
        g.integrity_key.size() != xf.auth_key_len) {
      why = "its TEK keys do not fit " + std::string(xf.ios_name);
      return false;
    }
  }
  _teks = std::move(teks);
  _kek.state.spi = s.kek.spi;
  _kek.state.alg = s.kek.alg;
  _kek.state.key = s.kek.key;
  _kek.state.iv = s.kek.iv;
  _kek.state.sig_hash = s.kek.sig_hash;
  _kek.state.ack_type = s.kek.ack_type;
  _kek.state.ack_requested = s.kek.ack_type != 0;
  _kek.state.ks_public_der = _public_der;
  _kek.created = now;
  _kek.expires = until(s.kek.remaining_ms);
  _prev_kek.reset();
  _seq = s.seq;
  if (s.pseudotime_ms) {
    _pseudotime_origin = beat - std::chrono::milliseconds(*s.pseudotime_ms);
  } else {
    _pseudotime_origin.reset();
  }
  _sids = s.sids;
  _next_sid = s.next_sid == 0 ? 1 : s.next_sid;
  std::map<uint32_t, member> members;
  for (const synced_member& sm : s.members) {
    member& m = members[sm.addr];
    if (auto it = _members.find(sm.addr); it != _members.end()) {
      m = std::move(it->second);  // keep this KS's own counters for a member it knew
    } else {
      m.registered = now;
      m.registered_wall = _clock.wall();
    }
    m.peer = {sm.addr, sm.port};
    m.pending.reset();
    m.superseded.reset();
    if (auto it = _sids.find(sm.addr); it != _sids.end()) m.sender_id = it->second;
  }
  _members = std::move(members);
  _state_version = s.version;
  _trace.record(trace_subsystem::rekey,
                "GDOI_REKEY_EVENT: KEYS_ADOPTED: from KS " +
                    log_detail::to_text(ipv4_addr{s.writer_addr}) + " version " +
                    std::to_string(s.version) + ", seq " + std::to_string(s.seq) + ", " +
                    std::to_string(_teks.size()) + " TEK(s), " +
                    std::to_string(_members.size()) + " member(s)");
  return true;
}

}  // namespace gm::control::ks
