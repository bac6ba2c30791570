// Two data planes back to back on net_ring ports, workers polling in their own threads,
// control applied from this thread exactly as gm-dataplane's main loop does. A TEK rollover
// and a policy replacement happen while traffic flows; every packet is counted.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dataplane/group_control.h"
#include "dataplane/worker.h"
#include "tests/test_eal.h"

namespace gm::dataplane {
namespace {

rte_ring* ring(const std::string& name) {
  rte_ring* r = rte_ring_create(name.c_str(), 4096, SOCKET_ID_ANY, 0);
  EXPECT_NE(r, nullptr) << name;
  return r;
}

uint16_t ring_port(const std::string& name, rte_ring* rx, rte_ring* tx) {
  const int port = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
  EXPECT_GE(port, 0);
  return static_cast<uint16_t>(port);
}

config make_config(uint32_t sender) {
  config c;
  c.sender_id = sender;
  c.idle_backoff = false;
  return c;
}

ctrl::msg sa_add(uint32_t spi, uint8_t key_byte) {
  ctrl::msg m{};
  m.type = ctrl::msg_type::sa_add;
  m.version = ctrl::msg_version;
  m.u.sa_add.spi = spi;
  m.u.sa_add.transform = static_cast<uint8_t>(crypto::transform_id::aes_gcm_128);
  m.u.sa_add.replay_mode = static_cast<uint8_t>(ctrl::replay::time);
  m.u.sa_add.window = 4000;
  m.u.sa_add.key_len = 20;
  std::memset(m.u.sa_add.key, key_byte, 20);
  return m;
}

ctrl::msg spi_msg(ctrl::msg_type t, uint32_t spi) {
  ctrl::msg m{};
  m.type = t;
  m.version = ctrl::msg_version;
  m.u.spi.spi = spi;
  return m;
}

struct gm_under_test {
  gm_under_test(const std::string& name, uint32_t sender, uint16_t lan_port, uint16_t wan_port)
      : cfg(make_config(sender)), state(1), ctl_crypto(crypto::crypto_ctx::create()) {
    w.index = 0;
    w.esp = crypto::esp_lcore::create(sender, 0);
    w.lan = {lan_port, 0, {2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    w.wan = {wan_port, 0, {2, 0, 0, 0, 1, 1}, {2, 0, 0, 0, 1, 2}};
    w.idle_backoff = false;
    w.state = &state;
    w.quit = &quit;
    w.clock_ns = monotonic_ns;
    std::array<bool, crypto::transform_count> en;
    en.fill(true);
    control = std::make_unique<group_control>(state, ctl_crypto->mgr(), en, cfg);
  }
  void apply_ok(const ctrl::msg& m) {
    const ctrl::msg ack = control->apply(m, monotonic_ns());
    EXPECT_EQ(ack.u.ack.status, 0) << ack.u.ack.text;
  }
  void start() {
    thread = std::thread([this] { w.run(); });
  }
  void stop() {
    quit = true;
    thread.join();
  }
  config cfg;
  snapshot<group_state> state;
  std::unique_ptr<crypto::crypto_ctx> ctl_crypto;
  std::unique_ptr<group_control> control;
  worker w;
  std::atomic<bool> quit{false};
  std::thread thread;
};

void push_policy(gm_under_test& g, const std::string& mz_name, uint32_t ace_count) {
  const rte_memzone* mz = rte_memzone_lookup(mz_name.c_str());
  if (mz == nullptr) {
    mz = rte_memzone_reserve(mz_name.c_str(), ace_count * sizeof(ctrl::ace_rec), SOCKET_ID_ANY, 0);
  }
  ASSERT_NE(mz, nullptr);
  auto* recs = static_cast<ctrl::ace_rec*>(mz->addr);
  // ace_count - 1 narrow deny entries that never match our traffic, then permit ip any any.
  for (uint32_t i = 0; i + 1 < ace_count; ++i) {
    recs[i] = {};
    recs[i].action = static_cast<uint8_t>(classifier::action::bypass);
    recs[i].proto = 17;
    recs[i].src = 0xc0a80000 | i;
    recs[i].src_len = 32;
    recs[i].sport_hi = recs[i].dport_hi = 65535;
  }
  ctrl::ace_rec& last = recs[ace_count - 1];
  last = {};
  last.action = static_cast<uint8_t>(classifier::action::protect);
  last.sport_hi = last.dport_hi = 65535;
  ctrl::msg m{};
  m.type = ctrl::msg_type::policy_replace;
  m.version = ctrl::msg_version;
  std::snprintf(m.u.policy.memzone, sizeof(m.u.policy.memzone), "%s", mz_name.c_str());
  m.u.policy.count = ace_count;
  g.apply_ok(m);
}

rte_mbuf* make_packet(uint32_t id) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::g_pool);
  const uint16_t len = sizeof(rte_ether_hdr) + 20 + 8 + 64;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, len));
  std::memset(p, 0, len);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(p);
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p + 14);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(20 + 8 + 64);
  ip->time_to_live = 64;
  ip->next_proto_id = 17;
  ip->src_addr = rte_cpu_to_be_32(0x0a010000 | (id & 0xff));
  ip->dst_addr = rte_cpu_to_be_32(0x0a020001);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(p + 34);
  udp->src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1000 + (id % 4000)));
  udp->dst_port = rte_cpu_to_be_16(5001);
  std::memcpy(p + 42, &id, sizeof(id));
  for (int i = 4; i < 64; ++i) p[42 + i] = static_cast<uint8_t>(id + i);
  return m;
}

