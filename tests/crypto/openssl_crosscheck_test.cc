// Randomized cross-check of every transform, on every ipsec-mb architecture the CPU has,
// against OpenSSL 3. Ops go through crypto_ctx::process in bursts of mixed lengths and keys,
// so multi-buffer lanes, queue wrap and flush all run. Each op's buffer is laid out as ESP:
//   lead (not authenticated) | prefix (SPI, seq, IV: authenticated) | data | ICV | canary
// The seed is fixed; set GM_CROSSCHECK_SEED to try others. Failures print seed and op.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "crypto/cbc_sha1_shani.h"
#include "crypto/crypto_ctx.h"
#include "crypto/sa_keys.h"
#include "crypto/transform.h"

namespace gm::crypto {
namespace {

constexpr uint32_t max_len = 2000;
constexpr uint32_t canary_len = 16;
constexpr uint8_t canary_byte = 0xa5;
constexpr uint16_t max_burst = 64;
constexpr std::size_t key_sets_per_burst = 4;

uint64_t base_seed() {
  if (const char* s = std::getenv("GM_CROSSCHECK_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 0);
  }
  return 0x67657476706e31ULL;
}

using bytes = std::vector<uint8_t>;

bytes random_bytes(std::mt19937& rng, std::size_t n) {
  bytes b(n);
  for (auto& x : b) {
    x = static_cast<uint8_t>(rng());
  }
  return b;
}

uint32_t uniform(std::mt19937& rng, uint32_t lo, uint32_t hi) {
  return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

// --- OpenSSL reference ----------------------------------------------------------------

const EVP_CIPHER* evp_cipher(const transform_info& t) {
  switch (t.cipher) {
    case IMB_CIPHER_GCM:
      return t.key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    case IMB_CIPHER_CBC:
      return t.key_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    case IMB_CIPHER_DES3:
      return EVP_des_ede3_cbc();
    default:
      return nullptr;
  }
}

struct evp_ctx_deleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// GCM: writes the ciphertext and the 16-byte tag; false on an OpenSSL error.
bool openssl_gcm(const transform_info& t, const uint8_t* key, const uint8_t* nonce,
                 const bytes& aad, const uint8_t* pt, std::size_t len, uint8_t* ct, uint8_t* tag) {
  std::unique_ptr<EVP_CIPHER_CTX, evp_ctx_deleter> c(EVP_CIPHER_CTX_new());
  int outl = 0;
  if (!c || EVP_EncryptInit_ex(c.get(), evp_cipher(t), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
      EVP_EncryptInit_ex(c.get(), nullptr, nullptr, key, nonce) != 1) {
    return false;
  }
  if (!aad.empty() &&
      EVP_EncryptUpdate(c.get(), nullptr, &outl, aad.data(), static_cast<int>(aad.size())) != 1) {
    return false;
  }
  int total = 0;
  if (len != 0) {
    if (EVP_EncryptUpdate(c.get(), ct, &outl, pt, static_cast<int>(len)) != 1) {
      return false;
    }
    total = outl;
  }
  if (EVP_EncryptFinal_ex(c.get(), ct + total, &outl) != 1) {
    return false;
  }
  total += outl;
  return static_cast<std::size_t>(total) == len &&
         EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
}

// CBC (AES or 3DES) without padding; `len` is a multiple of the block.
bool openssl_cbc(const transform_info& t, const uint8_t* key, const uint8_t* iv, const uint8_t* pt,
                 std::size_t len, uint8_t* ct) {
  std::unique_ptr<EVP_CIPHER_CTX, evp_ctx_deleter> c(EVP_CIPHER_CTX_new());
  int outl = 0;
  if (!c || EVP_EncryptInit_ex(c.get(), evp_cipher(t), nullptr, key, iv) != 1 ||
      EVP_CIPHER_CTX_set_padding(c.get(), 0) != 1 ||
      EVP_EncryptUpdate(c.get(), ct, &outl, pt, static_cast<int>(len)) != 1) {
    return false;
  }
  int fin = 0;
  if (EVP_EncryptFinal_ex(c.get(), ct + outl, &fin) != 1) {
    return false;
  }
  return static_cast<std::size_t>(outl + fin) == len;
}

bool openssl_hmac(const transform_info& t, const bytes& key, const uint8_t* data, std::size_t len,
                  uint8_t* icv) {
  const EVP_MD* md = t.hash == IMB_AUTH_HMAC_SHA_256 ? EVP_sha256() : EVP_sha1();
  uint8_t full[EVP_MAX_MD_SIZE];
  unsigned int full_len = 0;
  static const uint8_t empty = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), len != 0 ? data : &empty, len, full,
           &full_len) == nullptr ||
      full_len < t.icv_len) {
    return false;
  }
  std::memcpy(icv, full, t.icv_len);
  return true;
}

// --- one randomized op -------------------------------------------------------------------

struct key_set {
  bytes cipher_key;  // GCM: key || salt
  bytes auth_key;
  std::unique_ptr<sa_keys> keys;
};

struct test_op {
  const key_set* ks = nullptr;
  uint32_t lead = 0;    // unauthenticated bytes before the ESP header
  uint32_t prefix = 0;  // authenticated bytes before the ciphered region
  uint32_t len = 0;     // ciphered bytes (auth-only: hashed, left in the clear)
  bool auth_only = false;
  bytes buf;       // lead | prefix | data | icv | canary
  bytes plain;     // the buffer before encryption
  bytes expected;  // the buffer after encryption, from OpenSSL
  bytes sealed;    // the buffer our encrypt produced
  bytes aad;
  std::array<uint8_t, 12> nonce{};
  bool tampered = false;
  std::string where;  // what was flipped, for messages
  crypto_op op{};

