// Packets addressed to the GM itself: a port's `ip` on either port. A router does not
// forward what is for it: an ICMP echo request is answered (operators ping their gateway),
// anything else is dropped as for_us. gm-control's GDOI runs on a kernel interface, never
// on these ports (docs/real-nics.md). Decrypted packets for us are the worker's to answer
// (through the outbound path, so that the group's policy covers the reply).
#pragma once

#include <cstdint>

struct rte_mbuf;

namespace gm::dataplane {

struct port_counters;
struct port_side;

/// Whether `m` (data at its IPv4 header) is addressed to lan.ip or wan.ip.
bool for_gm(const rte_mbuf* m, const port_side& lan, const port_side& wan);

/// Turns an echo request (whole, unfragmented, no IP options, ICMP checksum right) into
/// its reply in place, at the IP header: from the address pinged, TTL 64. False: it is
/// not one, and `m` is unchanged.
bool echo_reply(rte_mbuf* m);

/// Takes out of pkts[0..n) (IPv4, Ethernet stripped, arrived on `in`) the packets whose
/// destination is lan.ip or wan.ip; keeps the rest, in order, and returns their count.
/// Echo requests leave `in` as replies to the frame's source; the others are dropped.
/// esp_through (the WAN side): ESP is kept whatever its destination. With header
/// preservation a peer's ESP to our LAN address carries a packet for us, which only its
/// decryption can tell.
uint16_t take_local(const port_side& in, const port_side& lan, const port_side& wan,
                    rte_mbuf** pkts, uint16_t n, port_counters& c, bool esp_through);

}  // namespace gm::dataplane
