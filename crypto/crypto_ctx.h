// A per-lcore crypto context: one ipsec-mb manager, created on the lcore that uses it, and
// the burst entry point that pushes many operations through the multi-buffer job API.
// Not thread-safe: exactly one lcore uses a context.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <intel-ipsec-mb.h>

#include "crypto/sa_keys.h"

namespace gm::crypto {

enum class direction : uint8_t { encrypt, decrypt };

/// One cipher+auth operation on a flat buffer. For ESP the buffer starts at the ESP header.
struct crypto_op {
  const sa_keys* keys;
  uint8_t* buf;
  uint32_t cipher_off;  ///< from buf
  uint32_t cipher_len;
  uint32_t auth_off;  ///< HMAC transforms: authenticated region, from buf
  uint32_t auth_len;
  const uint8_t* aad;  ///< GCM only
  uint32_t aad_len;
  const uint8_t* iv;  ///< CBC/3DES IV, or the 12-byte GCM nonce
  uint8_t* icv;       ///< encrypt: written here; decrypt: compared with this
  direction dir;
  bool auth_only;  ///< run only the hash of the transform (used by the self-test)
  bool ok;         ///< result: job completed and (decrypt) the ICV matched
};

/// The job-manager op of one ESP packet (CBC/HMAC, 3DES, NULL): the buffer starts at the
/// ESP header, the IV follows it, `ct_len` bytes of (padded) payload are ciphered, header +
/// IV + payload are authenticated, and the ICV follows the payload.
inline void esp_job_op(const sa_keys* keys, uint8_t* esp, uint32_t hdr_len, uint32_t iv_len,
                       uint32_t ct_len, direction dir, crypto_op& op) {
  op.keys = keys;
  op.buf = esp;
  op.cipher_off = hdr_len + iv_len;
  op.cipher_len = ct_len;
  op.auth_off = 0;
  op.auth_len = hdr_len + iv_len + ct_len;
  op.aad = nullptr;
  op.aad_len = 0;
  op.iv = esp + hdr_len;
  op.icv = esp + hdr_len + iv_len + ct_len;
  op.dir = dir;
  op.auth_only = false;
  op.ok = false;
}

/// An ESP packet for the crypto_op-free paths: the ESP header's address and the length of
/// the encrypted payload (padded to the block); the IV follows the header, the ICV the payload.
struct esp_span {
  uint8_t* esp;
  uint32_t len;
};

enum class arch : uint8_t { sse, avx, avx2, avx512 };

std::string_view arch_name(arch a);

/// Whether HMAC hash bursts of short messages go to a second, SSE manager, which ipsec-mb
/// gives its SHA-NI code (two buffers interleaved), instead of the main manager's
/// multi-buffer SHA lanes. auto_select: where the CPU has SHA-NI and no AVX-512. Measured
/// on an AMD EPYC with AVX2 + SHA-NI (docs/perf.md, round 5): the HMAC-SHA1 burst at
/// 0.56-0.95x the AVX2 lanes' cycles up to 256 bytes, even at 512, behind at 1408;
/// HMAC-SHA256 at 0.42-0.48x at every length. On a Sapphire Rapids the AVX-512 lanes were
/// 2-4x faster than the SSE manager. always/never: tests, to run both paths on any CPU.
enum class sha_ni_use : uint8_t { auto_select, never, always };

/// Who runs 3DES-CBC. auto_select: ipsec-mb where its manager is AVX-512 (its 16-lane DES),
/// OpenSSL's DES primitives (crypto/des3_cbc.h) elsewhere, where ipsec-mb 1.3 falls back to
/// portable code some 60x slower (AMD EPYC, 2026-12-07). The HMAC stays with ipsec-mb.
enum class des_engine : uint8_t { auto_select, ipsec_mb, openssl };

/// Who runs AES-GCM. auto_select: crypto/gcm_vaes.h where the CPU has VAES and
/// VPCLMULQDQ and ipsec-mb's manager is not AVX-512 (ipsec-mb 1.3 then runs one block an
/// instruction); ipsec-mb's direct API elsewhere. vaes_avx2 falls back to ipsec-mb where
/// the CPU lacks those instructions.
enum class gcm_engine : uint8_t { auto_select, ipsec_mb, vaes_avx2 };

/// Who encrypts AES-CBC + HMAC-SHA1 bursts. auto_select: crypto/cbc_sha1_shani.h (cipher
/// and hash in one pass, three packets at a time) where the CPU has SHA-NI and ipsec-mb's
/// manager is not AVX-512; ipsec-mb's cipher and hash bursts elsewhere. stitched falls
/// back to ipsec-mb where the CPU lacks SHA-NI. Decryption follows the same choice where
/// the CPU also has VAES: three SHA-NI hash lanes, then CBC decryption two blocks an
/// instruction (cbc_sha1::decrypt; docs/perf.md, round 8).
enum class cbc_sha1_engine : uint8_t { auto_select, ipsec_mb, stitched };

class crypto_ctx {
 public:
  /// Creates a manager for the best architecture this CPU supports, or at most `cap`
  /// (tests use it to exercise the fallbacks). Returns nullptr if ipsec-mb cannot start.
  static std::unique_ptr<crypto_ctx> create(arch cap = arch::avx512,
                                            sha_ni_use sha_ni = sha_ni_use::auto_select,
                                            des_engine des = des_engine::auto_select,
                                            gcm_engine gcm = gcm_engine::auto_select,
                                            cbc_sha1_engine cbc = cbc_sha1_engine::auto_select);
  ~crypto_ctx();
  crypto_ctx(const crypto_ctx&) = delete;
  crypto_ctx& operator=(const crypto_ctx&) = delete;

