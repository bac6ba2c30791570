#include "control/dp_telemetry.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <yaml-cpp/yaml.h>

#include "crypto/transform.h"
#include "dataplane/drop_reason.h"

namespace gm::control {

namespace {

const char* const g_errc_names[] = {
#define GM_X(name, text) #name,
    GM_TELEMETRY_ERRORS(GM_X)
#undef GM_X
};

telemetry_error err(telemetry_errc c, std::string detail) { return {c, std::move(detail)}; }

// The body of {"<endpoint>": {...}} as a map node. yaml-cpp reports bad input only by
// throwing; turn that into our typed error here and in get().
std::optional<telemetry_error> body(std::string_view reply, std::string_view endpoint,
                                    YAML::Node& out) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(reply));
  } catch (const YAML::Exception& e) {
    return err(telemetry_errc::bad_json, e.what());
  }
  if (!root.IsMap()) return err(telemetry_errc::bad_json, "reply is not an object");
  YAML::Node b = root[std::string(endpoint)];
  if (!b) return err(telemetry_errc::wrong_endpoint, std::string(endpoint));
  // DPDK answers an empty dict as {} but a command that failed as null.
  if (b.IsNull()) return err(telemetry_errc::bad_field, std::string(endpoint) + " is null");
  if (!b.IsMap()) return err(telemetry_errc::bad_field, std::string(endpoint) + " not an object");
  out = b;
  return std::nullopt;
}

std::optional<telemetry_error> get(const YAML::Node& n, const char* key, uint64_t& v) {
  const YAML::Node f = n[key];
  if (!f || !f.IsScalar()) return err(telemetry_errc::bad_field, key);
  try {
    v = f.as<uint64_t>();
  } catch (const YAML::Exception&) {
    return err(telemetry_errc::bad_field, key);
  }
  return std::nullopt;
}

// Every member whose name is a drop reason: anything numeric that is not a known counter.
std::optional<telemetry_error> drops(const YAML::Node& n, std::initializer_list<const char*> skip,
                                     drop_counts& out) {
  for (const auto& kv : n) {
    const std::string k = kv.first.as<std::string>();
    if (std::find_if(skip.begin(), skip.end(), [&](const char* s) { return k == s; }) !=
        skip.end()) {
      continue;
    }
    uint64_t v = 0;
    if (auto e = get(n, k.c_str(), v)) return e;
    out[k] = v;
  }
  return std::nullopt;
}

#define GM_GET(node, name, dst)                       \
  do {                                                \
    if (auto e_ = get((node), (name), (dst))) return e_; \
  } while (0)

std::optional<telemetry_error> port(const YAML::Node& n, dp_port_counters& p) {
  if (!n || !n.IsMap()) return err(telemetry_errc::bad_field, "port");
  GM_GET(n, "rx", p.rx);
  GM_GET(n, "tx", p.tx);
  GM_GET(n, "fragmented", p.fragmented);
  GM_GET(n, "mss_clamped", p.mss_clamped);
  // The link fields are newer than the counters: a data plane without them reads as 0.
  if (n["link_up"]) GM_GET(n, "link_up", p.link_up);
  if (n["link_changes"]) GM_GET(n, "link_changes", p.link_changes);
  return drops(n, {"rx", "tx", "fragmented", "mss_clamped", "link_up", "link_changes"}, p.drops);
}

uint64_t sum(const drop_counts& d) {
  uint64_t s = 0;
  for (const auto& [k, v] : d) s += v;
  return s;
}

uint64_t at(const drop_counts& d, std::string_view k) {
  auto it = d.find(k);
  return it == d.end() ? 0 : it->second;
}

}  // namespace

std::string describe(const telemetry_error& e) {
  return std::string(g_errc_names[static_cast<std::size_t>(e.code)]) + ": " + e.detail;
}

std::optional<telemetry_error> parse_ports(std::string_view reply, dp_snapshot& out) {
  YAML::Node b;
  if (auto e = body(reply, "/gm/ports", b)) return e;
  if (auto e = port(b["lan"], out.lan)) return e;
  return port(b["wan"], out.wan);
}

