// crypto/cbc_sha1_shani against OpenSSL (AES-CBC through EVP, HMAC-SHA1 through HMAC()):
// every payload length 16..1600, bursts that mix lengths so that groups of one to three
// packets and every step count run, AES-128 and AES-256, encrypted in place. Each packet
// is its own allocation of exactly its length, so ASan sees any access past it. A flipped
// plaintext bit must change the ICV.
//
// decrypt() (four SHA-NI hash lanes, then crypto/aes_cbc_vaes) the other way: OpenSSL's
// packets, two SAs mixed in a burst, and any flipped bit of header, IV, ciphertext or ICV
// refused with the packet left as it came. aes_cbc_vaes alone against OpenSSL at every
// block count 1..80.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "crypto/aes_cbc_vaes.h"
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
    check_burst({len, len, len, len, len});  // a group of three, then one of two
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

// Received packets: OpenSSL's ESP packet (header, IV, ciphertext) with its ICV after it, in
// an allocation of exactly that length.
struct rx_case {
  std::unique_ptr<uint8_t[]> buf;
  std::vector<uint8_t> plain;
  std::vector<uint8_t> sent;  // the packet as it arrived: header, IV, ciphertext, ICV
  uint32_t len;
};

class cbc_sha1_decrypt_vs_openssl : public cbc_sha1_shani_vs_openssl {
 protected:
  void SetUp() override {
    cbc_sha1_shani_vs_openssl::SetUp();
    if (IsSkipped()) {
      return;
    }
    if (!cbc_sha1::decrypt_supported()) {
      GTEST_SKIP() << "CPU lacks VAES";
    }
  }

  rx_case make(uint32_t len) {
    rx_case c;
    c.len = len;
    c.plain = random_bytes(len);
    std::vector<uint8_t> esp, icv;
    expect_of(random_bytes(hdr), c.plain, esp, icv);
    c.sent = esp;
    c.sent.insert(c.sent.end(), icv.begin(), icv.end());
    c.buf = std::make_unique<uint8_t[]>(c.sent.size());
    std::memcpy(c.buf.get(), c.sent.data(), c.sent.size());
    return c;
  }

  static cbc_sha1::rx_packet packet_of(const sa_keys& k, rx_case& c) {
    return {&k, c.buf.get(), c.len, c.buf.get() + hdr + c.len};
  }

  void check_burst(const std::vector<uint32_t>& lens) {
    std::vector<rx_case> cs;
    std::vector<cbc_sha1::rx_packet> pk;
    for (uint32_t len : lens) {
      cs.push_back(make(len));
    }
    for (auto& c : cs) {
      pk.push_back(packet_of(_keys, c));
    }
    auto ok = std::make_unique<bool[]>(cs.size());
    cbc_sha1::decrypt(pk.data(), static_cast<uint16_t>(pk.size()), icv_len, ok.get());
    for (std::size_t i = 0; i < cs.size(); ++i) {
      ASSERT_TRUE(ok[i]) << "length " << cs[i].len << ", packet " << i;
      ASSERT_EQ(std::memcmp(cs[i].buf.get() + hdr, cs[i].plain.data(), cs[i].len), 0)
          << "plaintext, length " << cs[i].len << ", packet " << i;
      ASSERT_EQ(std::memcmp(cs[i].buf.get(), cs[i].sent.data(), hdr), 0) << "header and IV";
    }
  }
};

TEST_P(cbc_sha1_decrypt_vs_openssl, every_length_alone_and_four_alike) {
  for (uint32_t len = 16; len <= 1600; len += 16) {
    check_burst({len});
    check_burst({len, len, len, len, len});
  }
}

TEST_P(cbc_sha1_decrypt_vs_openssl, mixed_bursts_make_groups_of_every_size) {
  std::uniform_int_distribution<uint32_t> blocks(1, 100);
  for (int round = 0; round < 100; ++round) {
    std::vector<uint32_t> lens(1 + round % 40);
    const uint32_t a = 16 * blocks(_rng);
    for (auto& l : lens) {
      l = _rng() % 2 == 0 ? a : 16 * blocks(_rng);
    }
    check_burst(lens);
  }
}

