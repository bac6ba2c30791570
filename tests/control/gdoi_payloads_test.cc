// GDOI payloads: hand-written byte vectors for each payload (RFC 6407 layouts, and the
// 1-byte ID length form of Cisco's 2011 reference), round trips of every payload and of
// whole messages, and the typed errors of each payload's own checks.
#include <gtest/gtest.h>

#include "control/gdoi_message.h"
#include "tests/control/hex.h"
#include "tests/control/sample_messages.h"

namespace gm::control {
namespace {

using test::hexb;

// ---- hand-written vectors -------------------------------------------------------------

// deny udp any port = 848 any port = 848 (RFC 6407: 2-byte ID data lengths).
const bytes deny_tek_rfc = hexb(
    "01 11"
    "04 0350 0008 00000000 00000000"
    "04 0350 0008 00000000 00000000"
    "14 00000000"
    "800e 0004 800f 0003");
// The same SA TEK as Cisco's 2011 reference writes it: 1-byte ID data lengths.
const bytes deny_tek_one_byte = hexb(
    "01 11"
    "04 0350 08 00000000 00000000"
    "04 0350 08 00000000 00000000"
    "14 00000000"
    "800e 0004 800f 0003");

// permit ip 10.1.0.0/16 10.2.0.0/16, AES-GCM-16, SPI 0x1234abcd, lifetime 3600 s, tunnel,
// 128-bit key, address preservation 4, direction symmetric, TBAR time / 4 s / pseudotime.
const char* const permit_tek_attrs =
    "8001 0001 8002 0e10 8004 0001 8006 0080 800e 0004 800f 0003"
    "fd01 0002 fd02 0004 7d03 0008 00000000 1a65409a";
const bytes permit_tek_rfc = hexb(std::string("01 00"
                                              "04 0000 0008 0a010000 ffff0000"
                                              "04 0000 0008 0a020000 ffff0000"
                                              "14 1234abcd") +
                                  permit_tek_attrs);
const bytes permit_tek_one_byte = hexb(std::string("01 00"
                                                   "04 0000 08 0a010000 ffff0000"
                                                   "04 0000 08 0a020000 ffff0000"
                                                   "14 1234abcd") +
                                       permit_tek_attrs);

// KEK: UDP, 10.0.0.1:848 -> 239.1.1.1:848 (RFC 6407: 1-byte ID data lengths), cookies
// a0..af, AES-128, lifetime 86400 s (TLV), SHA-256, RSA-2048.
const char* const kek_tail =
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 00000000"
    "8002 0003 8003 0080 0004 0004 00015180 8005 0003 8006 0001 8007 0800";
const bytes kek_rfc = hexb(std::string("11 01 0350 04 0a000001 01 0350 04 ef010101") + kek_tail);
const bytes kek_two_byte =
    hexb(std::string("11 01 0350 0004 0a000001 01 0350 0004 ef010101") + kek_tail);

const bytes gap_bytes = hexb("8001 001e 8002 005a");

// SA: DOI 2, situation 0, SA attribute next payload = SA KEK, then KEK -> deny TEK.
const bytes sa_bytes = [] {
  bytes b = hexb("00000002 00000000 000f 0000 10 00 0045");
  b.insert(b.end(), kek_rfc.begin(), kek_rfc.end());
  return b;
}();

bytes sa_kek_deny() {
  bytes b = sa_bytes;
  const bytes tek_hdr = hexb("00 00 002d");
  b.insert(b.end(), tek_hdr.begin(), tek_hdr.end());
  b.insert(b.end(), deny_tek_rfc.begin(), deny_tek_rfc.end());
  return b;
}

// KD: a TEK key packet (SPI 1234abcd, algorithm key 01020304, integrity key aabb) and a
// KEK key packet (SPI a0..af, algorithm key 1122, signature key 334455).
const bytes kd_bytes = hexb(
    "0002 0000"
    "01 00 0017 04 1234abcd 0001 0004 01020304 0002 0002 aabb"
    "02 00 0022 10 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf 0001 0002 1122 0002 0003 334455");

// ---- vectors -> structs -> vectors ----------------------------------------------------

TEST(gdoi_vectors, sa_tek_deny_rfc_form) {
  id_forms f;
  auto t = decode_sa_tek(deny_tek_rfc, 0, &f);
  ASSERT_TRUE(t.ok()) << describe(t.error());
  EXPECT_EQ(*t, samples::deny_tek());
  EXPECT_TRUE(t->deny());
  EXPECT_TRUE(f.tek_rfc);
  EXPECT_FALSE(f.tek_one_byte);
  bytes out;
  ASSERT_FALSE(encode_sa_tek(*t, out));
  EXPECT_EQ(out, deny_tek_rfc);
}

TEST(gdoi_vectors, sa_tek_deny_one_byte_form) {
  id_forms f;
  auto t = decode_sa_tek(deny_tek_one_byte, 0, &f);
  ASSERT_TRUE(t.ok()) << describe(t.error());
  EXPECT_EQ(*t, samples::deny_tek());
  EXPECT_TRUE(f.tek_one_byte);
  EXPECT_FALSE(f.tek_rfc);
  bytes out;
  ASSERT_FALSE(encode_sa_tek(*t, out));
  EXPECT_EQ(out, deny_tek_rfc);  // the encoder always writes the RFC form
}

TEST(gdoi_vectors, sa_tek_permit_with_tbar_attributes_both_forms) {
  for (const bytes* b : {&permit_tek_rfc, &permit_tek_one_byte}) {
    id_forms f;
    auto t = decode_sa_tek(*b, 0, &f);
    ASSERT_TRUE(t.ok()) << describe(t.error());
    EXPECT_EQ(*t, samples::permit_tek());
    EXPECT_EQ(t->attrs.replay_method, replay::time);
    EXPECT_EQ(t->attrs.replay_window, 4u);
    EXPECT_EQ(t->attrs.pseudotime_ms, 442843290u);
    EXPECT_EQ(t->attrs.address_preservation, addr_preservation::source_and_destination);
    EXPECT_EQ(t->attrs.sa_direction, sa_dir::symmetric);
    EXPECT_EQ(f.tek_one_byte, b == &permit_tek_one_byte);
    bytes out;
    ASSERT_FALSE(encode_sa_tek(*t, out));
    EXPECT_EQ(out, permit_tek_rfc);
  }
}

TEST(gdoi_vectors, sa_kek_both_forms) {
  for (const bytes* b : {&kek_rfc, &kek_two_byte}) {
    id_forms f;
    auto k = decode_sa_kek(*b, 0, &f);
    ASSERT_TRUE(k.ok()) << describe(k.error());
    EXPECT_EQ(*k, samples::kek());
    EXPECT_EQ(f.kek_rfc, b == &kek_rfc);
    EXPECT_EQ(f.kek_two_byte, b == &kek_two_byte);
    bytes out;
    ASSERT_FALSE(encode_sa_kek(*k, out));
    EXPECT_EQ(out, kek_rfc);
  }
}

TEST(gdoi_vectors, gap) {
  auto g = decode_gap(gap_bytes, 0);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g, samples::gap());
  bytes out;
  ASSERT_FALSE(encode_gap(*g, out));
  EXPECT_EQ(out, gap_bytes);
}

TEST(gdoi_vectors, sa_with_kek_and_deny_tek) {
  const bytes b = sa_kek_deny();
  id_forms f;
  auto sa = decode_sa(b, 32, &f);
  ASSERT_TRUE(sa.ok()) << describe(sa.error());
  ASSERT_TRUE(sa->kek);
  EXPECT_EQ(*sa->kek, samples::kek());
  ASSERT_EQ(sa->teks.size(), 1u);
  EXPECT_EQ(sa->teks[0], samples::deny_tek());
  EXPECT_FALSE(sa->gap);
  EXPECT_TRUE(f.kek_rfc && f.tek_rfc);
  bytes out;
  ASSERT_FALSE(encode_sa(*sa, out));
  EXPECT_EQ(out, b);
}

TEST(gdoi_vectors, sa_with_one_byte_tek_ids_inside) {
  bytes b = sa_bytes;
  const bytes tek_hdr = hexb("00 00 002b");
  b.insert(b.end(), tek_hdr.begin(), tek_hdr.end());
  b.insert(b.end(), deny_tek_one_byte.begin(), deny_tek_one_byte.end());
  id_forms f;
  auto sa = decode_sa(b, 0, &f);
  ASSERT_TRUE(sa.ok()) << describe(sa.error());
  EXPECT_EQ(sa->teks.at(0), samples::deny_tek());
  EXPECT_TRUE(f.tek_one_byte);
  EXPECT_FALSE(f.tek_rfc);
}

TEST(gdoi_vectors, kd) {
  auto kd = decode_kd(kd_bytes, 0);
  ASSERT_TRUE(kd.ok()) << describe(kd.error());
  ASSERT_EQ(kd->packets.size(), 2u);
  const key_packet& t = kd->packets[0];
  EXPECT_EQ(t.type, key_packet_type::tek);
  EXPECT_EQ(t.tek_spi(), 0x1234abcdu);
  EXPECT_EQ(t.algorithm_key, (key_bytes{1, 2, 3, 4}));
  EXPECT_EQ(t.integrity_key, (key_bytes{0xaa, 0xbb}));
  EXPECT_TRUE(t.signature_key.empty());
  const key_packet& k = kd->packets[1];
  EXPECT_EQ(k.type, key_packet_type::kek);
  const kek_spi cookies = samples::kek_cookies();
  EXPECT_EQ(k.spi, bytes(cookies.begin(), cookies.end()));
  EXPECT_EQ(k.algorithm_key, (key_bytes{0x11, 0x22}));
  EXPECT_EQ(k.signature_key, (key_bytes{0x33, 0x44, 0x55}));
  EXPECT_TRUE(k.integrity_key.empty());
  EXPECT_EQ(kd->packets[0], key_packet::tek(0x1234abcd, {1, 2, 3, 4}, {0xaa, 0xbb}));
  EXPECT_EQ(kd->packets[1],
            key_packet::kek(samples::kek_cookies(), {0x11, 0x22}, {0x33, 0x44, 0x55}));
  bytes out;
  ASSERT_FALSE(encode_kd(*kd, out));
  EXPECT_EQ(out, kd_bytes);
}

TEST(gdoi_vectors, seq_id_delete) {
  auto s = decode_seq(hexb("00000007"), 0);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->seq, 7u);
  auto id = decode_id(hexb("0b 00 0000 000004d2"), 0);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, id_payload::group(1234));
  EXPECT_EQ(id->group_number(), 1234u);
  auto d = decode_delete(hexb("00000002 01 04 0002 11223344 55667788"), 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->doi, 2u);
  EXPECT_EQ(d->protocol_id, 1);
  EXPECT_EQ(d->spis, (std::vector<bytes>{hexb("11223344"), hexb("55667788")}));
  bytes out;
  ASSERT_FALSE(encode_delete(*d, out));
  EXPECT_EQ(out, hexb("00000002 01 04 0002 11223344 55667788"));
  // A KEK delete: protocol-id 0, 16-byte SPI.
  d = decode_delete(hexb("00000002 00 10 0001 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"), 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->spi_size, 16);
}

