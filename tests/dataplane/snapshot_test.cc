#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dataplane/snapshot.h"
#include "tests/test_eal.h"

namespace gm {
namespace {

struct table {
  explicit table(uint64_t v, std::atomic<int>* live) : value(v), check(~v), live(live) { ++*live; }
  ~table() {
    check = 0;  // a reader that still held us would now see a torn table
    --*live;
  }
  uint64_t value;
  uint64_t check;
  std::atomic<int>* live;
};

TEST(snapshot, the_old_object_lives_until_every_worker_was_quiescent) {
  std::atomic<int> live{0};
  snapshot<table> s(2);
  ASSERT_TRUE(s.ok());
  s.worker_online(0);
  s.worker_online(1);
  s.publish(std::make_unique<table>(1, &live));
  const table* held = s.read();
  s.quiescent(1);
  s.publish(std::make_unique<table>(2, &live));
  EXPECT_EQ(live.load(), 2) << "worker 0 may still hold the first table";
  EXPECT_EQ(held->value, 1u);
  s.quiescent(0);
  EXPECT_EQ(s.reclaim(), 1u) << "worker 1 has not been quiescent since the swap";
  s.quiescent(1);
  EXPECT_EQ(s.reclaim(), 0u);
  EXPECT_EQ(live.load(), 1);
  EXPECT_EQ(s.read()->value, 2u);
  s.worker_offline(0);
  s.worker_offline(1);
}

TEST(snapshot, an_offline_worker_does_not_hold_up_reclaim) {
  std::atomic<int> live{0};
  snapshot<table> s(2);
  s.worker_online(0);
  s.worker_online(1);
  s.publish(std::make_unique<table>(1, &live));
  s.worker_offline(1);  // idle back-off
  s.publish(std::make_unique<table>(2, &live));
  s.quiescent(0);
  EXPECT_EQ(s.reclaim(), 0u);
  EXPECT_EQ(live.load(), 1);
  s.worker_offline(0);
}

TEST(snapshot, replacing_under_a_busy_reader_never_shows_a_freed_table) {
  std::atomic<int> live{0};
  snapshot<table> s(1);
  s.publish(std::make_unique<table>(0, &live));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> torn{0}, reads{0};
  std::thread reader([&] {
    s.worker_online(0);
    while (!stop.load(std::memory_order_relaxed)) {
      const table* t = s.read();
      for (int i = 0; i < 50; ++i) {
        if (t->check != ~t->value) ++torn;
      }
      ++reads;
      s.quiescent(0);
    }
    s.worker_offline(0);
  });
  for (uint64_t v = 1; v <= 2000; ++v) {
    s.publish(std::make_unique<table>(v, &live));
    if (v % 64 == 0) std::this_thread::yield();
  }
  while (s.reclaim() > 0) std::this_thread::yield();
  stop = true;
  reader.join();
  s.reclaim();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(live.load(), 1);
}

}  // namespace
}  // namespace gm
