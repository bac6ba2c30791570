// A run-to-completion worker: one per lcore, owning one RX and one TX queue on each port.
//   LAN: rx -> IPv4 check (ARP aside) -> for us? -> TTL -> classify -> encrypt (per SA) /
//        bypass -> WAN tx (to the next hop, static or by ARP)
//   WAN: rx -> IPv4 check (ARP aside) -> for us? -> ESP: decrypt -> TBAR -> inner policy;
//        clear: fail-close -> LAN tx
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include <rte_cycles.h>

#include "crypto/esp_lcore.h"
#include "dataplane/ctrl_ring.h"
#include "dataplane/drop_reason.h"
#include "dataplane/group_state.h"
#include "dataplane/icmp.h"
#include "dataplane/neighbor.h"
#include "dataplane/snapshot.h"
#include "tbar/check.h"
#include "tbar/replay_window.h"

namespace gm::dataplane {

struct alignas(64) port_counters {
  uint64_t rx = 0;
  uint64_t tx = 0;
  uint64_t fragmented = 0;  ///< packets split before encryption to fit the WAN MTU
  uint64_t mss_clamped = 0;
  /// What the GM took for itself, in rx but not in tx or drops (rx = tx of the other side
  /// + drops + arp_in + echo_requests): ARP frames (dataplane/neighbor.h), with the
  /// replies and requests it sent and the next hop's MAC changes; and ICMP echo requests
  /// to its addresses, answered (dataplane/local.h).
  uint64_t arp_in = 0;
  uint64_t arp_replies = 0;
  uint64_t arp_requests = 0;
  uint64_t arp_learned = 0;
  uint64_t arp_announcements = 0;
  uint64_t echo_requests = 0;
  std::array<uint64_t, drop_reason_count> drops{};
  port_counters& operator+=(const port_counters& o);
};

/// Where a worker's cycles go, per stage. Sampled: one poll in worker::stage_sample_every
/// is timed (rdtsc around each stage) and its cycles counted that many times over.
#define GM_STAGES(X) X(rx) X(parse) X(classify) X(encrypt) X(decrypt) X(replay_policy) X(tx)
enum class stage : uint8_t {
#define GM_X(name) name,
  GM_STAGES(GM_X)
#undef GM_X
      count
};
inline constexpr const char* stage_names[] = {
#define GM_X(name) #name,
    GM_STAGES(GM_X)
#undef GM_X
};
using stage_cycles = std::array<uint64_t, static_cast<std::size_t>(stage::count)>;

struct port_side {
  uint16_t port;
  uint16_t queue;
  std::array<uint8_t, 6> src_mac;
  std::array<uint8_t, 6> dst_mac;
  uint16_t mss_clamp = 0;  ///< clamp TCP SYNs received on this port; 0 = off
  uint32_t ip = 0;         ///< our address here (network order); 0 = send no ICMP, answer no ARP
  /// Where the next hop's MAC is resolved by ARP (config next_hop_ip); null: dst_mac is it.
  next_hop* nh = nullptr;
  /// How many times the link has come up, counted by the main loop; the port announces
  /// `ip` by ARP at each. Null where ip is 0.
  const std::atomic<uint32_t>* link_ups = nullptr;
};

struct worker {
  uint16_t index = 0;  ///< 0..workers-1; also the RCU thread id
  port_side lan{};
  port_side wan{};
  bool idle_backoff = true;
  uint16_t wan_mtu = 1500;
  /// For the frames the worker makes itself (ARP requests); worker 0 sends those.
  rte_mempool* pool = nullptr;
  std::array<arp_timer, 2> arp_timers{};  ///< LAN, WAN
  icmp_limit icmp_errors;  ///< "time exceeded" this worker may still send
  std::unique_ptr<crypto::esp_lcore> esp;
  tbar::check_lcore tbar;
  /// Counter-based replay windows by SA slot, with the SPI each belongs to (a reused
  /// slot starts a fresh window). Only meaningful with one worker: see config.
  std::array<tbar::replay_window, crypto::max_sa_slots> windows{};
  std::array<uint32_t, crypto::max_sa_slots> window_spi{};
  port_counters lan_counters;  ///< rx on LAN, tx to LAN, drops on packets that came from LAN
  port_counters wan_counters;
  uint64_t idle_sleeps = 0;
  /// CPU time (user + system) of the worker thread inside run(), from getrusage
  /// (RUSAGE_THREAD), set when run() returns. Packets per CPU-second leave out the time the thread was not running, which
  /// on a shared benchmark host is most of the noise in packets per second.
  uint64_t cpu_ns = 0;
  stage_cycles cycles{};

  /// A TSC read costs about 70 cycles on the development VMs; timing every stage of every
  /// burst took about 11 of them a poll, some 20 cycles a packet at 64 B. One poll in 16,
  /// scaled, gives the same averages over the millions of bursts a stats reading covers.
  static constexpr uint32_t stage_sample_every = 16;
  static_assert((stage_sample_every & (stage_sample_every - 1)) == 0);
  uint32_t polls = 0;
  bool timing = false;  ///< this poll is one of the sampled ones
  uint64_t stamp() const { return timing ? rte_rdtsc() : 0; }
  void charge(stage s, uint64_t since) {
    if (timing) cycles[static_cast<std::size_t>(s)] += (rte_rdtsc() - since) * stage_sample_every;
  }
  snapshot<group_state>* state = nullptr;
  const std::atomic<bool>* quit = nullptr;

  /// Where events for the control process go (unknown SPI, TBAR failures); may be null.
  const ctrl::rings* events = nullptr;
  uint64_t events_sent = 0;
  uint64_t events_suppressed = 0;
  std::array<uint64_t, 2> event_window_start_ns{};  ///< per event type
  std::array<uint32_t, 2> events_in_window{};
  /// At most this many events of each type per second per lcore reach the control process.
  static constexpr uint32_t max_events_per_s = 10;
  void send_event(const ctrl::msg& m, uint64_t now_ns);

  /// Reads the monotonic clock (ns); injected so tests can drive time.
  uint64_t (*clock_ns)() = nullptr;

  /// One pass over both ports; returns the number of packets received.
  uint16_t poll_once();
  /// Loops poll_once() until *quit, with idle back-off when enabled.
  void run();
};

/// rte_eal_remote_launch entry point; `arg` is a worker*.
int worker_main(void* arg);

uint64_t monotonic_ns();

}  // namespace gm::dataplane