// GROUPKEY-PULL message 1 (HASH Ni ID), byte for byte.
const bytes pull_1_bytes = hexb(
    "0102030405060708 1112131415161718 08 10 20 00 0a0b0c0d 00000054"
    "0a 00 0018 808182838485868788898a8b8c8d8e8f90919293"
    "05 00 0014 909192939495969798999a9b9c9d9e9f"
    "00 00 000c 0b 00 0000 000004d2");

TEST(gdoi_vectors, pull_message_1) {
  auto m = decode_message(pull_1_bytes);
  ASSERT_TRUE(m.ok()) << describe(m.error());
  gdoi_message want = samples::pull_1();
  want.header.next_payload = payload::hash;
  want.header.length = 84;
  EXPECT_EQ(m->message, want);
  ASSERT_EQ(m->info.extents.size(), 3u);
  EXPECT_EQ(m->info.extents[1].type, payload::nonce);
  EXPECT_EQ(m->info.extents[1].offset, 52u);
  EXPECT_EQ(m->info.extents[1].length, 20u);
  auto enc = encode_message(samples::pull_1());
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(*enc, pull_1_bytes);
}

// ---- round trips ----------------------------------------------------------------------

template <typename T, typename Enc, typename Dec>
void round_trip(const T& v, Enc enc, Dec dec) {
  bytes b;
  ASSERT_FALSE(enc(v, b));
  auto d = dec(b);
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(*d, v);
}