std::optional<telemetry_error> parse_sas(std::string_view reply, dp_snapshot& out) {
  YAML::Node b;
  if (auto e = body(reply, "/gm/sa", b)) return e;
  out.sas.clear();
  for (const auto& kv : b) {
    dp_sa_counters s;
    const std::string key = kv.first.as<std::string>();
    char* end = nullptr;
    const unsigned long spi = std::strtoul(key.c_str(), &end, 16);
    if (end == key.c_str() || *end != '\0' || spi > 0xffffffffUL) {
      return err(telemetry_errc::bad_field, "SPI key " + key);
    }
    s.spi = static_cast<uint32_t>(spi);
    const YAML::Node& x = kv.second;
    if (!x.IsMap() || !x["transform"] || !x["transform"].IsScalar()) {
      return err(telemetry_errc::bad_field, key + ".transform");
    }
    s.transform = x["transform"].as<std::string>();
    GM_GET(x, "tbar_window_ms", s.tbar_window_ms);
    GM_GET(x, "pkts_encaps", s.encaps);
    GM_GET(x, "pkts_encrypt", s.encrypt);
    GM_GET(x, "pkts_digest", s.digest);
    GM_GET(x, "pkts_decaps", s.decaps);
    GM_GET(x, "pkts_decrypt", s.decrypt);
    GM_GET(x, "pkts_verify", s.verify);
    GM_GET(x, "bytes_out", s.bytes_out);
    GM_GET(x, "bytes_in", s.bytes_in);
    if (auto e = drops(x,
                       {"transform", "tbar_window_ms", "pkts_encaps", "pkts_encrypt",
                        "pkts_digest", "pkts_decaps", "pkts_decrypt", "pkts_verify", "bytes_out",
                        "bytes_in"},
                       s.drops)) {
      return e;
    }
    out.sas.push_back(std::move(s));
  }
  std::sort(out.sas.begin(), out.sas.end(),
            [](const dp_sa_counters& a, const dp_sa_counters& b) { return a.spi < b.spi; });
  return std::nullopt;
}

std::optional<telemetry_error> parse_drops(std::string_view reply, dp_snapshot& out) {
  YAML::Node b;
  if (auto e = body(reply, "/gm/drops", b)) return e;
  out.drops.clear();
  return drops(b, {}, out.drops);
}

std::optional<telemetry_error> parse_replay(std::string_view reply, dp_snapshot& out) {
  YAML::Node b;
  if (auto e = body(reply, "/gm/replay", b)) return e;
  dp_replay_counters& r = out.replay;
  GM_GET(b, "input_packets", r.input_packets);
  GM_GET(b, "output_packets", r.output_packets);
  GM_GET(b, "input_error_packets", r.input_error_packets);
  GM_GET(b, "output_error_packets", r.output_error_packets);
  GM_GET(b, "time_sync_errors", r.time_sync_errors);
  GM_GET(b, "max_time_delta_ms", r.max_time_delta_ms);
  return std::nullopt;
}

std::optional<telemetry_error> parse_lcores(std::string_view reply, dp_snapshot& out) {
  YAML::Node b;
  if (auto e = body(reply, "/gm/lcores", b)) return e;
  out.lcores.clear();
  for (const auto& kv : b) {
    dp_lcore_counters l;
    l.name = kv.first.as<std::string>();
    const YAML::Node& x = kv.second;
    if (!x.IsMap()) return err(telemetry_errc::bad_field, l.name);
    GM_GET(x, "lan_rx", l.lan_rx);
    GM_GET(x, "lan_tx", l.lan_tx);
    GM_GET(x, "wan_rx", l.wan_rx);
    GM_GET(x, "wan_tx", l.wan_tx);
    GM_GET(x, "idle_sleeps", l.idle_sleeps);
    GM_GET(x, "pkts_encaps", l.pkts_encaps);
    GM_GET(x, "pkts_decaps", l.pkts_decaps);
    out.lcores.push_back(std::move(l));
  }
  return std::nullopt;
}

std::string dp_telemetry_client::socket_path(std::string_view file_prefix,
                                             std::string_view runtime_dir) {
  return std::string(runtime_dir) + "/" + std::string(file_prefix) + "/dpdk_telemetry.v2";
}

namespace {

// A connected telemetry socket past its greeting, closed on scope exit.
class connection {
 public:
  ~connection() {
    if (_fd >= 0) ::close(_fd);
  }

