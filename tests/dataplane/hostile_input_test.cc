// Hostile and unusual input through a whole worker (tests/dataplane_world.h: net_ring ports,
// the seed ACL, one SA per transform), one frame at a time, asserting the drop counter each
// lands in or what comes out. The WAN-side ESP matrix lives in pcap_integration_test.py;
// this covers the LAN side, clear WAN input, and the cases the fuzz targets found.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "tests/dataplane_world.h"

namespace gm::test {
namespace {

using bytes = std::vector<uint8_t>;

void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint16_t cksum(const uint8_t* p, std::size_t n) {
  uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

struct ip_opts {
  uint8_t proto = 17;
  uint8_t ttl = 64;
  bool df = false;
  uint32_t src = 0x0a010101;
  uint32_t dst = 0x0a020202;
  uint16_t sport = 3000, dport = 3001;
  bytes options;       ///< IP options, a multiple of 4 bytes
  int total_len = -1;  ///< -1: the true length; else written as is (a lie)
  uint16_t ethertype = 0x0800;
  bool syn_mss = false;  ///< TCP SYN with an MSS option of 1460
};

// Ethernet | IPv4 (+options) | UDP/TCP/ICMP header | payload.
bytes frame(std::size_t payload, const ip_opts& o = {}) {
  const std::size_t ihl = 20 + o.options.size();
  const std::size_t l4 = o.proto == 6 ? (o.syn_mss ? 24 : 20) : 8;
  bytes f(14 + ihl + l4 + payload, 0);
  f[0] = 2;
  f[5] = 1;
  put16(&f[12], o.ethertype);
  uint8_t* ip = &f[14];
  ip[0] = static_cast<uint8_t>(0x40 | ihl / 4);
  put16(ip + 2, o.total_len < 0 ? static_cast<uint32_t>(ihl + l4 + payload)
                                : static_cast<uint32_t>(o.total_len));
  put16(ip + 4, 0x1234);
  if (o.df) ip[6] = 0x40;
  ip[8] = o.ttl;
  ip[9] = o.proto;
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = static_cast<uint8_t>(o.src >> (24 - 8 * i));
    ip[16 + i] = static_cast<uint8_t>(o.dst >> (24 - 8 * i));
  }
  std::copy(o.options.begin(), o.options.end(), ip + 20);  // (memcpy from an empty vector is UB)
  put16(ip + 10, cksum(ip, ihl));
  uint8_t* l = ip + ihl;
  if (o.proto == 1) {
    l[0] = 8;  // echo request
  } else {
    put16(l, o.sport);
    put16(l + 2, o.dport);
    if (o.proto == 17) put16(l + 4, static_cast<uint32_t>(8 + payload));
    if (o.proto == 6) {
      l[12] = static_cast<uint8_t>(l4 / 4 << 4);
      if (o.syn_mss) {
        l[13] = 0x02;  // SYN
        l[20] = 2;     // MSS option
        l[21] = 4;
        put16(l + 22, 1460);
      }
    }
  }
  for (std::size_t i = 0; i < payload; ++i) l[l4 + i] = static_cast<uint8_t>(i);
  return f;
}

class hostile_input : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_wd == nullptr) g_wd = make_world();
  }
  void SetUp() override {
    wd().w.state = wd().states[0].get();  // aes-gcm-128 outbound
    before = wd().sum();
  }
  static world& wd() { return *g_wd; }

  struct result {
    std::vector<bytes> lan, wan;
    totals d;  ///< counters after minus before
  };
  result send(rte_ring* rx, const bytes& f) {
    const totals b = wd().sum();
    EXPECT_TRUE(wd().push(rx, f.data(), f.size()));
    result r;
    r.lan = world::drain(wd().lan_tx);
    r.wan = world::drain(wd().wan_tx);
    const totals a = wd().sum();
    r.d.drops = a.drops - b.drops;
    r.d.lan_tx = a.lan_tx - b.lan_tx;
    r.d.wan_tx = a.wan_tx - b.wan_tx;
    r.d.fragmented = a.fragmented - b.fragmented;
    r.d.encaps = a.encaps - b.encaps;
    r.d.decaps = a.decaps - b.decaps;
    for (std::size_t i = 0; i < drop_reason_count; ++i) {
      r.d.by_reason[i] = a.by_reason[i] - b.by_reason[i];
    }
    wd().check_no_leak();
    return r;
  }
  result lan(const bytes& f) { return send(wd().lan_rx, f); }
  result wan(const bytes& f) { return send(wd().wan_rx, f); }
  static uint64_t port_drop(const std::array<uint64_t, drop_reason_count>& a, drop_reason r) {
    return a[static_cast<std::size_t>(r)];
  }
  // Exactly one drop, for `reason`, charged to the given counters, and nothing sent.
  static void expect_only_drop(const result& r, drop_reason reason) {
    EXPECT_EQ(r.d.drops, 1u) << info(reason).name;
    EXPECT_EQ(r.d.by_reason[static_cast<std::size_t>(reason)], 1u) << info(reason).name;
    EXPECT_TRUE(r.lan.empty());
    EXPECT_TRUE(r.wan.empty());
  }

  static inline world* g_wd = nullptr;
  totals before;
};

