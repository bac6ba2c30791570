#include "dataplane/mtu.h"

#include <algorithm>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "dataplane/icmp.h"

namespace gm::dataplane {

namespace {

// RFC 1624: checksum update when a 16-bit word changes from `old_v` to `new_v` (host order).
uint16_t csum_update(uint16_t csum_be, uint16_t old_v, uint16_t new_v) {
  uint32_t sum = static_cast<uint16_t>(~rte_be_to_cpu_16(csum_be)) + static_cast<uint16_t>(~old_v) +
                 new_v;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return rte_cpu_to_be_16(static_cast<uint16_t>(~sum));
}

}  // namespace

bool clamp_mss(rte_mbuf* m, uint16_t mss) {
  const uint32_t len = rte_pktmbuf_data_len(m);
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
  if (mss == 0 || ip->next_proto_id != 6 || len < ihl + sizeof(rte_tcp_hdr) ||
      (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
    return false;
  }
  auto* tcp = rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, ihl);
  if ((tcp->tcp_flags & RTE_TCP_SYN_FLAG) == 0) {
    return false;
  }
  const uint32_t doff = (tcp->data_off >> 4) * 4u;
  if (doff < sizeof(rte_tcp_hdr) || ihl + doff > len) {
    return false;
  }
  auto* opt = reinterpret_cast<uint8_t*>(tcp) + sizeof(rte_tcp_hdr);
  const uint8_t* end = reinterpret_cast<uint8_t*>(tcp) + doff;
  while (opt < end) {
    if (*opt == 0) break;            // end of options
    if (*opt == 1) { ++opt; continue; }  // NOP
    if (opt + 1 >= end || opt[1] < 2 || opt + opt[1] > end) break;
    if (opt[0] == 2 && opt[1] == 4) {
      const uint16_t cur = static_cast<uint16_t>(opt[2] << 8 | opt[3]);
      if (cur <= mss) return false;
      opt[2] = static_cast<uint8_t>(mss >> 8);
      opt[3] = static_cast<uint8_t>(mss);
      tcp->cksum = csum_update(tcp->cksum, cur, mss);
      return true;
    }
    opt += opt[1];
  }
  return false;
}

uint16_t fragment_ipv4(const rte_mbuf* m, uint16_t max_len, rte_mempool* pool, rte_mbuf** out,
                       uint16_t out_cap) {
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
  const uint32_t tl = rte_be_to_cpu_16(ip->total_length);
  const uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
  if ((frag & RTE_IPV4_HDR_DF_FLAG) != 0 || tl > rte_pktmbuf_data_len(m) || max_len < ihl + 8) {
    return 0;
  }
  // Fragment payloads are multiples of 8 bytes except the last (RFC 791).
  const uint32_t chunk = (max_len - ihl) & ~7u;
  const uint32_t payload = tl - ihl;
  const uint32_t count = (payload + chunk - 1) / chunk;
  if (count > out_cap) {
    return 0;
  }
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*) + ihl;
  const uint16_t base_off = frag & RTE_IPV4_HDR_OFFSET_MASK;
  const bool more_after = (frag & RTE_IPV4_HDR_MF_FLAG) != 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t off = i * chunk;
    const uint32_t n = std::min(chunk, payload - off);
    rte_mbuf* f = rte_pktmbuf_alloc(pool);
    char* p = f == nullptr ? nullptr : rte_pktmbuf_append(f, static_cast<uint16_t>(ihl + n));
    if (p == nullptr) {
      if (f != nullptr) rte_pktmbuf_free(f);
      for (uint32_t k = 0; k < i; ++k) rte_pktmbuf_free(out[k]);
      return 0;
    }
    std::memcpy(p, ip, ihl);  // options copied into every fragment: simple and allowed
    std::memcpy(p + ihl, data + off, n);
    auto* fip = reinterpret_cast<rte_ipv4_hdr*>(p);
    fip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ihl + n));
    const bool mf = i + 1 < count || more_after;
    fip->fragment_offset = rte_cpu_to_be_16(static_cast<uint16_t>(
        (base_off + off / 8) | (mf ? RTE_IPV4_HDR_MF_FLAG : 0)));
    fip->hdr_checksum = 0;
    fip->hdr_checksum = rte_ipv4_cksum(fip);
    out[i] = f;
  }
  return static_cast<uint16_t>(count);
}

rte_mbuf* icmp_frag_needed(const rte_mbuf* m, uint16_t mtu, uint32_t src_ip, rte_mempool* pool) {
  return icmp_error(m, 3, 4, mtu, src_ip, pool);  // destination unreachable, frag needed
}

}  // namespace gm::dataplane
