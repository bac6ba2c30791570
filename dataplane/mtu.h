// Keeping encrypted packets within the WAN MTU (spec section 3, step 3): TCP MSS clamping
// (IOS `ip tcp adjust-mss`), fragmentation before encryption, and for DF packets a drop
// with an ICMP "fragmentation needed" to the source so PMTUD works through the GM.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

namespace gm::dataplane {

/// Lowers the MSS option of a TCP SYN to `mss` (data at the IPv4 header). Returns true if
/// the packet was changed. Checksums are updated incrementally.
bool clamp_mss(rte_mbuf* m, uint16_t mss);

/// Splits an IPv4 packet (data at the IP header) into fragments of at most `max_len`
/// bytes each, as new single-segment mbufs from `pool`. Returns the number written to
/// `out` (0 on failure, e.g. DF set or no room); the original is left untouched.
uint16_t fragment_ipv4(const rte_mbuf* m, uint16_t max_len, rte_mempool* pool, rte_mbuf** out,
                       uint16_t out_cap);

/// Builds ICMP type 3 code 4 (fragmentation needed, next-hop MTU `mtu`) from `src_ip`
/// (network order) back to the source of `m`. Returns nullptr if no mbuf is available.
rte_mbuf* icmp_frag_needed(const rte_mbuf* m, uint16_t mtu, uint32_t src_ip, rte_mempool* pool);

}  // namespace gm::dataplane