TEST_F(hostile_input, lan_frames_that_are_not_ipv4_count_as_not_ipv4) {
  const uint64_t was = port_drop(wd().w.lan_counters.drops, drop_reason::not_ipv4);
  bytes runt = frame(0);
  runt.resize(14 + 19);  // one byte short of an IPv4 header
  expect_only_drop(lan(runt), drop_reason::not_ipv4);
  ip_opts v6;
  v6.ethertype = 0x86dd;
  expect_only_drop(lan(frame(20, v6)), drop_reason::not_ipv4);
  ip_opts arp;
  arp.ethertype = 0x0806;
  expect_only_drop(lan(frame(20, arp)), drop_reason::not_ipv4);
  ip_opts vlan;
  vlan.ethertype = 0x8100;  // 802.1Q: no VLAN support on the LAN port
  expect_only_drop(lan(frame(20, vlan)), drop_reason::not_ipv4);
  expect_only_drop(lan(bytes(14, 0)), drop_reason::not_ipv4);
  EXPECT_EQ(port_drop(wd().w.lan_counters.drops, drop_reason::not_ipv4), was + 5);
}

// `f` is ICMP time exceeded (11/0) sent on `side`, from `from` (host order) to the source
// of `probe` (a frame), quoting its IP header.
void expect_time_exceeded(const bytes& f, const dataplane::port_side& side, uint32_t from,
                          const bytes& probe) {
  check_sent_frame(f, side, 576, true);
  const uint8_t* ip = f.data() + 14;
  EXPECT_EQ(ip[9], 1);
  EXPECT_EQ(ip[20], 11);
  EXPECT_EQ(ip[21], 0);
  EXPECT_EQ(static_cast<uint32_t>(ip[12] << 24 | ip[13] << 16 | ip[14] << 8 | ip[15]), from);
  EXPECT_EQ(std::memcmp(ip + 16, probe.data() + 14 + 12, 4), 0);  // back to the prober
  EXPECT_EQ(std::memcmp(ip + 28 + 12, probe.data() + 14 + 12, 8), 0);  // quoted addresses
  EXPECT_EQ(cksum(ip + 20, f.size() - 14 - 20), 0);
}

TEST_F(hostile_input, lan_ttl_1_and_0_are_dropped_and_answered_with_time_exceeded) {
  for (uint8_t ttl : {0, 1}) {
    ip_opts o;
    o.ttl = ttl;
    const bytes probe = frame(20, o);
    const result r = lan(probe);
    EXPECT_EQ(r.d.drops, 1u);
    EXPECT_EQ(r.d.by_reason[static_cast<std::size_t>(drop_reason::ttl_expired)], 1u);
    EXPECT_TRUE(r.wan.empty());
    ASSERT_EQ(r.lan.size(), 1u);
    expect_time_exceeded(r.lan[0], wd().w.lan, 0x0a000001, probe);
  }
  ip_opts o;
  o.ttl = 2;
  const result r = lan(frame(20, o));
  EXPECT_EQ(r.d.encaps, 1u);
  ASSERT_EQ(r.wan.size(), 1u);
  EXPECT_EQ(r.wan[0][14 + 8], 1);  // outer TTL copies the decremented inner TTL
}

