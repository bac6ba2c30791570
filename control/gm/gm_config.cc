#include "control/gm/gm_config.h"

#include <set>

#include "classifier/policy.h"
#include "control/phase1_config.h"
#include "dataplane/yaml_field.h"

namespace gm::control::gmd {

namespace {

using namespace gm::yaml_field;

endpoint get_endpoint(const YAML::Node& n, const std::string& field) {
  const std::string s = get_string(n, field);
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) fail(n, field, "must be A.B.C.D:port, got '" + s + "'");
  endpoint e;
  in_addr a{};
  if (inet_pton(AF_INET, s.substr(0, colon).c_str(), &a) != 1) {
    fail(n, field, "must be A.B.C.D:port, got '" + s + "'");
  }
  e.addr = ntohl(a.s_addr);
  try {
    const unsigned long p = std::stoul(s.substr(colon + 1));
    if (p == 0 || p > 65535) throw std::out_of_range(s);
    e.port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    fail(n, field, "port must be 1..65535, got '" + s + "'");
  }
  return e;
}

void parse_group(const YAML::Node& g, gm_config& c) {
  check_keys(g, "group", {"name", "identity", "servers", "server_port"});
  c.group_name = get_string(require(g, "name", "group"), "group.name");
  c.identity = static_cast<uint32_t>(get_uint(require(g, "identity", "group"), "group.identity",
                                              0xffffffffull));
  const YAML::Node s = require(g, "servers", "group", "the KS addresses, in order");
  if (!s.IsSequence() || s.size() == 0) fail(s, "group.servers", "must be a non-empty list");
  std::set<uint32_t> seen;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::string f = "group.servers[" + std::to_string(i) + "]";
    const uint32_t a = get_ipv4(s[i], f);
    if (!seen.insert(a).second) fail(s[i], f, "listed twice");
    c.servers.push_back(a);
  }
  if (g["server_port"]) {
    c.server_port = static_cast<uint16_t>(get_uint(g["server_port"], "group.server_port", 65535));
  }
}

void parse_timers(const YAML::Node& t, gm_config& c) {
  check_keys(t, "timers", {"retransmit", "retransmit_count", "retry_all", "reregister_before",
                           "activation_delay", "reject_backoff"});
  auto secs = [&](const char* k, uint32_t& out, uint64_t max) {
    if (t[k]) out = static_cast<uint32_t>(get_uint(t[k], std::string("timers.") + k, max));
  };
  secs("retransmit", c.retransmit_s, 60);
  secs("retransmit_count", c.retransmit_count, 20);
  secs("retry_all", c.retry_all_s, 3600);
  secs("reregister_before", c.reregister_before_s, 3600);
  secs("activation_delay", c.activation_delay_s, 3600);
  secs("reject_backoff", c.reject_backoff_s, 86400);
  if (c.retransmit_s == 0) fail(t["retransmit"], "timers.retransmit", "must be at least 1");
}

