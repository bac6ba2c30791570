// Phase-1 SA payload codec: hand-written RFC 2408/2409 bytes, round trips, malformed input,
// and which transforms map to a policy we support.
#include "control/phase1_payloads.h"

#include <gtest/gtest.h>

#include "tests/control/hex.h"

namespace gm::control {
namespace {

using test::hexb;

// One ISAKMP proposal with one KEY_IKE transform: AES-CBC 256, SHA2-256, PSK, group 14,
// 86400 s (a TLV: it does not fit the 16-bit TV form).
const char* const aes256_sha256_g14 =
    "00000002 00000000"
    "00 00 0030 01 01 00 01"
    "00 00 0028 01 01 0000"
    "8001 0007 800e 0100 8002 0004 8003 0001 8004 000e 800b 0001 000c 0004 00015180";

TEST(phase1_payloads, offer_encodes_rfc2409_attributes) {
  phase1_policy p;  // defaults: AES-256, SHA-256, group 14, 86400 s
  bytes body;
  ASSERT_FALSE(encode_phase1_sa(offer({p}), body));
  EXPECT_EQ(body, hexb(aes256_sha256_g14));
}

TEST(phase1_payloads, decode_and_policy) {
  const bytes body = hexb(aes256_sha256_g14);
  auto sa = decode_phase1_sa(body, 32);
  ASSERT_TRUE(sa.ok()) << describe(sa.error());
  EXPECT_EQ(sa->doi, doi_gdoi);
  EXPECT_EQ(sa->situation, 0u);
  ASSERT_EQ(sa->proposals.size(), 1u);
  const ike_proposal& prop = sa->proposals[0];
  EXPECT_EQ(prop.protocol, proto_isakmp);
  EXPECT_TRUE(prop.spi.empty());
  ASSERT_EQ(prop.transforms.size(), 1u);
  const ike_transform& t = prop.transforms[0];
  EXPECT_EQ(t.encryption, ike_value::enc_aes_cbc);
  EXPECT_EQ(t.key_length, 256);
  EXPECT_EQ(t.hash, ike_value::hash_sha256);
  EXPECT_EQ(t.auth_method, ike_value::auth_psk);
  EXPECT_EQ(t.group, 14);
  EXPECT_EQ(t.life_seconds, 86400u);
  EXPECT_EQ(policy_of(t), phase1_policy{});
}

TEST(phase1_payloads, several_policies_round_trip_in_order) {
  std::vector<phase1_policy> ps(3);
  ps[0] = {ike::cipher::aes_cbc, 128, ike::hash_alg::sha1, ike::dh_group::modp1024, 3600};
  ps[1] = {ike::cipher::des3_cbc, 192, ike::hash_alg::sha256, ike::dh_group::modp2048, 600};
  ps[2] = {ike::cipher::aes_cbc, 192, ike::hash_alg::sha256, ike::dh_group::modp2048, 70000};
  const phase1_sa_payload sa = offer(ps);
  bytes body;
  ASSERT_FALSE(encode_phase1_sa(sa, body));
  auto back = decode_phase1_sa(body, 0);
  ASSERT_TRUE(back.ok()) << describe(back.error());
  EXPECT_EQ(*back, sa);
  ASSERT_EQ(back->proposals[0].transforms.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back->proposals[0].transforms[i].number, i + 1);
    EXPECT_EQ(policy_of(back->proposals[0].transforms[i]), ps[i]) << i;
  }
  // 3DES carries no key length attribute.
  EXPECT_FALSE(back->proposals[0].transforms[1].key_length);
}

TEST(phase1_payloads, policy_of_refuses_what_we_do_not_support) {
  const ike_transform good = transform_for(phase1_policy{}, 1);
  ASSERT_TRUE(policy_of(good));
  auto changed = [&](auto f) {
    ike_transform t = good;
    f(t);
    return policy_of(t);
  };
  EXPECT_FALSE(changed([](ike_transform& t) { t.transform_id = 2; }));
  EXPECT_FALSE(changed([](ike_transform& t) { t.auth_method = 3; }));  // RSA signatures
  EXPECT_FALSE(changed([](ike_transform& t) { t.auth_method.reset(); }));
  EXPECT_FALSE(changed([](ike_transform& t) { t.encryption = 1; }));  // DES
  EXPECT_FALSE(changed([](ike_transform& t) { t.key_length.reset(); }));
  EXPECT_FALSE(changed([](ike_transform& t) { t.key_length = 512; }));
  EXPECT_FALSE(changed([](ike_transform& t) { t.hash = 1; }));  // MD5
  EXPECT_FALSE(changed([](ike_transform& t) { t.group = 5; }));
  EXPECT_FALSE(changed([](ike_transform& t) { t.life_seconds = 0; }));
  EXPECT_FALSE(changed([](ike_transform& t) { t.other.push_back(attribute::basic(5, 1)); }));
  // RFC 2409's default lifetime when none is given; a kilobyte limit does not matter.
  auto p = changed([](ike_transform& t) {
    t.life_seconds.reset();
    t.life_kilobytes = 4608000;
  });
  ASSERT_TRUE(p);
  EXPECT_EQ(p->lifetime_s, 28800u);
  // 3DES with an explicit 192-bit key length is the same policy.
  ike_transform des = transform_for({ike::cipher::des3_cbc, 192}, 1);
  des.key_length = 192;
  EXPECT_TRUE(policy_of(des));
  des.key_length = 128;
  EXPECT_FALSE(policy_of(des));
}

TEST(phase1_payloads, ipsec_doi_is_accepted_other_dois_are_not) {
  bytes body = hexb(aes256_sha256_g14);
  body[3] = 1;
  body[7] = 1;  // SIT_IDENTITY_ONLY
  auto sa = decode_phase1_sa(body, 0);
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(sa->doi, doi_ipsec);
  EXPECT_EQ(sa->situation, sit_identity_only);
  body[3] = 3;
  auto bad = decode_phase1_sa(body, 100);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, codec_errc::bad_doi);
  EXPECT_EQ(bad.error().offset, 100u);
}

TEST(phase1_payloads, malformed) {
  const bytes good = hexb(aes256_sha256_g14);
  auto code = [](const bytes& b) {
    auto r = decode_phase1_sa(b, 0);
    return r.ok() ? std::optional<codec_errc>{} : std::optional<codec_errc>{r.error().code};
  };
  // Transform count says 2, one present.
  bytes b = good;
  b[15] = 2;
  EXPECT_EQ(code(b), codec_errc::transform_count_mismatch);
  // The transform announces a next payload (KE) that is not there.
  b = good;
  b[16] = payload::key_exchange;
  EXPECT_TRUE(code(b).has_value());
  // Life duration without a type.
  b = good;
  b[44] = 0x80;
  b[45] = 0x0c;  // replaces life type (11) with a TV life duration
  EXPECT_EQ(code(b), codec_errc::lifetime_unpaired);
  // Duplicate hash attribute (group replaced by a second hash).
  b = good;
  b[41] = 0x02;
  EXPECT_EQ(code(b), codec_errc::duplicate_attribute);
  // SPI size past the proposal.
  b = good;
  b[14] = 200;
  EXPECT_EQ(code(b), codec_errc::bad_spi_size);
  // Every truncation is an error, never a crash; except at 8 (no proposals: the caller
  // refuses that).
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = decode_phase1_sa(std::span(good).first(n), 0);
    EXPECT_EQ(r.ok(), n == 8) << n;
  }
}

}  // namespace
}  // namespace gm::control