  uint32_t data_off() const { return lead + prefix; }
  uint32_t icv_off() const { return lead + prefix + len; }
};

// The third parameter, the engines beside the main manager, both on every CPU:
// ipsec_mb_only: no SHA-NI manager, ipsec-mb's 3DES and GCM; alternates: short HMAC messages
// on the SHA-NI (SSE) manager (where the CPU lacks SHA-NI, its SSE code), 3DES on OpenSSL's
// DES and AES-GCM on crypto/gcm_vaes (where the CPU has VAES and VPCLMULQDQ).
enum class engines : uint8_t { ipsec_mb_only, alternates };

class crosscheck : public ::testing::TestWithParam<std::tuple<transform_id, arch, engines>> {
 protected:
  void SetUp() override {
    const auto [xf, a, e] = GetParam();
    _t = &info(xf);
    const bool gcm = _t->cipher == IMB_CIPHER_GCM;
    if (e == engines::alternates && _t->hash != IMB_AUTH_HMAC_SHA_1 &&
        _t->hash != IMB_AUTH_HMAC_SHA_256 && !gcm) {
      GTEST_SKIP() << "no alternate engine for this transform";
    }
    if (e == engines::alternates && gcm && !gcm_vaes::cpu_supported()) {
      GTEST_SKIP() << "CPU lacks VAES or VPCLMULQDQ for the alternate GCM engine";
    }
    const bool alt = e == engines::alternates;
    _ctx = crypto_ctx::create(a, alt ? sha_ni_use::always : sha_ni_use::never,
                              alt ? des_engine::openssl : des_engine::ipsec_mb,
                              alt ? gcm_engine::vaes_avx2 : gcm_engine::ipsec_mb,
                              alt ? cbc_sha1_engine::stitched : cbc_sha1_engine::ipsec_mb);
    ASSERT_NE(_ctx, nullptr);
    ASSERT_EQ(_ctx->gcm_on_vaes(), alt && gcm_vaes::cpu_supported());
    ASSERT_EQ(_ctx->cbc_sha1_stitched(), alt && cbc_sha1::cpu_supported());
    ASSERT_EQ(_ctx->cbc_sha1_decrypt_ours(), alt && cbc_sha1::decrypt_supported());
    if (_ctx->architecture() != a) {
      GTEST_SKIP() << "CPU lacks " << arch_name(a) << " (got " << arch_name(_ctx->architecture())
                   << ")";
    }
    const uint64_t seed = base_seed() ^ (static_cast<uint64_t>(xf) << 8) ^ static_cast<uint64_t>(a);
    _rng.seed(static_cast<std::mt19937::result_type>(seed ^ (seed >> 32)));
  }