TEST(gdoi_round_trip, every_payload) {
  auto sa_dec = [](const bytes& b) { return decode_sa(b, 0); };
  auto tek_dec = [](const bytes& b) { return decode_sa_tek(b, 0); };
  auto kek_dec = [](const bytes& b) { return decode_sa_kek(b, 0); };
  round_trip(samples::permit_tek(), encode_sa_tek, tek_dec);
  round_trip(samples::deny_tek(), encode_sa_tek, tek_dec);
  round_trip(samples::des3_tek(), encode_sa_tek, tek_dec);
  round_trip(samples::kek(), encode_sa_kek, kek_dec);
  round_trip(samples::gap(), encode_gap, [](const bytes& b) { return decode_gap(b, 0); });
  round_trip(samples::sa(), encode_sa, sa_dec);
  sa_payload full = samples::sa();
  full.teks.push_back(samples::des3_tek());
  full.gap = samples::gap();
  round_trip(full, encode_sa, sa_dec);
  sa_payload teks_only;
  teks_only.teks = {samples::permit_tek()};
  round_trip(teks_only, encode_sa, sa_dec);
  sa_payload kek_only;
  kek_only.kek = samples::kek();
  round_trip(kek_only, encode_sa, sa_dec);
  round_trip(samples::kd(), encode_kd, [](const bytes& b) { return decode_kd(b, 0); });
  round_trip(seq_payload{0xfffffffe}, encode_seq, [](const bytes& b) { return decode_seq(b, 0); });
  round_trip(id_payload::group(0xdeadbeef), encode_id,
             [](const bytes& b) { return decode_id(b, 0); });
  delete_payload d;
  d.spis = {bytes{1, 2, 3, 4}, bytes{5, 6, 7, 8}};
  round_trip(d, encode_delete, [](const bytes& b) { return decode_delete(b, 0); });
}

