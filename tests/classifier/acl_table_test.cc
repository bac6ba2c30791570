// First: 22.11's generic rte_vect.h (which rte_acl.h pulls in) declares its functions
// without C++ guards, so it must be seen inside extern "C" before anything includes it.
extern "C" {
#include <rte_vect.h>
}

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "classifier/acl_table.h"
#include "tests/test_eal.h"

namespace gm::classifier {
namespace {

// The KS ACL of spec section 3 (seed 000): the reference test case.
const char* const seed_acl[] = {
    "deny icmp any any",
    "deny eigrp any any",
    "deny ip any 224.0.0.0 0.255.255.255",
    "deny ip 224.0.0.0 0.255.255.255 any",
    "deny udp any port = 848 any port = 848",
    "permit ip any any",
};

policy make_policy(std::vector<std::string> ks, std::vector<std::string> local = {},
                   uint32_t sa = 7) {
  policy p;
  for (const auto& l : local) {
    ace a;
    EXPECT_EQ(parse_ace(l, sa, a), "") << l;
    p.local.push_back(a);
  }
  for (const auto& l : ks) {
    ace a;
    EXPECT_EQ(parse_ace(l, sa, a), "") << l;
    p.ks.push_back(a);
  }
  return p;
}

uint32_t ip4(const char* s) {
  uint32_t a = 0;
  unsigned b[4];
  sscanf(s, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
  for (unsigned x : b) a = a << 8 | x;
  return a;
}

rte_mbuf* packet(uint8_t proto, const char* src, const char* dst, uint16_t sport = 0,
                 uint16_t dport = 0, uint8_t ihl_words = 5, uint16_t frag = 0) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::g_pool);
  const uint16_t len = static_cast<uint16_t>(ihl_words * 4 + 8);
  auto* p = rte_pktmbuf_mtod(m, uint8_t*);
  rte_pktmbuf_append(m, len);
  std::memset(p, 0, len);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p);
  ip->version_ihl = static_cast<uint8_t>(0x40 | ihl_words);
  ip->total_length = rte_cpu_to_be_16(len);
  ip->next_proto_id = proto;
  ip->fragment_offset = rte_cpu_to_be_16(frag);
  ip->src_addr = rte_cpu_to_be_32(ip4(src));
  ip->dst_addr = rte_cpu_to_be_32(ip4(dst));
  auto* ports = reinterpret_cast<uint16_t*>(p + ihl_words * 4);
  ports[0] = rte_cpu_to_be_16(sport);
  ports[1] = rte_cpu_to_be_16(dport);
  return m;
}

uint32_t classify_one(const acl_table& t, rte_mbuf* m, bool mirror = false) {
  uint32_t r = 0;
  t.classify(&m, 1, &r, mirror);
  rte_pktmbuf_free(m);
  return r;
}

const uint32_t bypass = result::make(action::bypass, 0);
const uint32_t protect7 = result::make(action::protect, 7);

