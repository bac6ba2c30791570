#include "dataplane/local.h"

#include <cstring>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dataplane/burst.h"
#include "dataplane/worker.h"

namespace gm::dataplane {

namespace {

constexpr uint8_t ipproto_icmp = 1;
constexpr uint8_t ipproto_esp = 50;

// echo_reply, then its Ethernet header back and turned around.
bool echo_reply_on_wire(rte_mbuf* m, const port_side& in) {
  if (!echo_reply(m)) return false;
  // strip_l2 only moved the data offset: the Ethernet header is still in front.
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, sizeof(rte_ether_hdr)));
  eth->dst_addr = eth->src_addr;
  std::memcpy(eth->src_addr.addr_bytes, in.src_mac.data(), 6);
  return true;
}

}  // namespace

bool is_ours(uint32_t addr, const port_side& lan, const port_side& wan) {
  return addr != 0 && (addr == lan.ip || addr == wan.ip);
}

uint16_t send_back(const port_side& side, rte_mbuf** frames, uint16_t n) {
  const uint16_t sent = rte_eth_tx_burst(side.port, side.queue, frames, n);
  for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(frames[i]);
  return sent;
}

bool echo_reply(rte_mbuf* m) {
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  const uint32_t tl = rte_be_to_cpu_16(ip->total_length);
  if (ip->version_ihl != 0x45 || ip->next_proto_id != ipproto_icmp ||
      tl < sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr) || tl > len ||
      (ip->fragment_offset &
       rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
    return false;
  }
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  const uint32_t icmp_len = tl - sizeof(rte_ipv4_hdr);
  if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0 ||
      rte_raw_cksum(icmp, icmp_len) != 0xffff) {
    return false;
  }
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  icmp->icmp_cksum = 0;
  // rte_raw_cksum sums native-order words, so its complement is stored as it is.
  icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, icmp_len));
  const rte_be32_t from = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = from;
  ip->time_to_live = 64;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  rte_pktmbuf_trim(m, static_cast<uint16_t>(len - tl));  // Ethernet padding, ESP leftovers
  return true;
}

bool for_gm(const rte_mbuf* m, const port_side& lan, const port_side& wan) {
  return is_ours(rte_pktmbuf_mtod(m, const rte_ipv4_hdr*)->dst_addr, lan, wan);
}

uint16_t take_local(const port_side& in, const port_side& lan, const port_side& wan,
                    rte_mbuf** pkts, uint16_t n, port_counters& c, bool esp_through) {
  if (lan.ip == 0 && wan.ip == 0) return n;
  uint16_t keep = 0;
  rte_mbuf* replies[max_burst];
  uint16_t nreplies = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (!for_gm(m, lan, wan) ||
        (esp_through && rte_pktmbuf_mtod(m, const rte_ipv4_hdr*)->next_proto_id == ipproto_esp))
        [[likely]] {
      pkts[keep++] = m;
      continue;
    }
    if (nreplies < max_burst && echo_reply_on_wire(m, in)) {
      replies[nreplies++] = m;
      ++c.echo_requests;
    } else {
      ++c.drops[static_cast<std::size_t>(drop_reason::for_us)];
      rte_pktmbuf_free(m);
    }
  }
  if (nreplies > 0) [[unlikely]] send_back(in, replies, nreplies);
  return keep;
}

}  // namespace gm::dataplane
