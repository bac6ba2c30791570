// ISAKMP data attributes: TV and TLV forms, integer encodings, malformed areas.
#include "control/attributes.h"

#include <gtest/gtest.h>

namespace gm::control {
namespace {

bytes encode(const std::vector<attribute>& as) {
  bytes out;
  byte_writer w(out);
  EXPECT_FALSE(write_attributes(w, as, 16).has_value());
  return out;
}

TEST(attributes, tv_form) {
  EXPECT_EQ(encode({attribute::basic(4, 1)}), (bytes{0x80, 0x04, 0x00, 0x01}));
  // Our private range: 32001 = 0x7d01, with the AF bit 0xfd01.
  EXPECT_EQ(encode({attribute::basic(32001, 2)}), (bytes{0xfd, 0x01, 0x00, 0x02}));
}

TEST(attributes, tlv_form) {
  EXPECT_EQ(encode({attribute::fixed(32003, 442843290, 8)}),
            (bytes{0x7d, 0x03, 0x00, 0x08, 0, 0, 0, 0, 0x1a, 0x65, 0x40, 0x9a}));
  EXPECT_EQ(encode({attribute::variable(9, {})}), (bytes{0x00, 0x09, 0x00, 0x00}));
}

TEST(attributes, integer_picks_the_shortest_form) {
  EXPECT_EQ(encode({attribute::integer(2, 3600)}), (bytes{0x80, 0x02, 0x0e, 0x10}));
  EXPECT_EQ(encode({attribute::integer(2, 86400)}),
            (bytes{0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80}));
  EXPECT_EQ(encode({attribute::integer(2, uint64_t{1} << 33)}),
            (bytes{0x00, 0x02, 0x00, 0x08, 0, 0, 0, 2, 0, 0, 0, 0}));
}

TEST(attributes, decode_mixed_area) {
  const bytes area = {0x80, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x04,
                      0x00, 0x01, 0x51, 0x80, 0xfd, 0x02, 0x00, 0x04};
  auto as = decode_attributes(area, 100, 16);
  ASSERT_TRUE(as.ok()) << describe(as.error());
  ASSERT_EQ(as->size(), 3u);
  EXPECT_EQ((*as)[0], attribute::basic(1, 1));
  EXPECT_EQ((*as)[1], attribute::fixed(2, 86400, 4));
  EXPECT_EQ((*as)[2], attribute::basic(32002, 4));
  EXPECT_EQ(encode(*as), area);
}

TEST(attributes, truncated_header_and_value) {
  const bytes area = {0x80, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80};
  for (std::size_t n = 1; n < area.size(); ++n) {
    if (n == 4) {
      continue;  // a whole TV attribute
    }
    auto as = decode_attributes(std::span(area).first(n), 40, 16);
    ASSERT_FALSE(as.ok()) << n;
    EXPECT_EQ(as.error().code, codec_errc::truncated_attribute) << n;
    EXPECT_EQ(as.error().payload, 16);
    EXPECT_GE(as.error().offset, 40u);
  }
  // A TLV length past the area.
  const bytes lying = {0x00, 0x02, 0xff, 0xff, 0x00};
  auto as = decode_attributes(lying, 0, 16);
  ASSERT_FALSE(as.ok());
  EXPECT_EQ(as.error(), make_error(codec_errc::truncated_attribute, 2, 16));
}

TEST(attributes, integer_values) {
  uint64_t v = 0;
  EXPECT_FALSE(attribute_uint(attribute::basic(6, 256), 0, 16, 0xffff, v));
  EXPECT_EQ(v, 256u);
  EXPECT_EQ(attribute_uint(attribute::variable(2, {}), 8, 16, ~uint64_t{0}, v)->code,
            codec_errc::bad_attribute_length);
  EXPECT_EQ(attribute_uint(attribute::variable(2, bytes(9, 1)), 8, 16, ~uint64_t{0}, v)->code,
            codec_errc::bad_attribute_length);
  EXPECT_EQ(attribute_uint(attribute::fixed(6, 0x10000, 4), 8, 16, 0xffff, v)->code,
            codec_errc::attribute_out_of_range);
  EXPECT_FALSE(attribute_uint(attribute::variable(2, {0x01, 0x02, 0x03}), 8, 16, 0xffffff, v));
  EXPECT_EQ(v, 0x010203u);
}

TEST(attributes, set_once_rejects_duplicates) {
  std::optional<uint16_t> slot;
  EXPECT_FALSE(set_once(slot, attribute::basic(4, 1), 0, 16));
  EXPECT_EQ(slot, 1);
  EXPECT_EQ(set_once(slot, attribute::basic(4, 2), 12, 16),
            make_error(codec_errc::duplicate_attribute, 12, 16));
}

TEST(attributes, encoder_refuses_what_does_not_fit) {
  bytes out;
  byte_writer w(out);
  EXPECT_EQ(write_attribute(w, attribute{0x8000, false, {}}, 16)->code, codec_errc::value_too_long);
  EXPECT_EQ(write_attribute(w, attribute{1, true, {1, 2, 3}}, 16)->code,
            codec_errc::value_too_long);
  EXPECT_EQ(write_attribute(w, attribute::variable(1, bytes(70000)), 16)->code,
            codec_errc::value_too_long);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace gm::control
