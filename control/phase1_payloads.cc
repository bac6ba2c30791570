#include "control/phase1_payloads.h"

#include "control/isakmp.h"

namespace gm::control {

namespace {

// RFC 2409 4: with no lifetime attribute the SA lives 8 hours.
constexpr uint32_t default_lifetime_s = 28800;

std::optional<codec_error> decode_transform_attrs(byte_reader& r, ike_transform& t) {
  const uint8_t pl = payload::transform;
  // Life type then its duration, in pairs; a duration for a type we do not know stays in
  // `other` beside its type.
  std::optional<uint16_t> pending_life;
  while (!r.empty()) {
    attribute a;
    std::size_t at = 0;
    if (auto e = read_attribute(r, a, at, pl)) {
      return e;
    }
    if (pending_life && a.type != ike_attr::life_duration) {
      return make_error(codec_errc::lifetime_unpaired, at, pl);
    }
    std::optional<codec_error> e;
    switch (a.type) {
      case ike_attr::encryption:
        e = set_once(t.encryption, a, at, pl);
        break;
      case ike_attr::hash:
        e = set_once(t.hash, a, at, pl);
        break;
      case ike_attr::auth_method:
        e = set_once(t.auth_method, a, at, pl);
        break;
      case ike_attr::group:
        e = set_once(t.group, a, at, pl);
        break;
      case ike_attr::key_length:
        e = set_once(t.key_length, a, at, pl);
        break;
      case ike_attr::life_type: {
        uint64_t v = 0;
        e = attribute_uint(a, at, pl, 0xffff, v);
        pending_life = static_cast<uint16_t>(v);
        if (v != ike_value::life_seconds && v != ike_value::life_kilobytes) {
          t.other.push_back(std::move(a));
        }
        break;
      }
      case ike_attr::life_duration:
        if (!pending_life) {
          return make_error(codec_errc::lifetime_unpaired, at, pl);
        }
        if (*pending_life == ike_value::life_seconds) {
          e = set_once(t.life_seconds, a, at, pl);
        } else if (*pending_life == ike_value::life_kilobytes) {
          e = set_once(t.life_kilobytes, a, at, pl);
        } else {
          t.other.push_back(std::move(a));
        }
        pending_life.reset();
        break;
      default:
        t.other.push_back(std::move(a));
        break;
    }
    if (e) {
      return e;
    }
  }
  if (pending_life) {
    return make_error(codec_errc::lifetime_unpaired, r.offset(), pl);
  }
  return std::nullopt;
}

result<ike_transform> decode_transform(const payload_view& v) {
  byte_reader r(v.body, v.offset + generic_header_len);
  ike_transform t;
  uint16_t reserved = 0;
  if (!r.u8(t.number) || !r.u8(t.transform_id) || !r.u16(reserved)) {
    return make_error(codec_errc::payload_length_too_small, v.offset + 2, payload::transform);
  }
  if (auto e = decode_transform_attrs(r, t)) {
    return *e;
  }
  return t;
}

result<ike_proposal> decode_proposal(const payload_view& v) {
  const std::size_t base = v.offset + generic_header_len;
  byte_reader r(v.body, base);
  ike_proposal p;
  uint8_t spi_size = 0;
  uint8_t count = 0;
  if (!r.u8(p.number) || !r.u8(p.protocol) || !r.u8(spi_size) || !r.u8(count)) {
    return make_error(codec_errc::payload_length_too_small, v.offset + 2, payload::proposal);
  }
  std::span<const uint8_t> spi;
  if (!r.take(spi_size, spi)) {
    return make_error(codec_errc::bad_spi_size, base + 2, payload::proposal);
  }
  p.spi.assign(spi.begin(), spi.end());
  // A proposal with no transforms has nothing to walk (and would be refused anyway).
  if (r.empty()) {
    return make_error(codec_errc::transform_count_mismatch, base + 3, payload::proposal);
  }
  auto ts = walk_payloads(payload::transform, r.rest(), r.offset());
  if (!ts) {
    return ts.error();
  }
  for (const payload_view& tv : *ts) {
    if (tv.type != payload::transform) {
      return make_error(codec_errc::unexpected_payload, tv.offset, tv.type);
    }
    auto t = decode_transform(tv);
    if (!t) {
      return t.error();
    }
    p.transforms.push_back(std::move(*t));
  }
  if (p.transforms.size() != count) {
    return make_error(codec_errc::transform_count_mismatch, base + 3, payload::proposal);
  }
  return p;
}

std::vector<attribute> transform_attrs(const ike_transform& t) {
  std::vector<attribute> as;
  add_if(as, ike_attr::encryption, t.encryption);
  add_if(as, ike_attr::key_length, t.key_length);
  add_if(as, ike_attr::hash, t.hash);
  add_if(as, ike_attr::auth_method, t.auth_method);
  add_if(as, ike_attr::group, t.group);
  if (t.life_seconds) {
    as.push_back(attribute::basic(ike_attr::life_type, ike_value::life_seconds));
    as.push_back(attribute::integer(ike_attr::life_duration, *t.life_seconds));
  }
  if (t.life_kilobytes) {
    as.push_back(attribute::basic(ike_attr::life_type, ike_value::life_kilobytes));
    as.push_back(attribute::integer(ike_attr::life_duration, *t.life_kilobytes));
  }
  as.insert(as.end(), t.other.begin(), t.other.end());
  return as;
}

}  // namespace

ike_transform transform_for(const phase1_policy& p, uint8_t number) {
  ike_transform t;
  t.number = number;
  if (p.cipher == ike::cipher::aes_cbc) {
    t.encryption = ike_value::enc_aes_cbc;
    t.key_length = p.key_bits;
  } else {
    t.encryption = ike_value::enc_3des_cbc;
  }
  t.hash = p.hash == ike::hash_alg::sha1 ? ike_value::hash_sha1 : ike_value::hash_sha256;
  t.auth_method = ike_value::auth_psk;
  t.group = static_cast<uint16_t>(p.group);
  t.life_seconds = p.lifetime_s;
  return t;
}

std::optional<phase1_policy> policy_of(const ike_transform& t) {
  phase1_policy p;
  if (t.transform_id != transform_key_ike || t.auth_method != ike_value::auth_psk ||
      !t.other.empty()) {
    return std::nullopt;
  }
  if (t.encryption == ike_value::enc_aes_cbc) {
    p.cipher = ike::cipher::aes_cbc;
    if (!t.key_length || (*t.key_length != 128 && *t.key_length != 192 && *t.key_length != 256)) {
      return std::nullopt;
    }
    p.key_bits = *t.key_length;
  } else if (t.encryption == ike_value::enc_3des_cbc) {
    if (t.key_length && *t.key_length != 192) {
      return std::nullopt;
    }
    p.cipher = ike::cipher::des3_cbc;
    p.key_bits = 192;
  } else {
    return std::nullopt;
  }
  if (t.hash == ike_value::hash_sha1) {
    p.hash = ike::hash_alg::sha1;
  } else if (t.hash == ike_value::hash_sha256) {
    p.hash = ike::hash_alg::sha256;
  } else {
    return std::nullopt;
  }
  if (t.group == static_cast<uint16_t>(ike::dh_group::modp1024)) {
    p.group = ike::dh_group::modp1024;
  } else if (t.group == static_cast<uint16_t>(ike::dh_group::modp2048)) {
    p.group = ike::dh_group::modp2048;
  } else {
    return std::nullopt;
  }
  // A kilobyte limit is not something we enforce on the control channel; it does not make
  // the offer unacceptable.
  p.lifetime_s = t.life_seconds.value_or(default_lifetime_s);
  if (p.lifetime_s == 0) {
    return std::nullopt;
  }
  return p;
}

phase1_sa_payload offer(const std::vector<phase1_policy>& policies) {
  phase1_sa_payload sa;
  ike_proposal prop;
  for (std::size_t i = 0; i < policies.size(); ++i) {
    prop.transforms.push_back(transform_for(policies[i], static_cast<uint8_t>(i + 1)));
  }
  sa.proposals.push_back(std::move(prop));
  return sa;
}

result<phase1_sa_payload> decode_phase1_sa(std::span<const uint8_t> body, std::size_t base) {
  byte_reader r(body, base);
  phase1_sa_payload sa;
  if (!r.u32(sa.doi) || !r.u32(sa.situation)) {
    return make_error(codec_errc::payload_length_too_small, base, payload::sa);
  }
  if (sa.doi != doi_gdoi && sa.doi != doi_ipsec) {
    return make_error(codec_errc::bad_doi, base, payload::sa);
  }
  if (r.empty()) {
    return sa;  // no proposal: the caller refuses it (no_proposal_chosen)
  }
  auto ps = walk_payloads(payload::proposal, r.rest(), r.offset());
  if (!ps) {
    return ps.error();
  }
  for (const payload_view& pv : *ps) {
    if (pv.type != payload::proposal) {
      return make_error(codec_errc::unexpected_payload, pv.offset, pv.type);
    }
    auto p = decode_proposal(pv);
    if (!p) {
      return p.error();
    }
    sa.proposals.push_back(std::move(*p));
  }
  return sa;
}

std::optional<codec_error> encode_phase1_sa(const phase1_sa_payload& sa, bytes& body) {
  byte_writer w(body);
  w.u32(sa.doi);
  w.u32(sa.situation);
  for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
    const ike_proposal& p = sa.proposals[i];
    if (p.spi.size() > 0xff || p.transforms.size() > 0xff) {
      return make_error(codec_errc::value_too_long, body.size(), payload::proposal);
    }
    bytes pbody;
    byte_writer pw(pbody);
    pw.u8(p.number);
    pw.u8(p.protocol);
    pw.u8(static_cast<uint8_t>(p.spi.size()));
    pw.u8(static_cast<uint8_t>(p.transforms.size()));
    pw.put(p.spi);
    for (std::size_t j = 0; j < p.transforms.size(); ++j) {
      const ike_transform& t = p.transforms[j];
      bytes tbody;
      byte_writer tw(tbody);
      tw.u8(t.number);
      tw.u8(t.transform_id);
      tw.u16(0);
      if (auto e = write_attributes(tw, transform_attrs(t), payload::transform)) {
        return e;
      }
      const uint8_t next = j + 1 < p.transforms.size() ? payload::transform : payload::none;
      if (auto e = put_payload(pw, next, tbody, payload::transform)) {
        return e;
      }
    }
    const uint8_t next = i + 1 < sa.proposals.size() ? payload::proposal : payload::none;
    if (auto e = put_payload(w, next, pbody, payload::proposal)) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace gm::control