TEST(gdoi_round_trip, unknown_attributes_and_ids_are_kept) {
  sa_tek t = samples::permit_tek();
  t.attrs.other = {attribute::basic(tek_attr::group_description, 14),
                   attribute::variable(32010, {1, 2, 3}), attribute::basic(32011, 9)};
  t.attrs.lifetimes.push_back(sa_lifetime{life_type::kilobytes, uint64_t{1} << 40});
  t.src = sa_identity{id_type::ipv6_subnet, 0, bytes(32, 0xfe)};
  t.dst = sa_identity::ipv4_addr(0x0a000002, 80);
  t.protocol_id = tek_protocol::ah;
  round_trip(t, encode_sa_tek, [](const bytes& b) { return decode_sa_tek(b, 0); });
  sa_kek k = samples::kek();
  k.attrs.management_algorithm = 1;
  k.attrs.other = {attribute::variable(8, {9})};
  k.src = sa_identity{id_type::fqdn, 0, bytes{'k', 's'}};
  round_trip(k, encode_sa_kek, [](const bytes& b) { return decode_sa_kek(b, 0); });
  gap_payload g;
  g.sender_id_request = 3;
  g.other = {attribute::basic(9, 1)};
  round_trip(g, encode_gap, [](const bytes& b) { return decode_gap(b, 0); });
  kd_payload kd;
  key_packet p = key_packet::tek(5, {1}, {});
  p.other = {attribute::variable(kd_attr::tek_source_auth_key, {7, 7})};
  kd.packets = {p, key_packet{key_packet_type::sid, {}, {}, {}, {}, {attribute::basic(1, 1)}}};
  round_trip(kd, encode_kd, [](const bytes& b) { return decode_kd(b, 0); });
}

