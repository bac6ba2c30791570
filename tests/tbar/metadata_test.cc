#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "tbar/metadata.h"

namespace gm::tbar {
namespace {

TEST(tbar_metadata, encodes_the_documented_layout) {
  std::array<uint8_t, metadata_len> b{};
  encode(b.data(), {4, 442843290, 0x01020304});
  const std::array<uint8_t, metadata_len> want = {
      4, 16, 1, 12,                                   // inner proto, length, option, opt len
      0, 0, 0, 0, 0x1a, 0x65, 0x40, 0x9a,             // 442843290 ms, big-endian
      1, 2, 3, 4};                                    // sender id
  EXPECT_EQ(b, want);
}

TEST(tbar_metadata, round_trips_extreme_values) {
  for (uint64_t pt : {uint64_t{0}, uint64_t{1}, ~uint64_t{0}, uint64_t{1} << 63}) {
    std::array<uint8_t, metadata_len> b{};
    encode(b.data(), {41, pt, 0xffffffff});
    metadata m{};
    ASSERT_EQ(decode(b.data(), b.size(), m), decode_status::ok);
    EXPECT_EQ(m.inner_proto, 41);
    EXPECT_EQ(m.pseudotime_ms, pt);
    EXPECT_EQ(m.sender_id, 0xffffffffu);
  }
}

TEST(tbar_metadata, rejects_malformed_headers) {
  std::array<uint8_t, metadata_len> good{};
  encode(good.data(), {4, 5, 6});
  metadata m{};
  for (std::size_t len = 0; len < metadata_len; ++len) {
    EXPECT_EQ(decode(good.data(), len, m), decode_status::short_buffer);
  }
  auto bad = good;
  bad[1] = 15;
  EXPECT_EQ(decode(bad.data(), bad.size(), m), decode_status::bad_length);
  bad = good;
  bad[2] = 2;
  EXPECT_EQ(decode(bad.data(), bad.size(), m), decode_status::bad_option);
  bad = good;
  bad[3] = 8;
  EXPECT_EQ(decode(bad.data(), bad.size(), m), decode_status::bad_option);
  bad = good;
  bad[0] = 17;
  EXPECT_EQ(decode(bad.data(), bad.size(), m), decode_status::bad_inner_proto);
}

}  // namespace
}  // namespace gm::tbar
