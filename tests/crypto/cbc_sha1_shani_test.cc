// crypto/cbc_sha1_shani against OpenSSL (AES-CBC through EVP, HMAC-SHA1 through HMAC()):
// every payload length 16..1600, bursts that mix lengths so that groups of one to four
// packets and every step count run, AES-128 and AES-256, encrypted in place. Each packet
// is its own allocation of exactly its length, so ASan sees any access past it. A flipped
// plaintext bit must change the ICV.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "crypto/cbc_sha1_shani.h"
#include "crypto/crypto_ctx.h"
#include "crypto/sa_keys.h"

namespace gm::crypto {
namespace {

constexpr uint32_t icv_len = 12;
constexpr uint32_t hdr = 24;  // SPI, sequence number, IV

class cbc_sha1_shani_vs_openssl : public ::testing::TestWithParam<transform_id> {
 protected:
  void SetUp() override {
    if (!cbc_sha1::cpu_supported()) {
      GTEST_SKIP() << "CPU lacks SHA-NI, AES-NI or AVX";
    }
    _ctx = crypto_ctx::create();
    ASSERT_NE(_ctx, nullptr);
    _ckey = random_bytes(info(GetParam()).key_len);
    _akey = random_bytes(20);
    ASSERT_EQ(_keys.init(_ctx->mgr(), GetParam(), _ckey, _akey), key_error::none);
  }

  std::vector<uint8_t> random_bytes(std::size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) {
      b = static_cast<uint8_t>(_rng());
    }
    return v;
  }

  // The ESP packet (header, IV, ciphertext) and ICV OpenSSL computes for `plain`.
  void expect_of(const std::vector<uint8_t>& hdr_iv, const std::vector<uint8_t>& plain,
                 std::vector<uint8_t>& esp, std::vector<uint8_t>& icv) {
    const EVP_CIPHER* c = _ckey.size() == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    EVP_CIPHER_CTX* x = EVP_CIPHER_CTX_new();
    ASSERT_EQ(EVP_EncryptInit_ex(x, c, nullptr, _ckey.data(), hdr_iv.data() + 8), 1);
    EVP_CIPHER_CTX_set_padding(x, 0);
    esp = hdr_iv;
    esp.resize(hdr + plain.size());
    int out = 0;
    ASSERT_EQ(EVP_EncryptUpdate(x, esp.data() + hdr, &out, plain.data(),
                                static_cast<int>(plain.size())),
              1);
    ASSERT_EQ(static_cast<std::size_t>(out), plain.size());
    EVP_CIPHER_CTX_free(x);
    uint8_t mac[20];
    unsigned mac_len = 0;
    HMAC(EVP_sha1(), _akey.data(), static_cast<int>(_akey.size()), esp.data(), esp.size(), mac,
         &mac_len);
    icv.assign(mac, mac + icv_len);
  }

  // Encrypts a burst of payloads of these lengths and checks every byte.
  void check_burst(const std::vector<uint32_t>& lens) {
    const std::size_t n = lens.size();
    std::vector<std::unique_ptr<uint8_t[]>> bufs(n);
    std::vector<std::vector<uint8_t>> plain(n), want(n), want_icv(n);
    std::vector<std::array<uint8_t, icv_len>> icv(n);
    std::vector<cbc_sha1::packet> pk(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto hdr_iv = random_bytes(hdr);
      plain[i] = random_bytes(lens[i]);
      expect_of(hdr_iv, plain[i], want[i], want_icv[i]);
      bufs[i] = std::make_unique<uint8_t[]>(hdr + lens[i]);
      std::memcpy(bufs[i].get(), hdr_iv.data(), hdr);
      std::memcpy(bufs[i].get() + hdr, plain[i].data(), lens[i]);
      pk[i] = {bufs[i].get(), lens[i], icv[i].data()};
    }
    cbc_sha1::encrypt(_keys, pk.data(), static_cast<uint16_t>(n), icv_len);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(std::memcmp(bufs[i].get(), want[i].data(), want[i].size()), 0)
          << "ciphertext, length " << lens[i] << ", packet " << i;
      ASSERT_EQ(std::memcmp(icv[i].data(), want_icv[i].data(), icv_len), 0)
          << "ICV, length " << lens[i] << ", packet " << i;
    }
  }

  std::mt19937 _rng{20261207};
  std::unique_ptr<crypto_ctx> _ctx;
  std::vector<uint8_t> _ckey;
  std::vector<uint8_t> _akey;
  sa_keys _keys;
};

TEST_P(cbc_sha1_shani_vs_openssl, every_length_alone_and_four_alike) {
  for (uint32_t len = 16; len <= 1600; len += 16) {
    check_burst({len});
    check_burst({len, len, len, len, len});  // a group of four, then one of one
  }
}

TEST_P(cbc_sha1_shani_vs_openssl, mixed_bursts_make_groups_of_every_size) {
  std::uniform_int_distribution<uint32_t> blocks(1, 100);
  for (int round = 0; round < 200; ++round) {
    std::vector<uint32_t> lens(1 + round % 40);
    // Few distinct lengths, so groups of two and three form as well as ones and fours.
    const uint32_t a = 16 * blocks(_rng);
    const uint32_t b = 16 * blocks(_rng);
    for (auto& l : lens) {
      const uint32_t pick = _rng() % 5;
      l = pick < 2 ? a : pick < 4 ? b : 16 * blocks(_rng);
    }
    check_burst(lens);
  }
}

TEST_P(cbc_sha1_shani_vs_openssl, a_flipped_plaintext_bit_changes_the_icv) {
  for (uint32_t len : {16u, 48u, 112u, 512u, 1408u}) {
    auto a = random_bytes(hdr + len);
    auto b = a;
    b[hdr + len - 1 - (len / 3)] ^= 0x10;
    std::array<uint8_t, icv_len> icv_a{}, icv_b{};
    const cbc_sha1::packet pk[2] = {{a.data(), len, icv_a.data()}, {b.data(), len, icv_b.data()}};
    cbc_sha1::encrypt(_keys, pk, 2, icv_len);  // one group of two
    EXPECT_NE(icv_a, icv_b) << "length " << len;
  }
}

INSTANTIATE_TEST_SUITE_P(aes_cbc_sha1, cbc_sha1_shani_vs_openssl,
                         ::testing::Values(transform_id::aes_cbc_128_sha1,
                                           transform_id::aes_cbc_256_sha1),
                         [](const auto& i) {
                           return std::string(i.param == transform_id::aes_cbc_128_sha1
                                                  ? "aes128"
                                                  : "aes256");
                         });

}  // namespace
}  // namespace gm::crypto
