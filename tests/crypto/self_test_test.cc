#include <gtest/gtest.h>

#include <cstdlib>

#include <string>
#include <vector>

#include "crypto/cbc_sha1_shani.h"
#include "crypto/crypto_ctx.h"
#include "crypto/sa_keys.h"
#include "crypto/self_test.h"

namespace gm::crypto {
namespace {

class self_test_per_arch : public ::testing::TestWithParam<arch> {};

TEST_P(self_test_per_arch, every_transform_passes_its_known_answers) {
  auto ctx = crypto_ctx::create(GetParam());
  ASSERT_NE(ctx, nullptr);
  const self_test_report r = run_self_test(*ctx);
  for (const auto& f : r.failures) {
    ADD_FAILURE() << arch_name(ctx->architecture()) << ": " << f;
  }
  for (const auto& t : transform_table) {
    EXPECT_TRUE(r.is_enabled(t.id)) << t.name;
  }
}

INSTANTIATE_TEST_SUITE_P(archs, self_test_per_arch,
                         ::testing::Values(arch::sse, arch::avx, arch::avx2, arch::avx512),
                         [](const auto& p) { return std::string(arch_name(p.param)); });

TEST(self_test, picks_the_best_architecture_the_cpu_has) {
  auto ctx = crypto_ctx::create();
  ASSERT_NE(ctx, nullptr);
  const uint64_t f = ctx->mgr()->features;
  if ((f & IMB_CPUFLAGS_AVX512) == IMB_CPUFLAGS_AVX512) {
    EXPECT_EQ(ctx->architecture(), arch::avx512);
  } else if ((f & IMB_CPUFLAGS_AVX2) == IMB_CPUFLAGS_AVX2) {
    EXPECT_EQ(ctx->architecture(), arch::avx2);
  }
}

TEST(self_test, the_sha_ni_3des_gcm_and_cbc_sha1_engines_follow_the_cpu_and_can_be_forced) {
  auto ctx = crypto_ctx::create();
  ASSERT_NE(ctx, nullptr);
  const bool avx512 = ctx->architecture() == arch::avx512;
  const bool sha_ni = (ctx->mgr()->features & IMB_FEATURE_SHANI) != 0;
  EXPECT_EQ(ctx->sha_ni_hash(), sha_ni && !avx512);
  EXPECT_EQ(ctx->des_openssl(), !avx512);
  EXPECT_EQ(ctx->gcm_on_vaes(), gcm_vaes::cpu_supported() && !avx512);
  if (std::getenv("GM_CBC_SHA1_ENGINE") == nullptr) {
    EXPECT_EQ(ctx->cbc_sha1_stitched(), cbc_sha1::cpu_supported() && !avx512);
    EXPECT_EQ(ctx->cbc_sha1_decrypt_ours(), cbc_sha1::decrypt_supported() && !avx512);
  }
  auto plain = crypto_ctx::create(arch::avx512, sha_ni_use::never, des_engine::ipsec_mb,
                                  gcm_engine::ipsec_mb, cbc_sha1_engine::ipsec_mb);
  EXPECT_FALSE(plain->sha_ni_hash());
  EXPECT_FALSE(plain->des_openssl());
  EXPECT_FALSE(plain->gcm_on_vaes());
  EXPECT_FALSE(plain->cbc_sha1_stitched());
  EXPECT_FALSE(plain->cbc_sha1_decrypt_ours());
  auto alt = crypto_ctx::create(arch::avx512, sha_ni_use::always, des_engine::openssl,
                                gcm_engine::vaes_avx2, cbc_sha1_engine::stitched);
  EXPECT_TRUE(alt->sha_ni_hash());
  EXPECT_TRUE(alt->des_openssl());
  EXPECT_EQ(alt->gcm_on_vaes(), gcm_vaes::cpu_supported());
  EXPECT_EQ(alt->cbc_sha1_stitched(), cbc_sha1::cpu_supported());
  EXPECT_EQ(alt->cbc_sha1_decrypt_ours(), cbc_sha1::decrypt_supported());
  // The known answers pass on both sets of engines.
  for (crypto_ctx* c : {plain.get(), alt.get()}) {
    const self_test_report r = run_self_test(*c);
    EXPECT_TRUE(r.failures.empty()) << (r.failures.empty() ? "" : r.failures[0]);
  }
}

// The vectors never reach our CBC-SHA1 engines (they take ESP packets only), so the
// self-test checks them against ipsec-mb on ESP packets: every AES-CBC + HMAC-SHA1
// transform where the context runs them, none where it does not.
TEST(self_test, checks_the_cbc_sha1_engines_on_esp_packets_where_they_run) {
  std::vector<transform_id> cbc_sha1;
  for (const auto& t : transform_table) {
    if (t.cbc_hmac_sha1()) cbc_sha1.push_back(t.id);
  }
  ASSERT_GE(cbc_sha1.size(), 2u);
  auto ours = crypto_ctx::create(arch::avx512, sha_ni_use::auto_select, des_engine::auto_select,
                                 gcm_engine::auto_select, cbc_sha1_engine::stitched);
  auto theirs = crypto_ctx::create(arch::avx512, sha_ni_use::auto_select,
                                   des_engine::auto_select, gcm_engine::auto_select,
                                   cbc_sha1_engine::ipsec_mb);
  ASSERT_NE(ours, nullptr);
  ASSERT_NE(theirs, nullptr);
  const self_test_report r = run_self_test(*ours);
  EXPECT_TRUE(r.failures.empty()) << (r.failures.empty() ? "" : r.failures[0]);
  if (cbc_sha1::cpu_supported()) {
    EXPECT_EQ(r.engine_checked, cbc_sha1);
  } else {
    EXPECT_TRUE(r.engine_checked.empty());
  }
  EXPECT_TRUE(run_self_test(*theirs).engine_checked.empty());
}

// A 3DES op whose length is not a whole number of blocks fails on both engines (the job
// manager validates; OpenSSL's DES would pad it) rather than being ciphered.
TEST(self_test, a_3des_op_of_a_partial_block_fails_on_both_engines) {
  for (des_engine e : {des_engine::ipsec_mb, des_engine::openssl}) {
    auto ctx = crypto_ctx::create(arch::avx512, sha_ni_use::auto_select, e);
    ASSERT_NE(ctx, nullptr);
    sa_keys keys;
    std::vector<uint8_t> ck(24, 0x11), ak(20, 0x22);
    ASSERT_EQ(keys.init(ctx->mgr(), transform_id::des3_cbc_sha1, ck, ak), key_error::none);
    for (uint32_t len : {0u, 12u, 16u}) {
      std::vector<uint8_t> buf(8 + 8 + 16 + 12, 0x5a);
      crypto_op op{};
      esp_job_op(&keys, buf.data(), 8, 8, len, direction::encrypt, op);
      crypto_op* ops[1] = {&op};
      EXPECT_EQ(ctx->process(ops, 1), len == 16 ? 1 : 0) << "length " << len;
      EXPECT_EQ(op.ok, len == 16) << "length " << len << (e == des_engine::openssl ? " openssl" : "");
    }
  }
}

TEST(self_test, a_failing_vector_disables_its_transform_and_names_it) {
  auto ctx = crypto_ctx::create();
  ASSERT_NE(ctx, nullptr);
  std::vector<kat_vector> vectors(std::begin(kat_vectors), std::end(kat_vectors));
  for (auto& v : vectors) {
    if (v.xf == transform_id::des3_cbc_sha1 && !v.auth_only) {
      v.ct = "0000000000000000cce21c8112256fe668d5c05dd9b6b900";  // first block corrupted
    }
  }
  const self_test_report r = run_self_test(*ctx, vectors);
  EXPECT_FALSE(r.is_enabled(transform_id::des3_cbc_sha1));
  EXPECT_TRUE(r.is_enabled(transform_id::aes_gcm_128));
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("3des-cbc-sha1 disabled"), std::string::npos) << r.failures[0];
  EXPECT_NE(r.failures[0].find("NIST SP 800-67"), std::string::npos) << r.failures[0];
  EXPECT_NE(r.failures[0].find("ciphertext mismatch"), std::string::npos) << r.failures[0];
}

TEST(self_test, a_transform_without_vectors_is_not_offered) {
  auto ctx = crypto_ctx::create();
  ASSERT_NE(ctx, nullptr);
  std::vector<kat_vector> vectors;
  for (const auto& v : kat_vectors) {
    if (v.xf != transform_id::null_sha1) {
      vectors.push_back(v);
    }
  }
  const self_test_report r = run_self_test(*ctx, vectors);
  EXPECT_FALSE(r.is_enabled(transform_id::null_sha1));
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("null-sha1"), std::string::npos);
}

}  // namespace
}  // namespace gm::crypto
