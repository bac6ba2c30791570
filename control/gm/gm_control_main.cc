// gm-control: the GM's GDOI control process. Registers with the key servers of its group,
// installs policy and keys into gm-dataplane through the control rings (as a DPDK
// secondary process), takes rekeys, and answers operator commands (gmctl) on a UNIX socket.
//
//   gm-control --config FILE
//
// One Boost.Asio thread runs everything: the UDP 848 socket, a 100 ms tick for the
// protocol timers, the operator socket, and the optional Prometheus endpoint.
#include <arpa/inet.h>
#include <unistd.h>

#include <csignal>
#include <utility>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <boost/asio.hpp>

#include "control/cli_server.h"
#include "control/dp_telemetry.h"
#include "control/gm/gm_config.h"
#include "control/gm/member_engine.h"
#include "control/prometheus.h"
#include "control/show_gm.h"

namespace {

using namespace gm::control;
using namespace gm::control::gmd;
namespace asio = boost::asio;
using asio::ip::udp;

// The Prometheus families: the main counters of `show crypto gdoi`, `show crypto ipsec sa`,
// `show crypto gdoi gm replay`, and the control plane's own drop reasons.
std::vector<metric_sample> metrics(const gm_status& s, const member_engine& gm) {
  std::vector<metric_sample> out;
  auto add = [&](const char* name, const char* help, metric_type t, double v,
                 std::vector<metric_label> labels = {}) {
    out.push_back({name, help, t, std::move(labels), v});
  };
  for (const gm_group_status& g : s.groups) {
    const std::vector<metric_label> l = {{"group", g.name}};
    add("gdoi_gm_registered", "1 when registered with a key server", metric_type::gauge,
        g.registration == registration_state::registered ? 1 : 0, l);
    add("gdoi_gm_registrations_attempted_total", "Registration attempts", metric_type::counter,
        g.attempted_registrations, l);
    add("gdoi_gm_registrations_total", "Completed registrations", metric_type::counter,
        g.succeeded_registrations, l);
    add("gdoi_gm_rekeys_received_total", "Rekeys accepted", metric_type::counter, g.rekeys_total, l);
    add("gdoi_gm_rekey_acks_sent_total", "RFC 8263 acknowledgements sent", metric_type::counter,
        g.rekey_acks_sent, l);
    add("gdoi_gm_teks", "TEKs installed", metric_type::gauge, g.teks.size(), l);
  }
  for (std::size_t d = 0; d < rx_drop_count; ++d) {
    add("gdoi_gm_rx_dropped_total", "GDOI datagrams dropped, by reason", metric_type::counter,
        gm.drops(static_cast<rx_drop>(d)), {{"reason", name(static_cast<rx_drop>(d))}});
  }
  for (const ipsec_interface_status& i : s.ipsec) {
    const std::vector<metric_label> l = {{"interface", i.interface}};
    add("ipsec_pkts_encrypted_total", "#pkts encrypt", metric_type::counter, i.counters.encrypt, l);
    add("ipsec_pkts_decrypted_total", "#pkts decrypt", metric_type::counter, i.counters.decrypt, l);
    add("ipsec_send_errors_total", "#send errors", metric_type::counter, i.counters.send_errors, l);
    add("ipsec_recv_errors_total", "#recv errors", metric_type::counter, i.counters.recv_errors, l);
  }
  for (const replay_status& r : s.replay) {
    const std::vector<metric_label> l = {{"group", r.group}};
    add("tbar_input_error_packets_total", "TBAR input error packets", metric_type::counter,
        r.input_error_packets, l);
    add("tbar_time_sync_errors_total", "TBAR time sync errors", metric_type::counter,
        r.time_sync_errors, l);
    add("tbar_pseudotime_seconds", "Replay Value (pseudotime)", metric_type::gauge,
        r.replay_value_ms / 1000.0, l);
  }
  return out;
}

int usage() {
  std::fprintf(stderr, "usage: gm-control --config FILE\n");
  return 2;
}

class gm_daemon {
 public:
  gm_daemon(asio::io_context& io, const gm_config& cfg, dp_port* dp, gm_log& log, event_trace& trace,
         const ops_clock& clock)
      : _io(io),
        _cfg(cfg),
        _sock(io),
        _tick(io),
        _clock(clock),
        _trace(trace),
        _dp_attached(dp != nullptr),
        _gm(cfg,
            gm_io{[this](uint32_t a, uint16_t p, const gm::control::bytes& b) { send(a, p, b); },
                  [this](std::optional<uint32_t> g) { multicast(g); }},
            dp, clock, log, trace) {}

  std::string open() {
    boost::system::error_code ec;
    _sock.open(udp::v4(), ec);
    if (!ec) _sock.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) _sock.bind(udp::endpoint(asio::ip::address_v4::any(), _cfg.local_port), ec);
    if (ec) return "UDP port " + std::to_string(_cfg.local_port) + ": " + ec.message();
    receive();
    tick();
    _gm.start();
    return {};
  }