  std::optional<telemetry_error> open(const std::string& path) {
    _fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (_fd < 0) return err(telemetry_errc::connect_failed, std::strerror(errno));
    sockaddr_un a{};
    if (path.size() >= sizeof a.sun_path) return err(telemetry_errc::connect_failed, "path too long");
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    if (::connect(_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      return err(telemetry_errc::connect_failed, path + ": " + std::strerror(errno));
    }
    // A data plane that stopped answering must not hang the operator command.
    timeval tv{2, 0};
    ::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string greeting;
    return receive(greeting);
  }

  std::optional<telemetry_error> ask(std::string_view cmd, std::string& reply) {
    if (::send(_fd, cmd.data(), cmd.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(cmd.size())) {
      return err(telemetry_errc::io_failed, std::string("send: ") + std::strerror(errno));
    }
    return receive(reply);
  }

 private:
  std::optional<telemetry_error> receive(std::string& out) {
    std::string buf(1 << 20, '\0');  // SEQPACKET: one message per recv, never split
    const ssize_t n = ::recv(_fd, buf.data(), buf.size(), 0);
    if (n <= 0) {
      return err(telemetry_errc::io_failed,
                 n == 0 ? "connection closed" : std::string("recv: ") + std::strerror(errno));
    }
    buf.resize(static_cast<std::size_t>(n));
    out = std::move(buf);
    return std::nullopt;
  }

  int _fd = -1;
};

}  // namespace

std::optional<telemetry_error> dp_telemetry_client::query(std::string_view cmd,
                                                          std::string& reply) const {
  connection c;
  if (auto e = c.open(_path)) return e;
  return c.ask(cmd, reply);
}

std::optional<telemetry_error> dp_telemetry_client::snapshot(dp_snapshot& out) const {
  connection c;
  if (auto e = c.open(_path)) return e;
  using parser = std::optional<telemetry_error> (*)(std::string_view, dp_snapshot&);
  const std::pair<const char*, parser> steps[] = {
      {"/gm/ports", parse_ports}, {"/gm/sa", parse_sas},         {"/gm/drops", parse_drops},
      {"/gm/replay", parse_replay}, {"/gm/lcores", parse_lcores},
  };
  for (const auto& [cmd, parse] : steps) {
    std::string reply;
    if (auto e = c.ask(cmd, reply)) return e;
    if (auto e = parse(reply, out)) return e;
  }
  return std::nullopt;
}

void apply_snapshot(const dp_snapshot& dp, gm_status& s) {
  if (s.ipsec.empty()) {
    s.ipsec.emplace_back();
    s.ipsec.back().interface = "WAN";
  }
  ipsec_interface_status& i = s.ipsec.front();
  ipsec_counters c;
  for (const auto& sa : dp.sas) {
    c.encaps += sa.encaps;
    c.encrypt += sa.encrypt;
    c.digest += sa.digest;
    c.decaps += sa.decaps;
    c.decrypt += sa.decrypt;
    c.verify += sa.verify;
    const bool known = std::any_of(i.inbound.begin(), i.inbound.end(),
                                   [&](const esp_sa_status& x) { return x.spi == sa.spi; });
    if (!known) {
      esp_sa_status e;
      e.spi = sa.spi;
      const auto xf = crypto::transform_from_name(sa.transform);
      e.transform = xf ? std::string(crypto::info(*xf).ios_name) : sa.transform;
      e.iv_size = xf ? crypto::info(*xf).iv_len : 0;
      e.replay_window = static_cast<uint32_t>(sa.tbar_window_ms / 1000);
      e.time_based = sa.tbar_window_ms != 0;
      i.inbound.push_back(std::move(e));
    }
  }
  // As the data plane's own exit report does: outbound failures are charged to the LAN
  // side plus WAN transmit, everything else (WAN, SAs, unknown SPI) is a receive error.
  uint64_t send = sum(dp.lan.drops);
  for (const drop_reason r : at_send) send -= at(dp.lan.drops, info(r).name);
  for (const drop_reason r : at_send) send += at(dp.wan.drops, info(r).name);
  const uint64_t total = sum(dp.drops);
  c.send_errors = send;
  c.recv_errors = total >= send ? total - send : 0;
  i.counters = c;

  if (s.replay.empty()) s.replay.emplace_back();
  replay_status& r = s.replay.front();
  r.input_packets = dp.replay.input_packets;
  r.output_packets = dp.replay.output_packets;
  r.input_error_packets = dp.replay.input_error_packets;
  r.output_error_packets = dp.replay.output_error_packets;
  r.time_sync_errors = dp.replay.time_sync_errors;
  r.max_time_delta_ms = dp.replay.max_time_delta_ms;
}

}  // namespace gm::control
