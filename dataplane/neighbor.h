// ARP on the data plane ports: answering for the port's own address, and finding the
// next hop's MAC when the config gives its address (next_hop_ip) instead of its MAC.
// The LAN hosts and the WAN router then need no static ARP entry for the GM, and the GM
// none for them: a GM dropped into a lab behaves like the router it stands in for.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

struct rte_mbuf;
struct rte_mempool;

namespace gm::dataplane {

struct port_side;
struct port_counters;

/// One port's next hop, resolved by ARP. Written by whichever worker receives the next
/// hop's ARP (request or reply), read by every worker once a burst: a relaxed 64-bit
/// load and store, no lock.
struct alignas(64) next_hop {
  uint32_t ip = 0;  ///< network order
  /// The MAC in the low 48 bits (first byte lowest), `resolved` set once one is known.
  std::atomic<uint64_t> mac{0};
  static constexpr uint64_t resolved = uint64_t{1} << 48;

  static uint64_t pack(const uint8_t* mac6);
  static std::array<uint8_t, 6> unpack(uint64_t v);
};

/// What an ARP frame received on a port came to.
enum class arp_verdict : uint8_t {
  not_arp,   ///< not a well-formed Ethernet/IPv4 ARP frame: the caller drops it
  answered,  ///< a request for the port's address: the frame is now the reply, send it
  consumed,  ///< taken (the next hop learned from it, or not for us): the caller frees it
};

/// Handles one frame whose EtherType is ARP on `side`: learns the next hop's MAC from any
/// ARP whose sender is side.nh->ip, and turns a request for side.ip into its reply in place
/// (RFC 826; the counters say which). Nothing is answered where side.ip is 0.
arp_verdict arp_input(const port_side& side, rte_mbuf* m, port_counters& c);

/// Worker 0's ARP clock for one port: when the next request for the next hop is due, the
/// MAC it last saw, and the link-up count it last announced.
struct arp_timer {
  uint64_t due_ns = 0;
  uint64_t seen = 0;
  uint32_t link_ups = 0;
};

/// What a port sends of its own accord, called by worker 0 every poll:
/// - an announcement (gratuitous ARP for side.ip) each time side.link_ups moves;
/// - a request for side.nh->ip every arp_retry_ns while unresolved, arp_refresh_ns after
///   the MAC was last learned or changed, and at once after the link comes up. A MAC is
///   never forgotten for want of an answer, as a router keeps its ARP entry while the
///   neighbour is quiet; the answer to a refresh, or its gratuitous ARP, moves it.
void arp_tick(const port_side& side, rte_mempool* pool, uint64_t now_ns, arp_timer& t,
              port_counters& c);

/// "02:00:00:00:01:02" and "192.0.2.1" (network order in), for logs and telemetry.
std::string format_mac(const std::array<uint8_t, 6>& mac);
std::string format_ipv4(uint32_t ip);

/// The main loop's view of the next hops: a line for each one resolved or moved since the
/// last call. `names` are the ports as the logs call them ("wan port net_tap1").
class next_hop_watch {
 public:
  next_hop_watch(std::vector<const next_hop*> hops, std::vector<std::string> names);
  std::vector<std::string> poll();

 private:
  std::vector<const next_hop*> _hops;
  std::vector<std::string> _names;
  std::vector<uint64_t> _seen;
};

inline constexpr uint64_t arp_retry_ns = 1'000'000'000ull;
inline constexpr uint64_t arp_refresh_ns = 60'000'000'000ull;

}  // namespace gm::dataplane
