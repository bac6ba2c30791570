// The GM side of one GDOI group: registration (Main Mode, then GROUPKEY-PULL) with KS
// failover and retransmission, installing the downloaded policy and keys into the data
// plane, GROUPKEY-PUSH rekeys (TEK and KEK, unicast with RFC 8263 ACKs or multicast),
// re-registration before expiry, `clear crypto gdoi`. Sockets and timers stay outside:
// the daemon feeds datagrams and calls tick(); time comes from an injected clock, so the
// whole engine runs in tests without a network.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/event_trace.h"
#include "control/gm/dp_port.h"
#include "control/gm/gm_config.h"
#include "control/gm/tek_plan.h"
#include "control/gm_log.h"
#include "control/gm_status.h"
#include "control/groupkey_pull.h"
#include "control/groupkey_push.h"
#include "control/main_mode.h"
#include "control/ops_clock.h"

namespace gm::control::gmd {

/// Why a datagram was dropped, counted per reason (`show crypto gdoi gm` drop counters and
/// the bad-input tests read them).
#define GM_RX_DROPS(X)                                                 \
  X(not_isakmp, "not an ISAKMP datagram")                              \
  X(unexpected_peer, "from an address that is not our current KS")     \
  X(unexpected_exchange, "exchange type not expected now")             \
  X(phase1_error, "Main Mode message refused")                         \
  X(pull_error, "GROUPKEY-PULL message refused")                       \
  X(push_not_registered, "rekey while not registered")                 \
  X(push_error, "rekey refused (cookies, decryption or signature)")    \
  X(push_replay, "rekey with a SEQ not above the last one")

enum class rx_drop : uint8_t {
#define GM_X(n, t) n,
  GM_RX_DROPS(GM_X)
#undef GM_X
};
inline constexpr std::size_t rx_drop_count = 8;
const char* text(rx_drop d);
const char* name(rx_drop d);

struct gm_io {
  /// Sends a datagram to addr:port (host order) from our GDOI socket.
  std::function<void(uint32_t addr, uint16_t port, const bytes& dgram)> send;
  /// Joins (a multicast address) or leaves (nullopt) the rekey multicast group.
  std::function<void(std::optional<uint32_t> group)> multicast;
};

class member_engine {
 public:
  /// `dp` may be null: no data plane attached. Everything passed must outlive the engine.
  member_engine(const gm_config& cfg, gm_io io, dp_port* dp, const ops_clock& clock, gm_log& log,
               event_trace& trace);

  /// Starts registering with the first KS.
  void start();
  /// A datagram that arrived on our GDOI socket.
  void on_datagram(uint32_t src, uint16_t sport, std::span<const uint8_t> dgram);
  /// Runs due timers (retransmission, failover, activation, expiry, re-registration) and
  /// drains data-plane events. Call a few times a second.
  void tick();
  /// `clear crypto gdoi`: drop the group's SAs and policy, register again at once.
  void clear();

  bool registered() const { return _state == state::registered; }
  std::optional<uint32_t> registered_with() const;
  uint64_t drops(rx_drop d) const { return _drops[static_cast<std::size_t>(d)]; }
  uint64_t rekeys() const { return _rekeys_total; }
  uint32_t current_outbound_spi() const;
  /// The KEK the group's rekeys are opened with (tests).
  const rekey_receiver* rekey_state() const { return _receiver ? &*_receiver : nullptr; }

  /// Fills the group, ISAKMP and rekey SA parts of a status snapshot.
  void fill_status(gm_status& s) const;

 private:
  enum class state : uint8_t { idle, phase1, pull, registered, backoff };
  struct installed_sa {
    tek_sa sa;  // keys wiped once installed (kept: transform, lifetime, window, index)
    mono_time installed;
    mono_time expires;
    bool outbound = false;
  };
  struct scheduled {
    mono_time at;
    enum class kind : uint8_t { activate, remove } what;
    uint32_t spi;
  };

  void begin_attempt();
  void next_server(const char* why);
  void send_current(const bytes& b);
  void on_phase1(std::span<const uint8_t> dgram);
  void on_pull(std::span<const uint8_t> dgram);
  void on_push(uint32_t src, uint16_t sport, std::span<const uint8_t> dgram);
  bool install(const group_keys& keys, bool registration, uint32_t from);
  bool install_sas(const tek_plan& plan, bool activate_now, std::string& why);
  bool replace_policy(const tek_plan& plan, std::string& why);
  void remove_sa(uint32_t spi);
  void reject(uint32_t ks, const std::string& why);
  void schedule_reregister();
  void set_transport(bool multicast, std::optional<uint32_t> group);
  ctrl::ack_result dp_request(ctrl::msg& m);
  void drain_events();
  void drop(rx_drop d, uint32_t src, const std::string& why);

  const gm_config& _cfg;
  gm_io _io;
  dp_port* _dp;
  const ops_clock& _clock;
  gm_log& _log;
  event_trace& _trace;

  state _state = state::idle;
  std::size_t _server = 0;  ///< index into _cfg.servers of the KS being tried / registered
  std::unique_ptr<main_mode_initiator> _mm;
  std::unique_ptr<phase1_sa> _p1;  ///< phase-1 SA with the KS (GDOI_IDLE)
  std::unique_ptr<pull_initiator> _pull;
  mono_time _retransmit_at{};
  uint32_t _retransmits = 0;
  mono_time _backoff_until{};
  std::optional<mono_time> _reregister_at;

  std::optional<rekey_receiver> _receiver;
  std::optional<sa_kek> _kek_policy;
  mono_time _kek_installed{};
  bool _multicast = false;
  policy_indexer _indexer;
  std::map<uint32_t, installed_sa> _sas;  ///< by SPI
  std::vector<scheduled> _schedule;
  std::vector<std::string> _acl_text;
  uint32_t _acl_from = 0;
  bool _variant_logged = false;
  bool _push_variant_logged = false;
  bool _ack_type_logged = false;
  std::string _last_reject;

  uint32_t _attempts = 0;
  uint32_t _failed_rounds = 0;  ///< consecutive rounds in which no KS answered
  uint32_t _successes = 0;
  uint64_t _rekeys_total = 0;
  uint64_t _rekeys_since_reg = 0;
  uint64_t _unicast_rekeys = 0;
  uint64_t _multicast_rekeys = 0;
  uint64_t _acks_sent = 0;
  uint32_t _last_rekey_from = 0;
  uint32_t _last_rekey_seq = 0;
  std::optional<mono_time> _last_rekey_at;
  std::optional<uint64_t> _pt_ms;  ///< KS pseudotime at _pt_at (`Replay Value`)
  mono_time _pt_at{};
  uint64_t _drops[rx_drop_count] = {};
};

}  // namespace gm::control::gmd
