// Bringing up the two ethdevs the workers poll. What the device reports (queue limits, MTU
// range, RSS hash types, offloads) decides the configuration, so the same code serves a PCI
// NIC and a vdev; a failure says which port, which step and which limit, so that an operator
// with a real NIC can act on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <rte_mempool.h>

namespace gm::dataplane {

/// Bytes of mbuf data room (headroom not included) for `mtu`: the workers need each packet
/// in one segment with room to grow by ESP, so a jumbo MTU needs jumbo mbufs (2048 bytes,
/// DPDK's default, serves MTUs up to ~1900).
uint32_t mbuf_data_room(uint16_t mtu);

struct port_ref {
  uint16_t id = 0;
  std::string name;  ///< as the config names it (`lan.dev`), for messages
  const char* role = "";  ///< "lan" or "wan"
};

/// Configures `port` with `queues` RX and TX queues (worker i owns queue i), MTU `mtu`, RSS
/// over IP addresses and TCP/UDP ports where it has more than one queue, and starts it.
/// On failure returns false with `error` set to a sentence naming the port. Sentences for
/// the operator that are not failures (e.g. no RSS) are appended to `notes`.
bool setup_port(const port_ref& port, uint16_t queues, uint16_t mtu, rte_mempool* pool,
                std::string& error, std::vector<std::string>& notes);

/// Stops the `started` ports and closes every port. Returns false where the process must
/// then leave by _exit() instead of rte_eal_cleanup() (a memif port: see port_setup.cc).
bool close_ports(const std::vector<uint16_t>& started);

/// A port's link as the main loop last saw it.
struct link_state {
  bool up = false;
  uint64_t changes = 0;  ///< up<->down transitions since start-up
  uint32_t ups = 0;      ///< times the link was seen coming up, the first sighting included
};

/// The ports' links, for the operator. At start-up wait_up() waits for them; afterwards
/// poll() returns a line for each port whose link went up or down since the last call, in
/// IOS's words (%LINK-3-UPDOWN), and counts the changes. Polled (not LSC interrupts) so
/// that every PMD reports the same way.
class link_watch {
 public:
  explicit link_watch(std::vector<port_ref> ports);
  /// Waits until every link is up, `timeout_ms` has passed (NICs take a few seconds to
  /// negotiate; vdevs are up at once, memif when its peer connects) or `quit` is set (a
  /// signal). Returns a line for each port: its role, name and link as DPDK states it.
  std::vector<std::string> wait_up(unsigned timeout_ms, const std::atomic<bool>& quit);
  std::vector<std::string> poll();
  bool all_up() const;
  const std::vector<link_state>& states() const { return _states; }

 private:
  std::vector<port_ref> _ports;
  std::vector<link_state> _states;
};

}  // namespace gm::dataplane
