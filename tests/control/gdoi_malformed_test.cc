// A full GROUPKEY-PULL message-4-like chain (SEQ + KD + SA with a KEK, a permit TEK and a
// deny TEK), broken every way the brief names: every truncation, every length field made to
// lie (too small, too large, past the message), consistent truncations of every nested
// structure, and single-byte corruption everywhere. Every decode runs on a heap buffer of
// exactly the input's size, so the ASan tree catches any read past the end.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "control/gdoi_message.h"
#include "tests/control/sample_messages.h"

namespace gm::control {
namespace {

bytes sample() {
  auto b = encode_message(samples::pull_4_chain());
  EXPECT_TRUE(b.ok());
  return *b;
}

// Decodes from a buffer of exactly b.size() bytes.
result<decoded_message> decode_exact(const bytes& b) {
  auto copy = std::make_unique<uint8_t[]>(b.size() == 0 ? 1 : b.size());
  std::copy(b.begin(), b.end(), copy.get());
  return decode_message(std::span<const uint8_t>(copy.get(), b.size()));
}

// If a damaged message still decodes, it must be a message the codec itself would accept
// again unchanged (decode . encode is the identity on what decode returns).
void expect_stable(const decoded_message& d, const std::string& what) {
  auto enc = encode_message(d.message);
  ASSERT_TRUE(enc.ok()) << what << ": " << describe(enc.error());
  auto again = decode_message(*enc);
  ASSERT_TRUE(again.ok()) << what << ": " << describe(again.error());
  EXPECT_EQ(again->message.payloads, d.message.payloads) << what;
  isakmp_header h = d.message.header;
  h.length = again->message.header.length;  // a non-canonical attribute may re-encode shorter
  EXPECT_EQ(again->message.header, h) << what;
}

std::size_t be(const bytes& b, std::size_t at, std::size_t width) {
  std::size_t v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    v = v << 8 | b.at(at + i);
  }
  return v;
}

void put_be(bytes& b, std::size_t at, std::size_t width, std::size_t v) {
  for (std::size_t i = 0; i < width; ++i) {
    b.at(at + i) = static_cast<uint8_t>(v >> (8 * (width - 1 - i)));
  }
}

// A length or count field of the sample, located by a walk written here, independently of
// the codec (RFC 2408 / RFC 6407 layouts).
struct len_field {
  std::size_t pos;
  std::size_t width;
  std::size_t start;  // first byte the value counts (bytes fields)
  std::size_t value;
  bool bytes_len;  // counts bytes from `start` (else it counts items)
  std::string what;
};

void attr_fields(const bytes& m, std::size_t a, std::size_t end, const std::string& what,
                 std::vector<len_field>& f) {
  while (a < end) {
    if ((m.at(a) & 0x80) != 0) {
      a += 4;
      continue;
    }
    const std::size_t l = be(m, a + 2, 2);
    f.push_back({a + 2, 2, a + 4, l, true, what + " attribute " + std::to_string(be(m, a, 2))});
    a += 4 + l;
  }
}

void kd_fields(const bytes& m, std::size_t b, std::size_t end, std::vector<len_field>& f) {
  f.push_back({b, 2, 0, be(m, b, 2), false, "KD key packet count"});
  for (std::size_t p = b + 4; p < end;) {
    const std::size_t kl = be(m, p + 2, 2);
    const std::string what = "key packet type " + std::to_string(m.at(p));
    f.push_back({p + 2, 2, p, kl, true, what + " length"});
    const std::size_t spi = m.at(p + 4);
    f.push_back({p + 4, 1, p + 5, spi, true, what + " SPI size"});
    attr_fields(m, p + 5 + spi, p + kl, what, f);
    p += kl;
  }
}

void sa_fields(const bytes& m, std::size_t b, std::vector<len_field>& f) {
  uint8_t sub = m.at(b + 9);
  for (std::size_t s = b + 12; sub != 0;) {
    const uint8_t next = m.at(s);
    const std::size_t l = be(m, s + 2, 2);
    const std::string what =
        std::string(sub == payload::sa_kek ? "SA KEK" : "SA TEK") + "@" + std::to_string(s);
    f.push_back({s + 2, 2, s, l, true, what + " length"});
    std::size_t p = s + 4;
    if (sub == payload::sa_kek) {
      p += 1;
      for (const char* side : {"src", "dst"}) {
        f.push_back({p + 3, 1, p + 4, m.at(p + 3), true, what + " " + side + " ID length"});
        p += 4 + m.at(p + 3);
      }
      p += 16 + 4;
    } else {
      p += 2;
      for (const char* side : {"src", "dst"}) {
        const std::size_t dl = be(m, p + 3, 2);
        f.push_back({p + 3, 2, p + 5, dl, true, what + " " + side + " ID length"});
        p += 5 + dl;
      }
      p += 1 + 4;
    }
    attr_fields(m, p, s + l, what, f);
    s += l;
    sub = next;
  }
}

std::vector<len_field> length_fields(const bytes& m) {
  std::vector<len_field> f;
  f.push_back({24, 4, 0, be(m, 24, 4), true, "ISAKMP length"});
  uint8_t type = m.at(16);
  for (std::size_t off = header_len; type != 0;) {
    const uint8_t next = m.at(off);
    const std::size_t len = be(m, off + 2, 2);
    f.push_back({off + 2, 2, off, len, true, "payload " + std::to_string(type) + " length"});
    if (type == payload::kd) {
      kd_fields(m, off + 4, off + len, f);
    } else if (type == payload::sa) {
      sa_fields(m, off + 4, f);
    }
    off += len;
    type = next;
  }
  return f;
}

TEST(gdoi_malformed, sample_and_field_map) {
  const bytes m = sample();
  auto d = decode_exact(m);
  ASSERT_TRUE(d.ok()) << describe(d.error());
  const auto f = length_fields(m);
  // header; 3 payloads; KD count, 2 key packets (length, SPI size) and their 1 + 2 keys;
  // KEK (length, 2 IDs, the TLV lifetime); permit TEK (length, 2 IDs, the TLV pseudotime);
  // deny TEK (length, 2 IDs).
  EXPECT_EQ(f.size(), 1u + 3 + (1 + 2 * 2 + 3) + 4 + 4 + 3);
  for (const len_field& x : f) {
    EXPECT_LE(x.pos + x.width, m.size()) << x.what;
  }
}

TEST(gdoi_malformed, every_truncation_is_a_typed_error) {
  const bytes m = sample();
  for (std::size_t n = 0; n < m.size(); ++n) {
    bytes cut(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(n));
    auto d = decode_exact(cut);
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_EQ(d.error().code, n < header_len ? codec_errc::truncated_header
                                             : codec_errc::message_length_beyond_buffer)
        << n;
    if (n < header_len) {
      continue;
    }
    // Now the header agrees with the datagram: the payloads must notice.
    put_be(cut, 24, 4, n);
    d = decode_exact(cut);
    ASSERT_FALSE(d.ok()) << "truncated to " << n << " with a matching header length";
    EXPECT_GE(d.error().offset, header_len) << n << ": " << describe(d.error());
    EXPECT_LE(d.error().offset, n) << n << ": " << describe(d.error());
  }
}

TEST(gdoi_malformed, every_lying_length_is_a_typed_error) {
  const bytes m = sample();
  std::size_t lies = 0;
  for (const len_field& x : length_fields(m)) {
    const std::size_t max = x.width == 4 ? 0xffffffffu : (std::size_t{1} << (8 * x.width)) - 1;
    for (std::size_t lie :
         {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{4}, x.value - 1, x.value + 1,
          x.value + 2, x.value + 4, x.value * 2, m.size(), max - 1, max}) {
      if (lie == x.value || lie > max) {
        continue;
      }
      bytes b = m;
      put_be(b, x.pos, x.width, lie);
      auto d = decode_exact(b);
      ++lies;
      EXPECT_FALSE(d.ok()) << x.what << " = " << lie << " (true " << x.value << ")";
      if (!d.ok()) {
        EXPECT_LE(d.error().offset, m.size()) << x.what;
      }
    }
  }
  EXPECT_GT(lies, 200u);
}

TEST(gdoi_malformed, specific_lies_name_the_right_error) {
  const bytes m = sample();
  const auto f = length_fields(m);
  auto err = [&](const std::string& what, std::size_t lie) {
    for (const len_field& x : f) {
      if (x.what == what) {
        bytes b = m;
        put_be(b, x.pos, x.width, lie);
        auto d = decode_exact(b);
        return d.ok() ? codec_errc::value_too_long : d.error().code;
      }
    }
    ADD_FAILURE() << "no field " << what;
    return codec_errc::value_too_long;
  };
  EXPECT_EQ(err("ISAKMP length", 27), codec_errc::message_length_too_small);
  EXPECT_EQ(err("ISAKMP length", m.size() + 1), codec_errc::message_length_beyond_buffer);
  EXPECT_EQ(err("ISAKMP length", m.size() - 1), codec_errc::message_length_short_of_buffer);
  EXPECT_EQ(err("payload 18 length", 3), codec_errc::payload_length_too_small);
  EXPECT_EQ(err("payload 1 length", 0xffff), codec_errc::payload_length_beyond_message);
  EXPECT_EQ(err("KD key packet count", 3), codec_errc::key_packet_count_mismatch);
  EXPECT_EQ(err("KD key packet count", 1), codec_errc::key_packet_count_mismatch);
  EXPECT_EQ(err("key packet type 1 length", 4), codec_errc::bad_key_packet_length);
  EXPECT_EQ(err("key packet type 1 SPI size", 16), codec_errc::bad_spi_size);
  EXPECT_EQ(err("key packet type 2 SPI size", 4), codec_errc::bad_spi_size);
  EXPECT_EQ(err("key packet type 2 attribute 2", 0x200), codec_errc::truncated_attribute);
}

TEST(gdoi_malformed, consistent_truncation_of_every_nested_structure) {
  // Cut the tail of one structure and shrink every length that encloses the cut, so the
  // outer framing agrees and only the inner decoder can notice. A cut at an attribute
  // boundary can leave a valid message; then it must be stable.
  const bytes m = sample();
  const auto f = length_fields(m);
  std::size_t errors = 0;
  std::size_t valid = 0;
  for (const len_field& c : f) {
    if (!c.bytes_len) {
      continue;
    }
    const std::size_t end = c.start + c.value;
    for (std::size_t cut = std::max(c.start, c.pos + c.width); cut < end; ++cut) {
      const std::size_t removed = end - cut;
      bytes b = m;
      for (const len_field& e : f) {
        if (e.bytes_len && e.pos < cut && e.start <= cut && e.start + e.value >= end) {
          put_be(b, e.pos, e.width, e.value - removed);
        }
      }
      b.erase(b.begin() + static_cast<std::ptrdiff_t>(cut),
              b.begin() + static_cast<std::ptrdiff_t>(end));
      auto d = decode_exact(b);
      if (d.ok()) {
        ++valid;
        expect_stable(*d, c.what + " cut at " + std::to_string(cut));
      } else {
        ++errors;
        EXPECT_LE(d.error().offset, b.size()) << c.what << " cut at " << cut;
      }
    }
  }
  EXPECT_GT(errors, 1000u);
  EXPECT_GT(valid, 0u);
}

TEST(gdoi_malformed, single_byte_corruption_anywhere) {
  const bytes m = sample();
  for (std::size_t i = 0; i < m.size(); ++i) {
    for (int v : {0x00, 0xff, m[i] ^ 0x01, m[i] ^ 0x80, m[i] ^ 0x10}) {
      bytes b = m;
      b[i] = static_cast<uint8_t>(v);
      auto d = decode_exact(b);
      if (d.ok()) {
        expect_stable(*d, "byte " + std::to_string(i) + " = " + std::to_string(v));
      }
    }
  }
}

}  // namespace
}  // namespace gm::control
