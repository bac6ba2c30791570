// gm-ks: the lab GDOI key server. One Asio thread: the UDP socket (GDOI on 848 or the
// configured port), one timer at the engine's next deadline, signals (SIGUSR1 = TEK rekey
// now, SIGUSR2 = KEK rekey now, SIGHUP = reload the config, SIGTERM/SIGINT = exit) and the
// operator command socket (show commands, `rekey [tek|kek]`, `reload`, `clear crypto gdoi
// ks members`, debug commands).
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "control/cli_server.h"
#include "control/event_trace.h"
#include "control/gm_log.h"
#include "control/json_out.h"
#include "control/ks/key_server.h"
#include "control/ks/ks_config.h"
#include "control/ks/ks_state_sync.h"
#include "control/ops_clock.h"
#include "control/show_ks.h"

namespace asio = boost::asio;
using asio::ip::udp;

namespace gm::control::ks {
namespace {

struct options {
  std::string config;
  bool foreground = false;
  severity level = severity::informational;
};

void usage() {
  std::fprintf(stderr,
               "usage: gm-ks --config FILE [--foreground] [--log-level LEVEL]\n"
               "  LEVEL: emergencies alerts critical errors warnings notifications\n"
               "         informational debugging (or 0..7)\n"
               "  SIGUSR1: TEK rekey now; SIGUSR2: KEK rekey now; SIGHUP: reload the config\n"
               "  (a changed ACL goes out in a TEK rekey); SIGTERM/SIGINT: exit\n");
}

bool parse_level(const std::string& s, severity& out) {
  for (int i = 0; i <= 7; ++i) {
    const auto sev = static_cast<severity>(i);
    if (s == name(sev) || s == std::to_string(i)) {
      out = sev;
      return true;
    }
  }
  return false;
}

bool parse_args(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      o.config = argv[++i];
    } else if (a == "--foreground") {
      o.foreground = true;
    } else if (a == "--log-level" && i + 1 < argc) {
      if (!parse_level(argv[++i], o.level)) {
        std::fprintf(stderr, "gm-ks: unknown log level '%s'\n", argv[i]);
        return false;
      }
    } else {
      return false;
    }
  }
  return !o.config.empty();
}

udp::endpoint to_asio(endpoint e) { return {asio::ip::address_v4(e.addr), e.port}; }

// The daemon around the engine: sockets, timer, signals, the command socket.
class ks_daemon {
 public:
  /// `cfg` is the config `ks` was built with; the daemon owns it (a reload replaces it).
  ks_daemon(asio::io_context& io, std::unique_ptr<ks_config> cfg, key_server& ks, gm_log& log)
      : _io(io),
        _owned(std::move(cfg)),
        _ks(ks),
        _log(log),
        _socket(io),
        _timer(io),
        _sync_timer(io),
        _signals(io, SIGUSR1, SIGUSR2, SIGTERM) {
    _signals.add(SIGINT);
    _signals.add(SIGHUP);
  }

  std::string start() {
    boost::system::error_code ec;
    const udp::endpoint local(asio::ip::address_v4(_owned->listen), _owned->port);
    _socket.open(udp::v4(), ec);
    if (!ec) {
      _socket.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      _socket.bind(local, ec);
    }
    if (ec) {
      return "bind " + local.address().to_string() + ":" + std::to_string(_owned->port) + ": " +
             ec.message();
    }
    if (_owned->rekey.transport == rekey_transport::multicast) {
      // Multicast rekeys leave through the interface that holds the listen address.
      _socket.set_option(asio::ip::multicast::outbound_interface(
                             asio::ip::address_v4(_owned->listen)),
                         ec);
      if (!ec) {
        _socket.set_option(asio::ip::multicast::hops(_owned->rekey.multicast_ttl), ec);
      }
      if (ec) {
        return "multicast options: " + ec.message();
      }
    }
    cli_server_options co;
    co.path = _owned->socket;
    _cli = std::make_unique<cli_server>(
        _io, co, [this](const command& c, bool json) { return on_command(c, json); });
    if (auto err = _cli->start()) {
      return err.what;
    }
    receive();
    wait_signal();
    arm_timer();
    if (!_owned->redundancy.state_file.empty()) {
      sync_tick();
    }
    return {};
  }

