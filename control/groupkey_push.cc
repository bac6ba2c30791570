#include "control/groupkey_push.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "control/gdoi_message.h"
#include "control/groupkey_common.h"
#include "control/isakmp.h"

namespace gm::control {

namespace {

using detail::find;

push_error fail(push_errc c, std::optional<codec_error> d = std::nullopt) { return {c, d}; }

constexpr std::string_view rekey_prefix = "rekey";
constexpr std::string_view ack_label = "GROUPKEY-PUSH ACK";

std::optional<ike::cipher> cipher_of(uint16_t alg) {
  switch (alg) {
    case kek_alg::aes:
      return ike::cipher::aes_cbc;
    case kek_alg::des3:
      return ike::cipher::des3_cbc;
    default:
      return std::nullopt;
  }
}

bool key_len_ok(ike::cipher c, std::size_t n) {
  return c == ike::cipher::aes_cbc ? (n == 16 || n == 24 || n == 32) : n == 24;
}

/// The cipher of a usable KEK state (algorithm known, key length right for it).
std::optional<ike::cipher> usable(const kek_state& k) {
  auto c = cipher_of(k.alg);
  if (!c || !key_len_ok(*c, k.key.size())) {
    return std::nullopt;
  }
  return c;
}

void cookies_from(const kek_spi& spi, isakmp_header& h) {
  std::copy_n(spi.begin(), 8, h.initiator_cookie.begin());
  std::copy_n(spi.begin() + 8, 8, h.responder_cookie.begin());
}

bool cookies_match(const kek_spi& spi, const isakmp_header& h) {
  return std::equal(h.initiator_cookie.begin(), h.initiator_cookie.end(), spi.begin()) &&
         std::equal(h.responder_cookie.begin(), h.responder_cookie.end(), spi.begin() + 8);
}

bytes header_bytes(const isakmp_header& h) {
  bytes b;
  byte_writer w(b);
  encode_header(h, w);
  return b;
}

/// "rekey" | HDR | payloads before SIG.
bytes signed_data(std::span<const uint8_t> header, std::span<const uint8_t> payloads) {
  bytes d(rekey_prefix.begin(), rekey_prefix.end());
  d.insert(d.end(), header.begin(), header.end());
  d.insert(d.end(), payloads.begin(), payloads.end());
  return d;
}

/// One decryption attempt of a push body under one IV mode.
struct attempt {
  std::optional<push_error> error;
  std::optional<opened_push> push;
};

attempt try_mode(std::span<const uint8_t> dgram, const isakmp_header& h, const kek_state& kek,
                 ike::cipher c, bool static_iv) {
  const std::size_t block = ike::block_len(c);
  std::span<const uint8_t> body = dgram.subspan(header_len);
  std::span<const uint8_t> iv;
  if (static_iv) {
    iv = kek.iv;
  } else {
    if (body.size() < block) {
      return {fail(push_errc::decrypt_failed), {}};
    }
    iv = body.first(block);
    body = body.subspan(block);
  }
  if (iv.size() != block || body.empty() || body.size() % block != 0) {
    return {fail(push_errc::decrypt_failed), {}};
  }
  auto plain = ike::cbc_decrypt(c, kek.key, iv, body);
  if (!plain) {
    return {fail(push_errc::decrypt_failed), {}};
  }
  auto d =
      decode_payloads(h.next_payload, *plain, header_len, tail::padding, exchange::groupkey_push);
  if (!d) {
    // Under the wrong key, IV mode or after tampering, the chain is noise.
    return {fail(push_errc::decrypt_failed, d.error()), {}};
  }
  const auto& ps = d->payloads;
  const auto& ext = d->info.extents;
  if (ps.size() < 4 || !std::holds_alternative<seq_payload>(ps.front()) ||
      !std::holds_alternative<sig_payload>(ps.back()) || find<sa_payload>(ps) == nullptr ||
      find<kd_payload>(ps) == nullptr) {
    return {fail(push_errc::missing_payload), {}};
  }
  const std::size_t sig_at = ext.back().offset - header_len;
  const bytes data = signed_data(dgram.first(header_len), std::span(*plain).first(sig_at));
  auto pub = ike::rsa_key::from_public_der(kek.ks_public_der);
  if (!pub) {
    return {fail(push_errc::bad_kek), {}};
  }
  auto form = pub->verify(kek.sig_hash, data, std::get<sig_payload>(ps.back()).data);
  if (!form) {
    return {fail(push_errc::bad_signature), {}};
  }
  opened_push o;
  o.seq = std::get<seq_payload>(ps.front()).seq;
  o.sa = *find<sa_payload>(ps);
  o.kd = *find<kd_payload>(ps);
  if (const auto* del = find<delete_payload>(ps)) {
    o.del = *del;
  }
  o.form = *form;
  o.static_iv = static_iv;
  o.forms = d->info.forms;
  // A plaintext copy of the message (E flag cleared, padding dropped) for debugging tools.
  const std::size_t chain_len = ext.back().offset + ext.back().length - header_len;
  isakmp_header ph = h;
  ph.flags = static_cast<uint8_t>(ph.flags & ~flag::encryption);
  ph.length = static_cast<uint32_t>(header_len + chain_len);
  o.plaintext = header_bytes(ph);
  o.plaintext.insert(o.plaintext.end(), plain->begin(), plain->begin() + chain_len);
  return {std::nullopt, std::move(o)};
}

/// Which failure of two IV-mode attempts says most: a chain that decoded (a missing payload,
/// a bad signature) beats noise.
int rank(push_errc c) {
  switch (c) {
    case push_errc::bad_signature:
      return 3;
    case push_errc::bad_kek:
      return 2;
    case push_errc::missing_payload:
      return 1;
    default:
      return 0;
  }
}

std::optional<ike::hash_alg> hash_of(uint16_t sig_hash_attr) {
  switch (sig_hash_attr) {
    case sig_hash::sha1:
      return ike::hash_alg::sha1;
    case sig_hash::sha256:
      return ike::hash_alg::sha256;
    default:
      return std::nullopt;
  }
}

// HMAC-SHA-256 or HMAC-SHA-512 (the ACK's prf is not the IKE prf: SHA-512 is not one of
// ike::hash_alg's).
key_bytes ack_prf(uint16_t type, std::span<const uint8_t> key, std::span<const uint8_t> data) {
  const EVP_MD* md = type == kek_ack_type::kek_sha512 ? EVP_sha512() : EVP_sha256();
  key_bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned n = 0;
  static const uint8_t empty = 0;
  if (HMAC(md, key.empty() ? &empty : key.data(), static_cast<int>(key.size()),
           data.empty() ? &empty : data.data(), data.size(), out.data(), &n) == nullptr ||
      n != out.size()) {
    std::abort();
  }
  return out;
}

key_bytes ack_key(const kek_state& kek) {
  // L: the prf's block size in bits (RFC 8263 4.2), two octets, network order.
  const uint16_t l = kek.ack_type == kek_ack_type::kek_sha512 ? 1024 : 512;
  bytes context(ack_label.begin(), ack_label.end());
  context.push_back(0);  // the label is null-terminated
  context.insert(context.end(), kek.spi.begin(), kek.spi.end());
  context.push_back(static_cast<uint8_t>(l >> 8));
  context.push_back(static_cast<uint8_t>(l & 0xff));
  return ack_prf(kek.ack_type, kek.key, context);
}

}  // namespace

std::variant<kek_state, push_error> make_kek_state(const sa_kek& kek, const key_packet& keys,
                                                   std::span<const uint8_t> previous_public_der) {
  if (keys.type != key_packet_type::kek || !kek.attrs.algorithm) {
    return fail(push_errc::bad_kek);
  }
  const auto c = cipher_of(*kek.attrs.algorithm);
  const auto h = hash_of(kek.attrs.sig_hash_algorithm.value_or(0));
  if (!c || !h) {
    return fail(push_errc::bad_kek);
  }
  const std::size_t block = ike::block_len(*c);
  const std::size_t total = keys.algorithm_key.size();
  const std::size_t key_len =
      kek.attrs.key_length ? *kek.attrs.key_length / 8u : (total > block ? total - block : 0);
  if (total != block + key_len || !key_len_ok(*c, key_len)) {
    return fail(push_errc::bad_kek);
  }
  kek_state s;
  s.spi = kek.spi;
  s.alg = *kek.attrs.algorithm;
  s.iv.assign(keys.algorithm_key.begin(), keys.algorithm_key.begin() + block);
  s.key.assign(keys.algorithm_key.begin() + block, keys.algorithm_key.end());
  s.sig_hash = *h;
  if (!keys.signature_key.empty()) {
    s.ks_public_der.assign(keys.signature_key.begin(), keys.signature_key.end());
  } else {
    s.ks_public_der.assign(previous_public_der.begin(), previous_public_der.end());
  }
  if (s.ks_public_der.empty()) {
    return fail(push_errc::bad_kek);
  }
  s.ack_type = ack_type(kek);
  s.ack_requested = s.ack_type != 0;
  return s;
}

std::variant<bytes, push_error> build_push(const kek_state& kek, const ike::rsa_key& signer,
                                           uint32_t seq, const sa_payload& sa, const kd_payload& kd,
                                           const std::optional<delete_payload>& del,
                                           const rekey_build_options& options) {
  const auto c = usable(kek);
  if (!c || (options.static_iv && kek.iv.size() != ike::block_len(*c))) {
    return fail(push_errc::bad_kek);
  }
  if (!signer.has_private()) {
    return fail(push_errc::sign_failed);
  }
  const std::size_t block = ike::block_len(*c);
  const std::size_t sig_len = (signer.bits() + 7) / 8;
  // The chain with a zero signature of the right length: lengths (and so the header) are
  // final before signing.
  std::vector<gdoi_payload> ps;
  ps.emplace_back(seq_payload{seq});
  if (del) {
    ps.emplace_back(*del);
  }
  ps.emplace_back(sa);
  ps.emplace_back(kd);
  ps.emplace_back(sig_payload{bytes(sig_len, 0)});
  auto chain = encode_payloads(ps);
  if (!chain) {
    return fail(push_errc::encode_failed, chain.error());
  }
  const std::size_t signed_len = chain->size() - generic_header_len - sig_len;
  const std::size_t padded = (chain->size() + block - 1) / block * block;
  const std::size_t total = header_len + (options.static_iv ? 0 : block) + padded;
  if (total > 0xffffffffu) {
    return fail(push_errc::encode_failed);
  }
  isakmp_header h;
  cookies_from(kek.spi, h);
  h.next_payload = payload::seq;
  h.exchange_type = exchange::groupkey_push;
  h.flags = flag::encryption;
  h.message_id = 0;
  h.length = static_cast<uint32_t>(total);
  const bytes hdr = header_bytes(h);
  auto sig = signer.sign(kek.sig_hash, signed_data(hdr, std::span(*chain).first(signed_len)),
                         options.form);
  if (!sig || sig->size() != sig_len) {
    return fail(push_errc::sign_failed);
  }
  std::copy(sig->begin(), sig->end(),
            chain->begin() + static_cast<std::ptrdiff_t>(chain->size() - sig_len));
  chain->resize(padded, 0);  // IKEv1 padding: zeros, no pad-length byte
  const bytes iv = options.static_iv ? kek.iv : ike::random_bytes(block);
  auto ct = ike::cbc_encrypt(*c, kek.key, iv, *chain);
  if (!ct) {
    return fail(push_errc::bad_kek);
  }
  bytes out = hdr;
  if (!options.static_iv) {
    out.insert(out.end(), iv.begin(), iv.end());
  }
  out.insert(out.end(), ct->begin(), ct->end());
  return out;
}

std::variant<opened_push, push_error> open_push(std::span<const uint8_t> dgram,
                                                const kek_state& current, uint32_t last_seq) {
  auto h = decode_header(dgram);
  if (!h) {
    return fail(push_errc::codec, h.error());
  }
  if (h->exchange_type != exchange::groupkey_push) {
    return fail(push_errc::wrong_exchange);
  }
  if (!cookies_match(current.spi, *h)) {
    return fail(push_errc::unknown_kek);
  }
  if (h->message_id != 0) {
    return fail(push_errc::bad_message_id);
  }
  if ((h->flags & flag::encryption) == 0) {
    return fail(push_errc::not_encrypted);
  }
  const auto c = usable(current);
  if (!c) {
    return fail(push_errc::bad_kek);
  }
  // RFC 6407 (IV sent) first, then Cisco's static KD IV; keep the most telling failure.
  std::optional<push_error> worst;
  for (bool static_iv : {false, true}) {
    if (static_iv && current.iv.size() != ike::block_len(*c)) {
      continue;
    }
    attempt a = try_mode(dgram, *h, current, *c, static_iv);
    if (a.push) {
      if (a.push->seq <= last_seq) {
        return fail(push_errc::replayed_seq);
      }
      if (auto e = check_keys(a.push->sa, a.push->kd)) {
        return fail(push_errc::keys_missing, *e);
      }
      return std::move(*a.push);
    }
    if (!worst || rank(a.error->code) > rank(worst->code)) {
      worst = a.error;
    }
  }
  return worst.value_or(fail(push_errc::decrypt_failed));
}

std::variant<opened_push, push_error> rekey_receiver::receive(std::span<const uint8_t> dgram) {
  auto r = open_push(dgram, kek, last_seq);
  auto* p = std::get_if<opened_push>(&r);
  if (p == nullptr) {
    return r;
  }
  const auto kek_packet =
      std::find_if(p->kd.packets.begin(), p->kd.packets.end(),
                   [](const key_packet& k) { return k.type == key_packet_type::kek; });
  if (kek_packet == p->kd.packets.end()) {
    last_seq = p->seq;
    if (p->sa.kek) {
      kek.ack_type = ack_type(*p->sa.kek);
      kek.ack_requested = kek.ack_type != 0;
    }
    return r;
  }
  // A KEK rekey: the SA KEK says how to use the new key; without one, the old KEK's
  // algorithm and hash apply to the new key.
  sa_kek policy;
  if (p->sa.kek) {
    policy = *p->sa.kek;
  } else {
    std::copy_n(kek_packet->spi.begin(), std::min(kek_packet->spi.size(), policy.spi.size()),
                policy.spi.begin());
    policy.attrs.algorithm = kek.alg;
    policy.attrs.key_length = static_cast<uint16_t>(kek.key.size() * 8);
    policy.attrs.sig_hash_algorithm =
        kek.sig_hash == ike::hash_alg::sha1 ? sig_hash::sha1 : sig_hash::sha256;
    if (kek.ack_requested) {
      policy.attrs.other.push_back(attribute::basic(kek_ack_requested_attr, kek.ack_type));
    }
  }
  auto next = make_kek_state(policy, *kek_packet, kek.ks_public_der);
  if (auto* e = std::get_if<push_error>(&next)) {
    return *e;
  }
  kek_state& n = std::get<kek_state>(next);
  // Key servers resend the current KEK in TEK rekeys: only a different KEK restarts the
  // count, else a replayed old push could follow any push that carries the KEK.
  const bool same_kek = n.spi == kek.spi && n.key == kek.key;
  kek = std::move(n);
  // spec 7: a new KEK restarts the SEQ count; its first push may carry SEQ 1.
  last_seq = same_kek ? p->seq : 0;
  return r;
}

uint16_t ack_type(const sa_kek& kek) {
  for (const attribute& a : kek.attrs.other) {
    uint64_t v = 0;
    if (a.type == kek_ack_requested_attr && !attribute_uint(a, 0, payload::sa_kek, 0xffff, v)) {
      return static_cast<uint16_t>(v);
    }
  }
  return 0;
}

bool ack_requested(const sa_kek& kek) { return ack_type(kek) != 0; }

bool ack_type_supported(uint16_t type) {
  return type == kek_ack_type::kek_sha256 || type == kek_ack_type::kek_sha512;
}

std::variant<bytes, push_error> build_push_ack(const kek_state& kek, uint32_t seq,
                                               const id_payload& member) {
  if (!usable(kek)) {
    return fail(push_errc::bad_kek);
  }
  if (!ack_type_supported(kek.ack_type)) {
    return fail(push_errc::bad_kek);  // an LKH type (or unknown): no pairwise key here
  }
  auto rest = encode_payloads({seq_payload{seq}, member});
  if (!rest) {
    return fail(push_errc::encode_failed, rest.error());
  }
  const key_bytes hash = ack_prf(kek.ack_type, ack_key(kek), *rest);
  bytes chain;
  if (auto e = detail::prepend(chain, payload::hash, hash, payload::seq, *rest)) {
    return fail(push_errc::encode_failed, *e);
  }
  isakmp_header h;
  cookies_from(kek.spi, h);
  h.next_payload = payload::hash;
  h.exchange_type = groupkey_push_ack_exchange;
  h.length = static_cast<uint32_t>(header_len + chain.size());
  bytes out = header_bytes(h);
  out.insert(out.end(), chain.begin(), chain.end());
  return out;
}

std::variant<opened_ack, push_error> open_push_ack(std::span<const uint8_t> dgram,
                                                   const kek_state& kek) {
  auto h = decode_header(dgram);
  if (!h) {
    return fail(push_errc::codec, h.error());
  }
  if (h->exchange_type != groupkey_push_ack_exchange) {
    return fail(push_errc::wrong_exchange);
  }
  if (!cookies_match(kek.spi, *h)) {
    return fail(push_errc::unknown_kek);
  }
  if (!usable(kek) || !ack_type_supported(kek.ack_type)) {
    return fail(push_errc::bad_kek);
  }
  const auto chain = dgram.subspan(header_len);
  auto d =
      decode_payloads(h->next_payload, chain, header_len, tail::exact, groupkey_push_ack_exchange);
  if (!d) {
    return fail(push_errc::codec, d.error());
  }
  const auto& ps = d->payloads;
  if (ps.empty() || !std::holds_alternative<hash_payload>(ps.front())) {
    return fail(push_errc::missing_payload);
  }
  const auto rest =
      detail::payload_span(chain, header_len, d->info.extents, 1, d->info.extents.size() - 1);
  const key_bytes want = ack_prf(kek.ack_type, ack_key(kek), rest);
  if (!detail::equal_ct(want, std::get<hash_payload>(ps.front()).data)) {
    return fail(push_errc::bad_hash);
  }
  const auto* seq = find<seq_payload>(ps);
  const auto* id = find<id_payload>(ps);
  if (seq == nullptr || id == nullptr) {
    return fail(push_errc::missing_payload);
  }
  return opened_ack{seq->seq, *id};
}

}  // namespace gm::control