  std::string describe(const test_op& o, std::size_t burst, std::size_t i) const {
    std::ostringstream s;
    s << _t->name << " on " << arch_name(_ctx->architecture()) << " (GM_CROSSCHECK_SEED=0x"
      << std::hex << base_seed() << std::dec << ") burst " << burst << " op " << i
      << ": len=" << o.len << " prefix=" << o.prefix << " lead=" << o.lead
      << " aad_len=" << o.aad.size() << " auth_key_len=" << o.ks->auth_key.size()
      << (o.auth_only ? " auth-only" : "");
    return s.str();
  }

  // The lengths to cover: every legal one in [0, max_len].
  std::vector<uint32_t> legal_lengths() const {
    std::vector<uint32_t> out;
    const bool block_cipher = _t->cipher == IMB_CIPHER_CBC || _t->cipher == IMB_CIPHER_DES3;
    for (uint32_t n = 0; n <= max_len; ++n) {
      if (block_cipher && (n == 0 || n % _t->block != 0)) {
        continue;
      }
      out.push_back(n);
    }
    return out;
  }

  key_set make_key_set() {
    key_set ks;
    ks.cipher_key = random_bytes(_rng, std::size_t{_t->key_len} + _t->salt_len);
    if (_t->auth_key_len != 0) {
      // Mostly the hash size as ESP uses; sometimes any length HMAC allows (<= one block).
      const uint32_t n = uniform(_rng, 0, 3) == 0 ? uniform(_rng, 1, 64) : _t->auth_key_len;
      ks.auth_key = random_bytes(_rng, n);
    }
    ks.keys = std::make_unique<sa_keys>();
    EXPECT_EQ(ks.keys->init(_ctx->mgr(), _t->id, ks.cipher_key, ks.auth_key), key_error::none);
    return ks;
  }

  uint32_t pick_aad_len() {
    static constexpr std::array<uint32_t, 10> others = {0, 1, 4, 12, 15, 16, 20, 32, 64, 255};
    if (uniform(_rng, 0, 1) == 0) {
      return 8;  // SPI || seq, as ESP
    }
    return others[uniform(_rng, 0, others.size() - 1)];
  }

