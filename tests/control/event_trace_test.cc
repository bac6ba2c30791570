// Event trace: per-subsystem rings, newest entries kept, IOS timestamps from the injected
// wall clock, order from the monotonic one.
#include "control/event_trace.h"

#include <gtest/gtest.h>

#include <chrono>

namespace gm::control {
namespace {

using namespace std::chrono_literals;

// 2026-11-25 07:40:01.123 UTC (1795592401 s since the epoch).
wall_time nov25() { return wall_time{} + 1795592401s + 123ms; }

TEST(ops_clock, ios_timestamp_matches_ios_layout) {
  EXPECT_EQ(ios_timestamp(nov25()), "*Nov 25 07:40:01.123");
  // Single-digit days are not padded (seed 000: `*Nov 6 15:55:16.117`).
  EXPECT_EQ(ios_timestamp(wall_time{} + 1383753316s + 117ms), "*Nov 6 15:55:16.117");
  EXPECT_EQ(ios_timestamp(wall_time{}), "*Jan 1 00:00:00.000");
}

TEST(ops_clock, rfc5424_timestamp_is_rfc3339_utc) {
  EXPECT_EQ(rfc5424_timestamp(nov25()), "2026-11-25T07:40:01.123Z");
  EXPECT_EQ(rfc5424_timestamp(wall_time{} + 5ms), "1970-01-01T00:00:00.005Z");
}

TEST(event_trace, default_size_is_512_per_subsystem) {
  manual_ops_clock clock(nov25());
  event_trace t(clock);
  for (trace_subsystem s : {trace_subsystem::registration, trace_subsystem::rekey,
                            trace_subsystem::exit}) {
    EXPECT_EQ(t.capacity(s), 512u);
    EXPECT_EQ(t.count(s), 0u);
  }
  EXPECT_EQ(t.show_parameters(trace_subsystem::rekey),
            "Trace has 512 entries\nStacktrace is disabled by default\n");
}

TEST(event_trace, snapshot_is_oldest_first_with_ios_stamps) {
  manual_ops_clock clock(nov25());
  event_trace t(clock);
  t.record(trace_subsystem::rekey,
           "GDOI_REKEY_EVENT: REKEY_RCVD: From 10.1.12.2 to 10.1.13.2 with seq no 1 for the "
           "group G1");
  clock.advance(1s + 5ms);
  t.record(trace_subsystem::rekey,
           "GDOI_REKEY_EVENT: ACK_SENT: From 10.1.12.2 to 10.1.13.2 with seq no 1 for the "
           "group G1");
  const auto lines = t.snapshot(trace_subsystem::rekey);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].stamp, "*Nov 25 07:40:01.123:");
  EXPECT_EQ(lines[1].stamp, "*Nov 25 07:40:02.128:");
  EXPECT_NE(lines[0].entry.text.find("REKEY_RCVD"), std::string::npos);
  EXPECT_NE(lines[1].entry.text.find("ACK_SENT"), std::string::npos);
  EXPECT_EQ(lines[1].entry.mono - lines[0].entry.mono, 1005ms);
  EXPECT_EQ(t.show(trace_subsystem::rekey),
            "*Nov 25 07:40:01.123: GDOI_REKEY_EVENT: REKEY_RCVD: From 10.1.12.2 to 10.1.13.2 "
            "with seq no 1 for the group G1\n"
            "*Nov 25 07:40:02.128: GDOI_REKEY_EVENT: ACK_SENT: From 10.1.12.2 to 10.1.13.2 "
            "with seq no 1 for the group G1\n");
  // The other rings are untouched.
  EXPECT_TRUE(t.snapshot(trace_subsystem::registration).empty());
  EXPECT_TRUE(t.snapshot(trace_subsystem::exit).empty());
}

