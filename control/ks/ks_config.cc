#include "control/ks/ks_config.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "control/phase1_config.h"
#include "dataplane/yaml_field.h"

namespace gm::control::ks {

namespace {

using namespace gm::yaml_field;

// A range check with a lower bound too (yaml_field's get_uint has only the upper one).
uint64_t get_uint(const YAML::Node& n, const std::string& field, uint64_t min, uint64_t max) {
  const uint64_t v = yaml_field::get_uint(n, field, UINT64_MAX);
  if (v < min || v > max) {
    fail(n, field, "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got " + n.Scalar());
  }
  return v;
}

bool key_file_private(const std::string& path, std::string& why) {
  why = key_file_problem(path);
  return why.empty();
}

void parse_psks(const YAML::Node& n, ks_config& c) {
  if (!n.IsSequence() || n.size() == 0) {
    fail(n, "psk", "must be a non-empty list of {peer, key_file}");
  }
  std::set<std::optional<uint32_t>> peers;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string where = "psk[" + std::to_string(i) + "]";
    check_keys(n[i], where, {"peer", "key_file"});
    psk_entry e;
    const YAML::Node peer = require(n[i], "peer", where, "an address or any");
    if (get_string(peer, where + ".peer") != "any") {
      e.peer = get_ipv4(peer, where + ".peer");
    }
    if (!peers.insert(e.peer).second) {
      fail(peer, where + ".peer", "a PSK for this peer is already configured");
    }
    const YAML::Node file = require(n[i], "key_file", where);
    e.key_file = get_string(file, where + ".key_file");
    std::string why;
    if (!key_file_private(e.key_file, why)) {
      fail(file, where + ".key_file", why);
    }
    std::ifstream in(e.key_file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    if (text.empty()) {
      fail(file, where + ".key_file", e.key_file + " holds no key");
    }
    e.key.assign(text.begin(), text.end());
    std::fill(text.begin(), text.end(), '\0');
    c.psks.push_back(std::move(e));
  }
}

void parse_phase1(const YAML::Node& n, ks_config& c) { c.phase1 = parse_phase1_list(n, "phase1"); }

// GDOI carries one port per SA TEK identity: a port range has no encoding.
void check_sendable(const classifier::ace& a, const YAML::Node& n, const std::string& field) {
  auto single = [](const classifier::port_range& r) {
    return r.lo == r.hi || (r.lo == 0 && r.hi == 65535);
  };
  if (!single(a.sport) || !single(a.dport)) {
    fail(n, field, "GDOI SA TEK identities carry one port: use eq, not a range");
  }
  if (a.sport.lo == a.sport.hi && a.sport.lo == 0) {
    fail(n, field, "port 0 means any port in an SA TEK identity");
  }
}

void parse_acl(const YAML::Node& n, ks_config& c) {
  if (!n.IsSequence() || n.size() == 0) {
    fail(n, "acl", "must be a non-empty list of IOS ACEs");
  }
  bool permits = false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string field = "acl[" + std::to_string(i) + "]";
    policy_ace pa;
    pa.line = n[i].Mark().line + 1;
    const std::string err = classifier::parse_ace(get_string(n[i], field), 0, pa.ace);
    if (!err.empty()) {
      fail(n[i], field, err);
    }
    check_sendable(pa.ace, n[i], field);
    permits = permits || pa.ace.act == classifier::action::protect;
    c.acl.push_back(std::move(pa));
  }
  if (!permits) {
    fail(n, "acl", "has no permit ACE: nothing would be encrypted");
  }
}

void parse_tek(const YAML::Node& n, ks_config& c) {
  check_keys(n, "tek", {"transform", "lifetime", "replay"});
  const YAML::Node t = require(n, "transform", "tek");
  const std::string name = get_string(t, "tek.transform");
  const auto xf = crypto::transform_from_name(name);
  if (!xf) {
    fail(t, "tek.transform", "unknown transform '" + name + "'");
  }
  c.tek.transform = *xf;
  if (n["lifetime"]) {
    c.tek.lifetime_s = static_cast<uint32_t>(get_uint(n["lifetime"], "tek.lifetime", 60, 86400));
  }
  if (n["replay"]) {
    const YAML::Node r = n["replay"];
    check_keys(r, "tek.replay", {"mode", "window"});
    const std::string mode = get_string(require(r, "mode", "tek.replay"), "tek.replay.mode");
    if (mode == "time") {
      c.tek.replay = replay_mode::time;
      c.tek.window = 5;
    } else if (mode == "counter") {
      c.tek.replay = replay_mode::counter;
      c.tek.window = 64;
    } else {
      fail(r["mode"], "tek.replay.mode", "must be time or counter, got '" + mode + "'");
    }
    if (r["window"]) {
      if (c.tek.replay == replay_mode::time) {
        c.tek.window = static_cast<uint32_t>(get_uint(r["window"], "tek.replay.window", 1, 3600));
      } else {
        c.tek.window =
            static_cast<uint32_t>(get_uint(r["window"], "tek.replay.window", 64, 1024));
      }
    }
  }
}

void parse_kek(const YAML::Node& n, ks_config& c) {
  check_keys(n, "kek", {"algorithm", "lifetime", "sig_hash", "rsa_key", "rsa_bits"});
  if (n["algorithm"]) {
    const std::string a = get_string(n["algorithm"], "kek.algorithm");
    if (a == "aes-128" || a == "aes-192" || a == "aes-256") {
      c.kek.cipher = ike::cipher::aes_cbc;
      c.kek.key_bits = static_cast<uint16_t>(std::stoi(a.substr(4)));
    } else if (a == "3des") {
      c.kek.cipher = ike::cipher::des3_cbc;
      c.kek.key_bits = 192;
    } else {
      fail(n["algorithm"], "kek.algorithm",
           "must be aes-128, aes-192, aes-256 or 3des, got '" + a + "'");
    }
  }
  if (n["lifetime"]) {
    c.kek.lifetime_s =
        static_cast<uint32_t>(get_uint(n["lifetime"], "kek.lifetime", 300, 86400 * 7));
  }
  if (n["sig_hash"]) {
    const std::string h = get_string(n["sig_hash"], "kek.sig_hash");
    if (h == "sha1") {
      c.kek.sig_hash = ike::hash_alg::sha1;
    } else if (h == "sha256") {
      c.kek.sig_hash = ike::hash_alg::sha256;
    } else {
      fail(n["sig_hash"], "kek.sig_hash", "must be sha1 or sha256, got '" + h + "'");
    }
  }
  c.kek.rsa_key = get_string(require(n, "rsa_key", "kek", "path of the PEM signing key"),
                             "kek.rsa_key");
  if (n["rsa_bits"]) {
    const uint64_t b = get_uint(n["rsa_bits"], "kek.rsa_bits", 1024, 8192);
    if (b % 256 != 0) {
      fail(n["rsa_bits"], "kek.rsa_bits", "must be a multiple of 256");
    }
    c.kek.rsa_bits = static_cast<unsigned>(b);
  }
}

void parse_rekey(const YAML::Node& n, ks_config& c) {
  check_keys(n, "rekey",
             {"transport", "retransmit", "ack_missed_limit", "before_expiry", "address", "ttl"});
  rekey_config& r = c.rekey;
  if (n["transport"]) {
    const std::string t = get_string(n["transport"], "rekey.transport");
    if (t == "unicast") {
      r.transport = rekey_transport::unicast;
    } else if (t == "multicast") {
      r.transport = rekey_transport::multicast;
    } else {
      fail(n["transport"], "rekey.transport", "must be unicast or multicast, got '" + t + "'");
    }
  }
  if (r.transport == rekey_transport::multicast) {
    const YAML::Node a = require(n, "address", "rekey", "multicast group, e.g. 239.192.1.190");
    r.multicast_addr = get_ipv4(a, "rekey.address");
    if ((r.multicast_addr >> 28) != 0xe) {
      fail(a, "rekey.address", "is not a multicast address (224.0.0.0/4)");
    }
    for (const char* k : {"retransmit", "ack_missed_limit"}) {
      if (n[k]) {
        fail(n[k], std::string("rekey.") + k, "applies to unicast rekeys only (multicast is not ACKed)");
      }
    }
    if (n["ttl"]) {
      r.multicast_ttl = static_cast<uint8_t>(get_uint(n["ttl"], "rekey.ttl", 1, 255));
    }
  } else {
    for (const char* k : {"address", "ttl"}) {
      if (n[k]) {
        fail(n[k], std::string("rekey.") + k, "applies to multicast rekeys only");
      }
    }
  }
  if (n["retransmit"]) {
    const YAML::Node rt = n["retransmit"];
    check_keys(rt, "rekey.retransmit", {"period", "count"});
    if (rt["period"]) {
      r.retransmit_period_s =
          static_cast<uint32_t>(get_uint(rt["period"], "rekey.retransmit.period", 1, 600));
    }
    if (rt["count"]) {
      r.retransmit_count =
          static_cast<uint32_t>(get_uint(rt["count"], "rekey.retransmit.count", 0, 10));
    }
  }
  if (n["ack_missed_limit"]) {
    r.ack_missed_limit =
        static_cast<uint32_t>(get_uint(n["ack_missed_limit"], "rekey.ack_missed_limit", 1, 100));
  }
  if (n["before_expiry"]) {
    r.before_expiry_s =
        static_cast<uint32_t>(get_uint(n["before_expiry"], "rekey.before_expiry", 1, 3600));
  }
}

void parse_interop(const YAML::Node& n, ks_config& c) {
  check_keys(n, "interop", {"sig_form", "static_kek_iv", "id_length"});
  if (n["sig_form"]) {
    const std::string f = get_string(n["sig_form"], "interop.sig_form");
    if (f == "digest_info") {
      c.interop.sig_form = ike::sig_form::digest_info;
    } else if (f == "raw_hash") {
      c.interop.sig_form = ike::sig_form::raw_hash;
    } else {
      fail(n["sig_form"], "interop.sig_form", "must be digest_info or raw_hash, got '" + f + "'");
    }
  }
  if (n["static_kek_iv"]) {
    c.interop.static_kek_iv = get_bool(n["static_kek_iv"], "interop.static_kek_iv");
  }
  if (n["id_length"]) {
    const std::string l = get_string(n["id_length"], "interop.id_length");
    if (l == "rfc") {
      c.interop.id_len = id_length::rfc;
    } else if (l == "one_byte") {
      // The codec's encoder writes RFC 6407 forms only (control/gdoi_sa.h).
      fail(n["id_length"], "interop.id_length",
           "one_byte is not supported yet: the GDOI encoder writes RFC 6407 forms only");
    } else {
      fail(n["id_length"], "interop.id_length", "must be rfc or one_byte, got '" + l + "'");
    }
  }
}

ks_config parse_root(const YAML::Node& root) {
  ks_config c;
  check_keys(root, "", {"listen", "port", "group", "psk", "phase1", "acl", "tek", "kek", "rekey",
                        "sender_ids", "interop", "socket", "redundancy"});
  c.listen = get_ipv4(require(root, "listen", ""), "listen");
  if (root["port"]) {
    c.port = static_cast<uint16_t>(get_uint(root["port"], "port", 1, 65535));
  }
  const YAML::Node g = require(root, "group", "", "{name: G1, identity: 1234}");
  check_keys(g, "group", {"name", "identity"});
  c.group_name = get_string(require(g, "name", "group"), "group.name");
  if (c.group_name.empty() || c.group_name.size() > 64 ||
      c.group_name.find_first_of(" \t") != std::string::npos) {
    fail(g["name"], "group.name", "must be 1..64 characters without spaces");
  }
  c.group_id =
      static_cast<uint32_t>(get_uint(require(g, "identity", "group"), "group.identity", 1,
                                     0xffffffff));
  parse_psks(require(root, "psk", ""), c);
  if (root["phase1"]) {
    parse_phase1(root["phase1"], c);
  } else {
    c.phase1.push_back(phase1_policy{});
  }
  parse_acl(require(root, "acl", "", "e.g. [\"permit ip any any\"]"), c);
  parse_tek(require(root, "tek", "", "{transform: aes-gcm-128}"), c);
  parse_kek(require(root, "kek", "", "{rsa_key: /etc/gm/ks-rsa.pem}"), c);
  if (root["rekey"]) {
    parse_rekey(root["rekey"], c);
  }
  // A rekey must leave the GMs time to install the new TEK before the old one expires.
  if (c.rekey.before_expiry_s * 2 > c.tek.lifetime_s) {
    const YAML::Node at = root["rekey"] && root["rekey"]["before_expiry"]
                              ? root["rekey"]["before_expiry"]
                              : root["tek"];
    fail(at, "rekey.before_expiry", "must be at most half of tek.lifetime (" +
                                        std::to_string(c.tek.lifetime_s) + " s)");
  }
  if (root["sender_ids"]) {
    c.sender_ids = get_bool(root["sender_ids"], "sender_ids");
  }
  if (root["interop"]) {
    parse_interop(root["interop"], c);
  }
  if (root["socket"]) {
    c.socket = get_string(root["socket"], "socket");
  }
  if (const YAML::Node r = root["redundancy"]) {
    check_keys(r, "redundancy", {"state_file", "takeover_after"});
    c.redundancy.state_file = get_string(require(r, "state_file", "redundancy"),
                                         "redundancy.state_file");
    if (c.redundancy.state_file.empty()) {
      fail(r["state_file"], "redundancy.state_file", "must be a path");
    }
    if (r["takeover_after"]) {
      c.redundancy.takeover_after_s = static_cast<uint32_t>(
          get_uint(r["takeover_after"], "redundancy.takeover_after", 2, 3600));
    }
  }
  return c;
}

}  // namespace