TEST_F(hostile_input, ttl_running_out_on_the_wan_side_is_answered_back_across_the_wan) {
  // Clear traffic (ICMP bypasses in the seed ACL): from the WAN address, out of the WAN.
  ip_opts clear;
  clear.proto = 1;
  clear.ttl = 1;
  bytes probe = frame(20, clear);
  result r = wan(probe);
  EXPECT_EQ(r.d.by_reason[static_cast<std::size_t>(drop_reason::ttl_expired)], 1u);
  EXPECT_TRUE(r.lan.empty());
  ASSERT_EQ(r.wan.size(), 1u);
  expect_time_exceeded(r.wan[0], wd().w.wan, 0xc0000201, probe);
  // A decrypted packet whose inner TTL runs out here (sent with TTL 2 through our own LAN
  // side): from the LAN address, through the outbound path (policy, then out of the WAN).
  ip_opts o;
  o.ttl = 2;
  probe = frame(20, o);
  const result out = lan(probe);
  ASSERT_EQ(out.wan.size(), 1u);
  r = wan(out.wan[0]);
  EXPECT_EQ(r.d.decaps, 1u);
  EXPECT_EQ(r.d.by_reason[static_cast<std::size_t>(drop_reason::ttl_expired)], 1u);
  EXPECT_TRUE(r.lan.empty());
  ASSERT_EQ(r.wan.size(), 1u);
  expect_time_exceeded(r.wan[0], wd().w.wan, 0x0a000001, probe);
  // Never about an ICMP error (RFC 1812 4.3.2.7).
  bytes about_error = frame(20, clear);
  about_error[14 + 20] = 11;
  put16(&about_error[14 + 22], 0);
  put16(&about_error[14 + 22], cksum(&about_error[14 + 20], 28));
  r = wan(about_error);
  EXPECT_EQ(r.d.by_reason[static_cast<std::size_t>(drop_reason::ttl_expired)], 1u);
  EXPECT_TRUE(r.wan.empty() && r.lan.empty());
}

// Found by outbound_fuzz: bypass traffic was forwarded in clear with a total length larger
// than the frame (spec section 3 step 1: malformed -> count and drop).
TEST_F(hostile_input, bypass_packets_whose_header_lies_are_dropped_not_forwarded) {
  ip_opts icmp;
  icmp.proto = 1;  // the seed ACL bypasses ICMP
  const result ok = lan(frame(20, icmp));
  EXPECT_EQ(ok.d.drops, 0u);
  ASSERT_EQ(ok.wan.size(), 1u);
  EXPECT_EQ(ok.d.encaps, 0u);
  icmp.total_len = 25970;
  expect_only_drop(lan(frame(20, icmp)), drop_reason::bad_inner_ip);
  icmp.total_len = 12;  // shorter than its own header
  expect_only_drop(lan(frame(20, icmp)), drop_reason::bad_inner_ip);
  // The same from the WAN: clear bypass traffic, header lying.
  icmp.total_len = 2000;
  expect_only_drop(wan(frame(20, icmp)), drop_reason::bad_outer_ip);
  icmp.total_len = -1;
  const result in = wan(frame(20, icmp));
  EXPECT_EQ(in.d.drops, 0u);
  EXPECT_EQ(in.lan.size(), 1u);
}

TEST_F(hostile_input, protected_packets_whose_header_lies_are_dropped_by_the_esp_stage) {
  ip_opts o;
  o.total_len = 1000;
  expect_only_drop(lan(frame(20, o)), drop_reason::bad_inner_ip);
  bytes ihl4 = frame(20);
  ihl4[14] = 0x44;  // unparseable: the classifier says discard
  expect_only_drop(lan(ihl4), drop_reason::policy_discard);
}