 private:
  void receive() {
    _socket.async_receive_from(asio::buffer(_buf), _from,
                               [this](boost::system::error_code ec, std::size_t n) {
                                 if (ec == asio::error::operation_aborted) {
                                   return;
                                 }
                                 if (!ec && _from.address().is_v4()) {
                                   const endpoint peer{_from.address().to_v4().to_uint(),
                                                       _from.port()};
                                   send(_ks.on_datagram(peer, {_buf.data(), n}));
                                 }
                                 receive();
                               });
  }

  void send(const std::vector<outgoing>& out) {
    // The key state goes to the file before the rekey that changed it goes out: a KS that
    // takes over then never reuses a SEQ GMs have seen.
    publish_if_changed();
    for (const outgoing& o : out) {
      boost::system::error_code ec;
      _socket.send_to(asio::buffer(o.data), to_asio(o.to), 0, ec);
      if (ec) {
        _log.debug(debug_role::ks, debug_category::infrastructure, debug_level::error, o.to.addr,
                   "send to {}:{} failed: {}", ipv4_addr{o.to.addr}, o.to.port, ec.message());
      }
    }
    arm_timer();  // anything sent may have moved the next deadline
  }

  void arm_timer() {
    _timer.expires_at(_ks.next_deadline());
    _timer.async_wait([this](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted) {
        return;
      }
      send(_ks.on_timer());
    });
  }

  // ---- key-state sharing (ks_state_sync.h) -------------------------------------------------

  void publish() {
    std::string err;
    if (!write_state_file(_owned->redundancy.state_file, _ks.export_state(), err)) {
      // A passive KS will take over once the heartbeat is stale, and two KSs would then
      // rekey the group: say so where the operator looks, once per failing streak.
      if (!_publish_failing) {
        std::fprintf(stderr,
                     "gm-ks: key state not written (%s): a passive KS will take over in %u s\n",
                     err.c_str(), _owned->redundancy.takeover_after_s);
      }
      _publish_failing = true;
      _log.debug(debug_role::ks, debug_category::infrastructure, debug_level::error,
                 std::nullopt, "key state not written: {}", err);
      return;
    }
    if (_publish_failing) {
      std::fprintf(stderr, "gm-ks: key state written again\n");
      _publish_failing = false;
    }
    _published_version = _ks.state_version();
  }

  void publish_if_changed() {
    if (!_owned->redundancy.state_file.empty() && _ks.active() &&
        _ks.state_version() != _published_version) {
      publish();
    }
  }

  // Once a second: the active KS writes its heartbeat; a passive one follows the file and
  // takes over when the heartbeat stops.
  void sync_tick() {
    if (_ks.active()) {
      publish();
    } else {
      follow();
    }
    _sync_timer.expires_after(std::chrono::seconds(1));
    _sync_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) sync_tick();
    });
  }

  void follow() {
    const redundancy_config& r = _owned->redundancy;
    std::string err;
    auto st = read_state_file(r.state_file, err);
    const bool fresh = st && heartbeat_fresh(*st, r.takeover_after_s, mono_now_ms());
    if (st) {
      _coop.peer_addr = st->writer_addr;
      _peer_heartbeat_ms = st->heartbeat_mono_ms;
    }
    if (fresh) {
      if (st->version != _adopted_version) {
        if (_ks.adopt_state(*st, err)) {
          _adopted_version = st->version;
          ++_coop.adoptions;
        } else {
          _log.emit<log_msg::coop_config_mismatch>(_owned->group_name, err);
        }
      }
      return;
    }
    // No heartbeat for takeover_after: the active KS is gone. Its last published keys are
    // ours already (adopted above as they came); carry on with them.
    const uint32_t gone = st ? st->writer_addr : 0;
    _log.emit<log_msg::coop_ks_unreach>(ipv4_addr{gone}, _owned->group_name,
                                        st ? "heartbeat stopped" : err);
    _ks.set_active(true);
    ++_coop.takeovers;
    _coop.primary_since = ios_timestamp(std::chrono::system_clock::now());
    _log.emit<log_msg::coop_ks_trans_to_pri>(ipv4_addr{_owned->listen}, _owned->group_name);
    publish();
    arm_timer();  // rekey deadlines are ours now
  }

  void wait_signal() {
    _signals.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) {
        return;
      }
      if (sig == SIGUSR1) {
        send(_ks.rekey(rekey_kind::tek));
      } else if (sig == SIGUSR2) {
        send(_ks.rekey(rekey_kind::kek));
      } else if (sig == SIGHUP) {
        reload();
      } else {
        stop();
        return;
      }
      wait_signal();
    });
  }

  void stop() {
    boost::system::error_code ec;
    _timer.cancel();
    _sync_timer.cancel();
    _socket.close(ec);
    _signals.cancel(ec);
    _cli.reset();  // closes and unlinks the command socket
    _io.stop();
  }

  // Re-reads the config file. A file that does not load, or that changes what cannot change
  // live, leaves everything as it was; the reason goes to the log and to the operator.
  struct reload_result {
    bool ok = false;
    std::string text;
  };
  reload_result reload() {
    reload_result r;
    std::string err;
    auto next = load_ks_config(_owned->file, err);
    if (next) {
      auto fresh = std::make_unique<ks_config>(std::move(*next));
      std::vector<outgoing> out;
      err = _ks.reload(*fresh, out);
      if (err.empty()) {
        _owned = std::move(fresh);  // the engine now uses it; the old one (and its PSKs) goes
        r.ok = true;
        r.text = "reloaded " + _owned->file + ": " + std::to_string(_owned->acl.size()) +
                 " ACE(s); " + std::to_string(out.size()) + " rekey datagram(s) sent\n";
        send(out);
      }
    }
    if (!err.empty()) {
      r.text = "% reload refused, config unchanged: " + err + "\n";
    }
    _log.debug(debug_role::ks, debug_category::infrastructure,
               r.ok ? debug_level::event : debug_level::error, std::nullopt, "{}", r.text);
    std::fprintf(stderr, "gm-ks: %s", r.text.c_str());
    return r;
  }

  std::string on_command(const command& c, bool json) {
    switch (c.kind) {
      case command_kind::reload: {
        const reload_result r = reload();
        if (!json) return r.text;
        json_out j;
        j.begin_object().field("reloaded", r.ok).field("detail", r.text).end_object();
        return j.str() + "\n";
      }
      case command_kind::clear_gdoi:
      case command_kind::clear_gdoi_ks_members:
        // `clear crypto gdoi [ks members]` on a KS: forget the members; they re-register.
        _ks.clear_members();
        return json ? "{\"cleared\": true}\n" : "";
      case command_kind::rekey: {
        // As SIGUSR1/SIGUSR2 do; the rekeys counter tells a rekey not built from one that
        // had no member to go to.
        const uint64_t before = _ks.counters().rekeys;
        const std::vector<outgoing> out =
            _ks.rekey(c.rekey_target == cmd_rekey_kind::kek ? rekey_kind::kek : rekey_kind::tek);
        send(out);
        return ks_rekey_reply(c.rekey_target, _ks.counters().rekeys != before, out.size(), json);
      }
      case command_kind::show_debug_condition:
        return _log.debug_config().show_conditions();
      case command_kind::debug_gdoi:
      case command_kind::debug_condition_peer:
      case command_kind::undebug_all:
        return operator_reply(_log.debug_config().apply(debug_line(c)));
      default: {
        ks_status st = _ks.status();
        for (ks_group_status& g : st.groups) {
          g.coop = _coop;
          g.coop.enabled = !_owned->redundancy.state_file.empty();
          g.coop.primary = _ks.active();
          g.coop.state_file = _owned->redundancy.state_file;
          g.coop.takeover_after_s = _owned->redundancy.takeover_after_s;
          g.coop.version = _ks.state_version();
          if (g.coop.peer_addr != 0) {
            g.coop.peer_heartbeat_age_ms = static_cast<int64_t>(mono_now_ms() - _peer_heartbeat_ms);
          }
        }
        return render_ks(c, st, json);
      }
    }
  }

  asio::io_context& _io;
  std::unique_ptr<ks_config> _owned;  ///< the config in use (key_server::reload keeps the
                                     ///< address, socket and transport fixed)
  key_server& _ks;
  gm_log& _log;
  udp::socket _socket;
  asio::steady_timer _timer;
  asio::steady_timer _sync_timer;
  asio::signal_set _signals;
  uint64_t _published_version = 0;
  uint64_t _adopted_version = 0;
  uint64_t _peer_heartbeat_ms = 0;
  bool _publish_failing = false;
  ks_coop_status _coop;  ///< counters and the peer seen; role and version come from _ks
  std::unique_ptr<cli_server> _cli;
  std::array<uint8_t, 65536> _buf{};
  udp::endpoint _from;
};