TEST(gdoi_round_trip, every_sample_message) {
  for (const gdoi_message& m : {samples::pull_1(), samples::pull_2(), samples::pull_3(),
                                samples::pull_4(), samples::pull_4_chain(), samples::push()}) {
    auto enc = encode_message(m);
    ASSERT_TRUE(enc.ok()) << describe(enc.error());
    auto dec = decode_message(*enc);
    ASSERT_TRUE(dec.ok()) << describe(dec.error());
    gdoi_message want = m;
    want.header.next_payload = payload_type_of(m.payloads.front());
    want.header.length = static_cast<uint32_t>(enc->size());
    EXPECT_EQ(dec->message, want);
    EXPECT_FALSE(dec->info.forms.tek_one_byte || dec->info.forms.kek_two_byte);
    ASSERT_EQ(dec->info.extents.size(), m.payloads.size());
    std::size_t at = header_len;
    for (std::size_t i = 0; i < m.payloads.size(); ++i) {
      EXPECT_EQ(dec->info.extents[i].type, payload_type_of(m.payloads[i]));
      EXPECT_EQ(dec->info.extents[i].offset, at);
      at += dec->info.extents[i].length;
    }
    EXPECT_EQ(at, enc->size());
  }
}

TEST(gdoi_round_trip, other_payloads_and_phase_1_sa) {
  gdoi_message m{samples::header(exchange::groupkey_pull),
                 {hash_payload{{1}}, other_payload{payload::vendor_id, {1, 2, 3}},
                  other_payload{payload::notify, {0, 0, 0, 2}}, other_payload{200, {}}}};
  auto enc = encode_message(m);
  ASSERT_TRUE(enc.ok());
  auto dec = decode_message(*enc);
  ASSERT_TRUE(dec.ok()) << describe(dec.error());
  EXPECT_EQ(dec->message.payloads, m.payloads);
  // Main Mode: an SA payload is phase-1 proposals, carried opaque.
  gdoi_message mm{samples::header(exchange::identity_protection),
                  {other_payload{payload::sa, {0, 0, 0, 2, 0, 0, 0, 1, 9, 9}}}};
  enc = encode_message(mm);
  dec = decode_message(*enc);
  ASSERT_TRUE(dec.ok()) << describe(dec.error());
  EXPECT_EQ(dec->message.payloads, mm.payloads);
}

TEST(gdoi_round_trip, decrypted_chain_with_padding) {
  auto chain = encode_payloads(samples::pull_4().payloads);
  ASSERT_TRUE(chain.ok());
  bytes padded = *chain;
  padded.insert(padded.end(), 7, 0);  // Cisco: zero padding, no pad length byte
  auto d =
      decode_payloads(payload::hash, padded, header_len, tail::padding, exchange::groupkey_pull);
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(d->payloads, samples::pull_4().payloads);
  EXPECT_EQ(decode_payloads(payload::hash, padded, header_len, tail::exact, exchange::groupkey_pull)
                .error()
                .code,
            codec_errc::trailing_data);
}

// ---- each payload's own checks --------------------------------------------------------