  /// Runs `n` operations and sets each op's `ok`. Returns how many succeeded. AES-GCM ops
  /// go through gcm() one by one; a run of AES-CBC + HMAC ops of one transform and
  /// direction through ipsec-mb's cipher and hash burst calls; the rest through the
  /// multi-buffer job manager (submit all, then flush).
  uint16_t process(crypto_op* const* ops, uint16_t n);

  /// One AES-GCM op (not auth_only) through ipsec-mb's direct GCM API rather than the job
  /// manager, and sets op.ok. GCM is not multi-buffer in the job manager either (a job is
  /// one call of the same routine), so the manager only adds its validation and job ring:
  /// measured at 64 B that is as much again as the cipher.
  void gcm(crypto_op& op) {
    const sa_keys& k = *op.keys;
    const uint32_t icv_len = info(k.xf).icv_len;
    uint8_t* data = op.buf + op.cipher_off;
    if (op.dir == direction::encrypt) {
      gcm_encrypt(gcm_fn(k.xf, op.dir), k, data, op.cipher_len, op.iv, op.aad, op.aad_len,
                  op.icv, icv_len);
      op.ok = true;
      return;
    }
    op.ok = gcm_decrypt(gcm_fn(k.xf, op.dir), k, data, op.cipher_len, op.iv, op.aad,
                        op.aad_len, op.icv, icv_len);
  }

  /// The direct-API routine for an AES-GCM transform: the ESP stages look it up once per
  /// SA and call gcm_encrypt()/gcm_decrypt() straight from their packet loops, without
  /// filling a crypto_op per packet (13 stores, read back at once).
  aes_gcm_enc_dec_t gcm_fn(transform_id xf, direction dir) const {
    const bool k256 = xf == transform_id::aes_gcm_256;
    if (_gcm_vaes) {
      if (dir == direction::encrypt) {
        return k256 ? gcm_vaes::enc256 : gcm_vaes::enc128;
      }
      return k256 ? gcm_vaes::dec256 : gcm_vaes::dec128;
    }
    if (dir == direction::encrypt) {
      return k256 ? _mgr->gcm256_enc : _mgr->gcm128_enc;
    }
    return k256 ? _mgr->gcm256_dec : _mgr->gcm128_dec;
  }

  /// Encrypts `len` bytes at `data` in place and writes the `tag_len`-byte tag. `fn` from
  /// gcm_fn(k.xf, direction::encrypt); `nonce` is 12 bytes.
  void gcm_encrypt(aes_gcm_enc_dec_t fn, const sa_keys& k, uint8_t* data, uint32_t len,
                   const uint8_t* nonce, const uint8_t* aad, uint32_t aad_len, uint8_t* tag,
                   uint32_t tag_len) {
    fn(&k.gcm.imb, &_gcm_ctx, data, data, len, nonce, aad, aad_len, tag, tag_len);
  }

  /// Decrypts `len` bytes at `data` in place; true when the computed tag equals `tag`.
  /// `fn` from gcm_fn(k.xf, direction::decrypt).
  bool gcm_decrypt(aes_gcm_enc_dec_t fn, const sa_keys& k, uint8_t* data, uint32_t len,
                   const uint8_t* nonce, const uint8_t* aad, uint32_t aad_len,
                   const uint8_t* tag, uint32_t tag_len) {
    alignas(16) uint8_t computed[16];
    fn(&k.gcm.imb, &_gcm_ctx, data, data, len, nonce, aad, aad_len, computed, tag_len);
    return icv_equal(computed, tag, tag_len);
  }

  /// True for the transforms esp_cbc_hmac_encrypt() takes (AES-CBC with HMAC-SHA1/-SHA256).
  static bool cbc_hmac_burst(transform_id xf) {
    const transform_info& t = info(xf);
    return t.cipher == IMB_CIPHER_CBC &&
           (t.hash == IMB_AUTH_HMAC_SHA_1 || t.hash == IMB_AUTH_HMAC_SHA_256);
  }

  /// Encrypts and authenticates `n` ESP packets of one SA (cbc_hmac_burst(k.xf)) through
  /// the cipher and hash burst calls, filling the jobs straight from `pkts`: the encrypt
  /// stage's equivalent of process() without a crypto_op per packet. Each len is a nonzero
  /// multiple of the block (the ESP stage pads to it). Cannot fail.
  void esp_cbc_hmac_encrypt(const sa_keys& k, const esp_span* pkts, uint16_t n);