TEST(acl_table, the_seed_acl_bypasses_control_traffic_and_protects_the_rest) {
  std::string err;
  auto t = acl_table::build(make_policy({std::begin(seed_acl), std::end(seed_acl)}), err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_EQ(classify_one(*t, packet(1, "10.1.1.1", "10.2.2.2")), bypass);           // ICMP
  EXPECT_EQ(classify_one(*t, packet(88, "10.1.1.1", "224.0.0.10")), bypass);        // EIGRP
  EXPECT_EQ(classify_one(*t, packet(17, "10.1.1.1", "224.1.1.1", 5, 5)), bypass);   // to mcast
  EXPECT_EQ(classify_one(*t, packet(17, "10.1.1.1", "239.1.1.1", 5, 5)), protect7)
      << "the seed ACL denies 224.0.0.0/8 only, as written";
  EXPECT_EQ(classify_one(*t, packet(17, "224.1.1.1", "10.1.1.1", 5, 5)), bypass);   // from mcast
  EXPECT_EQ(classify_one(*t, packet(17, "10.0.0.1", "10.0.0.2", 848, 848)), bypass);  // GDOI
  EXPECT_EQ(classify_one(*t, packet(17, "10.0.0.1", "10.0.0.2", 848, 849)), protect7);
  EXPECT_EQ(classify_one(*t, packet(17, "10.0.0.1", "10.0.0.2", 847, 848)), protect7);
  EXPECT_EQ(classify_one(*t, packet(6, "10.1.1.1", "10.2.2.2", 40000, 80)), protect7);
  EXPECT_EQ(classify_one(*t, packet(17, "10.1.1.1", "10.2.2.2", 848, 848, 6)), bypass)
      << "IP options must not move the port match";
  EXPECT_EQ(classify_one(*t, packet(50, "10.1.1.1", "10.2.2.2")), protect7);
}

TEST(acl_table, deny_always_wins_over_a_later_permit_isr4300_bug) {
  std::string err;
  auto t = acl_table::build(
      make_policy({"permit ip 10.0.0.0 0.255.255.255 any", "permit ip any any"},
                  {"deny tcp host 10.1.1.1 any eq 22", "deny ip any host 10.9.9.9"}),
      err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_EQ(classify_one(*t, packet(6, "10.1.1.1", "10.2.2.2", 1000, 22)), bypass);
  EXPECT_EQ(classify_one(*t, packet(6, "10.1.1.1", "10.2.2.2", 1000, 23)), protect7);
  EXPECT_EQ(classify_one(*t, packet(17, "10.3.3.3", "10.9.9.9", 1, 2)), bypass);
  EXPECT_EQ(classify_one(*t, packet(17, "10.3.3.3", "10.9.9.8", 1, 2)), protect7);
}

TEST(acl_table, first_match_wins_in_ks_order) {
  std::string err;
  auto t = acl_table::build(make_policy({"permit udp any any range 1000 2000",
                                         "deny udp any any", "permit ip any any"}),
                            err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_EQ(classify_one(*t, packet(17, "1.1.1.1", "2.2.2.2", 5, 1500)), protect7);
  EXPECT_EQ(classify_one(*t, packet(17, "1.1.1.1", "2.2.2.2", 5, 2001)), bypass);
  EXPECT_EQ(classify_one(*t, packet(6, "1.1.1.1", "2.2.2.2", 5, 2001)), protect7);
}

TEST(acl_table, mirror_checks_inbound_packets_against_the_senders_acl) {
  std::string err;
  auto t = acl_table::build(
      make_policy({"permit tcp 10.1.0.0 0.0.255.255 eq 5000 10.2.0.0 0.0.255.255"}), err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_EQ(classify_one(*t, packet(6, "10.1.0.5", "10.2.0.6", 5000, 9)), protect7);
  EXPECT_EQ(classify_one(*t, packet(6, "10.2.0.6", "10.1.0.5", 9, 5000), true), protect7);
  EXPECT_EQ(classify_one(*t, packet(6, "10.2.0.6", "10.1.0.5", 9, 5000), false), bypass);
}

TEST(acl_table, malformed_packets_are_discarded_and_no_match_is_bypass) {
  std::string err;
  auto t = acl_table::build(make_policy({"permit ip host 1.1.1.1 any"}), err);
  ASSERT_NE(t, nullptr) << err;
  rte_mbuf* m = packet(6, "1.1.1.1", "2.2.2.2");
  rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - 10);
  EXPECT_EQ(result::act(classify_one(*t, m)), action::discard);
  EXPECT_EQ(classify_one(*t, packet(6, "1.1.1.2", "2.2.2.2")), bypass);
  auto empty = acl_table::build(policy{}, err);
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(classify_one(*empty, packet(6, "1.1.1.2", "2.2.2.2")), bypass);
}

// A linear first-match reference: the oracle for the rte_acl build.
uint32_t reference(const policy& p, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sp,
                   uint16_t dp) {
  auto match_prefix = [](const prefix& x, uint32_t a) {
    return x.len == 0 || (a >> (32 - x.len)) == (x.addr >> (32 - x.len));
  };
  for (const auto* list : {&p.local, &p.ks}) {
    for (const ace& a : *list) {
      if ((a.proto == 0 || a.proto == proto) && match_prefix(a.src, src) &&
          match_prefix(a.dst, dst) && sp >= a.sport.lo && sp <= a.sport.hi &&
          dp >= a.dport.lo && dp <= a.dport.hi) {
        return result::make(a.act, a.sa_index);
      }
    }
  }
  return bypass;
}

TEST(acl_table, ten_thousand_random_aces_agree_with_a_linear_reference) {
  std::mt19937 rng(42);
  policy p;
  for (int i = 0; i < 10000; ++i) {
    ace a;
    a.act = rng() % 4 == 0 ? action::bypass : action::protect;
    a.sa_index = a.act == action::protect ? 1 + rng() % 3 : 0;
    a.proto = static_cast<uint8_t>(std::array<int, 4>{0, 6, 17, 1}[rng() % 4]);
    a.src = {static_cast<uint32_t>(0x0a000000 | (rng() & 0xffff) << 8), 24};
    a.dst = {static_cast<uint32_t>(0x0a000000 | (rng() & 0xff) << 16), static_cast<uint8_t>(16)};
    if (a.proto == 6 || a.proto == 17) {
      const uint16_t lo = static_cast<uint16_t>(rng() % 60000);
      a.dport = {lo, static_cast<uint16_t>(lo + rng() % 5000)};
    }
    p.ks.push_back(a);
  }
  std::string err;
  auto t = acl_table::build(p, err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_EQ(t->rule_count(), 10000u);
  for (int i = 0; i < 3000; ++i) {
    const ace& pick = p.ks[rng() % p.ks.size()];
    const uint32_t src = pick.src.addr | (rng() & 0xff);
    const uint32_t dst = rng() % 2 ? pick.dst.addr | (rng() & 0xffff) : rng();
    const uint8_t proto = static_cast<uint8_t>(std::array<int, 3>{6, 17, 1}[rng() % 3]);
    const uint16_t sp = static_cast<uint16_t>(rng()), dp = static_cast<uint16_t>(rng() % 65536);
    char s[16], d[16];
    snprintf(s, sizeof s, "%u.%u.%u.%u", src >> 24, src >> 16 & 255, src >> 8 & 255, src & 255);
    snprintf(d, sizeof d, "%u.%u.%u.%u", dst >> 24, dst >> 16 & 255, dst >> 8 & 255, dst & 255);
    const bool l4 = proto != 1;
    ASSERT_EQ(classify_one(*t, packet(proto, s, d, l4 ? sp : 0, l4 ? dp : 0)),
              reference(p, proto, src, dst, l4 ? sp : 0, l4 ? dp : 0))
        << s << " -> " << d << " proto " << int(proto) << " dport " << dp;
  }
}

// Experimental in DPDK 22.11 (stable in 23.x): the deprecation warning is DPDK's marker.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
TEST(acl_table, avx512_bursts_agree_with_a_linear_reference) {
  // gm-dataplane raises DPDK's SIMD cap to 512 bits so rte_acl classifies with AVX-512
  // where the CPU has it (AVX2 or SSE otherwise): whole bursts of 32, as the workers do.
  const uint16_t before = rte_vect_get_max_simd_bitwidth();
  ASSERT_EQ(rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512), 0);
  std::mt19937 rng(7);
  policy p;
  for (int i = 0; i < 1000; ++i) {
    ace a;
    a.act = rng() % 4 == 0 ? action::bypass : action::protect;
    a.sa_index = a.act == action::protect ? 1 + rng() % 3 : 0;
    a.proto = static_cast<uint8_t>(std::array<int, 4>{0, 6, 17, 1}[rng() % 4]);
    a.src = {static_cast<uint32_t>(0x0a000000 | (rng() & 0xffff) << 8), 24};
    a.dst = {static_cast<uint32_t>(0x0a000000 | (rng() & 0xff) << 16), static_cast<uint8_t>(16)};
    if (a.proto == 6 || a.proto == 17) {
      const uint16_t lo = static_cast<uint16_t>(rng() % 60000);
      a.sport = {lo, static_cast<uint16_t>(lo + rng() % 5000)};
    }
    p.ks.push_back(a);
  }
  std::string err;
  auto t = acl_table::build(p, err);
  rte_vect_set_max_simd_bitwidth(before);
  ASSERT_NE(t, nullptr) << err;
  for (int burst = 0; burst < 100; ++burst) {
    const uint16_t n = static_cast<uint16_t>(burst % 10 == 0 ? 1 + rng() % 31 : 32);
    rte_mbuf* pkts[32];
    uint32_t want[32], got[32];
    for (uint16_t i = 0; i < n; ++i) {
      const ace& pick = p.ks[rng() % p.ks.size()];
      const uint32_t src = pick.src.addr | (rng() & 0xff);
      const uint32_t dst = rng() % 2 ? pick.dst.addr | (rng() & 0xffff) : rng();
      const uint8_t proto = static_cast<uint8_t>(std::array<int, 3>{6, 17, 1}[rng() % 3]);
      const uint16_t sp = static_cast<uint16_t>(rng()), dp = static_cast<uint16_t>(rng());
      char s[16], d[16];
      snprintf(s, sizeof s, "%u.%u.%u.%u", src >> 24, src >> 16 & 255, src >> 8 & 255, src & 255);
      snprintf(d, sizeof d, "%u.%u.%u.%u", dst >> 24, dst >> 16 & 255, dst >> 8 & 255, dst & 255);
      const bool l4 = proto != 1;
      pkts[i] = packet(proto, s, d, l4 ? sp : 0, l4 ? dp : 0);
      want[i] = reference(p, proto, src, dst, l4 ? sp : 0, l4 ? dp : 0);
    }
    t->classify(pkts, n, got, false);
    for (uint16_t i = 0; i < n; ++i) {
      EXPECT_EQ(got[i], want[i]) << "burst " << burst << " packet " << i;
      rte_pktmbuf_free(pkts[i]);
    }
  }
}
#pragma GCC diagnostic pop

TEST(parse_ace, clear_errors_for_what_it_does_not_understand) {
  ace a;
  EXPECT_NE(parse_ace("allow ip any any", 1, a).find("permit or deny"), std::string::npos);
  EXPECT_NE(parse_ace("permit foo any any", 1, a).find("unknown protocol"), std::string::npos);
  EXPECT_NE(parse_ace("permit ip 10.0.0.1 0.0.0.255 any", 1, a).find("wildcard"),
            std::string::npos);
  EXPECT_NE(parse_ace("permit ip 10.0.0.0 0.255.0.255 any", 1, a).find("wildcard"),
            std::string::npos);
  EXPECT_NE(parse_ace("permit ip any eq 80 any", 1, a).find("tcp or udp"), std::string::npos);
  EXPECT_NE(parse_ace("permit tcp any any eq 80 log", 1, a).find("unexpected 'log'"),
            std::string::npos);
  EXPECT_EQ(parse_ace("permit tcp any any range 80 90", 1, a), "");
  EXPECT_EQ(a.dport.lo, 80);
  EXPECT_EQ(a.dport.hi, 90);
  EXPECT_EQ(parse_ace("permit 47 host 1.2.3.4 any", 1, a), "");
  EXPECT_EQ(a.proto, 47);
  EXPECT_EQ(a.src.len, 32);
}

// Found by ace_parse_fuzz: a protocol number too long for unsigned long made stoul throw
// out_of_range, which nothing caught (gm-dataplane died on such a config line).
TEST(parse_ace, protocol_numbers_of_any_length_are_an_error_not_an_exception) {
  ace a;
  for (const char* l : {"deny 00000000002000000000000000000000000 any any",
                        "permit 99999999999999999999999 any any", "permit 256 any any",
                        "permit 0255 any any"}) {
    std::string err;
    EXPECT_NO_THROW(err = parse_ace(l, 1, a)) << l;
    EXPECT_NE(err.find("unknown protocol"), std::string::npos) << l << ": " << err;
  }
  EXPECT_EQ(parse_ace("permit 255 any any", 1, a), "");
  EXPECT_EQ(a.proto, 255);
  EXPECT_EQ(parse_ace("permit 007 any any", 1, a), "");
  EXPECT_EQ(a.proto, 7);
}

}  // namespace
}  // namespace gm::classifier
