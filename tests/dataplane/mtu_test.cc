#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "dataplane/mtu.h"
#include "tests/test_eal.h"

namespace gm::dataplane {
namespace {

rte_mbuf* ipv4(uint8_t proto, uint16_t payload, bool df, const uint8_t* l4 = nullptr,
               uint16_t l4_len = 0) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::g_pool);
  const uint16_t len = static_cast<uint16_t>(20 + payload);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, len));
  EXPECT_NE(p, nullptr) << "test packets must fit one mbuf";
  for (uint16_t i = 0; i < len; ++i) p[i] = static_cast<uint8_t>(i * 7);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0;
  ip->total_length = rte_cpu_to_be_16(len);
  ip->packet_id = rte_cpu_to_be_16(77);
  ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
  ip->time_to_live = 64;
  ip->next_proto_id = proto;
  ip->src_addr = rte_cpu_to_be_32(0x0a010101);
  ip->dst_addr = rte_cpu_to_be_32(0x0a020202);
  if (l4 != nullptr) std::memcpy(p + 20, l4, l4_len);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return m;
}

TEST(mtu, mss_of_a_syn_is_clamped_with_a_valid_checksum) {
  uint8_t tcp[24] = {};
  auto* th = reinterpret_cast<rte_tcp_hdr*>(tcp);
  th->src_port = rte_cpu_to_be_16(40000);
  th->dst_port = rte_cpu_to_be_16(80);
  th->data_off = 6 << 4;
  th->tcp_flags = RTE_TCP_SYN_FLAG;
  tcp[20] = 2;
  tcp[21] = 4;
  tcp[22] = 1460 >> 8;
  tcp[23] = 1460 & 0xff;
  rte_mbuf* m = ipv4(6, 24, true, tcp, 24);
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  auto* t = rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, 20);
  t->cksum = 0;
  t->cksum = rte_ipv4_udptcp_cksum(ip, t);
  EXPECT_TRUE(clamp_mss(m, 1360));
  const uint8_t* o = rte_pktmbuf_mtod_offset(m, const uint8_t*, 40);
  EXPECT_EQ(o[2] << 8 | o[3], 1360);
  EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(ip, t), 0);
  EXPECT_FALSE(clamp_mss(m, 1400)) << "never raises an MSS";
  t->tcp_flags = RTE_TCP_ACK_FLAG;
  EXPECT_FALSE(clamp_mss(m, 1000)) << "only SYNs carry MSS";
  rte_pktmbuf_free(m);
}

TEST(mtu, fragments_reassemble_to_the_original) {
  rte_mbuf* m = ipv4(17, 1900, false);
  rte_mbuf* f[16];
  const uint16_t n = fragment_ipv4(m, 700, test::g_pool, f, 16);
  ASSERT_EQ(n, 3);
  std::vector<uint8_t> payload(1900);
  uint32_t covered = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const auto* ip = rte_pktmbuf_mtod(f[i], const rte_ipv4_hdr*);
    EXPECT_LE(rte_pktmbuf_data_len(f[i]), 700);
    EXPECT_EQ(rte_ipv4_cksum(ip), 0);
    EXPECT_EQ(ip->packet_id, rte_cpu_to_be_16(77));
    const uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
    EXPECT_EQ((fo & RTE_IPV4_HDR_MF_FLAG) != 0, i + 1 < n);
    const uint32_t off = (fo & RTE_IPV4_HDR_OFFSET_MASK) * 8u;
    const uint32_t len = rte_be_to_cpu_16(ip->total_length) - 20u;
    std::memcpy(payload.data() + off, rte_pktmbuf_mtod_offset(f[i], const uint8_t*, 20), len);
    covered += len;
    rte_pktmbuf_free(f[i]);
  }
  EXPECT_EQ(covered, 1900u);
  EXPECT_EQ(std::memcmp(payload.data(), rte_pktmbuf_mtod_offset(m, const uint8_t*, 20), 1900), 0);
  rte_pktmbuf_free(m);
  rte_mbuf* d = ipv4(17, 1900, true);
  EXPECT_EQ(fragment_ipv4(d, 700, test::g_pool, f, 16), 0) << "DF packets are not fragmented";
  rte_pktmbuf_free(d);
}

TEST(mtu, icmp_fragmentation_needed_is_well_formed) {
  rte_mbuf* m = ipv4(17, 1600, true);
  rte_mbuf* r = icmp_frag_needed(m, 1418, rte_cpu_to_be_32(0x0a0101fe), test::g_pool);
  ASSERT_NE(r, nullptr);
  const auto* ip = rte_pktmbuf_mtod(r, const rte_ipv4_hdr*);
  EXPECT_EQ(rte_ipv4_cksum(ip), 0);
  EXPECT_EQ(ip->dst_addr, rte_cpu_to_be_32(0x0a010101));
  EXPECT_EQ(ip->src_addr, rte_cpu_to_be_32(0x0a0101fe));
  const uint8_t* icmp = rte_pktmbuf_mtod_offset(r, const uint8_t*, 20);
  EXPECT_EQ(icmp[0], 3);
  EXPECT_EQ(icmp[1], 4);
  EXPECT_EQ(icmp[6] << 8 | icmp[7], 1418);
  EXPECT_EQ(rte_raw_cksum(icmp, rte_pktmbuf_data_len(r) - 20), 0xffff);
  EXPECT_EQ(std::memcmp(icmp + 8, rte_pktmbuf_mtod(m, const uint8_t*), 28), 0);
  rte_pktmbuf_free(r);
  rte_pktmbuf_free(m);
}

}  // namespace
}  // namespace gm::dataplane
