// crypto/gcm_vaes against ipsec-mb's direct GCM API, byte for byte, on what the ESP
// stages never pass but the API allows: every length 0..1100 (every tail shape of the
// eight-block loop, several times over), AAD of 0..40 bytes, tags of 8, 12 and 16 bytes,
// out-of-place and in-place, both key sizes. Each buffer is its own allocation of exactly
// its length, so ASan sees any read or write past it. OpenSSL is the oracle of
// openssl_crosscheck_test.cc; this one pins the API edges.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "crypto/crypto_ctx.h"
#include "crypto/gcm_vaes.h"
#include "crypto/sa_keys.h"

namespace gm::crypto {
namespace {

class gcm_vaes_vs_ipsec_mb : public ::testing::TestWithParam<transform_id> {
 protected:
  void SetUp() override {
    if (!gcm_vaes::cpu_supported()) {
      GTEST_SKIP() << "CPU lacks VAES or VPCLMULQDQ";
    }
    _ctx = crypto_ctx::create(arch::avx2, sha_ni_use::never, des_engine::ipsec_mb,
                              gcm_engine::ipsec_mb);
    ASSERT_NE(_ctx, nullptr);
    ASSERT_FALSE(_ctx->gcm_on_vaes());
    const transform_info& t = info(GetParam());
    std::vector<uint8_t> key(t.key_len + t.salt_len);
    for (auto& b : key) {
      b = static_cast<uint8_t>(_rng());
    }
    ASSERT_EQ(_keys.init(_ctx->mgr(), GetParam(), key, {}), key_error::none);
  }

  std::vector<uint8_t> random_bytes(std::size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) {
      b = static_cast<uint8_t>(_rng());
    }
    return v;
  }

  std::mt19937 _rng{20261207};
  std::unique_ptr<crypto_ctx> _ctx;
  sa_keys _keys;
};

TEST_P(gcm_vaes_vs_ipsec_mb, every_length_aad_and_tag_length_gives_the_same_bytes) {
  const bool k256 = GetParam() == transform_id::aes_gcm_256;
  const aes_gcm_enc_dec_t ref_enc = _ctx->gcm_fn(GetParam(), direction::encrypt);
  const aes_gcm_enc_dec_t ref_dec = _ctx->gcm_fn(GetParam(), direction::decrypt);
  const aes_gcm_enc_dec_t our_enc = k256 ? gcm_vaes::enc256 : gcm_vaes::enc128;
  const aes_gcm_enc_dec_t our_dec = k256 ? gcm_vaes::dec256 : gcm_vaes::dec128;
  gcm_context_data gctx{};
  const uint32_t aad_lens[] = {0, 1, 8, 12, 15, 16, 17, 20, 32, 40};
  const uint32_t tag_lens[] = {8, 12, 16};
  int cases = 0;
  for (uint32_t len = 0; len <= 1100; ++len) {
    const uint32_t aad_len = aad_lens[len % std::size(aad_lens)];
    const uint32_t tag_len = tag_lens[len % std::size(tag_lens)];
    const bool in_place = len % 2 == 0;
    const std::vector<uint8_t> pt = random_bytes(len);
    const std::vector<uint8_t> aad = random_bytes(aad_len);
    const std::vector<uint8_t> nonce = random_bytes(12);

    std::vector<uint8_t> ref_ct(pt);
    std::vector<uint8_t> ref_tag(tag_len);
    ref_enc(&_keys.gcm.imb, &gctx, ref_ct.data(), ref_ct.data(), len, nonce.data(), aad.data(),
            aad_len, ref_tag.data(), tag_len);

    auto src = std::make_unique<std::vector<uint8_t>>(pt);
    auto dst = std::make_unique<std::vector<uint8_t>>(len);
    std::vector<uint8_t>& out = in_place ? *src : *dst;
    std::vector<uint8_t> tag(tag_len);
    our_enc(&_keys.gcm.imb, nullptr, out.data(), src->data(), len, nonce.data(), aad.data(),
            aad_len, tag.data(), tag_len);
    ASSERT_EQ(out, ref_ct) << "encrypt, len " << len << " aad " << aad_len;
    ASSERT_EQ(tag, ref_tag) << "encrypt tag, len " << len << " aad " << aad_len << " tag "
                            << tag_len;

    // Decrypt: back to the plaintext, with the tag encryption gave.
    std::vector<uint8_t> back(len);
    std::vector<uint8_t> dtag(tag_len);
    our_dec(&_keys.gcm.imb, nullptr, back.data(), ref_ct.data(), len, nonce.data(), aad.data(),
            aad_len, dtag.data(), tag_len);
    ASSERT_EQ(back, pt) << "decrypt, len " << len;
    ASSERT_EQ(dtag, ref_tag) << "decrypt tag, len " << len;
    std::vector<uint8_t> ref_back(ref_ct);
    std::vector<uint8_t> ref_dtag(tag_len);
    ref_dec(&_keys.gcm.imb, &gctx, ref_back.data(), ref_back.data(), len, nonce.data(),
            aad.data(), aad_len, ref_dtag.data(), tag_len);
    ASSERT_EQ(dtag, ref_dtag) << "decrypt tag against ipsec-mb, len " << len;
    ++cases;
  }
  EXPECT_EQ(cases, 1101);
}

TEST_P(gcm_vaes_vs_ipsec_mb, a_changed_byte_anywhere_changes_the_tag) {
  const bool k256 = GetParam() == transform_id::aes_gcm_256;
  const aes_gcm_enc_dec_t our_dec = k256 ? gcm_vaes::dec256 : gcm_vaes::dec128;
  const std::vector<uint8_t> nonce = random_bytes(12);
  const std::vector<uint8_t> aad = random_bytes(8);
  for (uint32_t len : {1u, 52u, 127u, 128u, 500u, 1404u}) {
    const std::vector<uint8_t> ct = random_bytes(len);
    std::vector<uint8_t> scratch(len);
    uint8_t base[16];
    our_dec(&_keys.gcm.imb, nullptr, scratch.data(), ct.data(), len, nonce.data(), aad.data(), 8,
            base, 16);
    for (uint32_t i = 0; i < len; i += (len < 130 ? 1 : 37)) {
      std::vector<uint8_t> bad(ct);
      bad[i] ^= 0x01;
      uint8_t t[16];
      our_dec(&_keys.gcm.imb, nullptr, scratch.data(), bad.data(), len, nonce.data(),
              aad.data(), 8, t, 16);
      EXPECT_NE(std::memcmp(t, base, 16), 0) << "len " << len << " byte " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(keys, gcm_vaes_vs_ipsec_mb,
                         ::testing::Values(transform_id::aes_gcm_128, transform_id::aes_gcm_256),
                         [](const auto& p) {
                           return std::string(p.param == transform_id::aes_gcm_128 ? "aes128"
                                                                                   : "aes256");
                         });

}  // namespace
}  // namespace gm::crypto
