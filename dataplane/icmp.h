// ICMP errors the GM sends about packets it cannot forward (RFC 792, RFC 1812 4.3.2):
// "fragmentation needed" (dataplane/mtu.h) and "time exceeded in transit", which makes
// traceroute show the GMs.
#pragma once

#include <cstdint>

struct rte_mbuf;
struct rte_mempool;

namespace gm::dataplane {

/// An ICMP error from `src_ip` (network order) back to the source of `m` (data at its IPv4
/// header): `type`, `code`, the 4 bytes after the checksum (`rest`, host order), then the
/// offending header and the first 8 bytes of its payload. nullptr if no mbuf is free.
rte_mbuf* icmp_error(const rte_mbuf* m, uint8_t type, uint8_t code, uint32_t rest,
                     uint32_t src_ip, rte_mempool* pool);

/// Whether RFC 1812 4.3.2.7 lets a router answer `m` with an ICMP error: not about an ICMP
/// error, not a fragment other than the first, not to a broadcast or multicast address,
/// not from an address that names no single host.
bool icmp_error_allowed(const rte_mbuf* m);

/// How many "time exceeded" a worker may send: a token bucket of `burst`, refilled at
/// `per_s` a second (RFC 1812 4.3.2.8 asks routers to limit ICMP errors; a flood of
/// TTL-1 packets must not turn the GM into a generator). Per lcore, no atomics.
struct icmp_limit {
  static constexpr uint32_t per_s = 100;
  static constexpr uint32_t burst = 10;
  uint64_t refilled_ns = 0;
  uint32_t tokens = burst;
  bool take(uint64_t now_ns);
};

}  // namespace gm::dataplane
