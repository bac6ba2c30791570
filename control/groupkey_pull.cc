#include "control/groupkey_pull.h"

#include <algorithm>
#include <utility>

#include "control/gdoi_message.h"
#include "control/groupkey_common.h"
#include "control/ike_crypto.h"
#include "control/isakmp.h"

namespace gm::control {

namespace {

using detail::find;

pull_error fail(pull_errc c, std::optional<codec_error> d = std::nullopt) { return {c, d}; }

bool nonce_ok(const nonce_payload& n) { return n.data.size() >= 8 && n.data.size() <= 256; }

/// RFC 2409 App. B: the exchange IV advances only for a message that authenticates. Holds
/// the IV state of one message id and puts it back unless commit() was called.
class iv_guard {
 public:
  iv_guard(phase1_sa& sa, uint32_t mid) : _sa(sa), _mid(mid) {
    if (auto it = sa.exchange_iv.find(mid); it != sa.exchange_iv.end()) {
      _saved = it->second;
    }
  }
  ~iv_guard() {
    if (_committed) {
      return;
    }
    if (_saved) {
      _sa.exchange_iv[_mid] = *_saved;
    } else {
      _sa.exchange_iv.erase(_mid);
    }
  }
  iv_guard(const iv_guard&) = delete;
  iv_guard& operator=(const iv_guard&) = delete;
  void commit() { _committed = true; }

