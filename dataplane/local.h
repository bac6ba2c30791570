// Packets addressed to the GM itself: a port's `ip` on either port. A router does not
// forward what is for it: an ICMP echo request is answered (operators ping their gateway),
// anything else is dropped as for_us. gm-control's GDOI runs on a kernel interface, never
// on these ports (docs/real-nics.md).
#pragma once

#include <cstdint>

struct rte_mbuf;

namespace gm::dataplane {

struct port_counters;
struct port_side;

/// Takes out of pkts[0..n) (IPv4, Ethernet stripped, arrived on `in`) the packets whose
/// destination is lan.ip or wan.ip; keeps the rest, in order, and returns their count.
/// Echo requests leave `in` as replies to the frame's source; the others are dropped.
uint16_t take_local(const port_side& in, const port_side& lan, const port_side& wan,
                    rte_mbuf** pkts, uint16_t n, port_counters& c);

}  // namespace gm::dataplane