gm_config parse(const YAML::Node& root) {
  check_keys(root, "", {"group", "local_address", "local_port", "psk_file", "phase1", "local_acl",
                        "migration", "dataplane", "socket", "socket_group", "log",
                        "event_trace_size", "prometheus", "rekey", "sender_id", "timers",
                        "interface"});
  gm_config c;
  parse_group(require(root, "group", ""), c);
  c.local_address = get_ipv4(require(root, "local_address", "", "our WAN address"), "local_address");
  if (root["local_port"]) {
    c.local_port = static_cast<uint16_t>(get_uint(root["local_port"], "local_port", 65535));
  }
  const YAML::Node psk = require(root, "psk_file", "", "a 0600 file holding the pre-shared key");
  c.psk_file = get_string(psk, "psk_file");
  read_key_file(psk, "psk_file", c.psk);
  c.phase1 = root["phase1"] ? parse_phase1_list(root["phase1"], "phase1")
                            : std::vector<phase1_policy>{phase1_policy{}};
  if (const YAML::Node acl = root["local_acl"]) {
    if (!acl.IsSequence()) fail(acl, "local_acl", "must be a list of IOS ACEs");
    for (std::size_t i = 0; i < acl.size(); ++i) {
      const std::string f = "local_acl[" + std::to_string(i) + "]";
      classifier::ace a;
      const std::string text = get_string(acl[i], f);
      const std::string err = classifier::parse_ace(text, 0, a);
      if (!err.empty()) fail(acl[i], f, err);
      if (a.act != classifier::action::bypass) {
        fail(acl[i], f, "the local ACL holds deny entries only (traffic the GM never encrypts)");
      }
      c.local_acl.push_back(a);
      c.local_acl_text.push_back(text);
    }
  }
  if (root["migration"]) {
    c.migration = get_string(root["migration"], "migration");
    if (c.migration != "none" && c.migration != "receive-only" && c.migration != "passive") {
      fail(root["migration"], "migration", "must be none, receive-only or passive");
    }
  }
  if (const YAML::Node dp = root["dataplane"]) {
    check_keys(dp, "dataplane", {"file_prefix", "ring_prefix"});
    if (dp["file_prefix"]) c.file_prefix = get_string(dp["file_prefix"], "dataplane.file_prefix");
    if (dp["ring_prefix"]) c.ring_prefix = get_string(dp["ring_prefix"], "dataplane.ring_prefix");
  }
  if (root["socket"]) c.socket = get_string(root["socket"], "socket");
  if (root["socket_group"]) c.socket_group = get_string(root["socket_group"], "socket_group");
  if (const YAML::Node l = root["log"]) {
    check_keys(l, "log", {"collector", "stderr"});
    if (l["collector"]) {
      get_endpoint(l["collector"], "log.collector");  // checked here, opened by the logger
      c.log_collector = get_string(l["collector"], "log.collector");
    }
    if (l["stderr"]) c.log_stderr = get_bool(l["stderr"], "log.stderr");
  }
  if (root["event_trace_size"]) {
    c.event_trace_size = get_uint(root["event_trace_size"], "event_trace_size", 1000000);
    if (c.event_trace_size == 0) fail(root["event_trace_size"], "event_trace_size", "must be at least 1");
  }
  if (root["prometheus"]) c.prometheus = get_endpoint(root["prometheus"], "prometheus");
  if (const YAML::Node r = root["rekey"]) {
    check_keys(r, "rekey", {"allowed_transforms"});
    if (const YAML::Node t = r["allowed_transforms"]) {
      if (!t.IsSequence() || t.size() == 0) {
        fail(t, "rekey.allowed_transforms", "must be a non-empty list of transform names");
      }
      for (std::size_t i = 0; i < t.size(); ++i) {
        const std::string f = "rekey.allowed_transforms[" + std::to_string(i) + "]";
        const auto id = crypto::transform_from_name(get_string(t[i], f));
        if (!id) fail(t[i], f, "unknown transform '" + t[i].Scalar() + "'");
        c.allowed_transforms.push_back(*id);
      }
    }
  }
  if (c.allowed_transforms.empty()) {
    for (const auto& t : crypto::transform_table) c.allowed_transforms.push_back(t.id);
  }
  if (const YAML::Node s = root["sender_id"]) {
    check_keys(s, "sender_id", {"request", "fallback"});
    if (s["request"]) c.request_sender_id = get_bool(s["request"], "sender_id.request");
    if (s["fallback"]) {
      c.sender_id = static_cast<uint16_t>(get_uint(s["fallback"], "sender_id.fallback", 0xffff));
    }
  }
  if (root["timers"]) parse_timers(root["timers"], c);
  if (root["interface"]) c.interface = get_string(root["interface"], "interface");
  return c;
}

}  // namespace

std::optional<gm_config> load_gm_config(const std::string& path, std::string& error) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    return parse(root);
  } catch (const config_error& e) {
    error = describe(path, e);
  } catch (const YAML::BadFile&) {
    error = path + ": cannot open";
  } catch (const YAML::Exception& e) {
    error = path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
  }
  return std::nullopt;
}

}  // namespace gm::control::gmd
