// KD payload (RFC 6407 5.5): number of key packets (2), reserved (2), then key packets of
// type (1), reserved (1), length (2, whole key packet), SPI size (1), SPI, attributes.
#include "control/gdoi_payloads.h"
#include "control/isakmp.h"

namespace gm::control {

namespace {

constexpr uint8_t pl = payload::kd;
constexpr std::size_t key_packet_fixed = 5;  // type, reserved, length, SPI size

std::optional<codec_error> take_key(key_bytes& slot, attribute& a, std::size_t at) {
  if (!slot.empty()) {
    return make_error(codec_errc::duplicate_attribute, at, pl);
  }
  if (a.tv || a.value.empty()) {
    return make_error(codec_errc::bad_attribute_length, at, pl);
  }
  slot = std::move(a.value);
  return std::nullopt;
}

std::optional<codec_error> decode_key_packet(byte_reader& r, key_packet& k) {
  const std::size_t at = r.offset();
  uint8_t reserved = 0;
  uint16_t len = 0;
  uint8_t spi_size = 0;
  if (!r.u8(k.type) || !r.u8(reserved) || !r.u16(len)) {
    return make_error(codec_errc::bad_key_packet_length, at, pl);
  }
  if (len < key_packet_fixed || len - 4u > r.remaining()) {
    return make_error(codec_errc::bad_key_packet_length, at + 2, pl);
  }
  byte_reader kr(std::span<const uint8_t>{}, 0);
  r.sub(len - 4u, kr);
  kr.u8(spi_size);
  std::span<const uint8_t> spi;
  if (!kr.take(spi_size, spi)) {
    return make_error(codec_errc::bad_spi_size, at + 4, pl);
  }
  if ((k.type == key_packet_type::tek && spi_size != tek_spi_size) ||
      (k.type == key_packet_type::kek && spi_size != kek_spi_size)) {
    return make_error(codec_errc::bad_spi_size, at + 4, pl);
  }
  k.spi.assign(spi.begin(), spi.end());
  const bool typed = k.type == key_packet_type::tek || k.type == key_packet_type::kek;
  while (!kr.empty()) {
    attribute a;
    std::size_t a_at = 0;
    if (auto e = read_attribute(kr, a, a_at, pl)) {
      return e;
    }
    std::optional<codec_error> e;
    if (typed && a.type == 1) {
      e = take_key(k.algorithm_key, a, a_at);
    } else if (k.type == key_packet_type::tek && a.type == kd_attr::tek_integrity_key) {
      e = take_key(k.integrity_key, a, a_at);
    } else if (k.type == key_packet_type::kek && a.type == kd_attr::sig_algorithm_key) {
      e = take_key(k.signature_key, a, a_at);
    } else {
      k.other.push_back(std::move(a));
    }
    if (e) {
      return e;
    }
  }
  return std::nullopt;
}

std::optional<codec_error> put_key(byte_writer& w, uint16_t type, const key_bytes& key) {
  if (key.empty()) {
    return std::nullopt;
  }
  if (key.size() > 0xffff) {
    return make_error(codec_errc::value_too_long, w.size(), pl);
  }
  w.u16(type);
  w.u16(static_cast<uint16_t>(key.size()));
  w.put(key);
  return std::nullopt;
}

std::optional<codec_error> encode_key_packet(byte_writer& w, const key_packet& k) {
  if (k.spi.size() > 0xff) {
    return make_error(codec_errc::value_too_long, w.size(), pl);
  }
  const std::size_t start = w.size();
  w.u8(k.type);
  w.u8(0);
  w.u16(0);  // length, patched below
  w.u8(static_cast<uint8_t>(k.spi.size()));
  w.put(k.spi);
  if (auto e = put_key(w, 1, k.algorithm_key)) {
    return e;
  }
  if (auto e = put_key(w, kd_attr::tek_integrity_key, k.integrity_key)) {
    return e;
  }
  if (auto e = put_key(w, kd_attr::sig_algorithm_key, k.signature_key)) {
    return e;
  }
  if (auto e = write_attributes(w, k.other, pl)) {
    return e;
  }
  const std::size_t len = w.size() - start;
  if (len > 0xffff) {
    return make_error(codec_errc::value_too_long, start, pl);
  }
  w.patch_u16(start + 2, static_cast<uint16_t>(len));
  return std::nullopt;
}

}  // namespace

key_packet key_packet::tek(uint32_t spi, key_bytes alg, key_bytes integrity) {
  key_packet k;
  k.type = key_packet_type::tek;
  byte_writer w(k.spi);
  w.u32(spi);
  k.algorithm_key = std::move(alg);
  k.integrity_key = std::move(integrity);
  return k;
}

key_packet key_packet::kek(const kek_spi& spi, key_bytes alg, key_bytes signature) {
  key_packet k;
  k.type = key_packet_type::kek;
  k.spi.assign(spi.begin(), spi.end());
  k.algorithm_key = std::move(alg);
  k.signature_key = std::move(signature);
  return k;
}

uint32_t key_packet::tek_spi() const {
  return spi.size() == tek_spi_size ? static_cast<uint32_t>(be_uint(spi)) : 0;
}

result<kd_payload> decode_kd(std::span<const uint8_t> body, std::size_t base) {
  byte_reader r(body, base);
  uint16_t count = 0;
  uint16_t reserved = 0;
  if (!r.u16(count) || !r.u16(reserved)) {
    return make_error(codec_errc::payload_length_too_small, base, pl);
  }
  kd_payload kd;
  for (uint16_t i = 0; i < count; ++i) {
    if (r.empty()) {
      return make_error(codec_errc::key_packet_count_mismatch, r.offset(), pl);
    }
    key_packet k;
    if (auto e = decode_key_packet(r, k)) {
      return *e;
    }
    kd.packets.push_back(std::move(k));
  }
  if (!r.empty()) {
    return make_error(codec_errc::key_packet_count_mismatch, r.offset(), pl);
  }
  return kd;
}

std::optional<codec_error> encode_kd(const kd_payload& kd, bytes& body) {
  if (kd.packets.size() > 0xffff) {
    return make_error(codec_errc::value_too_long, 0, pl);
  }
  byte_writer w(body);
  w.u16(static_cast<uint16_t>(kd.packets.size()));
  w.u16(0);
  for (const key_packet& k : kd.packets) {
    if (auto e = encode_key_packet(w, k)) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace gm::control