TEST_F(hostile_input, df_packets_too_big_for_the_wan_mtu_get_icmp_frag_needed) {
  ip_opts o;
  o.df = true;
  o.src = 0x0a0a0a0a;
  const result r = lan(frame(1500 - 28, o));  // a 1500-byte packet, WAN MTU 1400
  EXPECT_EQ(r.d.drops, 1u);
  EXPECT_EQ(r.d.by_reason[static_cast<std::size_t>(drop_reason::too_big)], 1u);
  EXPECT_TRUE(r.wan.empty());
  ASSERT_EQ(r.lan.size(), 1u);
  const uint8_t* ip = r.lan[0].data() + 14;
  EXPECT_EQ(ip[9], 1);                           // ICMP
  EXPECT_EQ(ip[16], 10);                         // to the source
  EXPECT_EQ(std::memcmp(ip + 12, "\x0a\x00\x00\x01", 4), 0);  // from lan.ip
  EXPECT_EQ(ip[20], 3);
  EXPECT_EQ(ip[21], 4);
  const uint32_t mtu = static_cast<uint32_t>(ip[26] << 8 | ip[27]);
  EXPECT_GT(mtu, 1300u);
  EXPECT_LT(mtu, 1400u);
  EXPECT_EQ(cksum(ip, 20), 0);
}

TEST_F(hostile_input, jumbo_packets_without_df_are_fragmented_then_encrypted) {
  const result r = lan(frame(3000));
  EXPECT_EQ(r.d.drops, 0u);
  EXPECT_EQ(r.d.fragmented, 1u);
  ASSERT_EQ(r.wan.size(), 3u);  // 3028 bytes in fragments of at most ~1350
  EXPECT_EQ(r.d.encaps, 3u);
  for (const bytes& f : r.wan) {
    check_sent_frame(f, wd().w.wan, wan_mtu, true);
    EXPECT_EQ(f[14 + 9], 50);
  }
  // Each fragment decrypts on the way back and leaves as an inner fragment.
  uint32_t inner_bytes = 0;
  for (const bytes& f : r.wan) {
    const result back = wan(f);
    EXPECT_EQ(back.d.drops, 0u);
    ASSERT_EQ(back.lan.size(), 1u);
    inner_bytes += static_cast<uint32_t>(back.lan[0].size() - 14 - 20);
  }
  EXPECT_EQ(inner_bytes, 8u + 3000u);
}

// Found by outbound_fuzz: the MTU check measured the frame, not the IP packet, so a small
// packet followed by a long Ethernet trailer was "fragmented" into one fragment, or, with
// DF set, dropped as too big with an ICMP to its source.
TEST_F(hostile_input, a_long_ethernet_trailer_does_not_count_against_the_mtu) {
  for (bool df : {false, true}) {
    ip_opts o;
    o.df = df;
    bytes f = frame(200, o);
    f.resize(f.size() + 1300, 0xee);  // 1528 bytes of IP + trailer, WAN MTU 1400
    const result r = lan(f);
    EXPECT_EQ(r.d.drops, 0u) << "df " << df;
    EXPECT_EQ(r.d.fragmented, 0u) << "df " << df;
    EXPECT_TRUE(r.lan.empty()) << "df " << df << ": no ICMP too-big";
    ASSERT_EQ(r.wan.size(), 1u) << "df " << df;
    EXPECT_EQ(r.d.encaps, 1u);
    const result back = wan(r.wan[0]);
    ASSERT_EQ(back.lan.size(), 1u);
    EXPECT_EQ(back.lan[0].size(), 14u + 20 + 8 + 200);  // the trailer was not carried
  }
}

