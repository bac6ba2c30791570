// The GDOI messages the codec tests, the tshark oracle and the fuzz seeds share: a
// GROUPKEY-PULL exchange (messages 1-4) and a GROUPKEY-PUSH, with the seeds' policy shape
// (a permit TEK and a deny TEK for UDP 848), TBAR attributes and a KEK. All plaintext.
#pragma once

#include <cstdint>

#include "control/gdoi_message.h"

namespace gm::control::samples {

inline constexpr uint32_t group_number = 1234;
inline constexpr uint32_t permit_spi = 0x1234abcd;
inline constexpr uint32_t seq_number = 7;
inline constexpr uint64_t pseudotime_ms = 442843290;  // "Replay Value : 442843.29 secs"
inline constexpr uint32_t message_id = 0x0a0b0c0d;

inline isakmp_header header(uint8_t exchange_type) {
  isakmp_header h;
  h.initiator_cookie = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  h.responder_cookie = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
  h.exchange_type = exchange_type;
  h.message_id = message_id;
  return h;
}

inline bytes filled(std::size_t n, uint8_t first) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = static_cast<uint8_t>(first + i);
  }
  return b;
}

inline key_bytes key_filled(std::size_t n, uint8_t first) {
  const bytes b = filled(n, first);
  return key_bytes(b.begin(), b.end());
}

inline kek_spi kek_cookies() {
  kek_spi s{};
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<uint8_t>(0xa0 + i);
  }
  return s;
}

inline sa_kek kek() {
  sa_kek k;
  k.protocol = 17;
  k.src = sa_identity::ipv4_addr(0x0a000001, 848);  // KS 10.0.0.1
  k.dst = sa_identity::ipv4_addr(0xef010101, 848);  // rekey group 239.1.1.1
  k.spi = kek_cookies();
  k.attrs.algorithm = kek_alg::aes;
  k.attrs.key_length = 128;
  k.attrs.key_lifetime = 86400;
  k.attrs.sig_hash_algorithm = sig_hash::sha256;
  k.attrs.sig_algorithm = sig_alg::rsa;
  k.attrs.sig_key_length = 2048;
  return k;
}

/// `permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255`, AES-GCM-128, TBAR 4 s.
inline sa_tek permit_tek() {
  sa_tek t;
  t.protocol_id = tek_protocol::esp;
  t.ip_protocol = 0;
  t.src = sa_identity::ipv4_subnet(0x0a010000, 0xffff0000);
  t.dst = sa_identity::ipv4_subnet(0x0a020000, 0xffff0000);
  t.transform_id = esp_transform::aes_gcm_16;
  t.spi = permit_spi;
  t.attrs.lifetimes = {sa_lifetime{life_type::seconds, 3600}};
  t.attrs.encapsulation_mode = encap_mode::tunnel;
  t.attrs.key_length = 128;
  t.attrs.address_preservation = addr_preservation::source_and_destination;
  t.attrs.sa_direction = sa_dir::symmetric;
  t.attrs.replay_method = replay::time;
  t.attrs.replay_window = 4;
  t.attrs.pseudotime_ms = pseudotime_ms;
  return t;
}

/// `deny udp any port = 848 any port = 848`: SPI 0, no key packet.
inline sa_tek deny_tek() {
  sa_tek t;
  t.protocol_id = tek_protocol::esp;
  t.ip_protocol = 17;
  t.src = sa_identity::ipv4_subnet(0, 0, 848);
  t.dst = sa_identity::ipv4_subnet(0, 0, 848);
  t.transform_id = esp_transform::aes_gcm_16;
  t.spi = 0;
  t.attrs.address_preservation = addr_preservation::source_and_destination;
  t.attrs.sa_direction = sa_dir::symmetric;
  return t;
}

