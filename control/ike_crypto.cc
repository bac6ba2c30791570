// IKEv1/GDOI primitives over OpenSSL 3 EVP. Every OpenSSL object is owned by a unique_ptr
// with its free function, so no early return leaks; secrets in BIGNUMs are cleared on free.
#include "control/ike_crypto.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace gm::control::ike {

namespace {

template <typename T, void (*F)(T*)>
struct deleter {
  void operator()(T* p) const { F(p); }
};
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BIGNUM, BN_clear_free>>;
using bn_ctx_ptr = std::unique_ptr<BN_CTX, deleter<BN_CTX, BN_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using mac_ptr = std::unique_ptr<EVP_MAC, deleter<EVP_MAC, EVP_MAC_free>>;
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using cipher_ctx_ptr =
    std::unique_ptr<EVP_CIPHER_CTX, deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;

const EVP_MD* evp_md(hash_alg h) { return h == hash_alg::sha1 ? EVP_sha1() : EVP_sha256(); }

// OpenSSL rejects a null pointer even with length 0 in places; an empty span's data() may be
// null.
const uint8_t* nonnull(cspan s) {
  static const uint8_t dummy = 0;
  return s.data() != nullptr ? s.data() : &dummy;
}

// The MODP primes, from OpenSSL's own RFC 2409 / RFC 3526 constants; generator 2.
bn_ptr modp_prime(dh_group g) {
  return bn_ptr(g == dh_group::modp1024 ? BN_get_rfc2409_prime_1024(nullptr)
                                        : BN_get_rfc3526_prime_2048(nullptr));
}

// RFC 3526 puts group 14 at 110-160 bits of strength: an exponent of twice that suffices;
// 384 bits keeps a margin and is used for both groups.
constexpr std::size_t dh_private_bytes = 48;

}  // namespace

std::size_t hash_len(hash_alg h) { return h == hash_alg::sha1 ? 20 : 32; }
std::size_t block_len(cipher c) { return c == cipher::aes_cbc ? 16 : 8; }
const char* name(cipher c) { return c == cipher::aes_cbc ? "aes-cbc" : "3des-cbc"; }
const char* name(hash_alg h) { return h == hash_alg::sha1 ? "sha1" : "sha256"; }
std::size_t dh_len(dh_group g) { return g == dh_group::modp1024 ? 128 : 256; }
const char* name(sig_form f) { return f == sig_form::digest_info ? "digest-info" : "raw-hash"; }

key_bytes prf(hash_alg h, cspan key, std::initializer_list<cspan> pieces) {
  // HMAC fails only on allocation failure or a broken provider: no caller can recover.
  mac_ptr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  mac_ctx_ptr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  char md_name[16];
  std::snprintf(md_name, sizeof md_name, "%s", h == hash_alg::sha1 ? "SHA1" : "SHA256");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, md_name, 0),
      OSSL_PARAM_construct_end(),
  };
  if (!ctx || EVP_MAC_init(ctx.get(), nonnull(key), key.size(), params) != 1) {
    std::abort();
  }
  for (cspan p : pieces) {
    if (EVP_MAC_update(ctx.get(), nonnull(p), p.size()) != 1) {
      std::abort();
    }
  }
  key_bytes out(hash_len(h));
  std::size_t n = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &n, out.size()) != 1 || n != out.size()) {
    std::abort();
  }
  return out;
}

key_bytes prf(hash_alg h, cspan key, cspan data) { return prf(h, key, {data}); }

bytes digest(hash_alg h, std::initializer_list<cspan> pieces) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), evp_md(h), nullptr) != 1) {
    std::abort();
  }
  for (cspan p : pieces) {
    if (EVP_DigestUpdate(ctx.get(), nonnull(p), p.size()) != 1) {
      std::abort();
    }
  }
  bytes out(hash_len(h));
  unsigned n = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &n) != 1 || n != out.size()) {
    std::abort();
  }
  return out;
}

bytes digest(hash_alg h, cspan data) { return digest(h, {data}); }