TEST_F(hostile_input, ip_options_mss_clamp_and_gdoi_bypass) {
  ip_opts opt;
  opt.options = {1, 1, 1, 0};  // NOP NOP NOP EOL
  const result r = lan(frame(40, opt));
  EXPECT_EQ(r.d.drops, 0u);
  EXPECT_EQ(r.d.encaps, 1u);
  const result back = wan(r.wan.at(0));
  ASSERT_EQ(back.lan.size(), 1u);
  EXPECT_EQ(back.lan[0][14], 0x46);  // the options survived the round trip
  EXPECT_EQ(std::memcmp(&back.lan[0][14 + 20], opt.options.data(), 4), 0);

  ip_opts syn;
  syn.proto = 6;
  syn.syn_mss = true;
  const uint64_t clamped = wd().w.lan_counters.mss_clamped;
  const result s = lan(frame(0, syn));
  EXPECT_EQ(s.d.encaps, 1u);
  EXPECT_EQ(wd().w.lan_counters.mss_clamped, clamped + 1);
  const result sb = wan(s.wan.at(0));
  ASSERT_EQ(sb.lan.size(), 1u);
  EXPECT_EQ(sb.lan[0][14 + 20 + 22] << 8 | sb.lan[0][14 + 20 + 23], lan_mss);

  ip_opts gdoi;
  gdoi.sport = gdoi.dport = 848;  // GDOI must never be encrypted
  const result g = lan(frame(30, gdoi));
  EXPECT_EQ(g.d.encaps, 0u);
  ASSERT_EQ(g.wan.size(), 1u);
  EXPECT_EQ(g.wan[0][14 + 9], 17);
}

TEST_F(hostile_input, an_exhausted_gcm_iv_counter_drops_rather_than_reuses_an_iv) {
  const uint64_t saved = wd().w.esp->gcm_iv_counter;
  wd().w.esp->gcm_iv_counter = (uint64_t{1} << 40) - 1;  // the last IV of this lcore
  const result last = lan(frame(20));
  EXPECT_EQ(last.d.encaps, 1u);
  EXPECT_EQ(last.wan.size(), 1u);
  expect_only_drop(lan(frame(20)), drop_reason::iv_exhausted);
  wd().w.esp->gcm_iv_counter = saved;
}

TEST_F(hostile_input, clear_protected_traffic_on_the_wan_is_dropped_fail_close) {
  expect_only_drop(wan(frame(20)), drop_reason::clear_protected);
}

TEST_F(hostile_input, esp_for_an_unknown_spi_is_counted_without_an_sa) {
  bytes f = frame(40);
  f[14 + 9] = 50;
  put16(&f[14 + 10], 0);
  put16(&f[14 + 10], cksum(&f[14], 20));
  const uint64_t was = port_drop(wd().w.esp->no_sa.drops, drop_reason::unknown_spi);
  expect_only_drop(wan(f), drop_reason::unknown_spi);
  EXPECT_EQ(port_drop(wd().w.esp->no_sa.drops, drop_reason::unknown_spi), was + 1);
}

// --- ARP (dataplane/neighbor.h) ---------------------------------------------------------

// Ethernet + ARP (RFC 826, Ethernet/IPv4): op 1 request, 2 reply. Addresses host order.
bytes arp_frame(uint16_t op, const std::array<uint8_t, 6>& sha, uint32_t spa, uint32_t tpa,
                const std::array<uint8_t, 6>& eth_dst, uint8_t hlen = 6) {
  bytes f(60, 0);  // padded to the Ethernet minimum, as received from a wire
  std::copy(eth_dst.begin(), eth_dst.end(), f.begin());
  std::copy(sha.begin(), sha.end(), f.begin() + 6);
  put16(&f[12], 0x0806);
  put16(&f[14], 1);
  put16(&f[16], 0x0800);
  f[18] = hlen;
  f[19] = 4;
  put16(&f[20], op);
  std::copy(sha.begin(), sha.end(), f.begin() + 22);
  for (int i = 0; i < 4; ++i) {
    f[28 + i] = static_cast<uint8_t>(spa >> (24 - 8 * i));
    f[38 + i] = static_cast<uint8_t>(tpa >> (24 - 8 * i));
  }
  return f;
}

const std::array<uint8_t, 6> broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const std::array<uint8_t, 6> host_mac = {2, 0, 0, 0, 9, 9};