codec_errc tek_error(const bytes& b) {
  auto t = decode_sa_tek(b, 0);
  EXPECT_FALSE(t.ok());
  return t.ok() ? codec_errc::value_too_long : t.error().code;
}

TEST(gdoi_errors, sa_tek) {
  bytes b = deny_tek_rfc;
  b[0] = 3;
  EXPECT_EQ(tek_error(b), codec_errc::unsupported_tek_protocol);
  EXPECT_EQ(tek_error(hexb("01")), codec_errc::payload_length_too_small);
  // IPv4 subnet with 4 bytes of data, in either form.
  EXPECT_EQ(tek_error(hexb("01 11 04 0350 0004 00000000 04 0350 0004 00000000 14 00000000")),
            codec_errc::bad_id_data);
  // Data lengths that fit neither form.
  EXPECT_EQ(tek_error(hexb("01 11 04 0350 0ff8 00000000")), codec_errc::id_length_mismatch);
  // Duplicate attribute.
  b = deny_tek_rfc;
  const bytes dup = hexb("800e 0004");
  b.insert(b.end(), dup.begin(), dup.end());
  EXPECT_EQ(tek_error(b), codec_errc::duplicate_attribute);
  // Lifetimes: duration without type, type without duration, type then something else.
  for (const char* attrs : {"8002 0e10", "8001 0001", "8001 0001 8004 0001"}) {
    b = deny_tek_rfc;
    const bytes a = hexb(attrs);
    b.insert(b.end(), a.begin(), a.end());
    EXPECT_EQ(tek_error(b), codec_errc::lifetime_unpaired) << attrs;
  }
  // A 16-bit attribute holding more than 16 bits; an empty TLV integer.
  for (const char* attrs : {"0004 0004 00010000", "0004 0000"}) {
    b = deny_tek_rfc;
    const bytes a = hexb(attrs);
    b.insert(b.end(), a.begin(), a.end());
    const codec_errc c = tek_error(b);
    EXPECT_TRUE(c == codec_errc::attribute_out_of_range || c == codec_errc::bad_attribute_length)
        << attrs;
  }
  // A truncated attribute at the end.
  b = deny_tek_rfc;
  b.push_back(0x80);
  EXPECT_EQ(tek_error(b), codec_errc::truncated_attribute);
}

TEST(gdoi_errors, sa) {
  bytes b = sa_kek_deny();
  b[3] = 1;
  EXPECT_EQ(decode_sa(b, 0).error(), make_error(codec_errc::bad_doi, 0, payload::sa));
  b = sa_kek_deny();
  b[7] = 1;
  EXPECT_EQ(decode_sa(b, 0).error().code, codec_errc::bad_situation);
  b = sa_kek_deny();
  b[9] = payload::kd;  // SA attribute next payload must be SAK, SAT or GAP
  EXPECT_EQ(decode_sa(b, 0).error().code, codec_errc::unexpected_payload);
  b = sa_kek_deny();
  b[8] = 1;  // 0x010f does not fit a payload type
  EXPECT_EQ(decode_sa(b, 0).error().code, codec_errc::unexpected_payload);
  b = sa_kek_deny();
  b[12] = payload::kd;  // the KEK says a KD follows inside the SA
  EXPECT_EQ(decode_sa(b, 0).error().code, codec_errc::unexpected_payload);
  b = sa_kek_deny();
  b[12] = payload::sa;  // an SA inside the SA
  EXPECT_EQ(decode_sa(b, 0).error().code, codec_errc::unexpected_payload);
  b = sa_kek_deny();
  b[12] = payload::sa_kek;  // the TEK's bytes read as a second KEK
  EXPECT_FALSE(decode_sa(b, 0).ok());
  EXPECT_EQ(decode_sa(hexb("00000002 00000000 0016 0000 00 00 0008 8001 001e"), 0).error().code,
            codec_errc::empty_sa);
  EXPECT_EQ(decode_sa(hexb("00000002 00000000 0016 0000 16 00 0008 8001 001e"
                           "00 00 0008 8001 001e"),
                      0)
                .error()
                .code,
            codec_errc::duplicate_payload);
  bytes two_keks = hexb("00000002 00000000 000f 0000 0f 00 0045");
  two_keks.insert(two_keks.end(), kek_rfc.begin(), kek_rfc.end());
  const bytes hdr = hexb("00 00 0045");
  two_keks.insert(two_keks.end(), hdr.begin(), hdr.end());
  two_keks.insert(two_keks.end(), kek_rfc.begin(), kek_rfc.end());
  EXPECT_EQ(decode_sa(two_keks, 0).error().code, codec_errc::duplicate_payload);
  EXPECT_EQ(decode_sa(hexb("00000002 00000000 000f"), 0).error().code,
            codec_errc::payload_length_too_small);
}

