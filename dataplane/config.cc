#include "dataplane/config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "dataplane/yaml_field.h"

namespace gm::dataplane {

namespace {

using namespace gm::yaml_field;

uint32_t get_ipv4(const YAML::Node& n, const std::string& field) {
  in_addr a{};
  if (inet_pton(AF_INET, get<std::string>(n, field).c_str(), &a) != 1) {
    fail(n, field, "is not an IPv4 address");
  }
  return a.s_addr;
}

port_config parse_port(const YAML::Node& n, const std::string& where) {
  check_keys(n, where, {"dev", "next_hop_mac", "next_hop_ip", "mac", "mss_clamp", "ip"});
  port_config p;
  if (!n["dev"]) fail(n, where + ".dev", "is required");
  p.dev = get<std::string>(n["dev"], where + ".dev");
  if (n["next_hop_mac"] && n["next_hop_ip"]) {
    fail(n["next_hop_ip"], where + ".next_hop_ip",
         "give next_hop_mac (static) or next_hop_ip (found by ARP), not both");
  }
  if (!n["next_hop_mac"] && !n["next_hop_ip"]) {
    fail(n, where + ".next_hop_mac", "is required (or next_hop_ip, to find it by ARP)");
  }
  if (n["next_hop_mac"]) p.next_hop_mac = get_mac(n["next_hop_mac"], where + ".next_hop_mac");
  if (n["mac"]) p.mac = get_mac(n["mac"], where + ".mac");
  if (n["ip"]) p.ip = get_ipv4(n["ip"], where + ".ip");
  if (n["next_hop_ip"]) {
    p.next_hop_ip = get_ipv4(n["next_hop_ip"], where + ".next_hop_ip");
    if (p.ip == 0) {
      fail(n["next_hop_ip"], where + ".next_hop_ip", "needs ip: the address ARP asks from");
    }
    if (p.next_hop_ip == p.ip || p.next_hop_ip == 0 || p.next_hop_ip == 0xffffffffu) {
      fail(n["next_hop_ip"], where + ".next_hop_ip", "is not a neighbour's address");
    }
  }
  if (n["mss_clamp"]) {
    p.mss_clamp = static_cast<uint16_t>(get_uint(n["mss_clamp"], where + ".mss_clamp", 65535));
  }
  return p;
}

std::vector<classifier::ace> parse_acl(const YAML::Node& n, const std::string& where,
                                       uint32_t sa_index) {
  if (!n.IsSequence()) fail(n, where, "must be a list of ACEs");
  std::vector<classifier::ace> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    classifier::ace a;
    const std::string field = where + "[" + std::to_string(i) + "]";
    const std::string err = classifier::parse_ace(get<std::string>(n[i], field), sa_index, a);
    if (!err.empty()) fail(n[i], field, err);
    out.push_back(a);
  }
  return out;
}

static_sa_config parse_static(const YAML::Node& n) {
  check_keys(n, "static_group",
             {"transform", "spi", "key", "auth_key", "replay", "window", "pseudotime_ms", "acl"});
  static_sa_config s;
  if (!n["transform"]) fail(n, "static_group.transform", "is required");
  const auto name = get<std::string>(n["transform"], "static_group.transform");
  const auto xf = crypto::transform_from_name(name);
  if (!xf) fail(n["transform"], "static_group.transform", "unknown transform '" + name + "'");
  s.transform = *xf;
  const crypto::transform_info& t = crypto::info(s.transform);
  if (!n["spi"]) fail(n, "static_group.spi", "is required");
  s.spi = static_cast<uint32_t>(get_uint(n["spi"], "static_group.spi", 0xffffffff));
  // RFC 4303 reserves 1..255 for IANA, but DPDK's ipsec-secgw (our benchmark anchor) uses 10.
  if (s.spi == 0) fail(n["spi"], "static_group.spi", "SPI 0 is reserved (RFC 4303)");
  if (!n["key"]) fail(n, "static_group.key", "is required");
  s.key = get_hex(n["key"], "static_group.key");
  s.key_line = n["key"].Mark().line + 1;
  if (s.key.size() != std::size_t{t.key_len} + t.salt_len) {
    fail(n["key"], "static_group.key",
         std::string(t.name) + " needs " + std::to_string(t.key_len + t.salt_len) +
             " key bytes" + (t.salt_len ? " (key || 4-byte salt)" : "") + ", got " +
             std::to_string(s.key.size()));
  }
  if (t.auth_key_len != 0) {
    if (!n["auth_key"]) fail(n, "static_group.auth_key", "is required for " + std::string(t.name));
    s.auth_key = get_hex(n["auth_key"], "static_group.auth_key");
    if (s.auth_key.size() != t.auth_key_len) {
      fail(n["auth_key"], "static_group.auth_key",
           "needs " + std::to_string(t.auth_key_len) + " bytes, got " +
               std::to_string(s.auth_key.size()));
    }
  } else if (n["auth_key"]) {
    fail(n["auth_key"], "static_group.auth_key", std::string(t.name) + " takes no auth key");
  }
  if (n["replay"]) {
    const auto r = get<std::string>(n["replay"], "static_group.replay");
    if (r == "time") {
      s.replay = replay_mode::time;
    } else if (r == "counter") {
      s.replay = replay_mode::counter;
      s.window = 64;
    } else if (r == "none") {
      s.replay = replay_mode::none;
    } else {
      fail(n["replay"], "static_group.replay", "must be time, counter or none");
    }
  }
  if (n["window"]) {
    s.window = static_cast<uint32_t>(get_uint(n["window"], "static_group.window", 1u << 20));
    if (s.replay == replay_mode::time && s.window < 1) {
      fail(n["window"], "static_group.window", "must be at least 1 second");
    }
    if (s.replay == replay_mode::counter && (s.window < 64 || s.window > 1024)) {
      fail(n["window"], "static_group.window", "counter windows are 64..1024 packets");
    }
  }
  if (n["pseudotime_ms"]) {
    s.pseudotime_ms = get_uint(n["pseudotime_ms"], "static_group.pseudotime_ms", ~uint64_t{0});
  }
  if (!n["acl"]) fail(n, "static_group.acl", "is required (e.g. [\"permit ip any any\"])");
  s.acl = parse_acl(n["acl"], "static_group.acl", 0);
  return s;
}

config parse_root(const YAML::Node& root) {
  config c;
  check_keys(root, "", {"lan", "wan", "mtu", "workers", "idle_backoff", "df_bit", "sender_id",
                        "migration", "local_acl", "static_group", "ring_prefix", "link_wait_ms"});
  if (!root["lan"]) fail(root, "lan", "is required");
  if (!root["wan"]) fail(root, "wan", "is required");
  c.lan = parse_port(root["lan"], "lan");
  c.wan = parse_port(root["wan"], "wan");
  if (c.lan.dev == c.wan.dev) fail(root["wan"]["dev"], "wan.dev", "must differ from lan.dev");
  if (root["mtu"]) c.mtu = static_cast<uint16_t>(get_uint(root["mtu"], "mtu", 9216));
  if (c.mtu < 576) fail(root["mtu"], "mtu", "must be at least 576");
  if (root["workers"]) {
    c.workers = static_cast<uint16_t>(get_uint(root["workers"], "workers", 64));
    if (c.workers == 0) fail(root["workers"], "workers", "must be at least 1");
  }
  if (root["link_wait_ms"]) {
    c.link_wait_ms = static_cast<uint32_t>(get_uint(root["link_wait_ms"], "link_wait_ms", 120'000));
  }
  if (root["idle_backoff"]) c.idle_backoff = get<bool>(root["idle_backoff"], "idle_backoff");
  if (root["df_bit"]) {
    const auto d = get<std::string>(root["df_bit"], "df_bit");
    if (d == "copy") c.df = crypto::df_mode::copy;
    else if (d == "set") c.df = crypto::df_mode::set;
    else if (d == "clear") c.df = crypto::df_mode::clear;
    else fail(root["df_bit"], "df_bit", "must be copy, set or clear");
  }
  if (root["sender_id"]) {
    c.sender_id = static_cast<uint32_t>(get_uint(root["sender_id"], "sender_id", 0xffff));
  }
  if (root["migration"]) {
    const auto m = get<std::string>(root["migration"], "migration");
    if (m == "normal") c.migration = migration_mode::normal;
    else if (m == "receive-only") c.migration = migration_mode::receive_only;
    else if (m == "passive") c.migration = migration_mode::passive;
    else fail(root["migration"], "migration", "must be normal, receive-only or passive");
  }
  if (root["local_acl"]) {
    c.local_acl = parse_acl(root["local_acl"], "local_acl", 0);
    for (std::size_t i = 0; i < c.local_acl.size(); ++i) {
      if (c.local_acl[i].act != classifier::action::bypass) {
        fail(root["local_acl"][i], "local_acl[" + std::to_string(i) + "]",
             "the local ACL may only deny (exclude traffic from encryption)");
      }
    }
  }
  if (root["static_group"]) {
    c.static_group = parse_static(root["static_group"]);
    // Counter replay needs one sender sequence and one receiver window per SA.
    if (c.static_group->replay == replay_mode::counter && c.workers != 1) {
      fail(root["static_group"]["replay"], "static_group.replay",
           "counter replay needs workers: 1 (sequence numbers are per lcore)");
    }
  }
  if (root["ring_prefix"]) c.ring_prefix = get<std::string>(root["ring_prefix"], "ring_prefix");
  return c;
}

}  // namespace

std::optional<config> parse_config(const std::string& yaml, const std::string& name,
                                   std::string& error) {
  try {
    const YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap()) {
      error = name + ":1: the file must be a YAML mapping";
      return std::nullopt;
    }
    config c = parse_root(root);
    c.file = name;
    return c;
  } catch (const config_error& e) {
    error = describe(name, e);
  } catch (const YAML::Exception& e) {
    error = name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
  }
  return std::nullopt;
}

std::optional<config> load_config(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  struct stat st{};
  std::ostringstream text;
  text << in.rdbuf();
  auto c = parse_config(text.str(), path, error);
  // Keys in a world-readable file are refused (issue: key hygiene).
  if (c && c->static_group && stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    error = path + ":" + std::to_string(c->static_group->key_line) +
            ": static_group.key: the file is world-readable; chmod o-r " + path;
    return std::nullopt;
  }
  return c;
}

}  // namespace gm::dataplane