  /// Constant time (no early exit), a word at a time: ICVs are 12 or 16 bytes.
  static bool icv_equal(const uint8_t* a, const uint8_t* b, uint32_t n);

  IMB_MGR* mgr() { return _mgr; }
  arch architecture() const { return _arch; }
  /// True when short HMAC messages are hashed by the SHA-NI (SSE) manager.
  bool sha_ni_hash() const { return _sha_ni != nullptr; }
  /// With sha_ni_hash(), the longest message (ESP header, IV and payload) of hash `h`
  /// that goes to SHA-NI. SHA-1: the AVX2 lanes caught up at ~450 bytes and were 7-10 %
  /// ahead at 1420 B in the whole data plane on an unshared core (every length on SHA-NI
  /// was tried and reverted, docs/perf.md round 5); SHA-256: SHA-NI won at every length.
  static uint32_t sha_ni_max_len(IMB_HASH_ALG h) {
    return h == IMB_AUTH_HMAC_SHA_1 ? 448 : UINT32_MAX;
  }
  /// True when 3DES-CBC runs on OpenSSL's DES rather than ipsec-mb's.
  bool des_openssl() const { return _des_openssl; }
  /// True when AES-GCM runs on crypto/gcm_vaes rather than ipsec-mb.
  bool gcm_on_vaes() const { return _gcm_vaes; }
  /// True when AES-CBC + HMAC-SHA1 encrypt bursts run on crypto/cbc_sha1_shani.
  bool cbc_sha1_stitched() const { return _cbc_sha1; }
  /// True when AES-CBC + HMAC-SHA1 decrypt bursts run on crypto/cbc_sha1_shani's decrypt
  /// (three SHA-NI hash lanes, then VAES CBC decryption).
  bool cbc_sha1_decrypt_ours() const { return _cbc_sha1_dec; }

 private:
  crypto_ctx(IMB_MGR* mgr, arch a) : _mgr(mgr), _arch(a) {}
  bool burst_eligible(crypto_op* const* ops, uint16_t n) const;
  uint16_t process_burst(crypto_op* const* ops, uint16_t n);
  /// process_burst() on ipsec-mb: its hash and cipher burst calls.
  uint16_t hash_cipher_bursts(crypto_op* const* ops, uint16_t n);
  /// process_burst()'s AES-CBC + HMAC-SHA1 decryption: ops in ESP's layout (esp_job_op())
  /// on cbc_sha1::decrypt, the rest on ipsec-mb.
  uint16_t decrypt_cbc_sha1(crypto_op* const* ops, uint16_t n);
  /// 3DES ops (not auth_only) of `ops`, n <= IMB_MAX_BURST_SIZE (process() slices), by
  /// des3_cbc() and ipsec-mb's hash burst; sets their ok and each one's `handled`.
  void process_des3(crypto_op* const* ops, uint16_t n, bool* handled);
  /// The index in _burst_jobs for a job hashing `hash_len` bytes, of `cnt`: those for the
  /// SHA-NI manager from the front (`front` of them so far), the rest from the back.
  uint16_t place(IMB_HASH_ALG h, uint32_t hash_len, uint16_t cnt, uint16_t& front,
                 uint16_t& back) const {
    if (_sha_ni != nullptr && hash_len <= sha_ni_max_len(h)) {
      return front++;
    }
    return static_cast<uint16_t>(cnt - 1 - back++);
  }
  /// Hashes _burst_jobs[0, cnt): the first `front` on the SHA-NI manager, the rest on
  /// the main one. Returns how many were hashed.
  uint32_t hash_burst(uint16_t cnt, uint16_t front, IMB_HASH_ALG h) {
    uint32_t done = 0;
    if (front != 0) {
      done += IMB_SUBMIT_HASH_BURST_NOCHECK(_sha_ni, _burst_jobs, front, h);
    }
    if (front != cnt) {
      done += IMB_SUBMIT_HASH_BURST_NOCHECK(_mgr, _burst_jobs + front, cnt - front, h);
    }
    return done;
  }
  // The computed ICV of a decrypt job lands here first, then is compared with the packet's.
  struct alignas(32) icv_scratch {
    uint8_t bytes[32];
  };
  IMB_MGR* _mgr;
  arch _arch;
  IMB_MGR* _sha_ni = nullptr;  // an SSE manager for short HMAC messages, or none
  bool _des_openssl = false;
  bool _gcm_vaes = false;
  bool _cbc_sha1 = false;
  bool _cbc_sha1_dec = false;
  icv_scratch _scratch[IMB_MAX_JOBS];
  gcm_context_data _gcm_ctx;
  // process_burst()'s jobs: the burst calls take an array of jobs, not the manager's ring.
  IMB_JOB _burst_jobs[IMB_MAX_BURST_SIZE];  // the direct GCM API's per-call state; nothing kept across calls
};

}  // namespace gm::crypto