  // Builds the op, its plaintext buffer and OpenSSL's expected ciphertext and ICV.
  // `auth_only` (HMAC transforms): the op runs just the hash, and any length is legal.
  bool prepare(test_op& o, const key_set& ks, uint32_t len, bool auth_only = false) {
    const transform_info& t = *_t;
    o.ks = &ks;
    o.len = len;
    o.auth_only = auth_only;
    o.lead = uniform(_rng, 0, 3) == 0 ? uniform(_rng, 1, 40) : 0;
    o.prefix = 8 + t.iv_len;  // SPI, seq, IV
    o.buf = random_bytes(_rng, std::size_t{o.icv_off()} + t.icv_len + canary_len);
    std::memset(o.buf.data() + o.icv_off(), 0, t.icv_len);
    std::memset(o.buf.data() + o.icv_off() + t.icv_len, canary_byte, canary_len);
    o.plain = o.buf;
    o.expected = o.buf;

    const uint8_t* key = ks.cipher_key.data();
    uint8_t* exp_data = o.expected.data() + o.data_off();
    const uint8_t* pt = o.plain.data() + o.data_off();
    uint8_t* iv_in_buf = o.buf.data() + o.lead + 8;
    bool good = true;
    if (t.is_aead()) {
      o.aad = random_bytes(_rng, pick_aad_len());
      std::memcpy(o.nonce.data(), key + t.key_len, 4);  // salt
      std::memcpy(o.nonce.data() + 4, iv_in_buf, 8);
      good = openssl_gcm(t, key, o.nonce.data(), o.aad, pt, len, exp_data,
                         o.expected.data() + o.icv_off());
    } else {
      if (t.cipher != IMB_CIPHER_NULL && !auth_only) {
        good = openssl_cbc(t, key, iv_in_buf, pt, len, exp_data);
      }
      good = good && openssl_hmac(t, ks.auth_key, o.expected.data() + o.lead, o.prefix + len,
                                  o.expected.data() + o.icv_off());
    }

    crypto_op& op = o.op;
    op = crypto_op{};
    op.keys = ks.keys.get();
    op.buf = o.buf.data();
    op.cipher_off = o.data_off();
    op.cipher_len = len;
    op.auth_off = o.lead;
    op.auth_len = o.prefix + len;
    op.aad = o.aad.empty() ? nullptr : o.aad.data();
    op.aad_len = static_cast<uint32_t>(o.aad.size());
    op.iv = t.is_aead() ? o.nonce.data() : (t.iv_len != 0 ? iv_in_buf : nullptr);
    op.icv = o.buf.data() + o.icv_off();
    op.dir = direction::encrypt;
    op.auth_only = auth_only;  // the cipher fields above must then be ignored
    op.ok = false;
    return good;
  }

  // Flips one bit somewhere the transform authenticates.
  void tamper(test_op& o) {
    const transform_info& t = *_t;
    o.tampered = true;
    const uint32_t choice = uniform(_rng, 0, 2);
    uint8_t* p = nullptr;
    if (choice == 0 && o.len != 0) {
      p = o.buf.data() + o.data_off() + uniform(_rng, 0, o.len - 1);
      o.where = "ciphertext";
    } else if (choice == 1 && t.is_aead() && !o.aad.empty()) {
      p = o.aad.data() + uniform(_rng, 0, static_cast<uint32_t>(o.aad.size()) - 1);
      o.where = "AAD";
    } else if (choice == 1 && !t.is_aead()) {
      p = o.buf.data() + o.lead + uniform(_rng, 0, o.prefix - 1);
      o.where = "header/IV";
    } else {
      p = o.buf.data() + o.icv_off() + uniform(_rng, 0, t.icv_len - 1);
      o.where = "ICV";
    }
    *p ^= static_cast<uint8_t>(1u << uniform(_rng, 0, 7));
  }