const key_bytes* ks_config::psk_for(uint32_t peer) const {
  const key_bytes* wildcard = nullptr;
  for (const auto& p : psks) {
    if (p.peer == peer) {
      return &p.key;
    }
    if (!p.peer) {
      wildcard = &p.key;
    }
  }
  return wildcard;
}

std::optional<ks_config> parse_ks_config(const std::string& yaml, const std::string& name,
                                         std::string& error) {
  try {
    const YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap()) {
      error = name + ":1: the file must be a YAML mapping";
      return std::nullopt;
    }
    ks_config c = parse_root(root);
    c.file = name;
    return c;
  } catch (const config_error& e) {
    error = describe(name, e);
  } catch (const YAML::Exception& e) {
    error = name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
  }
  return std::nullopt;
}

std::optional<ks_config> load_ks_config(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_ks_config(text.str(), path, error);
}

std::optional<ike::rsa_key> load_or_create_signing_key(const kek_config& kek, std::string& error) {
  struct stat st{};
  if (stat(kek.rsa_key.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      error = kek.rsa_key + ": " + std::strerror(errno);
      return std::nullopt;
    }
    auto key = ike::rsa_key::generate(kek.rsa_bits);
    if (!key || !key->save_private_pem(kek.rsa_key)) {
      error = kek.rsa_key + ": cannot generate and save a " + std::to_string(kek.rsa_bits) +
              "-bit RSA key";
      return std::nullopt;
    }
    return key;
  }
  std::string why;
  if (!key_file_private(kek.rsa_key, why)) {
    error = "kek.rsa_key: " + why;
    return std::nullopt;
  }
  auto key = ike::rsa_key::load_private_pem(kek.rsa_key);
  if (!key || !key->has_private()) {
    error = kek.rsa_key + ": not a PEM RSA private key";
    return std::nullopt;
  }
  return key;
}

std::string kek_cipher_name(const kek_config& k) {
  if (k.cipher == ike::cipher::des3_cbc) {
    return "3des";
  }
  return "aes-" + std::to_string(k.key_bits);
}

}  // namespace gm::control::ks