TEST_P(cbc_sha1_decrypt_vs_openssl, two_sas_in_one_group_each_with_its_own_keys) {
  sa_keys other;
  auto ck = random_bytes(info(GetParam()).key_len);
  auto ak = random_bytes(20);
  ASSERT_EQ(other.init(_ctx->mgr(), GetParam(), ck, ak), key_error::none);
  for (uint32_t len : {48u, 496u, 1408u}) {
    std::vector<rx_case> cs;
    std::vector<cbc_sha1::rx_packet> pk;
    for (int i = 0; i < 4; ++i) {
      if (i % 2 == 0) {
        cs.push_back(make(len));
      } else {
        std::swap(_ckey, ck);
        std::swap(_akey, ak);
        cs.push_back(make(len));  // OpenSSL with the other SA's keys
        std::swap(_ckey, ck);
        std::swap(_akey, ak);
      }
    }
    for (int i = 0; i < 4; ++i) {
      pk.push_back(packet_of(i % 2 == 0 ? _keys : other, cs[i]));
    }
    bool ok[4] = {};
    cbc_sha1::decrypt(pk.data(), 4, icv_len, ok);
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(ok[i]) << "length " << len << ", packet " << i;
      ASSERT_EQ(std::memcmp(cs[i].buf.get() + hdr, cs[i].plain.data(), len), 0) << i;
    }
  }
}

TEST_P(cbc_sha1_decrypt_vs_openssl, any_flipped_bit_is_refused_and_the_packet_left_alone) {
  for (uint32_t len : {16u, 48u, 112u, 512u, 1408u}) {
    const uint32_t total = hdr + len + icv_len;
    for (uint32_t at : {0u, 7u, 8u, 23u, hdr, hdr + len / 2, hdr + len - 1, hdr + len,
                        total - 1}) {
      std::vector<rx_case> cs;
      for (int i = 0; i < 4; ++i) {
        cs.push_back(make(len));
      }
      cs[2].buf[at] ^= 0x01;
      const std::vector<uint8_t> tampered(cs[2].buf.get(), cs[2].buf.get() + total);
      std::vector<cbc_sha1::rx_packet> pk;
      for (auto& c : cs) {
        pk.push_back(packet_of(_keys, c));
      }
      bool ok[4] = {};
      cbc_sha1::decrypt(pk.data(), 4, icv_len, ok);
      EXPECT_TRUE(ok[0] && ok[1] && ok[3]) << "length " << len << ", bit at " << at;
      EXPECT_FALSE(ok[2]) << "length " << len << ", bit at " << at;
      EXPECT_EQ(std::memcmp(cs[2].buf.get(), tampered.data(), total), 0)
          << "a refused packet is not decrypted, length " << len << ", bit at " << at;
      EXPECT_EQ(std::memcmp(cs[3].buf.get() + hdr, cs[3].plain.data(), len), 0);
    }
  }
}

TEST_P(cbc_sha1_decrypt_vs_openssl, vaes_cbc_alone_at_every_block_count) {
  const EVP_CIPHER* c = _ckey.size() == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
  for (uint32_t nb = 1; nb <= 80; ++nb) {
    const auto iv = random_bytes(16);
    const auto plain = random_bytes(16 * nb);
    auto buf = std::make_unique<uint8_t[]>(16 + 16 * nb);  // IV, then ciphertext, exactly
    std::memcpy(buf.get(), iv.data(), 16);
    EVP_CIPHER_CTX* x = EVP_CIPHER_CTX_new();
    ASSERT_EQ(EVP_EncryptInit_ex(x, c, nullptr, _ckey.data(), iv.data()), 1);
    EVP_CIPHER_CTX_set_padding(x, 0);
    int out = 0;
    ASSERT_EQ(EVP_EncryptUpdate(x, buf.get() + 16, &out, plain.data(), 16 * nb), 1);
    EVP_CIPHER_CTX_free(x);
    aes_cbc_vaes::decrypt(_keys.dec_keys, _ckey.size() == 16 ? 10 : 14, buf.get() + 16, nb);
    ASSERT_EQ(std::memcmp(buf.get() + 16, plain.data(), 16 * nb), 0) << nb << " blocks";
    ASSERT_EQ(std::memcmp(buf.get(), iv.data(), 16), 0) << "the IV is read, not written";
  }
}

std::string key_size_name(const ::testing::TestParamInfo<transform_id>& i) {
  return i.param == transform_id::aes_cbc_128_sha1 ? "aes128" : "aes256";
}

INSTANTIATE_TEST_SUITE_P(aes_cbc_sha1, cbc_sha1_decrypt_vs_openssl,
                         ::testing::Values(transform_id::aes_cbc_128_sha1,
                                           transform_id::aes_cbc_256_sha1),
                         key_size_name);

INSTANTIATE_TEST_SUITE_P(aes_cbc_sha1, cbc_sha1_shani_vs_openssl,
                         ::testing::Values(transform_id::aes_cbc_128_sha1,
                                           transform_id::aes_cbc_256_sha1),
                         key_size_name);

}  // namespace
}  // namespace gm::crypto