/// 3DES + HMAC-SHA1 with a kilobyte lifetime too (two lifetime pairs, a 4-byte duration).
inline sa_tek des3_tek() {
  sa_tek t = permit_tek();
  t.transform_id = esp_transform::des3;
  t.spi = 0x0badcafe;
  t.attrs.lifetimes = {sa_lifetime{life_type::seconds, 900},
                       sa_lifetime{life_type::kilobytes, 4608000}};
  t.attrs.auth_algorithm = auth_alg::hmac_sha1;
  t.attrs.key_length.reset();
  t.attrs.replay_method = replay::counter;
  t.attrs.replay_window = 64;
  t.attrs.pseudotime_ms.reset();
  return t;
}

inline gap_payload gap() {
  gap_payload g;
  g.activation_time_delay = 30;
  g.deactivation_time_delay = 90;
  return g;
}

inline sa_payload sa() {
  sa_payload s;
  s.kek = kek();
  s.teks = {permit_tek(), deny_tek()};
  return s;
}

inline kd_payload kd() {
  kd_payload k;
  k.packets.push_back(key_packet::tek(permit_spi, key_filled(20, 0x40), {}));
  // KEK_ALGORITHM_KEY = IV || key (AES-128), SIG_ALGORITHM_KEY = a DER-sized stand-in.
  k.packets.push_back(key_packet::kek(kek_cookies(), key_filled(32, 0x60), key_filled(294, 0x30)));
  return k;
}

/// GM -> KS: HASH(1) Ni ID.
inline gdoi_message pull_1() {
  return gdoi_message{header(exchange::groupkey_pull),
                      {hash_payload{filled(20, 0x80)}, nonce_payload{filled(16, 0x90)},
                       id_payload::group(group_number)}};
}

/// KS -> GM: HASH(2) Nr SA (KEK, TEKs, GAP).
inline gdoi_message pull_2() {
  sa_payload s = sa();
  s.teks.push_back(des3_tek());
  s.gap = gap();
  return gdoi_message{header(exchange::groupkey_pull),
                      {hash_payload{filled(20, 0x81)}, nonce_payload{filled(16, 0xa0)}, s}};
}

/// GM -> KS: HASH(3) GAP.
inline gdoi_message pull_3() {
  gap_payload g;
  g.sender_id_request = 1;
  return gdoi_message{header(exchange::groupkey_pull), {hash_payload{filled(20, 0x82)}, g}};
}

/// The codec tests' chain: SEQ KD SA (KEK, a permit TEK, a deny TEK); message 4 without
/// HASH(4), as the brief's "message-4-like" chain.
inline gdoi_message pull_4_chain() {
  return gdoi_message{header(exchange::groupkey_pull), {seq_payload{seq_number}, kd(), sa()}};
}

/// KS -> GM: HASH(4) SEQ KD.
inline gdoi_message pull_4() {
  return gdoi_message{header(exchange::groupkey_pull),
                      {hash_payload{filled(20, 0x83)}, seq_payload{seq_number}, kd()}};
}

/// KS -> GMs: SEQ D SA KD SIG, cookies = KEK SPI, message id 0.
inline gdoi_message push() {
  isakmp_header h = header(exchange::groupkey_push);
  const kek_spi c = kek_cookies();
  std::copy(c.begin(), c.begin() + 8, h.initiator_cookie.begin());
  std::copy(c.begin() + 8, c.end(), h.responder_cookie.begin());
  h.message_id = 0;
  delete_payload d;
  d.protocol_id = tek_protocol::esp;
  d.spi_size = 4;
  d.spis = {bytes{0x11, 0x22, 0x33, 0x44}};
  sa_payload s;
  s.teks = {permit_tek(), deny_tek()};
  kd_payload k;
  k.packets.push_back(key_packet::tek(permit_spi, key_filled(20, 0x50), {}));
  return gdoi_message{h, {seq_payload{seq_number + 1}, d, s, k, sig_payload{filled(256, 0x01)}}};
}

}  // namespace gm::control::samples