bytes random_bytes(std::size_t n) {
  bytes out(n);
  if (n != 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

dh_keypair dh_generate(dh_group g) {
  dh_keypair kp;
  kp.group = g;
  bn_ctx_ptr ctx(BN_CTX_new());
  bn_ptr p = modp_prime(g);
  bn_ptr gen(BN_new());
  bn_ptr x(BN_secure_new());
  bn_ptr y(BN_new());
  if (!ctx || !p || !gen || !x || !y || BN_set_word(gen.get(), 2) != 1) {
    std::abort();
  }
  do {
    kp.private_value = random_bytes(dh_private_bytes);
    kp.private_value[0] |= 0x80;  // a full-length exponent
    BN_bin2bn(kp.private_value.data(), static_cast<int>(kp.private_value.size()), x.get());
  } while (BN_is_zero(x.get()));
  BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  kp.public_value.resize(dh_len(g));
  if (BN_mod_exp(y.get(), gen.get(), x.get(), p.get(), ctx.get()) != 1 ||
      BN_bn2binpad(y.get(), kp.public_value.data(), static_cast<int>(kp.public_value.size())) < 0) {
    std::abort();
  }
  return kp;
}

std::optional<key_bytes> dh_shared(const dh_keypair& mine, cspan peer_public) {
  if (peer_public.size() != dh_len(mine.group) || mine.private_value.empty()) {
    return std::nullopt;
  }
  bn_ctx_ptr ctx(BN_CTX_new());
  bn_ptr p = modp_prime(mine.group);
  bn_ptr pm1(BN_new());
  bn_ptr y(BN_bin2bn(peer_public.data(), static_cast<int>(peer_public.size()), nullptr));
  bn_ptr x(BN_secure_new());
  bn_ptr z(BN_secure_new());
  if (!ctx || !p || !pm1 || !y || !x || !z || !BN_copy(pm1.get(), p.get()) ||
      BN_sub_word(pm1.get(), 1) != 1) {
    std::abort();
  }
  // 0, 1 and p-1 force g^xy into a subgroup of order <= 2; >= p is not a field element.
  if (BN_is_zero(y.get()) || BN_is_one(y.get()) || BN_cmp(y.get(), pm1.get()) >= 0) {
    return std::nullopt;
  }
  BN_bin2bn(mine.private_value.data(), static_cast<int>(mine.private_value.size()), x.get());
  BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  key_bytes out(dh_len(mine.group));
  if (BN_mod_exp(z.get(), y.get(), x.get(), p.get(), ctx.get()) != 1 ||
      BN_bn2binpad(z.get(), out.data(), static_cast<int>(out.size())) < 0) {
    std::abort();
  }
  return out;
}

namespace {

const EVP_CIPHER* evp_cipher(cipher c, std::size_t key_len) {
  if (c == cipher::des3_cbc) {
    return key_len == 24 ? EVP_des_ede3_cbc() : nullptr;
  }
  switch (key_len) {
    case 16:
      return EVP_aes_128_cbc();
    case 24:
      return EVP_aes_192_cbc();
    case 32:
      return EVP_aes_256_cbc();
    default:
      return nullptr;
  }
}

std::optional<bytes> cbc(cipher c, cspan key, cspan iv, cspan data, int enc) {
  const EVP_CIPHER* ciph = evp_cipher(c, key.size());
  if (ciph == nullptr || iv.size() != block_len(c) || data.size() % block_len(c) != 0) {
    return std::nullopt;
  }
  cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
  bytes out(data.size() + block_len(c));
  int n1 = 0;
  int n2 = 0;
  if (!ctx || EVP_CipherInit_ex(ctx.get(), ciph, nullptr, key.data(), iv.data(), enc) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_CipherUpdate(ctx.get(), out.data(), &n1, nonnull(data), static_cast<int>(data.size())) !=
          1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + n1, &n2) != 1) {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

}  // namespace

std::optional<bytes> cbc_encrypt(cipher c, cspan key, cspan iv, cspan data) {
  return cbc(c, key, iv, data, 1);
}

std::optional<bytes> cbc_decrypt(cipher c, cspan key, cspan iv, cspan data) {
  return cbc(c, key, iv, data, 0);
}

// ---- RSA --------------------------------------------------------------------------------

struct rsa_key::impl {
  pkey_ptr key;
  bool has_private = false;
};

rsa_key::rsa_key() = default;
rsa_key::~rsa_key() = default;
rsa_key::rsa_key(rsa_key&&) noexcept = default;
rsa_key& rsa_key::operator=(rsa_key&&) noexcept = default;

namespace {

bool is_rsa(EVP_PKEY* k) { return k != nullptr && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA; }

}  // namespace

std::optional<rsa_key> rsa_key::generate(unsigned bits) {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits));
  if (raw == nullptr) {
    return std::nullopt;
  }
  rsa_key k;
  k._p = std::make_unique<impl>();
  k._p->key.reset(raw);
  k._p->has_private = true;
  return k;
}

std::optional<rsa_key> rsa_key::load_private_pem(const std::string& path) {
  bio_ptr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    return std::nullopt;
  }
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!is_rsa(key.get())) {
    return std::nullopt;
  }
  rsa_key k;
  k._p = std::make_unique<impl>();
  k._p->key = std::move(key);
  k._p->has_private = true;
  return k;
}