  // Returns false (after recording failures) if anything in the burst was wrong.
  bool run_burst(std::vector<test_op>& ops, std::size_t burst) {
    const transform_info& t = *_t;
    const auto n = static_cast<uint16_t>(ops.size());
    std::vector<crypto_op*> ptrs(n);
    for (uint16_t i = 0; i < n; ++i) {
      ptrs[i] = &ops[i].op;
    }
    bool all_good = true;

    // Encrypt: ciphertext, ICV, and every byte around them, against OpenSSL.
    EXPECT_EQ(_ctx->process(ptrs.data(), n), n) << t.name << " burst " << burst;
    for (uint16_t i = 0; i < n; ++i) {
      test_op& o = ops[i];
      if (!o.op.ok || o.buf != o.expected) {
        all_good = false;
        std::ostringstream s;
        s << describe(o, burst, i) << ": encrypt ok=" << o.op.ok;
        const auto [mine, theirs] = std::mismatch(o.buf.begin(), o.buf.end(), o.expected.begin());
        if (mine != o.buf.end()) {
          const auto at = static_cast<uint32_t>(mine - o.buf.begin());
          s << ", first difference at byte " << at << " ("
            << (at < o.lead                    ? "lead"
                : at < o.data_off()            ? "header/IV"
                : at < o.icv_off()             ? "ciphertext"
                : at < o.icv_off() + t.icv_len ? "ICV"
                                               : "past the ICV")
            << "): ours " << int{*mine} << " OpenSSL " << int{*theirs};
        }
        ADD_FAILURE() << s.str();
      }
      o.sealed = o.buf;
      o.op.dir = direction::decrypt;
      o.op.ok = false;
    }
    if (!all_good) {
      return false;
    }

    // Decrypt: plaintext restored, ICV accepted, nothing else touched.
    EXPECT_EQ(_ctx->process(ptrs.data(), n), n) << t.name << " burst " << burst;
    for (uint16_t i = 0; i < n; ++i) {
      test_op& o = ops[i];
      if (!o.op.ok) {
        all_good = false;
        ADD_FAILURE() << describe(o, burst, i) << ": decrypt rejected a good ICV";
      }
      // The ICV stays as sent; everything else is back to the plaintext.
      bytes want = o.plain;
      std::memcpy(want.data() + o.icv_off(), o.expected.data() + o.icv_off(), t.icv_len);
      if (o.buf != want) {
        all_good = false;
        ADD_FAILURE() << describe(o, burst, i) << ": decrypt did not restore the plaintext";
      }
    }
    if (!all_good) {
      return false;
    }

    // Tamper with about half (at least one), decrypt again: exactly those must be refused.
    uint16_t expect_good = n;
    const uint16_t forced = static_cast<uint16_t>(uniform(_rng, 0, n - 1));
    for (uint16_t i = 0; i < n; ++i) {
      test_op& o = ops[i];
      o.buf = o.sealed;
      o.op.buf = o.buf.data();
      o.op.icv = o.buf.data() + o.icv_off();
      if (!t.is_aead() && t.iv_len != 0) {
        o.op.iv = o.buf.data() + o.lead + 8;
      }
      o.tampered = false;
      if (i == forced || uniform(_rng, 0, 1) == 0) {
        tamper(o);
        --expect_good;
      }
      o.op.ok = o.tampered;  // deliberately the wrong answer: process must overwrite it
    }
    EXPECT_EQ(_ctx->process(ptrs.data(), n), expect_good) << t.name << " burst " << burst;
    for (uint16_t i = 0; i < n; ++i) {
      test_op& o = ops[i];
      if (o.tampered && o.op.ok) {
        all_good = false;
        ADD_FAILURE() << describe(o, burst, i) << ": a flipped bit in the " << o.where
                      << " was not detected";
      } else if (!o.tampered && !o.op.ok) {
        all_good = false;
        ADD_FAILURE() << describe(o, burst, i)
                      << ": an untouched op was refused next to tampered ones";
      } else if (!o.tampered) {
        bytes want = o.plain;
        std::memcpy(want.data() + o.icv_off(), o.expected.data() + o.icv_off(), t.icv_len);
        if (o.buf != want) {
          all_good = false;
          ADD_FAILURE() << describe(o, burst, i)
                        << ": decrypt next to tampered ops did not restore the plaintext";
        }
      }
    }
    return all_good;
  }

