#include "control/ks/ks_policy.h"

#include <algorithm>

namespace gm::control::ks {

namespace {

uint32_t prefix_mask(uint8_t len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }

sa_identity endpoint_id(const classifier::prefix& p, const classifier::port_range& r) {
  const uint16_t port = r.lo == r.hi ? r.lo : 0;
  if (p.len == 32) {
    return sa_identity::ipv4_addr(p.addr, port);
  }
  return sa_identity::ipv4_subnet(p.addr, prefix_mask(p.len), port);
}

tek_attributes tek_attrs(const ks_config& cfg, uint32_t lifetime_s, uint64_t pseudotime_ms) {
  const crypto::transform_info& xf = crypto::info(cfg.tek.transform);
  tek_attributes a;
  a.lifetimes.push_back({life_type::seconds, lifetime_s});
  a.encapsulation_mode = encap_mode::tunnel;
  if (xf.auth_key_len != 0) {
    a.auth_algorithm = xf.hash == IMB_AUTH_HMAC_SHA_256 ? auth_alg::hmac_sha2_256
                                                        : auth_alg::hmac_sha1;
  }
  // RFC 2407: KEY_LENGTH for variable-key ciphers (AES), not for 3DES or NULL.
  if (xf.cipher == IMB_CIPHER_GCM || xf.cipher == IMB_CIPHER_CBC) {
    a.key_length = static_cast<uint16_t>(xf.key_len * 8);
  }
  a.address_preservation = addr_preservation::source_and_destination;
  a.sa_direction = sa_dir::symmetric;
  if (cfg.tek.replay == replay_mode::time) {
    a.replay_method = replay::time;
    a.replay_window = cfg.tek.window;
    a.pseudotime_ms = pseudotime_ms;
  } else {
    a.replay_method = replay::counter;
    a.replay_window = cfg.tek.window;
  }
  return a;
}

}  // namespace

uint32_t remaining_s(std::chrono::steady_clock::time_point expires,
                     std::chrono::steady_clock::time_point now) {
  if (expires <= now) {
    return 0;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(expires - now).count();
  return static_cast<uint32_t>((ms + 999) / 1000);
}

sa_identity ace_source(const classifier::ace& a) { return endpoint_id(a.src, a.sport); }
sa_identity ace_destination(const classifier::ace& a) { return endpoint_id(a.dst, a.dport); }

std::vector<sa_tek> build_sa_teks(const ks_config& cfg, uint32_t spi, uint32_t lifetime_s,
                                  uint64_t pseudotime_ms) {
  const crypto::transform_info& xf = crypto::info(cfg.tek.transform);
  std::vector<sa_tek> out;
  for (const policy_ace& pa : cfg.acl) {
    sa_tek t;
    t.protocol_id = tek_protocol::esp;
    t.ip_protocol = pa.ace.proto;
    t.src = ace_source(pa.ace);
    t.dst = ace_destination(pa.ace);
    t.transform_id = xf.esp_transform;
    t.spi = pa.ace.act == classifier::action::protect ? spi : 0;
    t.attrs = tek_attrs(cfg, lifetime_s, pseudotime_ms);
    out.push_back(std::move(t));
  }
  return out;
}

sa_kek build_sa_kek(const ks_config& cfg, const kek_state& kek, unsigned rsa_bits,
                    uint32_t lifetime_s) {
  sa_kek k;
  k.protocol = 17;
  k.src = sa_identity::ipv4_addr(cfg.listen, cfg.port);
  k.dst = cfg.rekey.transport == rekey_transport::multicast
              ? sa_identity::ipv4_addr(cfg.rekey.multicast_addr, cfg.port)
              : sa_identity::ipv4_subnet(0, 0, cfg.port);
  k.spi = kek.spi;
  k.attrs.algorithm = kek.alg;
  k.attrs.key_length = static_cast<uint16_t>(kek.key.size() * 8);
  k.attrs.key_lifetime = lifetime_s;
  k.attrs.sig_hash_algorithm =
      kek.sig_hash == ike::hash_alg::sha256 ? sig_hash::sha256 : sig_hash::sha1;
  k.attrs.sig_algorithm = sig_alg::rsa;
  k.attrs.sig_key_length = static_cast<uint16_t>(rsa_bits);
  if (kek.ack_requested) {
    k.attrs.other.push_back(attribute::basic(kek_ack_requested_attr, kek.ack_type));
  }
  return k;
}

key_packet build_kek_packet(const kek_state& kek) {
  key_bytes iv_key(kek.iv.begin(), kek.iv.end());
  iv_key.insert(iv_key.end(), kek.key.begin(), kek.key.end());
  key_bytes pub(kek.ks_public_der.begin(), kek.ks_public_der.end());
  return key_packet::kek(kek.spi, std::move(iv_key), std::move(pub));
}

uint16_t activation_delay_s(const ks_config& cfg) {
  const rekey_config& r = cfg.rekey;
  uint32_t d = r.transport == rekey_transport::unicast
                   ? r.retransmit_period_s * (r.retransmit_count + 1)
                   : r.before_expiry_s / 2;
  d = std::min(d, r.before_expiry_s > 1 ? r.before_expiry_s - 1 : 0);
  return static_cast<uint16_t>(std::min<uint32_t>(d, 0xffff));
}

}  // namespace gm::control::ks
