#include "control/gdoi_payloads.h"

#include <algorithm>

#include "control/isakmp.h"

namespace gm::control {

id_payload id_payload::group(uint32_t group_number) {
  id_payload id;
  byte_writer w(id.data);
  w.u32(group_number);
  return id;
}

std::optional<uint32_t> id_payload::group_number() const {
  if (id_type != gm::control::id_type::key_id || data.size() != 4) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(be_uint(data));
}

result<seq_payload> decode_seq(std::span<const uint8_t> body, std::size_t base) {
  byte_reader r(body, base);
  seq_payload s;
  if (body.size() != 4) {
    return make_error(codec_errc::bad_payload_length, base, payload::seq);
  }
  r.u32(s.seq);
  return s;
}

result<id_payload> decode_id(std::span<const uint8_t> body, std::size_t base) {
  byte_reader r(body, base);
  id_payload id;
  if (!r.u8(id.id_type) || !r.u8(id.protocol) || !r.u16(id.port)) {
    return make_error(codec_errc::payload_length_too_small, base, payload::id);
  }
  const auto data = r.rest();
  if (id.id_type == id_type::key_id && data.empty()) {
    return make_error(codec_errc::bad_id_data, r.offset(), payload::id);
  }
  id.data.assign(data.begin(), data.end());
  return id;
}

result<delete_payload> decode_delete(std::span<const uint8_t> body, std::size_t base) {
  byte_reader r(body, base);
  delete_payload d;
  uint16_t count = 0;
  if (!r.u32(d.doi) || !r.u8(d.protocol_id) || !r.u8(d.spi_size) || !r.u16(count)) {
    return make_error(codec_errc::payload_length_too_small, base, payload::del);
  }
  if (d.spi_size == 0 || r.remaining() != std::size_t{count} * d.spi_size) {
    return make_error(codec_errc::bad_spi_size, base + 5, payload::del);
  }
  for (uint16_t i = 0; i < count; ++i) {
    std::span<const uint8_t> spi;
    r.take(d.spi_size, spi);
    d.spis.emplace_back(spi.begin(), spi.end());
  }
  return d;
}

std::optional<codec_error> encode_seq(const seq_payload& s, bytes& body) {
  byte_writer w(body);
  w.u32(s.seq);
  return std::nullopt;
}

std::optional<codec_error> encode_id(const id_payload& id, bytes& body) {
  byte_writer w(body);
  w.u8(id.id_type);
  w.u8(id.protocol);
  w.u16(id.port);
  w.put(id.data);
  return std::nullopt;
}

std::optional<codec_error> encode_delete(const delete_payload& d, bytes& body) {
  if (d.spis.size() > 0xffff) {
    return make_error(codec_errc::value_too_long, 0, payload::del);
  }
  for (const bytes& spi : d.spis) {
    if (spi.size() != d.spi_size) {
      return make_error(codec_errc::bad_spi_size, 0, payload::del);
    }
  }
  byte_writer w(body);
  w.u32(d.doi);
  w.u8(d.protocol_id);
  w.u8(d.spi_size);
  w.u16(static_cast<uint16_t>(d.spis.size()));
  for (const bytes& spi : d.spis) {
    w.put(spi);
  }
  return std::nullopt;
}

std::optional<codec_error> check_keys(const sa_payload& sa, const kd_payload& kd) {
  const auto err = [](codec_errc c) { return make_error(c, 0, payload::kd); };
  for (std::size_t i = 0; i < kd.packets.size(); ++i) {
    const key_packet& k = kd.packets[i];
    if (k.type == key_packet_type::tek && k.tek_spi() == 0) {
      return err(codec_errc::deny_tek_has_keys);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (kd.packets[j].type == k.type && kd.packets[j].spi == k.spi) {
        return err(codec_errc::duplicate_key_packet);
      }
    }
    if (k.type == key_packet_type::kek && sa.kek &&
        !std::equal(k.spi.begin(), k.spi.end(), sa.kek->spi.begin(), sa.kek->spi.end())) {
      return err(codec_errc::kek_keys_mismatch);
    }
  }
  for (const sa_tek& t : sa.teks) {
    if (t.deny()) {
      continue;
    }
    bool found = false;
    for (const key_packet& k : kd.packets) {
      found = found || (k.type == key_packet_type::tek && k.tek_spi() == t.spi);
    }
    if (!found) {
      return err(codec_errc::tek_keys_missing);
    }
  }
  return std::nullopt;
}

uint8_t payload_type_of(const gdoi_payload& p) {
  struct visitor {
    uint8_t operator()(const sa_payload&) const { return payload::sa; }
    uint8_t operator()(const kd_payload&) const { return payload::kd; }
    uint8_t operator()(const seq_payload&) const { return payload::seq; }
    uint8_t operator()(const id_payload&) const { return payload::id; }
    uint8_t operator()(const nonce_payload&) const { return payload::nonce; }
    uint8_t operator()(const hash_payload&) const { return payload::hash; }
    uint8_t operator()(const sig_payload&) const { return payload::sig; }
    uint8_t operator()(const delete_payload&) const { return payload::del; }
    uint8_t operator()(const gap_payload&) const { return payload::gap; }
    uint8_t operator()(const other_payload& o) const { return o.type; }
  };
  return std::visit(visitor{}, p);
}

std::optional<codec_error> encode_payload_body(const gdoi_payload& p, bytes& body) {
  struct visitor {
    bytes& body;
    std::optional<codec_error> operator()(const sa_payload& x) const { return encode_sa(x, body); }
    std::optional<codec_error> operator()(const kd_payload& x) const { return encode_kd(x, body); }
    std::optional<codec_error> operator()(const seq_payload& x) const {
      return encode_seq(x, body);
    }
    std::optional<codec_error> operator()(const id_payload& x) const { return encode_id(x, body); }
    std::optional<codec_error> operator()(const nonce_payload& x) const { return raw(x.data); }
    std::optional<codec_error> operator()(const hash_payload& x) const { return raw(x.data); }
    std::optional<codec_error> operator()(const sig_payload& x) const { return raw(x.data); }
    std::optional<codec_error> operator()(const delete_payload& x) const {
      return encode_delete(x, body);
    }
    std::optional<codec_error> operator()(const gap_payload& x) const {
      return encode_gap(x, body);
    }
    std::optional<codec_error> operator()(const other_payload& x) const { return raw(x.body); }
    std::optional<codec_error> raw(const bytes& b) const {
      body.insert(body.end(), b.begin(), b.end());
      return std::nullopt;
    }
  };
  return std::visit(visitor{body}, p);
}

}  // namespace gm::control
