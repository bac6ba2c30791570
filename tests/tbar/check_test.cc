// TBAR with an injected clock: every time below is a plain number, so the tests are exact.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include <rte_ip.h>

#include "tbar/check.h"
#include "tbar/pseudotime.h"
#include "tbar/replay_window.h"
#include "tests/test_eal.h"

namespace gm::tbar {
namespace {

constexpr uint64_t ms = 1'000'000;  // ns per ms
constexpr uint64_t sec = 1000 * ms;

TEST(pseudotime, ticks_from_the_monotonic_clock_after_a_sync) {
  pseudotime pt;
  EXPECT_FALSE(pt.synced());
  EXPECT_EQ(pt.now_ms(5 * sec), 0u);
  pt.sync(442843290, 100 * sec, 4000);
  EXPECT_EQ(pt.now_ms(100 * sec), 442843290u);
  EXPECT_EQ(pt.now_ms(100 * sec + 1500 * ms), 442844790u);
}

TEST(pseudotime, a_resync_inside_the_window_is_adopted_quietly) {
  pseudotime pt;
  pt.sync(1'000'000, 0, 4000);
  const sync_result r = pt.sync(1'010'500, 10 * sec, 4000);  // KS 500 ms ahead of us
  EXPECT_FALSE(r.large_jump);
  EXPECT_FALSE(r.clamped);
  EXPECT_EQ(r.delta_ms, 500);
  EXPECT_EQ(pt.now_ms(10 * sec), 1'010'500u);
}

TEST(pseudotime, never_moves_back_more_than_the_window) {
  pseudotime pt;
  pt.sync(1'000'000, 0, 4000);
  const sync_result r = pt.sync(900'000, 10 * sec, 4000);  // KS 110 s behind
  EXPECT_TRUE(r.large_jump);
  EXPECT_TRUE(r.clamped);
  EXPECT_EQ(r.delta_ms, -110'000);
  EXPECT_EQ(pt.now_ms(10 * sec), 1'010'000u - 4000);
}

TEST(pseudotime, a_large_forward_jump_is_applied_and_reported) {
  pseudotime pt;
  pt.sync(1'000'000, 0, 4000);
  const sync_result r = pt.sync(2'000'000, 0, 4000);
  EXPECT_TRUE(r.large_jump);
  EXPECT_FALSE(r.clamped);
  EXPECT_EQ(pt.now_ms(0), 2'000'000u);
}

TEST(replay_window, accepts_new_rejects_replayed_and_too_old) {
  replay_window w(64);
  EXPECT_FALSE(w.check(0));
  for (uint32_t s : {1u, 2u, 5u, 4u, 100u}) {
    ASSERT_TRUE(w.check(s)) << s;
    w.update(s);
  }
  EXPECT_FALSE(w.check(5));
  EXPECT_FALSE(w.check(100));
  EXPECT_TRUE(w.check(99));
  EXPECT_TRUE(w.check(37));   // 100 - 63: the oldest still inside
  EXPECT_FALSE(w.check(36));  // 64 behind: outside
  EXPECT_FALSE(w.check(4));
  w.update(2000);  // a jump larger than the window forgets everything
  EXPECT_TRUE(w.check(1999));
  EXPECT_FALSE(w.check(2000));
}

TEST(replay_window, sizes_are_clamped_to_64_through_1024) {
  EXPECT_EQ(replay_window(1).size(), 64u);
  EXPECT_EQ(replay_window(100).size(), 128u);
  EXPECT_EQ(replay_window(5000).size(), 1024u);
  replay_window w(1024);
  w.update(5000);
  EXPECT_TRUE(w.check(5000 - 1023));
  EXPECT_FALSE(w.check(5000 - 1024));
}

TEST(replay_window, slots_reused_after_sliding_are_fresh) {
  replay_window w(64);
  for (uint32_t s = 1; s <= 64; ++s) w.update(s);
  w.update(70);  // slides over 65..69 whose slots held 1..5
  for (uint32_t s = 65; s < 70; ++s) EXPECT_TRUE(w.check(s)) << s;
}

TEST(error_history, keeps_at_most_ten_samples_a_minute_and_the_last_32) {
  error_history h;
  for (uint32_t i = 0; i < 25; ++i) {
    h.record({i * sec, i, 10, 20, 4000});  // 25 failures in 25 s
  }
  EXPECT_EQ(h.size(), 10u);
  EXPECT_EQ(h.suppressed(), 15u);
  EXPECT_EQ(h.at(0).src, 0u);
  for (uint32_t minute = 1; minute <= 4; ++minute) {
    for (uint32_t i = 0; i < 12; ++i) {
      h.record({minute * 60 * sec + i * sec, 1000 * minute + i, 10, 20, 4000});
    }
  }
  EXPECT_EQ(h.size(), error_history::capacity);
  EXPECT_EQ(h.suppressed(), 15u + 4 * 2);
  EXPECT_EQ(h.at(h.size() - 1).src, 4009u);  // newest last
}

class tbar_check : public ::testing::Test {
 protected:
  rte_mbuf* packet(uint16_t slot, bool stamped, uint64_t pt_ms, uint32_t src) {
    rte_mbuf* m = rte_pktmbuf_alloc(test::g_pool);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(rte_pktmbuf_append(m, 20));
    std::memset(ip, 0, 20);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->src_addr = src;
    meta(m)->sa_slot = slot;
    meta(m)->has_tbar = stamped;
    meta(m)->pseudotime_ms = pt_ms;
    return m;
  }
};

TEST_F(tbar_check, accepts_inside_the_window_and_drops_outside) {
  pseudotime pt;
  pt.sync(1'000'000, 50 * sec, 0);
  std::vector<check_policy> pol(4);
  pol[1] = {true, 4000};
  check_lcore st;
  const uint64_t now = 60 * sec;  // local pseudotime 1'010'000
  rte_mbuf* pkts[7] = {
      packet(1, true, 1'010'000, 1),      // exact
      packet(1, true, 1'006'000, 2),      // 4 s behind: edge, accepted
      packet(1, true, 1'014'000, 3),      // 4 s ahead: edge, accepted
      packet(1, true, 1'005'999, 4),      // stale replay
      packet(1, true, 1'014'001, 5),      // too far ahead
      packet(1, false, 0, 6),             // TBAR SA without a stamp
      packet(2, false, 0, 7),             // SA without TBAR: passes untouched
  };
  ASSERT_EQ(check_burst(st, pt, pol.data(), pkts, 7, now), 4);
  EXPECT_EQ(rte_pktmbuf_mtod(pkts[3], rte_ipv4_hdr*)->src_addr, 7u);
  EXPECT_EQ(meta(pkts[4])->reason, drop_reason::tbar_replay);
  EXPECT_EQ(meta(pkts[5])->reason, drop_reason::tbar_replay);
  EXPECT_EQ(meta(pkts[6])->reason, drop_reason::tbar_missing);
  EXPECT_EQ(st.stats.input_packets, 3u);
  EXPECT_EQ(st.stats.input_error_packets, 3u);
  EXPECT_EQ(st.stats.max_time_delta_ms, 4001u);
  ASSERT_EQ(st.history.size(), 2u);
  EXPECT_EQ(st.history.at(0).src, 4u);
  EXPECT_EQ(st.history.at(0).my_pt_ms, 1'010'000u);
  EXPECT_EQ(st.history.at(0).peer_pt_ms, 1'005'999u);
  EXPECT_EQ(st.history.at(0).window_ms, 4000u);
  for (auto* m : pkts) rte_pktmbuf_free(m);
}

TEST_F(tbar_check, before_any_ks_sync_every_stamped_packet_is_a_time_sync_error) {
  pseudotime pt;
  std::vector<check_policy> pol(2, {true, 4000});
  check_lcore st;
  rte_mbuf* pkts[1] = {packet(0, true, 5, 1)};
  EXPECT_EQ(check_burst(st, pt, pol.data(), pkts, 1, sec), 0);
  EXPECT_EQ(meta(pkts[0])->reason, drop_reason::tbar_not_synced);
  EXPECT_EQ(st.stats.time_sync_errors, 1u);
  rte_pktmbuf_free(pkts[0]);
}

TEST_F(tbar_check, a_one_second_window_works_asr1000_needed_20) {
  pseudotime pt;
  pt.sync(0, 0, 1000);
  std::vector<check_policy> pol(1, {true, 1000});
  check_lcore st;
  rte_mbuf* pkts[2] = {packet(0, true, 9000, 1), packet(0, true, 7999, 2)};
  EXPECT_EQ(check_burst(st, pt, pol.data(), pkts, 2, 9 * sec), 1);
  EXPECT_EQ(meta(pkts[1])->reason, drop_reason::tbar_replay);
  for (auto* m : pkts) rte_pktmbuf_free(m);
}

}  // namespace
}  // namespace gm::tbar