  const transform_info* _t = nullptr;
  std::unique_ptr<crypto_ctx> _ctx;
  std::mt19937 _rng;
};

TEST_P(crosscheck, matches_openssl_in_bursts) {
  // Every legal length, twice, with fresh keys and data. Once for 3DES: ipsec-mb's
  // non-AVX512 DES is scalar C and costs seconds per pass.
  const int rounds = _t->cipher == IMB_CIPHER_DES3 ? 1 : 2;
  struct spec {
    uint32_t len;
    bool auth_only;
  };
  std::vector<spec> specs;
  for (int r = 0; r < rounds; ++r) {
    for (uint32_t len : legal_lengths()) {
      specs.push_back({len, false});
    }
  }
  // HMAC transforms with a cipher: mix in hash-only ops of any length 0..max_len.
  if (!_t->is_aead() && _t->cipher != IMB_CIPHER_NULL) {
    specs.push_back({0, true});
    specs.push_back({max_len, true});
    for (int i = 0; i < 300; ++i) {
      specs.push_back({uniform(_rng, 0, max_len), true});
    }
  }
  std::shuffle(specs.begin(), specs.end(), _rng);

  std::size_t pos = 0;
  std::size_t burst = 0;
  while (pos < specs.size()) {
    // Bursts of 1..64 ops sharing a few key sets, so lanes mix keys as well as lengths.
    const auto n = static_cast<uint16_t>(
        std::min<std::size_t>(uniform(_rng, 1, max_burst), specs.size() - pos));
    std::vector<key_set> key_sets(key_sets_per_burst);
    for (auto& ks : key_sets) {
      ks = make_key_set();
    }
    std::vector<test_op> ops(n);
    for (uint16_t i = 0; i < n; ++i) {
      const key_set& ks = key_sets[uniform(_rng, 0, key_sets_per_burst - 1)];
      ASSERT_TRUE(prepare(ops[i], ks, specs[pos + i].len, specs[pos + i].auth_only))
          << describe(ops[i], burst, i) << ": OpenSSL failed";
    }
    ASSERT_TRUE(run_burst(ops, burst)) << "stopping at the first bad burst";
    pos += n;
    ++burst;
  }
}

// The multi-buffer managers keep up to IMB_MAX_JOBS jobs in flight: a burst bigger than
// that wraps the job ring (and the ICV scratch slots) before the flush. Short lengths: the
// point is the job count.
TEST_P(crosscheck, matches_openssl_past_the_job_ring) {
  auto l = legal_lengths();
  l.erase(std::remove_if(l.begin(), l.end(), [](uint32_t n) { return n > 256; }), l.end());
  constexpr uint16_t n = IMB_MAX_JOBS + 37;
  std::vector<key_set> key_sets(key_sets_per_burst);
  for (auto& ks : key_sets) {
    ks = make_key_set();
  }
  std::vector<test_op> ops(n);
  for (uint16_t i = 0; i < n; ++i) {
    const uint32_t len = l[uniform(_rng, 0, static_cast<uint32_t>(l.size()) - 1)];
    const key_set& ks = key_sets[uniform(_rng, 0, key_sets_per_burst - 1)];
    ASSERT_TRUE(prepare(ops[i], ks, len)) << describe(ops[i], 0, i) << ": OpenSSL failed";
  }
  EXPECT_TRUE(run_burst(ops, 0));
}

std::string param_name(
    const ::testing::TestParamInfo<std::tuple<transform_id, arch, engines>>& p) {
  std::string s = std::string(info(std::get<0>(p.param)).name) + "_" +
                  std::string(arch_name(std::get<1>(p.param))) +
                  (std::get<2>(p.param) == engines::alternates ? "_alternates" : "");
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    every_transform_and_arch, crosscheck,
    ::testing::Combine(::testing::Values(transform_id::aes_gcm_128, transform_id::aes_gcm_256,
                                         transform_id::aes_cbc_128_sha1,
                                         transform_id::aes_cbc_256_sha1,
                                         transform_id::aes_cbc_128_sha256,
                                         transform_id::des3_cbc_sha1, transform_id::null_sha1),
                       ::testing::Values(arch::sse, arch::avx, arch::avx2, arch::avx512),
                       ::testing::Values(engines::ipsec_mb_only, engines::alternates)),
    param_name);

// The list above must name every transform in the table.
static_assert(transform_count == 7, "add the new transform to the cross-check");

}  // namespace
}  // namespace gm::crypto