TEST(gdoi_errors, kd) {
  auto err = [](const char* h) {
    auto kd = decode_kd(hexb(h), 0);
    EXPECT_FALSE(kd.ok()) << h;
    return kd.ok() ? codec_errc::value_too_long : kd.error().code;
  };
  EXPECT_EQ(err("0001 0000"), codec_errc::key_packet_count_mismatch);
  EXPECT_EQ(err("0000 0000 01"), codec_errc::key_packet_count_mismatch);
  EXPECT_EQ(err("0001 0000 01 00 0004 00"), codec_errc::bad_key_packet_length);
  EXPECT_EQ(err("0001 0000 01 00 0010 04 1234abcd"), codec_errc::bad_key_packet_length);
  EXPECT_EQ(err("0001 0000 01 00 0008 03 123456"), codec_errc::bad_spi_size);
  EXPECT_EQ(err("0001 0000 02 00 0009 04 1234abcd"), codec_errc::bad_spi_size);
  EXPECT_EQ(err("0001 0000 01 00 0009 05 1234abcd"), codec_errc::bad_spi_size);
  EXPECT_EQ(err("0001 0000 01 00 000d 04 1234abcd 8001 0001"),
            codec_errc::bad_attribute_length);  // a key as TV
  EXPECT_EQ(err("0001 0000 01 00 000d 04 1234abcd 0001 0000"),
            codec_errc::bad_attribute_length);  // an empty key
  EXPECT_EQ(err("0001 0000 01 00 0013 04 1234abcd 0001 0001 01 0001 0001 02"),
            codec_errc::duplicate_attribute);
  EXPECT_EQ(err("0001 0000 01 00 000e 04 1234abcd 0001 0002 01"), codec_errc::truncated_attribute);
}

TEST(gdoi_errors, seq_id_delete_and_message_level) {
  EXPECT_EQ(decode_seq(hexb("000007"), 0).error().code, codec_errc::bad_payload_length);
  EXPECT_EQ(decode_seq(hexb("0000000700"), 0).error().code, codec_errc::bad_payload_length);
  EXPECT_EQ(decode_id(hexb("0b 00 00"), 0).error().code, codec_errc::payload_length_too_small);
  EXPECT_EQ(decode_id(hexb("0b 00 0000"), 0).error().code, codec_errc::bad_id_data);
  EXPECT_EQ(decode_delete(hexb("00000002 01 04 0002 11223344"), 0).error().code,
            codec_errc::bad_spi_size);
  EXPECT_EQ(decode_delete(hexb("00000002 01 00 0000"), 0).error().code, codec_errc::bad_spi_size);
  EXPECT_EQ(decode_delete(hexb("00000002 01"), 0).error().code,
            codec_errc::payload_length_too_small);

  // E flag: payloads cannot be read here.
  bytes m = pull_1_bytes;
  m[19] = flag::encryption;
  EXPECT_EQ(decode_message(m).error(), make_error(codec_errc::encrypted, header_len));
  // An empty HASH.
  m = hexb("0102030405060708 1112131415161718 08 10 20 00 0a0b0c0d 00000020 00 00 0004");
  EXPECT_EQ(decode_message(m).error().code, codec_errc::bad_payload_length);
  // SA TEK at the top level.
  m = hexb("0102030405060708 1112131415161718 10 10 20 00 0a0b0c0d 00000021 00 00 0005 01");
  EXPECT_EQ(decode_message(m).error(),
            make_error(codec_errc::unexpected_payload, header_len, payload::sa_tek));
  // A payload error carries the payload type and an offset inside the message.
  m = *encode_message(samples::pull_4_chain());
  m[header_len + 3] = 9;  // SEQ's length says 9: its body swallows the KD's header
  EXPECT_FALSE(decode_message(m).ok());
}