// With a shared key-state file: a KS that finds a live heartbeat in it starts passive with
// those keys; one that finds a stale file carries on with its keys (a restart keeps the
// group's keys); with no file it is the group's first KS. Returns an error to exit with.
std::string start_redundancy(const ks_config& c, key_server& ks, gm_log& log) {
  if (c.redundancy.state_file.empty()) return {};
  std::string err;
  auto st = read_state_file(c.redundancy.state_file, err);
  if (!st) {
    if (errno == ENOENT || access(c.redundancy.state_file.c_str(), F_OK) != 0) {
      std::fprintf(stderr, "gm-ks: no key state in %s: first KS of the group, active\n",
                   c.redundancy.state_file.c_str());
      return {};
    }
    return err;
  }
  const bool fresh = heartbeat_fresh(*st, c.redundancy.takeover_after_s, mono_now_ms());
  if (!ks.adopt_state(*st, err)) {
    log.emit<log_msg::coop_config_mismatch>(c.group_name, err);
    if (fresh) {
      return c.redundancy.state_file + ": the active KS's keys cannot be ours: " + err;
    }
    std::fprintf(stderr, "gm-ks: stale key state not taken (%s): new keys, active\n",
                 err.c_str());
    return {};
  }
  ks.set_active(!fresh);
  std::fprintf(stderr, "gm-ks: keys of group %s taken from %s (version %llu, seq %u): %s\n",
               c.group_name.c_str(), c.redundancy.state_file.c_str(),
               static_cast<unsigned long long>(st->version), st->seq,
               fresh ? "another KS is active, passive until its heartbeat stops" : "active");
  return {};
}