TEST_F(hostile_input, arp_requests_for_the_port_address_are_answered_on_that_port) {
  for (const bool on_lan : {true, false}) {
    const dataplane::port_side& side = on_lan ? wd().w.lan : wd().w.wan;
    const uint32_t ours = rte_be_to_cpu_32(side.ip);
    const uint64_t replies = (on_lan ? wd().w.lan_counters : wd().w.wan_counters).arp_replies;
    const bytes req = arp_frame(1, host_mac, 0x0a090909, ours, broadcast);
    const result r = on_lan ? lan(req) : wan(req);
    EXPECT_EQ(r.d.drops, 0u);
    const std::vector<bytes>& back = on_lan ? r.lan : r.wan;
    EXPECT_TRUE((on_lan ? r.wan : r.lan).empty());
    ASSERT_EQ(back.size(), 1u) << "lan " << on_lan;
    const bytes& f = back[0];
    EXPECT_TRUE(std::equal(host_mac.begin(), host_mac.end(), f.begin()));       // to the asker
    EXPECT_TRUE(std::equal(side.src_mac.begin(), side.src_mac.end(), f.begin() + 6));
    EXPECT_EQ(f[21], 2);                                                        // reply
    EXPECT_TRUE(std::equal(side.src_mac.begin(), side.src_mac.end(), f.begin() + 22));
    EXPECT_EQ(std::memcmp(f.data() + 28, &side.ip, 4), 0);                     // is-at, ours
    EXPECT_TRUE(std::equal(host_mac.begin(), host_mac.end(), f.begin() + 32));
    EXPECT_EQ(f[38], 10);  // back to the asker's address, 10.9.9.9
    EXPECT_EQ(f[41], 9);
    EXPECT_EQ((on_lan ? wd().w.lan_counters : wd().w.wan_counters).arp_replies, replies + 1);
  }
}

TEST_F(hostile_input, other_arp_is_taken_silently_and_broken_arp_counts_as_not_ipv4) {
  const uint32_t lan_ip = rte_be_to_cpu_32(wd().w.lan.ip);
  // For another address, a reply nobody asked for, a request from a broadcast MAC.
  for (const bytes& f : {arp_frame(1, host_mac, 0x0a090909, lan_ip + 1, broadcast),
                         arp_frame(2, host_mac, 0x0a090909, lan_ip, wd().w.lan.src_mac),
                         arp_frame(1, broadcast, 0x0a090909, lan_ip, broadcast)}) {
    const result r = lan(f);
    EXPECT_EQ(r.d.drops, 0u);
    EXPECT_TRUE(r.lan.empty());
    EXPECT_TRUE(r.wan.empty());
  }
  bytes short_arp = arp_frame(1, host_mac, 0x0a090909, lan_ip, broadcast);
  short_arp.resize(14 + 27);
  expect_only_drop(lan(short_arp), drop_reason::not_ipv4);
  expect_only_drop(lan(arp_frame(1, host_mac, 0x0a090909, lan_ip, broadcast, 8)),
                   drop_reason::not_ipv4);
}

