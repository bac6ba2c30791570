#include "control/gdoi_sa.h"

#include "control/isakmp.h"

namespace gm::control {

namespace {

enum class id_len_form : uint8_t { one_byte, two_byte };

// The ID data length a type implies, or -1 when any length is allowed.
int id_data_len(uint8_t type) {
  switch (type) {
    case id_type::ipv4_addr:
      return 4;
    case id_type::ipv4_subnet:
    case id_type::ipv4_range:
      return 8;
    case id_type::ipv6_addr:
      return 16;
    case id_type::ipv6_subnet:
    case id_type::ipv6_range:
      return 32;
    default:
      return -1;
  }
}

std::optional<codec_error> read_identity(byte_reader& r, id_len_form form, uint8_t pl,
                                         sa_identity& id) {
  const std::size_t at = r.offset();
  uint16_t len = 0;
  uint8_t len8 = 0;
  if (!r.u8(id.type) || !r.u16(id.port)) {
    return make_error(codec_errc::id_length_mismatch, at, pl);
  }
  if (form == id_len_form::two_byte ? !r.u16(len) : !r.u8(len8)) {
    return make_error(codec_errc::id_length_mismatch, at, pl);
  }
  if (form == id_len_form::one_byte) {
    len = len8;
  }
  std::span<const uint8_t> data;
  if (!r.take(len, data)) {
    return make_error(codec_errc::id_length_mismatch, at + 3, pl);
  }
  const int want = id_data_len(id.type);
  if (want >= 0 && static_cast<int>(len) != want) {
    return make_error(codec_errc::bad_id_data, at + 3, pl);
  }
  id.data.assign(data.begin(), data.end());
  return std::nullopt;
}

std::optional<codec_error> write_identity(byte_writer& w, const sa_identity& id, id_len_form form,
                                          uint8_t pl) {
  const std::size_t max = form == id_len_form::two_byte ? 0xffff : 0xff;
  if (id.data.size() > max) {
    return make_error(codec_errc::value_too_long, w.size(), pl);
  }
  w.u8(id.type);
  w.u16(id.port);
  if (form == id_len_form::two_byte) {
    w.u16(static_cast<uint16_t>(id.data.size()));
  } else {
    w.u8(static_cast<uint8_t>(id.data.size()));
  }
  w.put(id.data);
  return std::nullopt;
}

std::optional<codec_error> decode_tek_attrs(byte_reader& r, tek_attributes& out) {
  const uint8_t pl = payload::sa_tek;
  bool want_duration = false;
  while (!r.empty()) {
    attribute a;
    std::size_t at = 0;
    if (auto e = read_attribute(r, a, at, pl)) {
      return e;
    }
    if (want_duration && a.type != tek_attr::life_duration) {
      return make_error(codec_errc::lifetime_unpaired, at, pl);
    }
    std::optional<codec_error> e;
    uint64_t v = 0;
    switch (a.type) {
      case tek_attr::life_type:
        e = attribute_uint(a, at, pl, 0xffff, v);
        out.lifetimes.push_back(sa_lifetime{static_cast<uint16_t>(v), 0});
        want_duration = true;
        break;
      case tek_attr::life_duration:
        if (!want_duration) {
          return make_error(codec_errc::lifetime_unpaired, at, pl);
        }
        e = attribute_uint(a, at, pl, ~uint64_t{0}, out.lifetimes.back().duration);
        want_duration = false;
        break;
      case tek_attr::encapsulation_mode:
        e = set_once(out.encapsulation_mode, a, at, pl);
        break;
      case tek_attr::auth_algorithm:
        e = set_once(out.auth_algorithm, a, at, pl);
        break;
      case tek_attr::key_length:
        e = set_once(out.key_length, a, at, pl);
        break;
      case tek_attr::address_preservation:
        e = set_once(out.address_preservation, a, at, pl);
        break;
      case tek_attr::sa_direction:
        e = set_once(out.sa_direction, a, at, pl);
        break;
      case tek_attr::replay_method:
        e = set_once(out.replay_method, a, at, pl);
        break;
      case tek_attr::replay_window:
        e = set_once(out.replay_window, a, at, pl);
        break;
      case tek_attr::pseudotime:
        e = set_once(out.pseudotime_ms, a, at, pl);
        break;
      default:
        out.other.push_back(std::move(a));
        break;
    }
    if (e) {
      return e;
    }
  }
  if (want_duration) {
    return make_error(codec_errc::lifetime_unpaired, r.offset(), pl);
  }
  return std::nullopt;
}

std::vector<attribute> tek_attr_list(const tek_attributes& t) {
  std::vector<attribute> as;
  for (const sa_lifetime& l : t.lifetimes) {
    as.push_back(attribute::basic(tek_attr::life_type, l.type));
    as.push_back(attribute::integer(tek_attr::life_duration, l.duration));
  }
  add_if(as, tek_attr::encapsulation_mode, t.encapsulation_mode);
  add_if(as, tek_attr::auth_algorithm, t.auth_algorithm);
  add_if(as, tek_attr::key_length, t.key_length);
  add_if(as, tek_attr::address_preservation, t.address_preservation);
  add_if(as, tek_attr::sa_direction, t.sa_direction);
  add_if(as, tek_attr::replay_method, t.replay_method);
  add_if(as, tek_attr::replay_window, t.replay_window);
  if (t.pseudotime_ms) {
    as.push_back(attribute::fixed(tek_attr::pseudotime, *t.pseudotime_ms, 8));
  }
  as.insert(as.end(), t.other.begin(), t.other.end());
  return as;
}

std::optional<codec_error> decode_kek_attrs(byte_reader& r, kek_attributes& out) {
  const uint8_t pl = payload::sa_kek;
  while (!r.empty()) {
    attribute a;
    std::size_t at = 0;
    if (auto e = read_attribute(r, a, at, pl)) {
      return e;
    }
    std::optional<codec_error> e;
    switch (a.type) {
      case kek_attr::management_algorithm:
        e = set_once(out.management_algorithm, a, at, pl);
        break;
      case kek_attr::algorithm:
        e = set_once(out.algorithm, a, at, pl);
        break;
      case kek_attr::key_length:
        e = set_once(out.key_length, a, at, pl);
        break;
      case kek_attr::key_lifetime:
        e = set_once(out.key_lifetime, a, at, pl);
        break;
      case kek_attr::sig_hash_algorithm:
        e = set_once(out.sig_hash_algorithm, a, at, pl);
        break;
      case kek_attr::sig_algorithm:
        e = set_once(out.sig_algorithm, a, at, pl);
        break;
      case kek_attr::sig_key_length:
        e = set_once(out.sig_key_length, a, at, pl);
        break;
      default:
        out.other.push_back(std::move(a));
        break;
    }
    if (e) {
      return e;
    }
  }
  return std::nullopt;
}

std::vector<attribute> kek_attr_list(const kek_attributes& k) {
  std::vector<attribute> as;
  add_if(as, kek_attr::management_algorithm, k.management_algorithm);
  add_if(as, kek_attr::algorithm, k.algorithm);
  add_if(as, kek_attr::key_length, k.key_length);
  add_if(as, kek_attr::key_lifetime, k.key_lifetime);
  add_if(as, kek_attr::sig_hash_algorithm, k.sig_hash_algorithm);
  add_if(as, kek_attr::sig_algorithm, k.sig_algorithm);
  add_if(as, kek_attr::sig_key_length, k.sig_key_length);
  as.insert(as.end(), k.other.begin(), k.other.end());
  return as;
}

// SA TEK after protocol-id and IP protocol, in one ID length form.
std::optional<codec_error> decode_tek_tail(byte_reader r, id_len_form form, sa_tek& t,
                                           bool& framed) {
  const uint8_t pl = payload::sa_tek;
  framed = false;
  if (auto e = read_identity(r, form, pl, t.src)) {
    return e;
  }
  if (auto e = read_identity(r, form, pl, t.dst)) {
    return e;
  }
  const std::size_t at = r.offset();
  if (!r.u8(t.transform_id) || !r.u32(t.spi)) {
    return make_error(codec_errc::id_length_mismatch, at, pl);
  }
  framed = true;
  return decode_tek_attrs(r, t.attrs);
}

// SA KEK after the protocol byte, in one ID length form.
std::optional<codec_error> decode_kek_tail(byte_reader r, id_len_form form, sa_kek& k,
                                           bool& framed) {
  const uint8_t pl = payload::sa_kek;
  framed = false;
  if (auto e = read_identity(r, form, pl, k.src)) {
    return e;
  }
  if (auto e = read_identity(r, form, pl, k.dst)) {
    return e;
  }
  const std::size_t at = r.offset();
  std::span<const uint8_t> spi;
  uint32_t reserved2 = 0;  // RFC 3547's POP algorithm and key length; ignored
  if (!r.take(k.spi.size(), spi) || !r.u32(reserved2)) {
    return make_error(codec_errc::id_length_mismatch, at, pl);
  }
  std::copy(spi.begin(), spi.end(), k.spi.begin());
  framed = true;
  return decode_kek_attrs(r, k.attrs);
}

// Tries the preferred ID length form, then the other; returns which one fit. When neither
// fits, reports the error of a form whose fixed fields framed (an attribute error says more
// than a length guess), else the preferred form's error.
template <typename T, typename F>
std::optional<codec_error> decode_either(const byte_reader& r, id_len_form preferred, F tail,
                                         T& out, id_len_form& used) {
  const id_len_form other =
      preferred == id_len_form::two_byte ? id_len_form::one_byte : id_len_form::two_byte;
  T a = out;
  bool framed_a = false;
  auto ea = tail(r, preferred, a, framed_a);
  if (!ea) {
    out = std::move(a);
    used = preferred;
    return std::nullopt;
  }
  T b = out;
  bool framed_b = false;
  auto eb = tail(r, other, b, framed_b);
  if (!eb) {
    out = std::move(b);
    used = other;
    return std::nullopt;
  }
  if (!framed_a && framed_b) {
    return eb;
  }
  return ea;
}

}  // namespace

sa_identity sa_identity::ipv4_subnet(uint32_t addr, uint32_t mask, uint16_t port) {
  sa_identity id{id_type::ipv4_subnet, port, {}};
  byte_writer w(id.data);
  w.u32(addr);
  w.u32(mask);
  return id;
}

sa_identity sa_identity::ipv4_addr(uint32_t addr, uint16_t port) {
  sa_identity id{id_type::ipv4_addr, port, {}};
  byte_writer w(id.data);
  w.u32(addr);
  return id;
}

void id_forms::merge(const id_forms& o) {
  tek_rfc |= o.tek_rfc;
  tek_one_byte |= o.tek_one_byte;
  kek_rfc |= o.kek_rfc;
  kek_two_byte |= o.kek_two_byte;
}

std::string describe(const id_forms& f) {
  std::string s;
  if (f.tek_one_byte) {
    s = "SA TEK ID data length in 1 byte (Cisco 2011 reference form)";
    s += f.tek_rfc ? ", mixed with 2-byte (RFC 6407)" : "";
  }
  if (f.kek_two_byte) {
    s += s.empty() ? "" : "; ";
    s += "SA KEK ID data length in 2 bytes";
    s += f.kek_rfc ? ", mixed with 1-byte (RFC 6407)" : "";
  }
  return s;
}

result<sa_tek> decode_sa_tek(std::span<const uint8_t> body, std::size_t base, id_forms* forms) {
  byte_reader r(body, base);
  sa_tek t;
  if (!r.u8(t.protocol_id) || !r.u8(t.ip_protocol)) {
    return make_error(codec_errc::payload_length_too_small, base, payload::sa_tek);
  }
  if (t.protocol_id != tek_protocol::esp && t.protocol_id != tek_protocol::ah) {
    return make_error(codec_errc::unsupported_tek_protocol, base, payload::sa_tek);
  }
  id_len_form used = id_len_form::two_byte;
  if (auto e = decode_either(r, id_len_form::two_byte, decode_tek_tail, t, used)) {
    return *e;
  }
  if (forms != nullptr) {
    (used == id_len_form::two_byte ? forms->tek_rfc : forms->tek_one_byte) = true;
  }
  return t;
}

result<sa_kek> decode_sa_kek(std::span<const uint8_t> body, std::size_t base, id_forms* forms) {
  byte_reader r(body, base);
  sa_kek k;
  if (!r.u8(k.protocol)) {
    return make_error(codec_errc::payload_length_too_small, base, payload::sa_kek);
  }
  id_len_form used = id_len_form::one_byte;
  if (auto e = decode_either(r, id_len_form::one_byte, decode_kek_tail, k, used)) {
    return *e;
  }
  if (forms != nullptr) {
    (used == id_len_form::one_byte ? forms->kek_rfc : forms->kek_two_byte) = true;
  }
  return k;
}

result<gap_payload> decode_gap(std::span<const uint8_t> body, std::size_t base) {
  const uint8_t pl = payload::gap;
  byte_reader r(body, base);
  gap_payload g;
  while (!r.empty()) {
    attribute a;
    std::size_t at = 0;
    if (auto e = read_attribute(r, a, at, pl)) {
      return *e;
    }
    std::optional<codec_error> e;
    switch (a.type) {
      case gap_attr::activation_time_delay:
        e = set_once(g.activation_time_delay, a, at, pl);
        break;
      case gap_attr::deactivation_time_delay:
        e = set_once(g.deactivation_time_delay, a, at, pl);
        break;
      case gap_attr::sender_id_request:
        e = set_once(g.sender_id_request, a, at, pl);
        break;
      default:
        g.other.push_back(std::move(a));
        break;
    }
    if (e) {
      return *e;
    }
  }
  return g;
}

result<sa_payload> decode_sa(std::span<const uint8_t> body, std::size_t base, id_forms* forms) {
  const uint8_t pl = payload::sa;
  byte_reader r(body, base);
  uint32_t doi = 0;
  uint16_t attr_next = 0;
  uint32_t situation = 0;
  uint16_t reserved2 = 0;
  sa_payload sa;
  if (!r.u32(doi) || !r.u32(situation) || !r.u16(attr_next) || !r.u16(reserved2)) {
    return make_error(codec_errc::payload_length_too_small, base, pl);
  }
  if (doi != doi_gdoi) {
    return make_error(codec_errc::bad_doi, base, pl);
  }
  if (situation != 0) {
    return make_error(codec_errc::bad_situation, base + 4, pl);
  }
  if (attr_next != payload::sa_kek && attr_next != payload::sa_tek && attr_next != payload::gap) {
    return make_error(codec_errc::unexpected_payload, base + 8, pl);
  }
  auto chain = walk_payloads(static_cast<uint8_t>(attr_next), r.rest(), r.offset());
  if (!chain) {
    return chain.error();
  }
  for (const payload_view& v : *chain) {
    const std::size_t body_at = v.offset + generic_header_len;
    switch (v.type) {
      case payload::sa_kek: {
        if (sa.kek) {
          return make_error(codec_errc::duplicate_payload, v.offset, v.type);
        }
        auto k = decode_sa_kek(v.body, body_at, forms);
        if (!k) {
          return k.error();
        }
        sa.kek = std::move(*k);
        break;
      }
      case payload::sa_tek: {
        auto t = decode_sa_tek(v.body, body_at, forms);
        if (!t) {
          return t.error();
        }
        sa.teks.push_back(std::move(*t));
        break;
      }
      case payload::gap: {
        if (sa.gap) {
          return make_error(codec_errc::duplicate_payload, v.offset, v.type);
        }
        auto g = decode_gap(v.body, body_at);
        if (!g) {
          return g.error();
        }
        sa.gap = std::move(*g);
        break;
      }
      default:
        return make_error(codec_errc::unexpected_payload, v.offset, v.type);
    }
  }
  if (!sa.kek && sa.teks.empty()) {
    return make_error(codec_errc::empty_sa, base, pl);
  }
  return sa;
}

std::optional<codec_error> encode_sa_tek(const sa_tek& t, bytes& body) {
  const uint8_t pl = payload::sa_tek;
  byte_writer w(body);
  w.u8(t.protocol_id);
  w.u8(t.ip_protocol);
  if (auto e = write_identity(w, t.src, id_len_form::two_byte, pl)) {
    return e;
  }
  if (auto e = write_identity(w, t.dst, id_len_form::two_byte, pl)) {
    return e;
  }
  w.u8(t.transform_id);
  w.u32(t.spi);
  return write_attributes(w, tek_attr_list(t.attrs), pl);
}

std::optional<codec_error> encode_sa_kek(const sa_kek& k, bytes& body) {
  const uint8_t pl = payload::sa_kek;
  byte_writer w(body);
  w.u8(k.protocol);
  if (auto e = write_identity(w, k.src, id_len_form::one_byte, pl)) {
    return e;
  }
  if (auto e = write_identity(w, k.dst, id_len_form::one_byte, pl)) {
    return e;
  }
  w.put(k.spi);
  w.u32(0);
  return write_attributes(w, kek_attr_list(k.attrs), pl);
}

std::optional<codec_error> encode_gap(const gap_payload& g, bytes& body) {
  std::vector<attribute> as;
  add_if(as, gap_attr::activation_time_delay, g.activation_time_delay);
  add_if(as, gap_attr::deactivation_time_delay, g.deactivation_time_delay);
  add_if(as, gap_attr::sender_id_request, g.sender_id_request);
  as.insert(as.end(), g.other.begin(), g.other.end());
  byte_writer w(body);
  return write_attributes(w, as, payload::gap);
}

std::optional<codec_error> encode_sa(const sa_payload& sa, bytes& body) {
  const uint8_t pl = payload::sa;
  // Order: SA KEK, SA TEKs, GAP (Wireshark follows KEK -> TEK -> TEK ... only).
  std::vector<std::pair<uint8_t, bytes>> subs;
  if (sa.kek) {
    subs.emplace_back(payload::sa_kek, bytes{});
    if (auto e = encode_sa_kek(*sa.kek, subs.back().second)) {
      return e;
    }
  }
  for (const sa_tek& t : sa.teks) {
    subs.emplace_back(payload::sa_tek, bytes{});
    if (auto e = encode_sa_tek(t, subs.back().second)) {
      return e;
    }
  }
  if (sa.gap) {
    subs.emplace_back(payload::gap, bytes{});
    if (auto e = encode_gap(*sa.gap, subs.back().second)) {
      return e;
    }
  }
  if (subs.empty()) {
    return make_error(codec_errc::empty_sa, 0, pl);
  }
  byte_writer w(body);
  w.u32(doi_gdoi);
  w.u32(0);  // situation
  w.u16(subs.front().first);
  w.u16(0);
  for (std::size_t i = 0; i < subs.size(); ++i) {
    const uint8_t next = i + 1 < subs.size() ? subs[i + 1].first : payload::none;
    if (auto e = put_payload(w, next, subs[i].second, subs[i].first)) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace gm::control
