#include "dataplane/neighbor.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/local.h"
#include "dataplane/worker.h"

namespace gm::dataplane {

uint64_t next_hop::pack(const uint8_t* mac6) {
  uint64_t v = 0;
  for (int i = 5; i >= 0; --i) v = v << 8 | mac6[i];
  return v | resolved;
}

std::array<uint8_t, 6> next_hop::unpack(uint64_t v) {
  std::array<uint8_t, 6> mac{};
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(v >> (8 * i));
  return mac;
}

namespace {

constexpr uint16_t frame_len = sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr);

bool unicast(const rte_ether_addr& a) {
  return rte_is_unicast_ether_addr(&a) && !rte_is_zero_ether_addr(&a);
}

}  // namespace

arp_verdict arp_input(const port_side& side, rte_mbuf* m, port_counters& c) {
  if ((side.ip == 0 && side.nh == nullptr) || rte_pktmbuf_data_len(m) < frame_len) {
    return arp_verdict::not_arp;
  }
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  const uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
  if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
      arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4 ||
      (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
    return arp_verdict::not_arp;
  }
  ++c.arp_in;
  rte_arp_ipv4& a = arp->arp_data;
  // RFC 826's merge: any ARP from the next hop, request or reply, refreshes its MAC. A
  // gratuitous ARP after a failover moves it at once.
  if (side.nh != nullptr && a.arp_sip == side.nh->ip && unicast(a.arp_sha)) {
    const uint64_t v = next_hop::pack(a.arp_sha.addr_bytes);
    if (side.nh->mac.load(std::memory_order_relaxed) != v) {
      side.nh->mac.store(v, std::memory_order_relaxed);
      ++c.arp_learned;
    }
  }
  if (side.ip == 0 || op != RTE_ARP_OP_REQUEST || a.arp_tip != side.ip ||
      !unicast(a.arp_sha)) {
    return arp_verdict::consumed;
  }
  // The reply, in place: to the asker, from us.
  a.arp_tha = a.arp_sha;
  a.arp_tip = a.arp_sip;
  std::memcpy(a.arp_sha.addr_bytes, side.src_mac.data(), 6);
  a.arp_sip = side.ip;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  eth->dst_addr = a.arp_tha;
  std::memcpy(eth->src_addr.addr_bytes, side.src_mac.data(), 6);
  return arp_verdict::answered;
}

namespace {

// A broadcast ARP request for `target` from this port: the next hop's address, or ours
// (an announcement, RFC 5227 section 3: sender and target both ours).
bool send_request(const port_side& side, rte_mempool* pool, uint32_t target) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return false;
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, frame_len));
  if (eth == nullptr) {
    rte_pktmbuf_free(m);
    return false;
  }
  std::memset(eth, 0, frame_len);
  std::memset(eth->dst_addr.addr_bytes, 0xff, 6);
  std::memcpy(eth->src_addr.addr_bytes, side.src_mac.data(), 6);
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = 4;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
  std::memcpy(arp->arp_data.arp_sha.addr_bytes, side.src_mac.data(), 6);
  arp->arp_data.arp_sip = side.ip;
  arp->arp_data.arp_tip = target;
  return send_back(side, &m, 1) == 1;
}

}  // namespace

void arp_tick(const port_side& side, rte_mempool* pool, uint64_t now_ns, arp_timer& t,
              port_counters& c) {
  // Each time the link comes up (the first time included), the port announces itself, so
  // that neighbours holding an old MAC for our address (another box, before a swap) move,
  // and asks for its next hop at once: behind that link it may be another device now.
  bool link_came_up = false;
  if (side.link_ups != nullptr) {
    if (const uint32_t ups = side.link_ups->load(std::memory_order_relaxed); ups != t.link_ups) {
      t.link_ups = ups;
      link_came_up = true;
      c.arp_announcements += send_request(side, pool, side.ip) ? 1 : 0;
    }
  }
  if (side.nh == nullptr) return;
  const uint64_t v = side.nh->mac.load(std::memory_order_relaxed);
  const bool known = (v & next_hop::resolved) != 0;
  if (v != t.seen) {  // just learned or moved, by whichever worker: fresh for a while
    t.seen = v;
    if (known) t.due_ns = now_ns + arp_refresh_ns;
  }
  if (now_ns < t.due_ns && !link_came_up) return;
  t.due_ns = now_ns + (known ? arp_refresh_ns : arp_retry_ns);
  // Not sent (no mbuf, queue full): asked again when next due.
  c.arp_requests += send_request(side, pool, side.nh->ip) ? 1 : 0;
}

std::string format_mac(const std::array<uint8_t, 6>& m) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return text;
}

std::string format_ipv4(uint32_t ip) {
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &ip, text, sizeof text);
  return text;
}

next_hop_watch::next_hop_watch(std::vector<const next_hop*> hops, std::vector<std::string> names)
    : _hops(std::move(hops)), _names(std::move(names)), _seen(_hops.size(), 0) {}

std::vector<std::string> next_hop_watch::poll() {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < _hops.size(); ++i) {
    if (_hops[i] == nullptr) continue;
    const uint64_t v = _hops[i]->mac.load(std::memory_order_relaxed);
    if (v == _seen[i]) continue;
    const std::string was = (_seen[i] & next_hop::resolved) != 0
                                ? " (was " + format_mac(next_hop::unpack(_seen[i])) + ")"
                                : "";
    _seen[i] = v;
    lines.push_back(_names[i] + ": next hop " + format_ipv4(_hops[i]->ip) + " is at " +
                    format_mac(next_hop::unpack(v)) + was);
  }
  return lines;
}

}  // namespace gm::dataplane
