// ISAKMP header and the generic payload chain walker: a hand-written header, every header
// check, and every way a chain can lie.
#include "control/isakmp.h"

#include <gtest/gtest.h>

#include <string>

namespace gm::control {
namespace {

// GROUPKEY-PULL, next payload HASH, flags 0, message id 0x0a0b0c0d, length 28.
const bytes header_bytes = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12,
                            0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x08, 0x10, 0x20, 0x00,
                            0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x00, 0x1c};

bytes with_length(bytes b, uint32_t len) {
  byte_writer(b).patch_u32(24, len);
  return b;
}

TEST(isakmp_header, decodes_and_encodes_a_known_header) {
  auto h = decode_header(header_bytes);
  ASSERT_TRUE(h.ok()) << describe(h.error());
  EXPECT_EQ(h->initiator_cookie, (cookie{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(h->responder_cookie, (cookie{0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}));
  EXPECT_EQ(h->next_payload, payload::hash);
  EXPECT_EQ(h->version, version_1_0);
  EXPECT_EQ(h->exchange_type, exchange::groupkey_pull);
  EXPECT_EQ(h->flags, 0);
  EXPECT_EQ(h->message_id, 0x0a0b0c0du);
  EXPECT_EQ(h->length, 28u);
  bytes out;
  byte_writer w(out);
  encode_header(*h, w);
  EXPECT_EQ(out, header_bytes);
}

TEST(isakmp_header, push_and_flags) {
  bytes b = header_bytes;
  b[18] = exchange::groupkey_push;
  b[19] = flag::encryption | flag::commit | flag::authentication_only;
  auto h = decode_header(b);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->exchange_type, 33);
  EXPECT_EQ(h->flags, 7);
}

TEST(isakmp_header, every_check) {
  EXPECT_EQ(decode_header(std::span(header_bytes).first(27)).error().code,
            codec_errc::truncated_header);
  EXPECT_EQ(decode_header({}).error().code, codec_errc::truncated_header);
  bytes b = header_bytes;
  b[17] = 0x20;  // IKEv2
  EXPECT_EQ(decode_header(b).error(), make_error(codec_errc::bad_version, 17));
  b = header_bytes;
  b[17] = 0x11;  // 1.1
  EXPECT_EQ(decode_header(b).error().code, codec_errc::bad_version);
  b = header_bytes;
  b[19] = 0x08;
  EXPECT_EQ(decode_header(b).error(), make_error(codec_errc::bad_flags, 19));
  EXPECT_EQ(decode_header(with_length(header_bytes, 27)).error().code,
            codec_errc::message_length_too_small);
  EXPECT_EQ(decode_header(with_length(header_bytes, 0)).error().code,
            codec_errc::message_length_too_small);
  EXPECT_EQ(decode_header(with_length(header_bytes, 29)).error().code,
            codec_errc::message_length_beyond_buffer);
  EXPECT_EQ(decode_header(with_length(header_bytes, 0xffffffff)).error().code,
            codec_errc::message_length_beyond_buffer);
  b = header_bytes;
  b.push_back(0);
  EXPECT_EQ(decode_header(b).error(), make_error(codec_errc::message_length_short_of_buffer, 28));
}

// HASH(4 bytes) -> Nonce(2 bytes), at base 28.
const bytes chain = {0x0a, 0x00, 0x00, 0x08, 0xaa, 0xbb, 0xcc,
                     0xdd, 0x00, 0x00, 0x00, 0x06, 0x11, 0x22};

TEST(payload_walker, walks_a_chain) {
  auto v = walk_payloads(payload::hash, chain, 28);
  ASSERT_TRUE(v.ok()) << describe(v.error());
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].type, payload::hash);
  EXPECT_EQ((*v)[0].offset, 28u);
  EXPECT_EQ((*v)[0].length, 8u);
  EXPECT_EQ((*v)[0].body.size(), 4u);
  EXPECT_EQ((*v)[0].body[0], 0xaa);
  EXPECT_EQ((*v)[1].type, payload::nonce);
  EXPECT_EQ((*v)[1].offset, 36u);
  EXPECT_EQ((*v)[1].body.size(), 2u);
  EXPECT_TRUE(walk_payloads(payload::none, {}, 28).ok());
}

TEST(payload_walker, every_truncation) {
  for (std::size_t n = 0; n < chain.size(); ++n) {
    const bytes cut(chain.begin(), chain.begin() + static_cast<std::ptrdiff_t>(n));
    auto v = walk_payloads(payload::hash, cut, 28);
    ASSERT_FALSE(v.ok()) << n;
    const codec_errc c = v.error().code;
    EXPECT_TRUE(c == codec_errc::truncated_payload_header ||
                c == codec_errc::payload_length_beyond_message)
        << n << " " << describe(v.error());
  }
}

TEST(payload_walker, lying_lengths) {
  for (uint16_t len : {0, 1, 2, 3}) {
    bytes b = chain;
    byte_writer(b).patch_u16(2, len);
    EXPECT_EQ(walk_payloads(payload::hash, b, 28).error(),
              make_error(codec_errc::payload_length_too_small, 30, payload::hash));
  }
  for (uint16_t len : {15, 16, 0xffff}) {
    bytes b = chain;
    byte_writer(b).patch_u16(2, len);
    EXPECT_EQ(walk_payloads(payload::hash, b, 28).error(),
              make_error(codec_errc::payload_length_beyond_message, 30, payload::hash));
  }
  // Shorter first payload: the second header lands inside the first body.
  bytes b = chain;
  byte_writer(b).patch_u16(2, 7);
  EXPECT_FALSE(walk_payloads(payload::hash, b, 28).ok());
  // Last payload one byte short: a byte is left over.
  b = chain;
  byte_writer(b).patch_u16(10, 5);
  EXPECT_EQ(walk_payloads(payload::hash, b, 28).error(), make_error(codec_errc::trailing_data, 41));
}

TEST(payload_walker, trailing_bytes_and_padding) {
  bytes b = chain;
  b.insert(b.end(), {0, 0, 0, 3});
  EXPECT_EQ(walk_payloads(payload::hash, b, 28).error().code, codec_errc::trailing_data);
  auto v = walk_payloads(payload::hash, b, 28, tail::padding);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size(), 2u);
}

