#include "dataplane/icmp.h"

#include <algorithm>
#include <cstring>

#include <rte_ip.h>
#include <rte_mbuf.h>

namespace gm::dataplane {

rte_mbuf* icmp_error(const rte_mbuf* m, uint8_t type, uint8_t code, uint32_t rest,
                     uint32_t src_ip, rte_mempool* pool) {
  const auto* in = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  const uint32_t ihl = (in->version_ihl & 0xf) * 4u;
  // RFC 792: the offending header plus the first 8 bytes of its payload.
  const uint32_t quote = std::min<uint32_t>(ihl + 8, rte_pktmbuf_data_len(m));
  rte_mbuf* r = rte_pktmbuf_alloc(pool);
  if (r == nullptr) return nullptr;
  const uint16_t len = static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + 8 + quote);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(r, len));
  if (p == nullptr) {
    rte_pktmbuf_free(r);
    return nullptr;
  }
  std::memset(p, 0, len);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0xc0;  // network control
  ip->total_length = rte_cpu_to_be_16(len);
  ip->time_to_live = 64;
  ip->next_proto_id = 1;
  ip->src_addr = src_ip;
  ip->dst_addr = in->src_addr;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  uint8_t* icmp = p + sizeof(rte_ipv4_hdr);
  icmp[0] = type;
  icmp[1] = code;
  for (int i = 0; i < 4; ++i) icmp[4 + i] = static_cast<uint8_t>(rest >> (24 - 8 * i));
  std::memcpy(icmp + 8, in, quote);
  const uint16_t ck = rte_raw_cksum(icmp, 8 + quote);
  // rte_raw_cksum sums native-order words, so its complement is stored as it is.
  const uint16_t folded = static_cast<uint16_t>(~ck);
  std::memcpy(icmp + 2, &folded, sizeof(folded));
  return r;
}

bool icmp_error_allowed(const rte_mbuf* m) {
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
  if (ihl < sizeof(rte_ipv4_hdr) || rte_pktmbuf_data_len(m) < ihl) return false;
  if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) != 0) return false;
  const uint32_t src = rte_be_to_cpu_32(ip->src_addr);
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  const auto multicast = [](uint32_t a) { return (a >> 28) == 0xe; };
  if (dst == 0xffffffffu || multicast(dst) || src == 0 || src == 0xffffffffu ||
      multicast(src) || (src >> 24) == 127 || (src >> 28) == 0xf) {
    return false;
  }
  if (ip->next_proto_id == 1) {
    // About an ICMP error (or one too short to tell): never. Queries (echo...) may be.
    if (rte_pktmbuf_data_len(m) < ihl + 1) return false;
    const uint8_t type = *rte_pktmbuf_mtod_offset(m, const uint8_t*, ihl);
    if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12) return false;
  }
  return true;
}

bool icmp_limit::take(uint64_t now_ns) {
  if (now_ns - refilled_ns >= 1'000'000'000ull / per_s) {
    const uint64_t add = (now_ns - refilled_ns) / (1'000'000'000ull / per_s);
    tokens = static_cast<uint32_t>(std::min<uint64_t>(burst, tokens + add));
    refilled_ns = now_ns;
  }
  if (tokens == 0) return false;
  --tokens;
  return true;
}

}  // namespace gm::dataplane