TEST_F(hostile_input, the_next_hop_is_found_by_arp_and_follows_a_gratuitous_arp) {
  dataplane::worker& w = wd().w;
  dataplane::next_hop hop;
  hop.ip = rte_cpu_to_be_32(0xc00002fe);  // 192.0.2.254
  w.wan.nh = &hop;
  w.pool = wd().pool;
  w.arp_timers = {};
  const uint64_t t0 = g_now_ns;
  // Unresolved: the packet is dropped, and the same poll asks for the next hop.
  result r = lan(frame(100));
  EXPECT_EQ(r.d.drops, 1u);
  EXPECT_EQ(port_drop(w.wan_counters.drops, drop_reason::no_neighbor) > 0, true);
  EXPECT_EQ(r.d.by_reason[static_cast<std::size_t>(drop_reason::no_neighbor)], 1u);
  ASSERT_EQ(r.wan.size(), 1u);
  const bytes& q = r.wan[0];
  EXPECT_TRUE(std::equal(broadcast.begin(), broadcast.end(), q.begin()));
  EXPECT_EQ(q[12], 0x08);
  EXPECT_EQ(q[13], 0x06);
  EXPECT_EQ(q[21], 1);  // request
  EXPECT_EQ(std::memcmp(q.data() + 28, &w.wan.ip, 4), 0);
  EXPECT_EQ(std::memcmp(q.data() + 38, &hop.ip, 4), 0);
  EXPECT_EQ(w.wan_counters.arp_requests, 1u);
  // No second request within the second; one after it.
  EXPECT_TRUE(lan(frame(100)).wan.empty());
  g_now_ns += dataplane::arp_retry_ns;
  r = lan(frame(100));
  ASSERT_EQ(r.wan.size(), 1u);
  EXPECT_EQ(r.wan[0][21], 1);
  // The reply resolves it: ESP goes to that MAC.
  const std::array<uint8_t, 6> router = {2, 0, 0, 0, 1, 0xfe};
  r = wan(arp_frame(2, router, 0xc00002fe, 0xc0000201, w.wan.src_mac));
  EXPECT_EQ(r.d.drops, 0u);
  EXPECT_TRUE(r.lan.empty() && r.wan.empty());
  EXPECT_EQ(w.wan_counters.arp_learned, 1u);
  r = lan(frame(100));
  EXPECT_EQ(r.d.drops, 0u);
  ASSERT_EQ(r.wan.size(), 1u);
  EXPECT_TRUE(std::equal(router.begin(), router.end(), r.wan[0].begin()));
  EXPECT_EQ(r.wan[0][14 + 9], 50);
  // The router moves (failover): its gratuitous ARP moves the next hop at once.
  const std::array<uint8_t, 6> standby = {2, 0, 0, 0, 1, 0xfd};
  r = wan(arp_frame(1, standby, 0xc00002fe, 0xc00002fe, broadcast));
  EXPECT_TRUE(r.lan.empty() && r.wan.empty());
  EXPECT_EQ(w.wan_counters.arp_learned, 2u);
  r = lan(frame(100));
  ASSERT_EQ(r.wan.size(), 1u);
  EXPECT_TRUE(std::equal(standby.begin(), standby.end(), r.wan[0].begin()));
  // Resolved, it is asked again only a refresh interval after it last moved.
  g_now_ns += dataplane::arp_refresh_ns - 1;
  EXPECT_EQ(lan(frame(100)).wan.size(), 1u);  // the ESP only
  g_now_ns += 1;
  EXPECT_EQ(lan(frame(100)).wan.size(), 2u);  // the ESP and the refresh
  w.wan.nh = nullptr;
  w.pool = nullptr;
  g_now_ns = t0;
}

TEST_F(hostile_input, each_link_up_announces_the_port_and_asks_for_the_next_hop_at_once) {
  dataplane::worker& w = wd().w;
  std::atomic<uint32_t> ups{1};  // as gm-dataplane's main loop counts them
  dataplane::next_hop hop;
  hop.ip = rte_cpu_to_be_32(0xc00002fe);
  const std::array<uint8_t, 6> router = {2, 0, 0, 0, 1, 0xfe};
  hop.mac = dataplane::next_hop::pack(router.data());  // known, so not asked for by the clock
  w.wan.nh = &hop;
  w.wan.link_ups = &ups;
  w.pool = wd().pool;
  w.arp_timers = {};
  const auto is_arp_request_for = [&](const bytes& f, const uint32_t& target) {
    return f.size() == 42 && std::equal(broadcast.begin(), broadcast.end(), f.begin()) &&
           f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 &&
           std::memcmp(f.data() + 28, &w.wan.ip, 4) == 0 &&
           std::memcmp(f.data() + 38, &target, 4) == 0;
  };
  const uint64_t announced = w.wan_counters.arp_announcements;
  const uint64_t asked = w.wan_counters.arp_requests;
  for (const uint32_t up : {1u, 2u}) {
    ups = up;
    // The poll after a link-up: the ESP, then the announcement (sender and target ours)
    // and the request for the next hop, known or not.
    const result r = lan(frame(100));
    ASSERT_EQ(r.wan.size(), 3u) << "link-up " << up;
    EXPECT_EQ(r.wan[0][14 + 9], 50);
    EXPECT_TRUE(is_arp_request_for(r.wan[1], w.wan.ip));
    EXPECT_TRUE(is_arp_request_for(r.wan[2], hop.ip));
    EXPECT_EQ(w.wan_counters.arp_announcements, announced + up);
    EXPECT_EQ(w.wan_counters.arp_requests, asked + up);
    // Nothing more until the link comes up again.
    EXPECT_EQ(lan(frame(100)).wan.size(), 1u);
  }
  w.wan.nh = nullptr;
  w.wan.link_ups = nullptr;
  w.pool = nullptr;
}