  gm_status status() const {
    gm_status s;
    _gm.fill_status(s);
    auto lines = [&](trace_subsystem sub) {
      std::vector<trace_row> out;
      for (const trace_line& l : _trace.snapshot(sub)) out.push_back({l.stamp, l.entry.text});
      return out;
    };
    s.trace.registration = lines(trace_subsystem::registration);
    s.trace.rekey = lines(trace_subsystem::rekey);
    s.trace.exit = lines(trace_subsystem::exit);
    if (_dp_attached) {
      dp_snapshot snap;
      const dp_telemetry_client c(dp_telemetry_client::socket_path(_cfg.file_prefix));
      if (!c.snapshot(snap)) apply_snapshot(snap, s);
    }
    return s;
  }

  member_engine& gm() { return _gm; }

 private:
  void send(uint32_t addr, uint16_t port, const gm::control::bytes& b) {
    boost::system::error_code ec;
    _sock.send_to(asio::buffer(b.data(), b.size()), udp::endpoint(asio::ip::address_v4(addr), port), 0, ec);
  }

  void multicast(std::optional<uint32_t> group) {
    boost::system::error_code ec;
    if (_joined) {
      _sock.set_option(asio::ip::multicast::leave_group(asio::ip::address_v4(*_joined),
                                                        asio::ip::address_v4(_cfg.local_address)), ec);
      _joined.reset();
    }
    if (group) {
      _sock.set_option(asio::ip::multicast::join_group(asio::ip::address_v4(*group),
                                                       asio::ip::address_v4(_cfg.local_address)), ec);
      if (!ec) _joined = group;
    }
  }

  void receive() {
    _sock.async_receive_from(asio::buffer(_buf), _from, [this](boost::system::error_code ec, std::size_t n) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        _gm.on_datagram(_from.address().to_v4().to_uint(), _from.port(),
                        std::span<const uint8_t>(_buf.data(), n));
      }
      receive();
    });
  }

  void tick() {
    _tick.expires_after(std::chrono::milliseconds(100));
    _tick.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      _gm.tick();
      tick();
    });
  }

  asio::io_context& _io;
  const gm_config& _cfg;
  udp::socket _sock;
  asio::steady_timer _tick;
  const ops_clock& _clock;
  event_trace& _trace;
  bool _dp_attached;
  std::optional<uint32_t> _joined;
  // UDP 848 datagrams reassembled by the kernel: a rekey with a large policy fragments.
  std::array<uint8_t, 65536> _buf{};
  udp::endpoint _from;
  member_engine _gm;
};

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--config" || a == "-c") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--foreground") {
      // always in the foreground; accepted for init scripts
    } else {
      return usage();
    }
  }
  if (config_path.empty()) return usage();
  std::string err;
  const std::optional<gm_config> cfg = load_gm_config(config_path, err);
  if (!cfg) {
    std::fprintf(stderr, "gm-control: %s\n", err.c_str());
    return 1;
  }
  system_ops_clock clock;
  log_options lo;
  lo.app_name = "gm-control";
  lo.to_stderr = cfg->log_stderr;
  gm_log log(clock, lo, std::cerr);
  if (!cfg->log_collector.empty()) {
    const std::string e = log.set_collector(cfg->log_collector);
    if (!e.empty()) {
      std::fprintf(stderr, "gm-control: log.collector: %s\n", e.c_str());
      return 1;
    }
  }
  event_trace trace(clock, cfg->event_trace_size);

  std::optional<ring_dp_port> dp;
  if (!cfg->file_prefix.empty()) {
    auto c = gm::ctrl::client::attach("gm-control", cfg->file_prefix, cfg->ring_prefix, err);
    if (!c) {
      std::fprintf(stderr, "gm-control: %s\n", err.c_str());
      return 1;
    }
    dp.emplace(std::move(*c));
  } else {
    std::fprintf(stderr, "gm-control: no dataplane configured: running the control plane only\n");
  }

  asio::io_context io;
  gm_daemon d(io, *cfg, dp ? &*dp : nullptr, log, trace, clock);
  cli_server_options so;
  so.path = cfg->socket;
  so.group = cfg->socket_group;
  cli_server cli(io, so, [&](const command& c, bool json) -> std::string {
    switch (c.kind) {
      case command_kind::clear_gdoi:
        d.gm().clear();
        return "";
      case command_kind::clear_sa:
        return "% clear crypto sa: the data plane's counters are cumulative; use gm-dpctl flush to drop SAs\n";
      case command_kind::debug_gdoi:
      case command_kind::debug_condition_peer:
      case command_kind::undebug_all:
        return operator_reply(log.debug_config().apply(debug_line(c)));
      case command_kind::show_debug_condition:
        return log.debug_config().show_conditions();
      default:
        return render_gm(c, d.status(), json);
    }
  });
  if (const cli_server_error e = cli.start()) {
    std::fprintf(stderr, "gm-control: operator socket: %s\n", e.what.c_str());
    return 1;
  }
  std::optional<metrics_server> prom;
  if (cfg->prometheus) {
    prom.emplace(io, [&] { return metrics(d.status(), d.gm()); });
    const std::string at = asio::ip::address_v4(cfg->prometheus->addr).to_string() + ":" +
                           std::to_string(cfg->prometheus->port);
    if (const std::string e = prom->listen(at); !e.empty()) {
      std::fprintf(stderr, "gm-control: prometheus %s: %s\n", at.c_str(), e.c_str());
      return 1;
    }
  }
  if (const std::string e = d.open(); !e.empty()) {
    std::fprintf(stderr, "gm-control: %s\n", e.c_str());
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
  io.run();
  return 0;
}