TEST(event_trace, full_ring_drops_the_oldest) {
  manual_ops_clock clock(nov25());
  event_trace t(clock, 4);
  for (int i = 0; i < 10; ++i) {
    t.record(trace_subsystem::registration, "event " + std::to_string(i));
    clock.advance(1ms);
  }
  const auto lines = t.snapshot(trace_subsystem::registration);
  ASSERT_EQ(lines.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i].entry.text, "event " + std::to_string(6 + i));
  }
  EXPECT_EQ(t.recorded(trace_subsystem::registration), 10u);
}

TEST(event_trace, resize_keeps_the_newest_entries) {
  manual_ops_clock clock(nov25());
  event_trace t(clock);
  for (int i = 0; i < 600; ++i) {
    t.record(trace_subsystem::exit, "e" + std::to_string(i));
  }
  EXPECT_EQ(t.count(trace_subsystem::exit), 512u);
  EXPECT_EQ(t.snapshot(trace_subsystem::exit).front().entry.text, "e88");

  ASSERT_TRUE(t.resize(trace_subsystem::exit, 3));
  auto lines = t.snapshot(trace_subsystem::exit);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].entry.text, "e597");
  EXPECT_EQ(lines[2].entry.text, "e599");

  // Growing keeps what is there and makes room for more.
  ASSERT_TRUE(t.resize(trace_subsystem::exit, 5));
  t.record(trace_subsystem::exit, "e600");
  t.record(trace_subsystem::exit, "e601");
  lines = t.snapshot(trace_subsystem::exit);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].entry.text, "e597");
  EXPECT_EQ(lines[4].entry.text, "e601");
  EXPECT_EQ(t.show_parameters(trace_subsystem::exit),
            "Trace has 5 entries\nStacktrace is disabled by default\n");
}

TEST(event_trace, resize_refuses_sizes_ios_refuses) {
  manual_ops_clock clock(nov25());
  event_trace t(clock);
  EXPECT_FALSE(t.resize(trace_subsystem::rekey, 0));
  EXPECT_FALSE(t.resize(trace_subsystem::rekey, event_trace::max_size + 1));
  EXPECT_EQ(t.capacity(trace_subsystem::rekey), 512u);
  EXPECT_TRUE(t.resize(trace_subsystem::rekey, event_trace::max_size));
  EXPECT_TRUE(t.resize_all(1000));
  EXPECT_EQ(t.capacity(trace_subsystem::registration), 1000u);
}

TEST(event_trace, merged_orders_by_monotonic_time_not_wall_time) {
  manual_ops_clock clock(nov25());
  event_trace t(clock);
  t.record(trace_subsystem::registration, "first");
  clock.advance(10ms);
  // NTP steps the wall clock back an hour: the merged view still follows event order.
  clock.step_wall(nov25() - 1h);
  t.record(trace_subsystem::rekey, "second");
  clock.advance(10ms);
  t.record(trace_subsystem::exit, "third");
  const auto m = t.merged();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].entry.text, "first");
  EXPECT_EQ(m[1].entry.text, "second");
  EXPECT_EQ(m[2].entry.text, "third");
  EXPECT_EQ(m[1].stamp, "*Nov 25 06:40:01.123:");
}

TEST(event_trace, clear_empties_one_ring) {
  manual_ops_clock clock(nov25());
  event_trace t(clock);
  t.record(trace_subsystem::rekey, "a");
  t.record(trace_subsystem::exit, "b");
  t.clear(trace_subsystem::rekey);
  EXPECT_EQ(t.count(trace_subsystem::rekey), 0u);
  EXPECT_EQ(t.count(trace_subsystem::exit), 1u);
}

TEST(event_trace, subsystem_names_parse_back) {
  for (trace_subsystem s : {trace_subsystem::registration, trace_subsystem::rekey,
                            trace_subsystem::exit}) {
    trace_subsystem back{};
    ASSERT_TRUE(parse_trace_subsystem(name(s), back));
    EXPECT_EQ(back, s);
  }
  trace_subsystem x{};
  EXPECT_FALSE(parse_trace_subsystem("coop", x));
  EXPECT_STREQ(text(trace_subsystem::rekey), "GDOI Rekey event Traces");
}

}  // namespace
}  // namespace gm::control