// --- packets to the GM's own addresses (dataplane/local.h) ---------------------------------

// An echo request from 10.1.1.1 to `dst` (host order), its ICMP checksum right.
bytes echo_request(uint32_t dst, std::size_t payload = 56) {
  ip_opts o;
  o.proto = 1;
  o.dst = dst;
  bytes f = frame(payload, o);
  uint8_t* icmp = f.data() + 14 + 20;
  put16(icmp + 4, 0x4242);  // id
  put16(icmp + 6, 7);       // sequence
  put16(icmp + 2, cksum(icmp, 8 + payload));
  return f;
}

TEST_F(hostile_input, pings_to_either_port_address_are_answered_where_they_came_in) {
  const uint32_t lan_ip = rte_be_to_cpu_32(wd().w.lan.ip);
  const uint32_t wan_ip = rte_be_to_cpu_32(wd().w.wan.ip);
  for (const bool on_lan : {true, false}) {
    for (const uint32_t to : {lan_ip, wan_ip}) {
      const bytes req = echo_request(to);
      const result r = on_lan ? lan(req) : wan(req);
      EXPECT_EQ(r.d.drops, 0u);
      const std::vector<bytes>& back = on_lan ? r.lan : r.wan;
      EXPECT_TRUE((on_lan ? r.wan : r.lan).empty());
      ASSERT_EQ(back.size(), 1u) << "lan " << on_lan << " to " << std::hex << to;
      const bytes& f = back[0];
      const dataplane::port_side& side = on_lan ? wd().w.lan : wd().w.wan;
      EXPECT_TRUE(std::equal(f.begin(), f.begin() + 6, req.begin() + 6));  // to the sender
      EXPECT_TRUE(std::equal(side.src_mac.begin(), side.src_mac.end(), f.begin() + 6));
      ASSERT_EQ(f.size(), req.size());
      const uint8_t* ip = f.data() + 14;
      EXPECT_EQ(cksum(ip, 20), 0);
      EXPECT_EQ(std::memcmp(ip + 12, req.data() + 14 + 16, 4), 0);  // from the address pinged
      EXPECT_EQ(std::memcmp(ip + 16, req.data() + 14 + 12, 4), 0);  // to the sender
      EXPECT_EQ(ip[20], 0);                                            // echo reply
      EXPECT_EQ(cksum(ip + 20, f.size() - 14 - 20), 0);
      // Identifier, sequence and data come back unchanged.
      EXPECT_TRUE(std::equal(f.begin() + 14 + 24, f.end(), req.begin() + 14 + 24));
    }
  }
}

TEST_F(hostile_input, other_packets_to_the_gm_are_dropped_not_forwarded) {
  const uint32_t lan_ip = rte_be_to_cpu_32(wd().w.lan.ip);
  ip_opts udp;
  udp.dst = lan_ip;
  expect_only_drop(lan(frame(20, udp)), drop_reason::for_us);
  ip_opts tcp;
  tcp.proto = 6;
  tcp.dst = rte_be_to_cpu_32(wd().w.wan.ip);
  expect_only_drop(wan(frame(20, tcp)), drop_reason::for_us);
  bytes bad_sum = echo_request(lan_ip);
  bad_sum[14 + 20 + 8] ^= 1;
  expect_only_drop(lan(bad_sum), drop_reason::for_us);
  bytes fragment = echo_request(lan_ip);
  fragment[14 + 6] = 0x20;  // more fragments
  put16(&fragment[14 + 10], 0);
  put16(&fragment[14 + 10], cksum(&fragment[14], 20));
  expect_only_drop(lan(fragment), drop_reason::for_us);
  ip_opts with_options;
  with_options.proto = 1;
  with_options.dst = lan_ip;
  with_options.options = {1, 1, 1, 0};  // NOP NOP NOP EOL
  expect_only_drop(lan(frame(8, with_options)), drop_reason::for_us);
  bytes lying = echo_request(lan_ip);
  put16(&lying[14 + 2], 1400);  // longer than the frame
  expect_only_drop(lan(lying), drop_reason::for_us);
}

}  // namespace
}  // namespace gm::test