TEST(payload_walker, unknown_and_critical_payloads) {
  bytes b = chain;
  b[8] = 30;  // Nonce says: next is type 30 (unassigned)
  b.insert(b.end(), {0x00, 0x00, 0x00, 0x04});
  EXPECT_EQ(walk_payloads(payload::hash, b, 28).error(),
            make_error(codec_errc::unknown_payload_type, 42, 30));
  b[8] = 200;  // private use: carried
  auto v = walk_payloads(payload::hash, b, 28);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->back().type, 200);
  b[15] = critical_bit;  // private use, marked critical
  EXPECT_EQ(walk_payloads(payload::hash, b, 28).error(),
            make_error(codec_errc::unknown_critical_payload, 42, 200));
  b[8] = 30;
  EXPECT_EQ(walk_payloads(payload::hash, b, 28).error().code, codec_errc::unknown_critical_payload);
  // The bit is ignored on a known payload type (ISAKMP v1 has no critical flag).
  bytes k = chain;
  k[1] = critical_bit;
  EXPECT_TRUE(walk_payloads(payload::hash, k, 28).ok());
  EXPECT_TRUE(known_payload_type(payload::gap));
  EXPECT_FALSE(known_payload_type(14));
  EXPECT_FALSE(known_payload_type(0));
}

TEST(payload_walker, loop_guard) {
  // max_payloads empty private payloads chained to each other: accepted; one more: refused.
  bytes b;
  byte_writer w(b);
  for (std::size_t i = 0; i < max_payloads; ++i) {
    w.u8(i + 1 < max_payloads ? 200 : 0);
    w.u8(0);
    w.u16(4);
  }
  EXPECT_TRUE(walk_payloads(200, b, 0).ok());
  b[b.size() - 4] = 200;
  b.insert(b.end(), {0, 0, 0, 4});
  EXPECT_EQ(walk_payloads(200, b, 0).error().code, codec_errc::too_many_payloads);
}

TEST(codec_errors, every_code_has_a_name_and_text) {
  for (int i = 0; i <= static_cast<int>(codec_errc::value_too_long); ++i) {
    const auto c = static_cast<codec_errc>(i);
    EXPECT_NE(std::string(name(c)), "");
    EXPECT_GT(std::string(text(c)).size(), 10u);
  }
  EXPECT_EQ(describe(make_error(codec_errc::payload_length_beyond_message, 84, 17)),
            "payload_length_beyond_message at offset 84 (payload 17): payload length runs past "
            "the end of the message");
}

TEST(payload_encoder, frames_and_refuses_long_bodies) {
  bytes out;
  byte_writer w(out);
  const bytes body = {1, 2, 3};
  EXPECT_FALSE(put_payload(w, payload::kd, body, payload::seq));
  EXPECT_EQ(out, (bytes{17, 0, 0, 7, 1, 2, 3}));
  const bytes big(0xffff - 3, 0);
  EXPECT_EQ(put_payload(w, 0, big, payload::sig)->code, codec_errc::value_too_long);
  EXPECT_EQ(out.size(), 7u);
  EXPECT_FALSE(put_payload(w, 0, std::span(big).first(0xffff - 4), payload::sig));
}

}  // namespace
}  // namespace gm::control
