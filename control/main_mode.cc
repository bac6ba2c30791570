#include "control/main_mode.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "control/gdoi_payloads.h"
#include "control/isakmp.h"
#include "control/phase1_keys.h"
#include "control/phase1_payloads.h"

namespace gm::control {

namespace {

using clock_point = std::chrono::steady_clock::time_point;

// RFC 2409 5: "the length of nonce payload MUST be between 8 and 256 bytes inclusive".
constexpr std::size_t nonce_min = 8;
constexpr std::size_t nonce_max = 256;

struct chain_item {
  uint8_t type;
  std::span<const uint8_t> body;
};

bytes build_chain(std::initializer_list<chain_item> items) {
  bytes chain;
  byte_writer w(chain);
  const chain_item* it = items.begin();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const uint8_t next = i + 1 < items.size() ? it[i + 1].type : payload::none;
    // Our own bodies (SA, KE, nonce, ID, hash) are far below the 16-bit limit.
    put_payload(w, next, it[i].body, it[i].type);
  }
  return chain;
}

isakmp_header mm_header(const phase1_sa& sa, uint8_t first) {
  isakmp_header h;
  h.initiator_cookie = sa.icookie;
  h.responder_cookie = sa.rcookie;
  h.next_payload = first;
  h.exchange_type = exchange::identity_protection;
  h.message_id = 0;
  return h;
}

bytes plain_message(const phase1_sa& sa, std::initializer_list<chain_item> items) {
  const bytes chain = build_chain(items);
  isakmp_header h = mm_header(sa, items.begin()->type);
  h.length = static_cast<uint32_t>(header_len + chain.size());
  bytes out;
  byte_writer w(out);
  encode_header(h, w);
  w.put(chain);
  return out;
}

bytes id_body(uint32_t addr) {
  id_payload id;
  id.id_type = id_type::ipv4_addr;
  // RFC 2407 4.6.2: in phase 1 protocol and port are zero (or UDP/500, which GDOI is not).
  id.protocol = 0;
  id.port = 0;
  id.data = {static_cast<uint8_t>(addr >> 24), static_cast<uint8_t>(addr >> 16),
             static_cast<uint8_t>(addr >> 8), static_cast<uint8_t>(addr)};
  bytes body;
  encode_id(id, body);
  return body;
}

cookie new_cookie() {
  cookie c{};
  do {
    const bytes r = ike::random_bytes(c.size());
    std::copy(r.begin(), r.end(), c.begin());
  } while (std::all_of(c.begin(), c.end(), [](uint8_t b) { return b == 0; }));
  return c;
}

bool zero_cookie(const cookie& c) {
  return std::all_of(c.begin(), c.end(), [](uint8_t b) { return b == 0; });
}

bool same(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

bool hash_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The header checks every Main Mode message shares.
std::optional<ike_error> check_header(const isakmp_header& h, bool want_encrypted) {
  if (h.exchange_type != exchange::identity_protection || h.message_id != 0 ||
      ((h.flags & flag::encryption) != 0) != want_encrypted) {
    return ike_fail(ike_errc::unexpected_message);
  }
  return std::nullopt;
}

std::optional<ike_error> check_cookies(const isakmp_header& h, const phase1_sa& sa) {
  if (h.initiator_cookie != sa.icookie || h.responder_cookie != sa.rcookie) {
    return ike_fail(ike_errc::bad_cookie);
  }
  return std::nullopt;
}

// The first payload of `type` in a chain, if any.
const payload_view* find(const std::vector<payload_view>& ps, uint8_t type) {
  for (const payload_view& p : ps) {
    if (p.type == type) {
      return &p;
    }
  }
  return nullptr;
}

result<std::vector<payload_view>> plain_payloads(std::span<const uint8_t> dgram,
                                                 const isakmp_header& h) {
  return walk_payloads(h.next_payload, dgram.subspan(header_len), header_len);
}

// KE and Nonce of message 3 or 4, checked against the negotiated group.
std::optional<ike_error> read_ke_nonce(std::span<const uint8_t> dgram, const isakmp_header& h,
                                       ike::dh_group g, bytes& ke, bytes& nonce) {
  auto ps = plain_payloads(dgram, h);
  if (!ps) {
    return ike_fail(ps.error());
  }
  const payload_view* k = find(*ps, payload::key_exchange);
  const payload_view* n = find(*ps, payload::nonce);
  if (k == nullptr || n == nullptr) {
    return ike_fail(ike_errc::missing_payload);
  }
  if (k->body.size() != ike::dh_len(g)) {
    return ike_fail(ike_errc::bad_dh_value);
  }
  if (n->body.size() < nonce_min || n->body.size() > nonce_max) {
    return ike_fail(ike_errc::bad_nonce);
  }
  ke.assign(k->body.begin(), k->body.end());
  nonce.assign(n->body.begin(), n->body.end());
  return std::nullopt;
}

// Decrypts message 5 or 6 and checks its HASH; `expected` computes the hash from IDx_b.
// On any failure the exchange IV goes back to what it was (App. B: only an authenticated
// message advances it).
template <typename Expected>
std::optional<ike_error> open_id_hash(phase1_sa& sa, std::span<const uint8_t> dgram,
                                      const isakmp_header& h, Expected expected) {
  const auto saved_iv = sa.exchange_iv;
  auto fail = [&](ike_errc c) {
    sa.exchange_iv = saved_iv;
    return ike_fail(c);
  };
  auto plain = unprotect(sa, dgram);
  if (!plain) {
    return fail(ike_errc::decrypt_failed);
  }
  // With the wrong key the plaintext is noise: a chain that does not walk is the same
  // failure as a hash that does not match.
  auto ps = walk_payloads(h.next_payload, *plain, header_len, tail::padding);
  if (!ps) {
    return fail(ike_errc::auth_failed);
  }
  const payload_view* id = find(*ps, payload::id);
  const payload_view* hash = find(*ps, payload::hash);
  if (id == nullptr || hash == nullptr) {
    return fail(ike_errc::auth_failed);
  }
  if (!hash_equal(hash->body, expected(id->body))) {
    return fail(ike_errc::auth_failed);
  }
  auto decoded = decode_id(id->body, id->offset + generic_header_len);
  if (!decoded || decoded->id_type != id_type::ipv4_addr || decoded->data.size() != 4) {
    return fail(ike_errc::bad_id);
  }
  return std::nullopt;
}

// Phase 1 done: the last CBC block of message 6 is the base of every phase-2 IV.
void finish(phase1_sa& sa, clock_point now) {
  sa.phase1_iv = sa.exchange_iv.at(0);
  sa.exchange_iv.erase(0);
  sa.established = now;
}

}  // namespace

bool acceptable(const phase1_policy& offered, const phase1_policy& accepted) {
  return offered.cipher == accepted.cipher && offered.key_bits == accepted.key_bits &&
         offered.hash == accepted.hash && offered.group == accepted.group &&
         offered.lifetime_s <= accepted.lifetime_s;
}

// ---- initiator ----------------------------------------------------------------------------

main_mode_initiator::main_mode_initiator(main_mode_config cfg)
    : _offered(std::move(cfg.proposals)) {
  _s.psk = std::move(cfg.psk);
  _s.sa.initiator = true;
  _s.sa.local_addr = cfg.local_addr;
  _s.sa.peer_addr = cfg.peer_addr;
}

bytes main_mode_initiator::start() {
  _s.sa.icookie = new_cookie();
  _s.sa.rcookie = {};
  _s.sai_b.clear();
  encode_phase1_sa(offer(_offered), _s.sai_b);
  _s.last_sent = plain_message(_s.sa, {{payload::sa, _s.sai_b}});
  _s.last_received.clear();
  _s.step = 1;
  return _s.last_sent;
}

mm_result main_mode_initiator::receive(std::span<const uint8_t> dgram, clock_point now) {
  if (_s.step == 0) {
    return ike_fail(ike_errc::unexpected_message);
  }
  if (!_s.last_received.empty() && same(dgram, _s.last_received)) {
    // The responder resent its last message: ours was lost. Once established there is
    // nothing to resend (message 6 answers nothing).
    if (_established) {
      return std::optional<bytes>{};
    }
    return std::optional<bytes>{_s.last_sent};
  }
  auto h = decode_header(dgram);
  if (!h) {
    return ike_fail(h.error());
  }
  switch (_s.step) {
    case 1:
      return on_msg2(dgram, *h);
    case 3:
      return on_msg4(dgram, *h);
    case 5:
      return on_msg6(dgram, *h, now);
    default:
      return ike_fail(ike_errc::unexpected_message);
  }
}

mm_result main_mode_initiator::on_msg2(std::span<const uint8_t> dgram, const isakmp_header& h) {
  if (auto e = check_header(h, false)) {
    return *e;
  }
  if (h.initiator_cookie != _s.sa.icookie || zero_cookie(h.responder_cookie)) {
    return ike_fail(ike_errc::bad_cookie);
  }
  auto ps = plain_payloads(dgram, h);
  if (!ps) {
    return ike_fail(ps.error());
  }
  const payload_view* sa_view = find(*ps, payload::sa);
  if (sa_view == nullptr) {
    return ike_fail(ike_errc::missing_payload);
  }
  auto sa = decode_phase1_sa(sa_view->body, sa_view->offset + generic_header_len);
  if (!sa) {
    return ike_fail(sa.error());
  }
  // RFC 2409 5: the responder returns one proposal with the one transform it chose.
  if (sa->proposals.size() != 1 || sa->proposals[0].transforms.size() != 1 ||
      sa->proposals[0].protocol != proto_isakmp) {
    return ike_fail(ike_errc::bad_proposal);
  }
  const auto chosen = policy_of(sa->proposals[0].transforms[0]);
  if (!chosen || std::find(_offered.begin(), _offered.end(), *chosen) == _offered.end()) {
    return ike_fail(ike_errc::bad_proposal);
  }
  _s.sa.rcookie = h.responder_cookie;
  _s.sa.policy = *chosen;
  _s.dh = ike::dh_generate(chosen->group);
  _s.gxi = _s.dh->public_value;
  _s.ni = ike::random_bytes(mm_nonce_len);
  _s.last_sent = plain_message(_s.sa, {{payload::key_exchange, _s.gxi}, {payload::nonce, _s.ni}});
  _s.last_received.assign(dgram.begin(), dgram.end());
  _s.step = 3;
  return std::optional<bytes>{_s.last_sent};
}

mm_result main_mode_initiator::on_msg4(std::span<const uint8_t> dgram, const isakmp_header& h) {
  if (auto e = check_header(h, false)) {
    return *e;
  }
  if (auto e = check_cookies(h, _s.sa)) {
    return *e;
  }
  bytes gxr;
  bytes nr;
  if (auto e = read_ke_nonce(dgram, h, _s.sa.policy.group, gxr, nr)) {
    return *e;
  }
  auto gxy = ike::dh_shared(*_s.dh, gxr);
  if (!gxy) {
    return ike_fail(ike_errc::bad_dh_value);
  }
  phase1_sa sa = _s.sa;
  sa.skeyid = skeyid_psk(sa.policy.hash, _s.psk, _s.ni, nr);
  derive_phase1_keys(sa, *gxy);
  sa.phase1_iv = phase1_first_iv(sa.policy, _s.gxi, gxr);
  const bytes idii_b = id_body(sa.local_addr);
  const key_bytes hi = hash_i(sa, _s.gxi, gxr, _s.sai_b, idii_b);
  const bytes chain = build_chain({{payload::id, idii_b}, {payload::hash, hi}});
  _s.last_sent = protect(sa, mm_header(sa, payload::id), chain);
  _s.sa = std::move(sa);
  _s.gxr = std::move(gxr);
  _s.nr = std::move(nr);
  _s.last_received.assign(dgram.begin(), dgram.end());
  _s.step = 5;
  return std::optional<bytes>{_s.last_sent};
}

mm_result main_mode_initiator::on_msg6(std::span<const uint8_t> dgram, const isakmp_header& h,
                                       clock_point now) {
  if (auto e = check_header(h, true)) {
    return *e;
  }
  if (auto e = check_cookies(h, _s.sa)) {
    return *e;
  }
  auto e = open_id_hash(_s.sa, dgram, h, [&](std::span<const uint8_t> idir_b) {
    return hash_r(_s.sa, _s.gxi, _s.gxr, _s.sai_b, idir_b);
  });
  if (e) {
    return *e;
  }
  finish(_s.sa, now);
  _s.dh.reset();  // the private exponent is no longer needed
  _s.last_received.assign(dgram.begin(), dgram.end());
  _s.step = 6;
  _established = true;
  return std::optional<bytes>{};
}

// ---- responder ----------------------------------------------------------------------------

main_mode_responder::main_mode_responder(
    std::vector<phase1_policy> accepted,
    std::function<std::optional<key_bytes>(uint32_t peer)> psk_for, uint32_t local_addr,
    uint32_t peer_addr)
    : _accepted(std::move(accepted)), _psk_for(std::move(psk_for)) {
  _s.sa.initiator = false;
  _s.sa.local_addr = local_addr;
  _s.sa.peer_addr = peer_addr;
}

mm_result main_mode_responder::receive(std::span<const uint8_t> dgram, clock_point now) {
  if (!_s.last_received.empty() && same(dgram, _s.last_received)) {
    return std::optional<bytes>{_s.last_sent};
  }
  auto h = decode_header(dgram);
  if (!h) {
    return ike_fail(h.error());
  }
  switch (_s.step) {
    case 0:
      return on_msg1(dgram, *h);
    case 2:
      return on_msg3(dgram, *h);
    case 4:
      return on_msg5(dgram, *h, now);
    default:
      return ike_fail(ike_errc::unexpected_message);
  }
}

mm_result main_mode_responder::on_msg1(std::span<const uint8_t> dgram, const isakmp_header& h) {
  if (auto e = check_header(h, false)) {
    return *e;
  }
  if (zero_cookie(h.initiator_cookie) || !zero_cookie(h.responder_cookie)) {
    return ike_fail(ike_errc::bad_cookie);
  }
  auto ps = plain_payloads(dgram, h);
  if (!ps) {
    return ike_fail(ps.error());
  }
  const payload_view* sa_view = find(*ps, payload::sa);
  if (sa_view == nullptr) {
    return ike_fail(ike_errc::missing_payload);
  }
  auto offered = decode_phase1_sa(sa_view->body, sa_view->offset + generic_header_len);
  if (!offered) {
    return ike_fail(offered.error());
  }
  std::optional<key_bytes> psk = _psk_for ? _psk_for(_s.sa.peer_addr) : std::nullopt;
  if (!psk || psk->empty()) {
    return ike_fail(ike_errc::unknown_peer);
  }
  // The initiator's order is its preference: the first transform we accept wins.
  const ike_proposal* prop = nullptr;
  const ike_transform* chosen = nullptr;
  std::optional<phase1_policy> policy;
  for (const ike_proposal& p : offered->proposals) {
    if (p.protocol != proto_isakmp) {
      continue;
    }
    for (const ike_transform& t : p.transforms) {
      policy = policy_of(t);
      if (policy && std::any_of(_accepted.begin(), _accepted.end(),
                                [&](const auto& a) { return acceptable(*policy, a); })) {
        prop = &p;
        chosen = &t;
        break;
      }
    }
    if (chosen != nullptr) {
      break;
    }
  }
  if (chosen == nullptr) {
    return ike_fail(ike_errc::no_proposal_chosen);
  }
  phase1_sa_payload reply;
  reply.doi = offered->doi;
  reply.situation = offered->situation;
  ike_proposal rp;
  rp.number = prop->number;
  rp.protocol = prop->protocol;
  rp.transforms.push_back(*chosen);
  reply.proposals.push_back(std::move(rp));
  bytes reply_body;
  if (auto e = encode_phase1_sa(reply, reply_body)) {
    return ike_fail(*e);
  }
  _s.psk = std::move(*psk);
  _s.sa.icookie = h.initiator_cookie;
  _s.sa.rcookie = new_cookie();
  _s.sa.policy = *policy;
  _s.sai_b.assign(sa_view->body.begin(), sa_view->body.end());
  _s.last_sent = plain_message(_s.sa, {{payload::sa, reply_body}});
  _s.last_received.assign(dgram.begin(), dgram.end());
  _s.step = 2;
  return std::optional<bytes>{_s.last_sent};
}

mm_result main_mode_responder::on_msg3(std::span<const uint8_t> dgram, const isakmp_header& h) {
  if (auto e = check_header(h, false)) {
    return *e;
  }
  if (auto e = check_cookies(h, _s.sa)) {
    return *e;
  }
  bytes gxi;
  bytes ni;
  if (auto e = read_ke_nonce(dgram, h, _s.sa.policy.group, gxi, ni)) {
    return *e;
  }
  ike::dh_keypair dh = ike::dh_generate(_s.sa.policy.group);
  auto gxy = ike::dh_shared(dh, gxi);
  if (!gxy) {
    return ike_fail(ike_errc::bad_dh_value);
  }
  bytes nr = ike::random_bytes(mm_nonce_len);
  phase1_sa sa = _s.sa;
  sa.skeyid = skeyid_psk(sa.policy.hash, _s.psk, ni, nr);
  derive_phase1_keys(sa, *gxy);
  sa.phase1_iv = phase1_first_iv(sa.policy, gxi, dh.public_value);
  _s.last_sent =
      plain_message(sa, {{payload::key_exchange, dh.public_value}, {payload::nonce, nr}});
  _s.sa = std::move(sa);
  _s.gxr = dh.public_value;
  _s.gxi = std::move(gxi);
  _s.ni = std::move(ni);
  _s.nr = std::move(nr);
  _s.last_received.assign(dgram.begin(), dgram.end());
  _s.step = 4;
  return std::optional<bytes>{_s.last_sent};
}

mm_result main_mode_responder::on_msg5(std::span<const uint8_t> dgram, const isakmp_header& h,
                                       clock_point now) {
  if (auto e = check_header(h, true)) {
    return *e;
  }
  if (auto e = check_cookies(h, _s.sa)) {
    return *e;
  }
  auto e = open_id_hash(_s.sa, dgram, h, [&](std::span<const uint8_t> idii_b) {
    return hash_i(_s.sa, _s.gxi, _s.gxr, _s.sai_b, idii_b);
  });
  if (e) {
    return *e;
  }
  const bytes idir_b = id_body(_s.sa.local_addr);
  const key_bytes hr = hash_r(_s.sa, _s.gxi, _s.gxr, _s.sai_b, idir_b);
  const bytes chain = build_chain({{payload::id, idir_b}, {payload::hash, hr}});
  _s.last_sent = protect(_s.sa, mm_header(_s.sa, payload::id), chain);
  finish(_s.sa, now);
  _s.last_received.assign(dgram.begin(), dgram.end());
  _s.step = 6;
  _established = true;
  return std::optional<bytes>{_s.last_sent};
}

}  // namespace gm::control