bool rsa_key::save_private_pem(const std::string& path) const {
  if (!has_private()) {
    return false;
  }
  // Created 0600 and re-chmodded: an existing file keeps its mode under O_CREAT.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return false;
  }
  if (::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return false;
  }
  bio_ptr bio(BIO_new_fd(fd, BIO_CLOSE));
  if (!bio) {
    ::close(fd);
    return false;
  }
  return PEM_write_bio_PrivateKey(bio.get(), _p->key.get(), nullptr, nullptr, 0, nullptr,
                                  nullptr) == 1 &&
         BIO_flush(bio.get()) == 1;
}

std::optional<rsa_key> rsa_key::from_public_der(cspan der) {
  const unsigned char* p = der.data();
  pkey_ptr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  // The whole buffer must be the key: trailing bytes mean a malformed payload.
  if (!is_rsa(key.get()) || p != der.data() + der.size()) {
    return std::nullopt;
  }
  rsa_key k;
  k._p = std::make_unique<impl>();
  k._p->key = std::move(key);
  return k;
}

bytes rsa_key::public_der() const {
  if (!_p) {
    return {};
  }
  int n = i2d_PUBKEY(_p->key.get(), nullptr);
  if (n <= 0) {
    return {};
  }
  bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_PUBKEY(_p->key.get(), &p);
  return out;
}

unsigned rsa_key::bits() const {
  return _p ? static_cast<unsigned>(EVP_PKEY_get_bits(_p->key.get())) : 0;
}

bool rsa_key::has_private() const { return _p && _p->has_private; }

namespace {

// A PKCS#1 v1.5 context; `md` set = the DigestInfo form, null = the bare hash.
pkey_ctx_ptr rsa_ctx(EVP_PKEY* key, const EVP_MD* md, int (*init)(EVP_PKEY_CTX*)) {
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      (md != nullptr && EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1)) {
    return nullptr;
  }
  return ctx;
}

}  // namespace

std::optional<bytes> rsa_key::sign(hash_alg h, cspan data, sig_form form) const {
  if (!has_private()) {
    return std::nullopt;
  }
  const bytes hash = digest(h, data);
  pkey_ctx_ptr ctx = rsa_ctx(_p->key.get(), form == sig_form::digest_info ? evp_md(h) : nullptr,
                             EVP_PKEY_sign_init);
  std::size_t n = 0;
  if (!ctx || EVP_PKEY_sign(ctx.get(), nullptr, &n, hash.data(), hash.size()) != 1) {
    return std::nullopt;
  }
  bytes sig(n);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &n, hash.data(), hash.size()) != 1) {
    return std::nullopt;
  }
  sig.resize(n);
  return sig;
}

std::optional<sig_form> rsa_key::verify(hash_alg h, cspan data, cspan sig) const {
  if (!_p || sig.empty()) {
    return std::nullopt;
  }
  const bytes hash = digest(h, data);
  // DigestInfo first: OpenSSL checks the hash OID and the encoding itself.
  if (pkey_ctx_ptr ctx = rsa_ctx(_p->key.get(), evp_md(h), EVP_PKEY_verify_init)) {
    if (EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), hash.data(), hash.size()) == 1) {
      return sig_form::digest_info;
    }
  }
  // Raw hash: recover what the type-1 padding wraps; it must be exactly the hash.
  pkey_ctx_ptr ctx = rsa_ctx(_p->key.get(), nullptr, EVP_PKEY_verify_recover_init);
  if (!ctx) {
    return std::nullopt;
  }
  bytes rec(static_cast<std::size_t>(EVP_PKEY_get_size(_p->key.get())));
  std::size_t n = rec.size();
  if (EVP_PKEY_verify_recover(ctx.get(), rec.data(), &n, sig.data(), sig.size()) != 1) {
    return std::nullopt;
  }
  if (n == hash.size() && CRYPTO_memcmp(rec.data(), hash.data(), n) == 0) {
    return sig_form::raw_hash;
  }
  return std::nullopt;
}

}  // namespace gm::control::ike