int run(int argc, char** argv) {
  options o;
  if (!parse_args(argc, argv, o)) {
    usage();
    return 2;
  }
  std::string err;
  auto cfg = load_ks_config(o.config, err);
  if (!cfg) {
    std::fprintf(stderr, "gm-ks: %s\n", err.c_str());
    return 1;
  }
  auto key = load_or_create_signing_key(cfg->kek, err);
  if (!key) {
    std::fprintf(stderr, "gm-ks: %s\n", err.c_str());
    return 1;
  }
  system_ops_clock clock;
  log_options lo;
  lo.app_name = "gm-ks";
  lo.threshold = o.level;
  gm_log log(clock, lo, std::cerr);
  event_trace trace(clock);
  auto owned = std::make_unique<ks_config>(std::move(*cfg));
  const ks_config& c = *owned;
  key_server ks(c, std::move(*key), clock, log, trace);

  if (const std::string e = start_redundancy(c, ks, log); !e.empty()) {
    std::fprintf(stderr, "gm-ks: %s\n", e.c_str());
    return 1;
  }

  asio::io_context io;
  ks_daemon d(io, std::move(owned), ks, log);
  if (const std::string e = d.start(); !e.empty()) {
    std::fprintf(stderr, "gm-ks: %s\n", e.c_str());
    return 1;
  }
  std::fprintf(stderr, "gm-ks: group %s (%u) on %s:%u, command socket %s\n",
               c.group_name.c_str(), c.group_id,
               asio::ip::address_v4(c.listen).to_string().c_str(), c.port, c.socket.c_str());
  if (!o.foreground) {
    // Sockets are bound first so that errors reach the terminal; Asio's reactor must be
    // told about the fork.
    io.notify_fork(asio::execution_context::fork_prepare);
    if (::daemon(1, 0) != 0) {
      std::fprintf(stderr, "gm-ks: daemon: %s\n", std::strerror(errno));
      return 1;
    }
    io.notify_fork(asio::execution_context::fork_child);
  }
  io.run();
  return 0;
}

}  // namespace
}  // namespace gm::control::ks

int main(int argc, char** argv) { return gm::control::ks::run(argc, argv); }