TEST(gdoi_policy, keys_match_the_sa) {
  EXPECT_FALSE(check_keys(samples::sa(), samples::kd()));
  // GROUPKEY-PUSH: TEKs only, TEK keys only.
  const gdoi_message push = samples::push();
  EXPECT_FALSE(
      check_keys(std::get<sa_payload>(push.payloads[2]), std::get<kd_payload>(push.payloads[3])));
  kd_payload kd = samples::kd();
  kd.packets.erase(kd.packets.begin());  // the permit TEK's keys
  EXPECT_EQ(check_keys(samples::sa(), kd)->code, codec_errc::tek_keys_missing);
  kd = samples::kd();
  kd.packets.push_back(key_packet::tek(0, {1}, {}));  // keys for the deny TEK
  EXPECT_EQ(check_keys(samples::sa(), kd)->code, codec_errc::deny_tek_has_keys);
  kd = samples::kd();
  kd.packets.push_back(kd.packets.front());
  EXPECT_EQ(check_keys(samples::sa(), kd)->code, codec_errc::duplicate_key_packet);
  kd = samples::kd();
  kd.packets[1].spi[0] ^= 1;
  EXPECT_EQ(check_keys(samples::sa(), kd)->code, codec_errc::kek_keys_mismatch);
  // Several ACEs share one TEK (IOS sends one SA TEK per ACE, same SPI): one key packet.
  sa_payload sa = samples::sa();
  sa.teks.push_back(samples::permit_tek());
  sa.teks.back().dst = sa_identity::ipv4_subnet(0x0a030000, 0xffff0000);
  EXPECT_FALSE(check_keys(sa, samples::kd()));
}

TEST(gdoi_policy, id_forms_log_line) {
  EXPECT_EQ(describe(id_forms{true, false, true, false}), "");
  EXPECT_EQ(describe(id_forms{false, true, true, false}),
            "SA TEK ID data length in 1 byte (Cisco 2011 reference form)");
  EXPECT_EQ(describe(id_forms{true, true, false, true}),
            "SA TEK ID data length in 1 byte (Cisco 2011 reference form), mixed with 2-byte "
            "(RFC 6407); SA KEK ID data length in 2 bytes");
  id_forms f;
  f.merge(id_forms{false, true, false, false});
  EXPECT_TRUE(f.legacy());
}

TEST(gdoi_encoder, refuses_what_does_not_fit) {
  sa_kek k = samples::kek();
  k.src.data = bytes(256, 1);
  bytes out;
  EXPECT_EQ(encode_sa_kek(k, out)->code, codec_errc::value_too_long);
  out.clear();
  EXPECT_EQ(encode_sa(sa_payload{}, out)->code, codec_errc::empty_sa);
  gdoi_message m{samples::header(exchange::groupkey_push), {sig_payload{bytes(70000, 1)}}};
  EXPECT_EQ(encode_message(m).error().code, codec_errc::value_too_long);
  delete_payload d;
  d.spis = {bytes{1, 2, 3}};
  out.clear();
  EXPECT_EQ(encode_delete(d, out)->code, codec_errc::bad_spi_size);
}

}  // namespace
}  // namespace gm::control