 private:
  phase1_sa& _sa;
  uint32_t _mid;
  std::optional<bytes> _saved;
  bool _committed = false;
};

/// A decrypted, HASH-bearing GROUPKEY-PULL message.
struct opened {
  isakmp_header header;
  bytes plain;  ///< the decrypted chain, padding included
  decoded_payloads decoded;
  bytes hash;  ///< HASH payload body
  std::span<const uint8_t> rest() const {
    return detail::payload_span(plain, header_len, decoded.info.extents, 1,
                                decoded.info.extents.size() - 1);
  }
};

/// Header checks, decryption and decoding (no HASH check yet). `mid` 0 accepts any non-zero
/// message id (the KS's message 1).
std::variant<opened, pull_error> open(phase1_sa& sa, std::span<const uint8_t> dgram, uint32_t mid) {
  auto h = decode_header(dgram);
  if (!h) {
    return fail(pull_errc::codec, h.error());
  }
  if (h->exchange_type != exchange::groupkey_pull) {
    return fail(pull_errc::wrong_exchange);
  }
  if (h->initiator_cookie != sa.icookie || h->responder_cookie != sa.rcookie) {
    return fail(pull_errc::wrong_cookies);
  }
  if (h->message_id == 0 || (mid != 0 && h->message_id != mid)) {
    return fail(pull_errc::wrong_message_id);
  }
  if ((h->flags & flag::encryption) == 0) {
    return fail(pull_errc::not_encrypted);
  }
  auto plain = unprotect(sa, dgram);
  if (!plain) {
    return fail(pull_errc::decrypt_failed);
  }
  auto d =
      decode_payloads(h->next_payload, *plain, header_len, tail::padding, exchange::groupkey_pull);
  if (!d) {
    return fail(pull_errc::codec, d.error());
  }
  if (d->payloads.empty() || !std::holds_alternative<hash_payload>(d->payloads.front())) {
    return fail(pull_errc::hash_not_first);
  }
  opened o;
  o.header = *h;
  o.hash = std::get<hash_payload>(d->payloads.front()).data;
  o.plain = std::move(*plain);
  o.decoded = std::move(*d);
  return o;
}

/// prf(SKEYID_a, M-ID | pieces...)
key_bytes hash_n(const phase1_sa& sa, uint32_t mid, const std::vector<ike::cspan>& pieces) {
  bytes joined = detail::be32(mid);
  for (ike::cspan p : pieces) {
    joined.insert(joined.end(), p.begin(), p.end());
  }
  return ike::prf(sa.policy.hash, sa.skeyid_a, joined);
}

/// HASH(n) || rest, encrypted under the exchange's IV.
std::variant<bytes, pull_error> seal(phase1_sa& sa, uint32_t mid,
                                     const std::vector<gdoi_payload>& rest_payloads,
                                     std::initializer_list<ike::cspan> before_rest) {
  auto rest = encode_payloads(rest_payloads);
  if (!rest) {
    return fail(pull_errc::encode_failed, rest.error());
  }
  std::vector<ike::cspan> pieces(before_rest);
  pieces.emplace_back(*rest);
  const key_bytes h = hash_n(sa, mid, pieces);
  bytes chain;
  const uint8_t first = rest_payloads.empty() ? payload::none : payload_type_of(rest_payloads[0]);
  if (auto e = detail::prepend(chain, payload::hash, h, first, *rest)) {
    return fail(pull_errc::encode_failed, *e);
  }
  isakmp_header hdr;
  hdr.initiator_cookie = sa.icookie;
  hdr.responder_cookie = sa.rcookie;
  hdr.next_payload = payload::hash;
  hdr.exchange_type = exchange::groupkey_pull;
  hdr.flags = flag::encryption;
  hdr.message_id = mid;
  bytes out = protect(sa, hdr, chain);
  if (out.empty()) {
    return fail(pull_errc::encode_failed);  // the phase-1 SA's key or IV has the wrong size
  }
  return out;
}

bool same(std::span<const uint8_t> a, const bytes& b) {
  return !b.empty() && std::equal(a.begin(), a.end(), b.begin(), b.end());
}

uint32_t random_message_id() {
  for (;;) {
    const bytes r = ike::random_bytes(4);
    const uint32_t v = static_cast<uint32_t>(be_uint(r));
    if (v != 0) {
      return v;
    }
  }
}

}  // namespace

// ---- GM ----------------------------------------------------------------------------------

pull_initiator::pull_initiator(phase1_sa& sa, uint32_t group, bool request_sender_id)
    : _sa(sa), _group(group), _request_sender_id(request_sender_id) {}

bytes pull_initiator::start() {
  _mid = random_message_id();
  _ni = ike::random_bytes(pull_nonce_len);
  // HASH(1) = prf(SKEYID_a, M-ID | Ni | ID): Ni and ID are whole payloads.
  auto m = seal(_sa, _mid, {nonce_payload{_ni}, id_payload::group(_group)}, {});
  // Our own nonce and a 4-byte ID always encode.
  _last_sent = std::move(std::get<bytes>(m));
  _last_received.clear();
  _state = state::sent_1;
  return _last_sent;
}

pull_step pull_initiator::receive(std::span<const uint8_t> dgram) {
  if (same(dgram, _last_received)) {
    // The KS did not get our reply: send it again. After message 4 there is none.
    if (_state == state::done) {
      return std::optional<bytes>{};
    }
    return std::optional<bytes>{_last_sent};
  }
  switch (_state) {
    case state::sent_1:
      return on_message_2(dgram);
    case state::sent_3:
      return on_message_4(dgram);
    default:
      return fail(pull_errc::unexpected_message);
  }
}

pull_step pull_initiator::on_message_2(std::span<const uint8_t> dgram) {
  iv_guard guard(_sa, _mid);
  auto o = open(_sa, dgram, _mid);
  if (auto* e = std::get_if<pull_error>(&o)) {
    return *e;
  }
  const opened& m = std::get<opened>(o);
  // HASH(2) = prf(SKEYID_a, M-ID | Ni_b | Nr | SA)
  if (!detail::equal_ct(m.hash, hash_n(_sa, _mid, {_ni, m.rest()}))) {
    return fail(pull_errc::bad_hash);
  }
  const auto* nr = find<nonce_payload>(m.decoded.payloads);
  const auto* sa = find<sa_payload>(m.decoded.payloads);
  if (nr == nullptr || sa == nullptr) {
    return fail(pull_errc::missing_payload);
  }
  if (!nonce_ok(*nr)) {
    return fail(pull_errc::bad_nonce);
  }
  std::vector<gdoi_payload> rest;
  if (_request_sender_id) {
    gap_payload gap;
    gap.sender_id_request = 1;
    rest.emplace_back(std::move(gap));
  }
  // HASH(3) = prf(SKEYID_a, M-ID | Ni_b | Nr_b [| GAP])
  auto reply = seal(_sa, _mid, rest, {_ni, nr->data});
  if (auto* e = std::get_if<pull_error>(&reply)) {
    return *e;
  }
  guard.commit();
  _nr = nr->data;
  _sa_policy = *sa;
  _keys.forms.merge(m.decoded.info.forms);
  _last_received.assign(dgram.begin(), dgram.end());
  _last_sent = std::move(std::get<bytes>(reply));
  _state = state::sent_3;
  return std::optional<bytes>{_last_sent};
}

pull_step pull_initiator::on_message_4(std::span<const uint8_t> dgram) {
  iv_guard guard(_sa, _mid);
  auto o = open(_sa, dgram, _mid);
  if (auto* e = std::get_if<pull_error>(&o)) {
    return *e;
  }
  const opened& m = std::get<opened>(o);
  // HASH(4) = prf(SKEYID_a, M-ID | Ni_b | Nr_b [| SEQ] | KD)
  if (!detail::equal_ct(m.hash, hash_n(_sa, _mid, {_ni, _nr, m.rest()}))) {
    return fail(pull_errc::bad_hash);
  }
  const auto* kd = find<kd_payload>(m.decoded.payloads);
  if (kd == nullptr) {
    return fail(pull_errc::missing_payload);
  }
  if (auto e = check_keys(_sa_policy, *kd)) {
    return fail(pull_errc::keys_missing, *e);
  }
  const bool kek_keys =
      std::any_of(kd->packets.begin(), kd->packets.end(),
                  [](const key_packet& k) { return k.type == key_packet_type::kek; });
  if (_sa_policy.kek && !kek_keys) {
    // An SA KEK without its key packet leaves the GM unable to open any rekey.
    return fail(pull_errc::keys_missing);
  }
  guard.commit();
  add_keys(_keys, _sa_policy, *kd);
  if (const auto* seq = find<seq_payload>(m.decoded.payloads)) {
    _keys.seq = seq->seq;
  }
  _keys.forms.merge(m.decoded.info.forms);
  _last_received.assign(dgram.begin(), dgram.end());
  _state = state::done;
  return std::optional<bytes>{};
}

// ---- KS ----------------------------------------------------------------------------------

pull_responder::pull_responder(phase1_sa& sa, pull_policy policy)
    : _sa(sa), _policy(std::move(policy)) {}

pull_step pull_responder::receive(std::span<const uint8_t> dgram) {
  if (same(dgram, _last_received)) {
    return std::optional<bytes>{_last_sent};
  }
  switch (_state) {
    case state::wait_1:
      return on_message_1(dgram);
    case state::sent_2:
      return on_message_3(dgram);
    default:
      return fail(pull_errc::unexpected_message);
  }
}

pull_step pull_responder::on_message_1(std::span<const uint8_t> dgram) {
  const auto h = decode_header(dgram);
  const uint32_t mid = h ? h->message_id : 0;
  iv_guard guard(_sa, mid);
  auto o = open(_sa, dgram, 0);
  if (auto* e = std::get_if<pull_error>(&o)) {
    return *e;
  }
  const opened& m = std::get<opened>(o);
  // HASH(1) = prf(SKEYID_a, M-ID | Ni | ID)
  if (!detail::equal_ct(m.hash, hash_n(_sa, mid, {m.rest()}))) {
    return fail(pull_errc::bad_hash);
  }
  const auto* ni = find<nonce_payload>(m.decoded.payloads);
  const auto* id = find<id_payload>(m.decoded.payloads);
  if (ni == nullptr || id == nullptr) {
    return fail(pull_errc::missing_payload);
  }
  if (!nonce_ok(*ni)) {
    return fail(pull_errc::bad_nonce);
  }
  const auto group = id->group_number();
  if (id->id_type != id_type::key_id || !group) {
    return fail(pull_errc::bad_group_id);
  }
  auto offer = _policy(*group, false);
  if (!offer) {
    return fail(pull_errc::unknown_group);
  }
  if (auto e = check_keys(offer->sa, offer->kd)) {
    return fail(pull_errc::keys_missing, *e);
  }
  const bytes nr = ike::random_bytes(pull_nonce_len);
  // HASH(2) = prf(SKEYID_a, M-ID | Ni_b | Nr | SA)
  auto reply = seal(_sa, mid, {nonce_payload{nr}, offer->sa}, {ni->data});
  if (auto* e = std::get_if<pull_error>(&reply)) {
    return *e;
  }
  guard.commit();
  _mid = mid;
  _group = *group;
  _ni = ni->data;
  _nr = nr;
  _offer = std::move(offer);
  _last_received.assign(dgram.begin(), dgram.end());
  _last_sent = std::move(std::get<bytes>(reply));
  _state = state::sent_2;
  return std::optional<bytes>{_last_sent};
}

pull_step pull_responder::on_message_3(std::span<const uint8_t> dgram) {
  iv_guard guard(_sa, _mid);
  auto o = open(_sa, dgram, _mid);
  if (auto* e = std::get_if<pull_error>(&o)) {
    return *e;
  }
  const opened& m = std::get<opened>(o);
  // HASH(3) = prf(SKEYID_a, M-ID | Ni_b | Nr_b [| GAP])
  if (!detail::equal_ct(m.hash, hash_n(_sa, _mid, {_ni, _nr, m.rest()}))) {
    return fail(pull_errc::bad_hash);
  }
  const auto* gap = find<gap_payload>(m.decoded.payloads);
  const bool sid_requested = gap != nullptr && gap->sender_id_request.value_or(0) > 0;
  std::optional<key_packet> sid;
  if (sid_requested) {
    sid = _offer->sid;
    if (!sid) {
      if (auto again = _policy(_group, true)) {
        sid = again->sid;
      }
    }
  }
  std::vector<gdoi_payload> rest;
  if (_offer->seq) {
    rest.emplace_back(seq_payload{*_offer->seq});
  }
  kd_payload kd = _offer->kd;
  if (sid) {
    kd.packets.push_back(*sid);
  }
  rest.emplace_back(std::move(kd));
  // HASH(4) = prf(SKEYID_a, M-ID | Ni_b | Nr_b [| SEQ] | KD)
  auto reply = seal(_sa, _mid, rest, {_ni, _nr});
  if (auto* e = std::get_if<pull_error>(&reply)) {
    return *e;
  }
  guard.commit();
  _sid_requested = sid_requested;
  _last_received.assign(dgram.begin(), dgram.end());
  _last_sent = std::move(std::get<bytes>(reply));
  _state = state::done;
  return std::optional<bytes>{_last_sent};
}

}  // namespace gm::control
