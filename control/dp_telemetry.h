// Reads the data plane's counters through DPDK telemetry (the /gm/* endpoints registered
// in dataplane/telemetry.cc) and folds them into gm_status for `show crypto ipsec sa` and
// `show crypto gdoi gm replay`. The socket is SOCK_SEQPACKET at
// <runtime dir>/<file-prefix>/dpdk_telemetry.v2: it sends an info JSON on connect, then
// answers each command ("/gm/sa") with one JSON message {"/gm/sa": {...}}.
// Parsing is separate from I/O so captured replies can be tested without a data plane.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/gm_status.h"

namespace gm::control {

/// Drop counters by reason name (dataplane/drop_reason.h names).
using drop_counts = std::map<std::string, uint64_t, std::less<>>;

struct dp_port_counters {
  uint64_t rx = 0;
  uint64_t tx = 0;
  uint64_t fragmented = 0;
  uint64_t mss_clamped = 0;
  uint64_t link_up = 0;       ///< 1 while the port's link is up (0 from older data planes)
  uint64_t link_changes = 0;  ///< up<->down transitions since the data plane started
  drop_counts drops;
};

struct dp_sa_counters {
  uint32_t spi = 0;
  std::string transform;  ///< data plane name ("aes-gcm-128")
  uint64_t tbar_window_ms = 0;
  uint64_t encaps = 0;
  uint64_t encrypt = 0;
  uint64_t digest = 0;
  uint64_t decaps = 0;
  uint64_t decrypt = 0;
  uint64_t verify = 0;
  uint64_t bytes_out = 0;
  uint64_t bytes_in = 0;
  drop_counts drops;
};

struct dp_replay_counters {
  uint64_t input_packets = 0;
  uint64_t output_packets = 0;
  uint64_t input_error_packets = 0;
  uint64_t output_error_packets = 0;
  uint64_t time_sync_errors = 0;
  uint64_t max_time_delta_ms = 0;
};

struct dp_lcore_counters {
  std::string name;  ///< "worker0"
  uint64_t lan_rx = 0;
  uint64_t lan_tx = 0;
  uint64_t wan_rx = 0;
  uint64_t wan_tx = 0;
  uint64_t idle_sleeps = 0;
  uint64_t pkts_encaps = 0;
  uint64_t pkts_decaps = 0;
};

/// One reading of every /gm/ endpoint.
struct dp_snapshot {
  dp_port_counters lan;
  dp_port_counters wan;
  std::vector<dp_sa_counters> sas;  ///< ordered by SPI
  drop_counts drops;                ///< all ports and SAs
  dp_replay_counters replay;
  std::vector<dp_lcore_counters> lcores;
};

// X(name, meaning)
#define GM_TELEMETRY_ERRORS(X)                                                 \
  X(connect_failed, "cannot connect to the telemetry socket")                  \
  X(io_failed, "telemetry socket read or write failed")                        \
  X(bad_json, "telemetry reply is not valid JSON")                             \
  X(wrong_endpoint, "telemetry reply is not for the command sent")             \
  X(bad_field, "telemetry reply lacks a field or has one of the wrong type")

enum class telemetry_errc : uint8_t {
#define GM_X(name, text) name,
  GM_TELEMETRY_ERRORS(GM_X)
#undef GM_X
};

struct telemetry_error {
  telemetry_errc code = telemetry_errc::connect_failed;
  std::string detail;  ///< errno text, field name, ...
};

/// "connect_failed: /var/run/dpdk/gm/dpdk_telemetry.v2: No such file or directory"
std::string describe(const telemetry_error& e);

// Parsers of one whole reply message ({"/gm/sa": {...}}) into the snapshot.
std::optional<telemetry_error> parse_ports(std::string_view reply, dp_snapshot& out);
std::optional<telemetry_error> parse_sas(std::string_view reply, dp_snapshot& out);
std::optional<telemetry_error> parse_drops(std::string_view reply, dp_snapshot& out);
std::optional<telemetry_error> parse_replay(std::string_view reply, dp_snapshot& out);
std::optional<telemetry_error> parse_lcores(std::string_view reply, dp_snapshot& out);

/// A blocking client; each call opens its own connection (the data plane allows a few).
class dp_telemetry_client {
 public:
  explicit dp_telemetry_client(std::string socket_path) : _path(std::move(socket_path)) {}

  /// <runtime_dir>/<file_prefix>/dpdk_telemetry.v2
  static std::string socket_path(std::string_view file_prefix,
                                 std::string_view runtime_dir = "/var/run/dpdk");

  /// Sends one command ("/gm/sa" or "/gm/sa,0x3000"), returns the raw reply JSON.
  std::optional<telemetry_error> query(std::string_view cmd, std::string& reply) const;
  /// Reads all five /gm/ endpoints over one connection.
  std::optional<telemetry_error> snapshot(dp_snapshot& out) const;

 private:
  std::string _path;
};

/// Folds counters into s: ipsec[0] (the WAN interface; created if absent) gets the per-SA
/// sums and send/recv errors, SAs the control plane does not list are added with the
/// data plane's transform; replay[0] gets the TBAR counters (replay value untouched).
void apply_snapshot(const dp_snapshot& dp, gm_status& s);

}  // namespace gm::control