TEST(rollover, no_packet_lost_or_misdecrypted_across_tek_rollover_and_policy_replace) {
  rte_ring* lan_a_rx = ring("lan_a_rx");
  rte_ring* lan_a_tx = ring("lan_a_tx");
  rte_ring* wire_ab = ring("wire_ab");
  rte_ring* wire_ba = ring("wire_ba");
  rte_ring* lan_b_rx = ring("lan_b_rx");
  rte_ring* lan_b_tx = ring("lan_b_tx");
  const uint16_t pa_lan = ring_port("gm_a_lan", lan_a_rx, lan_a_tx);
  const uint16_t pa_wan = ring_port("gm_a_wan", wire_ba, wire_ab);
  const uint16_t pb_lan = ring_port("gm_b_lan", lan_b_rx, lan_b_tx);
  const uint16_t pb_wan = ring_port("gm_b_wan", wire_ab, wire_ba);
  for (uint16_t p : {pa_lan, pa_wan, pb_lan, pb_wan}) {
    rte_eth_conf conf{};
    ASSERT_EQ(rte_eth_dev_configure(p, 1, 1, &conf), 0);
    ASSERT_EQ(rte_eth_rx_queue_setup(p, 0, 1024, SOCKET_ID_ANY, nullptr, test::g_pool), 0);
    ASSERT_EQ(rte_eth_tx_queue_setup(p, 0, 1024, SOCKET_ID_ANY, nullptr), 0);
    ASSERT_EQ(rte_eth_dev_start(p), 0);
  }
  gm_under_test a("a", 1, pa_lan, pa_wan);
  gm_under_test b("b", 2, pb_lan, pb_wan);
  constexpr uint32_t old_spi = 0x1000, new_spi = 0x2000;
  for (auto* g : {&a, &b}) {
    std::string err;
    ASSERT_TRUE(g->control->load_static(monotonic_ns(), err)) << err;
    g->apply_ok(sa_add(old_spi, 0x11));
    g->apply_ok(spi_msg(ctrl::msg_type::sa_activate_outbound, old_spi));
    ctrl::msg pt{};
    pt.type = ctrl::msg_type::pseudotime_sync;
    pt.version = ctrl::msg_version;
    pt.u.pt = {5'000'000, 4000};
    g->apply_ok(pt);
    push_policy(*g, std::string("pol_") + (g == &a ? "a" : "b"), 1);
  }
  a.start();
  b.start();

  constexpr uint32_t total = 60000;
  constexpr uint32_t max_in_flight = 512;  // below every ring size: no congestion drops
  std::vector<uint8_t> seen(total, 0);
  std::atomic<uint32_t> sent{0}, received{0};
  uint32_t corrupt = 0;
  auto drain = [&] {
    rte_mbuf* out[64];
    const unsigned n = rte_ring_dequeue_burst(lan_b_tx, reinterpret_cast<void**>(out), 64, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      const auto* p = rte_pktmbuf_mtod(out[i], const uint8_t*);
      uint32_t id = 0;
      std::memcpy(&id, p + 42, sizeof(id));
      bool ok = rte_pktmbuf_data_len(out[i]) == 14 + 92 && id < total;
      for (int k = 4; ok && k < 64; ++k) ok = p[42 + k] == static_cast<uint8_t>(id + k);
      ok = ok && p[14 + 8] == 62;  // TTL decremented once by each GM
      if (!ok) {
        ++corrupt;
      } else {
        ++seen[id];
      }
      ++received;
      rte_pktmbuf_free(out[i]);
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  // Traffic runs in its own thread, so each control step below happens while packets
  // are being generated, encrypted, carried and decrypted.
  std::thread traffic([&] {
    while (received < total && std::chrono::steady_clock::now() < deadline) {
      while (sent < total && sent - received < max_in_flight) {
        rte_mbuf* m = make_packet(sent);
        if (rte_ring_enqueue(lan_a_rx, m) != 0) {
          rte_pktmbuf_free(m);
          break;
        }
        ++sent;
      }
      drain();
    }
  });
  int phase = 0;
  auto wait_sent = [&](uint32_t n) {
    while (sent < n && std::chrono::steady_clock::now() < deadline) {
      a.state.reclaim();
      b.state.reclaim();
      std::this_thread::yield();
    }
  };
  // The rekey, in the order GETVPN mandates.
  wait_sent(total / 4);
  a.apply_ok(sa_add(new_spi, 0x22));  // both GMs accept the new TEK inbound first
  b.apply_ok(sa_add(new_spi, 0x22));
  phase = 1;
  wait_sent(total / 3);
  a.apply_ok(spi_msg(ctrl::msg_type::sa_activate_outbound, new_spi));  // then switch
  b.apply_ok(spi_msg(ctrl::msg_type::sa_activate_outbound, new_spi));
  phase = 2;
  wait_sent(total / 2);
  push_policy(a, "pol_a_big", 10000);  // a 10,000-line policy replaced under load
  push_policy(b, "pol_b_big", 10000);
  phase = 3;
  wait_sent(2 * total / 3);
  a.apply_ok(spi_msg(ctrl::msg_type::sa_del, old_spi));  // the old TEK expires
  b.apply_ok(spi_msg(ctrl::msg_type::sa_del, old_spi));
  phase = 4;
  traffic.join();
  a.stop();
  b.stop();
  drain();
  EXPECT_EQ(phase, 4);
  EXPECT_EQ(sent.load(), total);
  EXPECT_EQ(received.load(), total);
  EXPECT_EQ(corrupt, 0u);
  uint32_t missing = 0, dup = 0;
  for (uint8_t s : seen) {
    missing += s == 0;
    dup += s > 1;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(dup, 0u);
  // Both SPIs carried traffic, and every drop counter is zero.
  uint64_t enc_total = 0, dec_total = 0;
  for (int slot = 0; slot < 2; ++slot) {
    EXPECT_GT(a.w.esp->sa[slot].encaps, 0u) << "slot " << slot;
    EXPECT_GT(b.w.esp->sa[slot].decaps, 0u) << "slot " << slot;
    enc_total += a.w.esp->sa[slot].encaps;
    dec_total += b.w.esp->sa[slot].decaps;
    for (auto* g : {&a, &b}) {
      for (std::size_t r = 0; r < drop_reason_count; ++r) {
        EXPECT_EQ(g->w.esp->sa[slot].drops[r], 0u) << drop_reason_table[r].name;
      }
    }
  }
  EXPECT_EQ(enc_total, total);
  EXPECT_EQ(dec_total, total);
  for (auto* g : {&a, &b}) {
    for (std::size_t r = 0; r < drop_reason_count; ++r) {
      EXPECT_EQ(g->w.lan_counters.drops[r] + g->w.wan_counters.drops[r], 0u)
          << drop_reason_table[r].name;
    }
  }
  EXPECT_EQ(b.w.tbar.stats.input_packets, total);
  for (uint16_t p : {pa_lan, pa_wan, pb_lan, pb_wan}) rte_eth_dev_stop(p);
}

}  // namespace
}  // namespace gm::dataplane
