// IKE primitives: published known-answer vectors (RFC 4231, RFC 2202, FIPS 180, NIST SP
// 800-38A, FIPS 81), DH agreement and peer-value checks, RSA in both signature encodings.
#include "control/ike_crypto.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "tests/control/hex.h"

namespace gm::control::ike {
namespace {

using test::hexb;

bytes str(std::string_view s) { return bytes(s.begin(), s.end()); }
bytes rep(uint8_t v, std::size_t n) { return bytes(n, v); }

// ---- HMAC ---------------------------------------------------------------------------------

TEST(ike_prf, rfc4231_hmac_sha256) {
  EXPECT_EQ(prf(hash_alg::sha256, rep(0x0b, 20), str("Hi There")),
            hexb("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
  EXPECT_EQ(prf(hash_alg::sha256, str("Jefe"), str("what do ya want for nothing?")),
            hexb("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  // Test case 3: 0xaa key, 50 bytes of 0xdd.
  EXPECT_EQ(prf(hash_alg::sha256, rep(0xaa, 20), rep(0xdd, 50)),
            hexb("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"));
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(prf(hash_alg::sha256, rep(0xaa, 131),
                str("Test Using Larger Than Block-Size Key - Hash Key First")),
            hexb("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
}

TEST(ike_prf, rfc2202_hmac_sha1) {
  EXPECT_EQ(prf(hash_alg::sha1, rep(0x0b, 20), str("Hi There")),
            hexb("b617318655057264e28bc0b6fb378c8ef146be00"));
  EXPECT_EQ(prf(hash_alg::sha1, str("Jefe"), str("what do ya want for nothing?")),
            hexb("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
  EXPECT_EQ(prf(hash_alg::sha1, rep(0xaa, 80),
                str("Test Using Larger Than Block-Size Key - Hash Key First")),
            hexb("aa4ae5e15272d00e95705637ce8a3b55ed402112"));
}

TEST(ike_prf, pieces_equal_concatenation) {
  const bytes a = str("what do ya ");
  const bytes b = str("want for nothing?");
  EXPECT_EQ(prf(hash_alg::sha256, str("Jefe"), {a, b, bytes{}}),
            hexb("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

TEST(ike_prf, empty_key_and_data) {
  // HMAC-SHA256("", "") is a published value (e.g. the Wikipedia HMAC article).
  EXPECT_EQ(prf(hash_alg::sha256, bytes{}, bytes{}),
            hexb("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"));
}

// ---- digests ------------------------------------------------------------------------------

TEST(ike_digest, fips180_known_answers) {
  EXPECT_EQ(digest(hash_alg::sha1, str("abc")), hexb("a9993e364706816aba3e25717850c26c9cd0d89d"));
  EXPECT_EQ(digest(hash_alg::sha256, str("abc")),
            hexb("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(digest(hash_alg::sha256, bytes{}),
            hexb("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  const bytes two_block = str("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(digest(hash_alg::sha1, two_block), hexb("84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
  EXPECT_EQ(digest(hash_alg::sha256, two_block),
            hexb("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  EXPECT_EQ(digest(hash_alg::sha1, {str("ab"), str("c")}), digest(hash_alg::sha1, str("abc")));
}

TEST(ike_digest, lengths_and_names) {
  EXPECT_EQ(hash_len(hash_alg::sha1), 20u);
  EXPECT_EQ(hash_len(hash_alg::sha256), 32u);
  EXPECT_EQ(block_len(cipher::aes_cbc), 16u);
  EXPECT_EQ(block_len(cipher::des3_cbc), 8u);
  EXPECT_STREQ(name(cipher::aes_cbc), "aes-cbc");
  EXPECT_STREQ(name(cipher::des3_cbc), "3des-cbc");
  EXPECT_STREQ(name(hash_alg::sha1), "sha1");
  EXPECT_STREQ(name(hash_alg::sha256), "sha256");
}

// ---- CBC ----------------------------------------------------------------------------------

// NIST SP 800-38A F.2: the same four plaintext blocks under AES-128/192/256.
const bytes sp800_38a_iv = hexb("000102030405060708090a0b0c0d0e0f");
const bytes sp800_38a_plain = hexb(
    "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710");

struct cbc_vector {
  const char* key;
  const char* cipher_text;
};

TEST(ike_cbc, sp800_38a_aes) {
  const cbc_vector vs[] = {
      {"2b7e151628aed2a6abf7158809cf4f3c",
       "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2"
       "73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7"},
      {"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
       "4f021db243bc633d7178183a9fa071e8 b4d9ada9ad7dedf4e5e738763f69145a"
       "571b242012fb7ae07fa9baac3df102e0 08b0e27988598881d920a9e64f5615cd"},
      {"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
       "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d"
       "39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b"},
  };
  for (const auto& v : vs) {
    const bytes key = hexb(v.key);
    auto c = cbc_encrypt(cipher::aes_cbc, key, sp800_38a_iv, sp800_38a_plain);
    ASSERT_TRUE(c) << v.key;
    EXPECT_EQ(*c, hexb(v.cipher_text)) << v.key;
    auto p = cbc_decrypt(cipher::aes_cbc, key, sp800_38a_iv, *c);
    ASSERT_TRUE(p) << v.key;
    EXPECT_EQ(*p, sp800_38a_plain) << v.key;
  }
}

TEST(ike_cbc, fips81_des_cbc_as_3des_with_equal_keys) {
  // FIPS 81 Appendix C CBC example; EDE with K1 = K2 = K3 is single DES.
  const bytes key = hexb("0123456789abcdef 0123456789abcdef 0123456789abcdef");
  const bytes iv = hexb("1234567890abcdef");
  const bytes plain = str("Now is the time for all ");
  auto c = cbc_encrypt(cipher::des3_cbc, key, iv, plain);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, hexb("e5c7cdde872bf27c 43e934008c389c0f 683788499a7c05f6"));
  auto p = cbc_decrypt(cipher::des3_cbc, key, iv, *c);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, plain);
}

TEST(ike_cbc, three_key_3des_first_block_is_ecb) {
  // Two-key EDE (K3 = K1), ECB "Now is t" -> d80a0d8b2bae5e4e (BouncyCastle DESedeTest);
  // CBC with a zero IV encrypts the first block exactly as ECB does.
  const bytes key = hexb("0123456789abcdef fedcba9876543210 0123456789abcdef");
  auto c = cbc_encrypt(cipher::des3_cbc, key, bytes(8, 0), str("Now is the time for all "));
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 24u);
  EXPECT_EQ(bytes(c->begin(), c->begin() + 8), hexb("d80a0d8b2bae5e4e"));
}

TEST(ike_cbc, refuses_bad_lengths) {
  const bytes k16(16, 1);
  EXPECT_FALSE(cbc_encrypt(cipher::aes_cbc, k16, bytes(16, 0), bytes(15, 0)));
  EXPECT_FALSE(cbc_decrypt(cipher::aes_cbc, k16, bytes(16, 0), bytes(17, 0)));
  EXPECT_FALSE(cbc_encrypt(cipher::aes_cbc, k16, bytes(8, 0), bytes(16, 0)));
  EXPECT_FALSE(cbc_encrypt(cipher::aes_cbc, bytes(20, 1), bytes(16, 0), bytes(16, 0)));
  EXPECT_FALSE(cbc_encrypt(cipher::des3_cbc, k16, bytes(8, 0), bytes(8, 0)));
  EXPECT_FALSE(cbc_encrypt(cipher::des3_cbc, bytes(24, 1), bytes(16, 0), bytes(8, 0)));
  auto empty = cbc_encrypt(cipher::aes_cbc, k16, bytes(16, 0), bytes{});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

// ---- random -------------------------------------------------------------------------------

TEST(ike_random, lengths_and_distinct) {
  EXPECT_TRUE(random_bytes(0).empty());
  const bytes a = random_bytes(32);
  const bytes b = random_bytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

// ---- Diffie-Hellman -----------------------------------------------------------------------

bytes prime_bytes(dh_group g) {
  BIGNUM* p = g == dh_group::modp1024 ? BN_get_rfc2409_prime_1024(nullptr)
                                      : BN_get_rfc3526_prime_2048(nullptr);
  bytes out(dh_len(g));
  BN_bn2binpad(p, out.data(), static_cast<int>(out.size()));
  BN_free(p);
  return out;
}

class ike_dh : public ::testing::TestWithParam<dh_group> {};

TEST_P(ike_dh, two_keypairs_agree) {
  const dh_group g = GetParam();
  const dh_keypair a = dh_generate(g);
  const dh_keypair b = dh_generate(g);
  EXPECT_EQ(a.group, g);
  EXPECT_EQ(a.public_value.size(), dh_len(g));
  EXPECT_GE(a.private_value.size() * 8, 256u);
  EXPECT_NE(a.public_value, b.public_value);
  auto ab = dh_shared(a, b.public_value);
  auto ba = dh_shared(b, a.public_value);
  ASSERT_TRUE(ab);
  ASSERT_TRUE(ba);
  EXPECT_EQ(ab->size(), dh_len(g));
  EXPECT_EQ(*ab, *ba);
  EXPECT_NE(*ab, a.public_value);
}

TEST_P(ike_dh, prime_is_the_rfc_one) {
  // Both primes begin with 64 one bits and with the digits of pi after (RFC 2409 6.2,
  // RFC 3526 3): the leading and trailing 8 bytes are all ones.
  const bytes p = prime_bytes(GetParam());
  ASSERT_EQ(p.size(), dh_len(GetParam()));
  EXPECT_EQ(bytes(p.begin(), p.begin() + 8), bytes(8, 0xff));
  EXPECT_EQ(bytes(p.end() - 8, p.end()), bytes(8, 0xff));
  EXPECT_EQ(p[8], 0xc9);  // 0xC90FDAA2...: pi
}

TEST_P(ike_dh, refuses_degenerate_peer_values) {
  const dh_group g = GetParam();
  const dh_keypair a = dh_generate(g);
  const std::size_t n = dh_len(g);
  bytes zero(n, 0);
  bytes one(n, 0);
  one.back() = 1;
  bytes p = prime_bytes(g);
  bytes pm1 = p;
  pm1.back() -= 1;  // p is odd: no borrow
  bytes above = bytes(n, 0xff);
  EXPECT_FALSE(dh_shared(a, zero));
  EXPECT_FALSE(dh_shared(a, one));
  EXPECT_FALSE(dh_shared(a, pm1));
  EXPECT_FALSE(dh_shared(a, p));
  EXPECT_FALSE(dh_shared(a, above));
  EXPECT_FALSE(dh_shared(a, bytes(n - 1, 7)));
  EXPECT_FALSE(dh_shared(a, bytes(n + 1, 7)));
  EXPECT_FALSE(dh_shared(a, bytes{}));
  // 2 and p-2 are fine.
  bytes two(n, 0);
  two.back() = 2;
  bytes pm2 = p;
  pm2.back() -= 2;
  EXPECT_TRUE(dh_shared(a, two));
  EXPECT_TRUE(dh_shared(a, pm2));
}

INSTANTIATE_TEST_SUITE_P(groups, ike_dh, ::testing::Values(dh_group::modp1024, dh_group::modp2048),
                         [](const auto& info) {
                           return info.param == dh_group::modp1024 ? "group2" : "group14";
                         });

// ---- RSA ----------------------------------------------------------------------------------

class ike_rsa : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto k = rsa_key::generate(2048);
    ASSERT_TRUE(k);
    key = new rsa_key(std::move(*k));
  }
  static void TearDownTestSuite() {
    delete key;
    key = nullptr;
  }
  static rsa_key* key;
};
rsa_key* ike_rsa::key = nullptr;

TEST_F(ike_rsa, generate) {
  EXPECT_EQ(key->bits(), 2048u);
  EXPECT_TRUE(key->has_private());
  EXPECT_STREQ(name(sig_form::digest_info), "digest-info");
  EXPECT_STREQ(name(sig_form::raw_hash), "raw-hash");
}

TEST_F(ike_rsa, both_forms_sign_and_verify_and_are_told_apart) {
  const bytes data = str("rekey message");
  for (hash_alg h : {hash_alg::sha1, hash_alg::sha256}) {
    auto di = key->sign(h, data, sig_form::digest_info);
    auto raw = key->sign(h, data, sig_form::raw_hash);
    ASSERT_TRUE(di);
    ASSERT_TRUE(raw);
    EXPECT_EQ(di->size(), 256u);
    EXPECT_EQ(raw->size(), 256u);
    EXPECT_NE(*di, *raw);
    EXPECT_EQ(key->verify(h, data, *di), sig_form::digest_info) << name(h);
    EXPECT_EQ(key->verify(h, data, *raw), sig_form::raw_hash) << name(h);
    // PKCS#1 v1.5 is deterministic.
    EXPECT_EQ(key->sign(h, data, sig_form::digest_info), di);
  }
}

// What the signature wraps, recovered with OpenSSL's public operation straight from the
// DER key (not through rsa_key::verify).
bytes recover(const bytes& der, const bytes& sig) {
  const unsigned char* p = der.data();
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, k, nullptr);
  bytes out(512);
  std::size_t n = out.size();
  EXPECT_EQ(EVP_PKEY_verify_recover_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
  if (EVP_PKEY_verify_recover(ctx, out.data(), &n, sig.data(), sig.size()) != 1) {
    n = 0;
  }
  out.resize(n);
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(k);
  return out;
}

TEST_F(ike_rsa, signed_blocks_hold_digest_info_or_bare_hash) {
  const bytes data = str("group key");
  const bytes h = digest(hash_alg::sha256, data);
  auto di = key->sign(hash_alg::sha256, data, sig_form::digest_info);
  auto raw = key->sign(hash_alg::sha256, data, sig_form::raw_hash);
  ASSERT_TRUE(di);
  ASSERT_TRUE(raw);
  // RFC 8017 9.2 note 1: the SHA-256 DigestInfo prefix.
  bytes expect_di = hexb("3031300d060960864801650304020105000420");
  expect_di.insert(expect_di.end(), h.begin(), h.end());
  EXPECT_EQ(recover(key->public_der(), *di), expect_di);
  EXPECT_EQ(recover(key->public_der(), *raw), h);
  // SHA-1 DigestInfo prefix for the SHA-1 form.
  auto di1 = key->sign(hash_alg::sha1, data, sig_form::digest_info);
  ASSERT_TRUE(di1);
  bytes expect_di1 = hexb("3021300906052b0e03021a05000414");
  const bytes h1 = digest(hash_alg::sha1, data);
  expect_di1.insert(expect_di1.end(), h1.begin(), h1.end());
  EXPECT_EQ(recover(key->public_der(), *di1), expect_di1);
  // A public-only copy verifies; a SHA-1 signature does not pass as SHA-256.
  auto pub = rsa_key::from_public_der(key->public_der());
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->verify(hash_alg::sha256, data, *di), sig_form::digest_info);
  EXPECT_EQ(pub->verify(hash_alg::sha256, data, *raw), sig_form::raw_hash);
  EXPECT_FALSE(pub->verify(hash_alg::sha256, data, *di1));
}

TEST_F(ike_rsa, tampered_signature_or_data_fails) {
  const bytes data = str("rekey message");
  for (sig_form f : {sig_form::digest_info, sig_form::raw_hash}) {
    auto sig = key->sign(hash_alg::sha256, data, f);
    ASSERT_TRUE(sig);
    bytes bad = *sig;
    bad[100] ^= 0x01;
    EXPECT_FALSE(key->verify(hash_alg::sha256, data, bad)) << name(f);
    EXPECT_FALSE(key->verify(hash_alg::sha256, str("rekey messagE"), *sig)) << name(f);
    EXPECT_FALSE(key->verify(hash_alg::sha256, data, bytes(sig->begin(), sig->end() - 1)));
    EXPECT_FALSE(key->verify(hash_alg::sha256, data, bytes{}));
  }
}

TEST_F(ike_rsa, pem_round_trip_mode_0600) {
  const std::string path =
      ::testing::TempDir() + "ike_crypto_test_" + std::to_string(::getpid()) + ".pem";
  ASSERT_TRUE(key->save_private_pem(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = rsa_key::load_private_pem(path);
  ::unlink(path.c_str());
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->has_private());
  EXPECT_EQ(loaded->public_der(), key->public_der());
  auto sig = loaded->sign(hash_alg::sha256, str("x"), sig_form::raw_hash);
  ASSERT_TRUE(sig);
  EXPECT_EQ(key->verify(hash_alg::sha256, str("x"), *sig), sig_form::raw_hash);
  EXPECT_FALSE(rsa_key::load_private_pem(path));  // gone
}

TEST_F(ike_rsa, public_der_round_trip) {
  const bytes der = key->public_der();
  ASSERT_FALSE(der.empty());
  EXPECT_EQ(der[0], 0x30);  // SEQUENCE
  auto pub = rsa_key::from_public_der(der);
  ASSERT_TRUE(pub);
  EXPECT_FALSE(pub->has_private());
  EXPECT_EQ(pub->bits(), 2048u);
  EXPECT_EQ(pub->public_der(), der);
  EXPECT_FALSE(pub->sign(hash_alg::sha256, str("x"), sig_form::digest_info));
  bytes trailing = der;
  trailing.push_back(0);
  EXPECT_FALSE(rsa_key::from_public_der(trailing));
  EXPECT_FALSE(rsa_key::from_public_der(bytes(der.begin(), der.end() - 1)));
  EXPECT_FALSE(rsa_key::from_public_der(bytes{}));
}

}  // namespace
}  // namespace gm::control::ike
