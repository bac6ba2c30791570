#include "control/gm/tek_plan.h"

#include <arpa/inet.h>

#include <algorithm>

#include "dataplane/group_state.h"

namespace gm::control::gmd {

namespace {

struct prefix4 {
  uint32_t addr = 0;
  uint8_t len = 0;
  bool ok = false;
};

prefix4 prefix_of(const sa_identity& id) {
  prefix4 p;
  auto u32 = [&](std::size_t at) {
    return static_cast<uint32_t>(id.data[at]) << 24 | static_cast<uint32_t>(id.data[at + 1]) << 16 |
           static_cast<uint32_t>(id.data[at + 2]) << 8 | id.data[at + 3];
  };
  if (id.type == id_type::ipv4_addr && id.data.size() == 4) {
    p = {u32(0), 32, true};
  } else if (id.type == id_type::ipv4_subnet && id.data.size() == 8) {
    const uint32_t mask = u32(4);
    // A mask must be contiguous ones: an ACL wildcard like 0.255.0.255 has no prefix form.
    const uint8_t len = static_cast<uint8_t>(__builtin_popcount(mask));
    const uint32_t want = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    p = {u32(0) & mask, len, mask == want};
  }
  return p;
}

std::string dotted(uint32_t host) {
  in_addr a{htonl(host)};
  char b[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, b, sizeof b);
  return b;
}

std::string side_text(const prefix4& p, uint16_t port, uint8_t proto) {
  std::string s;
  if (p.len == 0) {
    s = "any";
  } else if (p.len == 32) {
    s = "host " + dotted(p.addr);
  } else {
    s = dotted(p.addr) + " " + dotted(p.len == 0 ? ~0u : ~(~uint32_t{0} << (32 - p.len)));
  }
  if (port != 0 && (proto == 6 || proto == 17)) s += " eq " + std::to_string(port);
  return s;
}

std::string proto_text(uint8_t p) {
  switch (p) {
    case 0: return "ip";
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 88: return "eigrp";
    default: return std::to_string(p);
  }
}

}  // namespace

void policy_indexer::begin_plan(const std::set<std::string>& keys) {
  if (keys.size() == 1) {
    const std::string& key = *keys.begin();
    if (!_by_key.count(key) && _last_single) {
      if (const auto it = _by_key.find(*_last_single); it != _by_key.end()) {
        const uint32_t idx = it->second;
        _by_key.erase(it);
        _by_key[key] = idx;
      }
    }
    _last_single = key;
  } else if (!keys.empty()) {
    _last_single.reset();
  }
}

std::optional<uint32_t> policy_indexer::index_for(const std::string& key) {
  const auto it = _by_key.find(key);
  if (it != _by_key.end()) return it->second;
  std::vector<bool> used(dataplane::max_policy_index, false);
  for (const auto& [k, v] : _by_key) used[v] = true;
  for (uint32_t i = 0; i < used.size(); ++i) {
    if (!used[i]) {
      _by_key[key] = i;
      return i;
    }
  }
  return std::nullopt;
}

std::optional<crypto::transform_id> transform_of(const sa_tek& tek) {
  using crypto::transform_id;
  const uint16_t bits = tek.attrs.key_length.value_or(0);
  const uint16_t auth = tek.attrs.auth_algorithm.value_or(0);
  switch (tek.transform_id) {
    case esp_transform::aes_gcm_16:
      if (bits == 128) return transform_id::aes_gcm_128;
      if (bits == 256) return transform_id::aes_gcm_256;
      return std::nullopt;
    case esp_transform::aes_cbc:
      if (auth == auth_alg::hmac_sha1 && bits == 128) return transform_id::aes_cbc_128_sha1;
      if (auth == auth_alg::hmac_sha1 && bits == 256) return transform_id::aes_cbc_256_sha1;
      if (auth == auth_alg::hmac_sha2_256 && bits == 128) return transform_id::aes_cbc_128_sha256;
      return std::nullopt;
    case esp_transform::des3:
      if (auth == auth_alg::hmac_sha1) return transform_id::des3_cbc_sha1;
      return std::nullopt;
    case esp_transform::null:
      if (auth == auth_alg::hmac_sha1) return transform_id::null_sha1;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string ace_text(const sa_tek& tek) {
  const prefix4 s = prefix_of(tek.src);
  const prefix4 d = prefix_of(tek.dst);
  return std::string(tek.deny() ? "deny " : "permit ") + proto_text(tek.ip_protocol) + " " +
         side_text(s, tek.src.port, tek.ip_protocol) + " " +
         side_text(d, tek.dst.port, tek.ip_protocol);
}

std::variant<tek_plan, plan_error> plan_teks(const std::vector<sa_tek>& teks,
                                             const std::map<uint32_t, key_packet>& keys,
                                             const std::vector<crypto::transform_id>& allowed,
                                             policy_indexer& indexer) {
  tek_plan plan;
  // Group the permit ACEs by SPI to find each SPI's policy index.
  std::map<uint32_t, std::string> set_key;
  for (const sa_tek& t : teks) {
    if (!t.deny()) set_key[t.spi] += ace_text(t) + ";";
  }
  std::set<std::string> distinct;
  for (const auto& [spi, key] : set_key) distinct.insert(key);
  indexer.begin_plan(distinct);
  std::map<uint32_t, uint32_t> index_of;
  for (const sa_tek& t : teks) {
    const std::string text = ace_text(t);
    const prefix4 s = prefix_of(t.src);
    const prefix4 d = prefix_of(t.dst);
    if (!s.ok || !d.ok) {
      return plan_error{"SA TEK '" + text + "': identity is not an IPv4 address or subnet"};
    }
    ctrl::ace_rec r{};
    r.proto = t.ip_protocol;
    r.src = s.addr;
    r.src_len = s.len;
    r.dst = d.addr;
    r.dst_len = d.len;
    r.sport_lo = t.src.port;
    r.sport_hi = t.src.port == 0 ? 65535 : t.src.port;
    r.dport_lo = t.dst.port;
    r.dport_hi = t.dst.port == 0 ? 65535 : t.dst.port;
    if (t.deny()) {
      r.action = static_cast<uint8_t>(classifier::action::bypass);
    } else {
      if (!index_of.count(t.spi)) {
        const auto idx = indexer.index_for(set_key[t.spi]);
        if (!idx) return plan_error{"more than " + std::to_string(dataplane::max_policy_index) +
                                    " distinct TEK policies"};
        index_of[t.spi] = *idx;
        const auto xf = transform_of(t);
        if (!xf) {
          return plan_error{"SPI " + std::to_string(t.spi) + ": transform " +
                            std::to_string(t.transform_id) + " with key length " +
                            std::to_string(t.attrs.key_length.value_or(0)) + " and auth " +
                            std::to_string(t.attrs.auth_algorithm.value_or(0)) + " is not one we implement"};
        }
        if (std::find(allowed.begin(), allowed.end(), *xf) == allowed.end()) {
          return plan_error{"SPI " + std::to_string(t.spi) + ": transform " +
                            std::string(crypto::info(*xf).ios_name) + " is not allowed by rekey.allowed_transforms"};
        }
        const auto k = keys.find(t.spi);
        if (k == keys.end()) return plan_error{"SPI " + std::to_string(t.spi) + ": no TEK keys"};
        const crypto::transform_info& info = crypto::info(*xf);
        if (k->second.algorithm_key.size() != std::size_t{info.key_len} + info.salt_len ||
            k->second.integrity_key.size() != info.auth_key_len) {
          return plan_error{"SPI " + std::to_string(t.spi) + ": key lengths do not fit " +
                            std::string(info.ios_name)};
        }
        tek_sa sa;
        sa.spi = t.spi;
        sa.transform = *xf;
        sa.policy_index = *idx;
        sa.key = k->second.algorithm_key;
        sa.auth_key = k->second.integrity_key;
        for (const sa_lifetime& l : t.attrs.lifetimes) {
          if (l.type == life_type::seconds) sa.lifetime_s = static_cast<uint32_t>(std::min<uint64_t>(l.duration, UINT32_MAX));
        }
        const uint16_t method = t.attrs.replay_method.value_or(0);
        if (method == replay::time) {
          sa.replay = ctrl::replay::time;
          sa.window = t.attrs.replay_window.value_or(5) * 1000;
          plan.tbar_window_ms = sa.window;
        } else if (method == replay::counter) {
          sa.replay = ctrl::replay::counter;
          sa.window = t.attrs.replay_window.value_or(64);
        }
        if (t.attrs.pseudotime_ms) plan.pseudotime_ms = t.attrs.pseudotime_ms;
        plan.sas.push_back(std::move(sa));
      }
      r.action = static_cast<uint8_t>(classifier::action::protect);
      r.sa_index = index_of[t.spi];
    }
    plan.aces.push_back(r);
    plan.acl_text.push_back("access-list " + text);
  }
  return plan;
}

}  // namespace gm::control::gmd
