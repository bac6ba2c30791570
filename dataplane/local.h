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

/// Whether `addr` (network order) is lan.ip or wan.ip (0 never is).
bool is_ours(uint32_t addr, const port_side& lan, const port_side& wan);

/// Whether `m` (data at its IPv4 header) is addressed to lan.ip or wan.ip.
bool for_gm(const rte_mbuf* m, const port_side& lan, const port_side& wan);

/// Sends frames the GM made or answered itself (ARP, echo replies: Ethernet included) out
/// of `side` as they are; those the queue does not take are freed, since the asker asks
/// again. Returns how many were sent.
uint16_t send_back(const port_side& side, rte_mbuf** frames, uint16_t n);

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
