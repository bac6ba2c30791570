#include "crypto/crypto_ctx.h"

#include "crypto/cbc_sha1_shani.h"
#include "crypto/des3_cbc.h"

#include <cstdlib>
#include <cstring>

namespace gm::crypto {

bool crypto_ctx::icv_equal(const uint8_t* a, const uint8_t* b, uint32_t n) {
  uint64_t diff = 0;
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    diff |= x ^ y;
  }
  if (i + 4 <= n) {
    uint32_t x, y;
    std::memcpy(&x, a + i, 4);
    std::memcpy(&y, b + i, 4);
    diff |= x ^ y;
    i += 4;
  }
  for (; i < n; ++i) {
    diff |= static_cast<uint8_t>(a[i] ^ b[i]);
  }
  return diff == 0;
}

namespace {

void fill_job(IMB_JOB* job, crypto_op* op, uint8_t* computed_icv) {
  const sa_keys& k = *op->keys;
  const transform_info& t = info(k.xf);
  const bool enc = op->dir == direction::encrypt;

  job->cipher_direction = enc ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  job->chain_order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  job->src = op->buf;
  job->dst = op->buf + op->cipher_off;  // ipsec-mb applies the offset to src only
  job->cipher_start_src_offset_in_bytes = op->cipher_off;
  job->msg_len_to_cipher_in_bytes = op->cipher_len;
  job->hash_start_src_offset_in_bytes = op->auth_off;
  job->msg_len_to_hash_in_bytes = op->auth_len;
  job->iv = op->iv;
  job->iv_len_in_bytes = t.cipher == IMB_CIPHER_GCM ? 12 : t.iv_len;
  job->auth_tag_output = enc ? op->icv : computed_icv;
  job->auth_tag_output_len_in_bytes = t.icv_len;
  job->hash_alg = t.hash;
  job->user_data = op;
  job->user_data2 = computed_icv;

  if (op->auth_only) {
    job->cipher_mode = IMB_CIPHER_NULL;
    job->enc_keys = nullptr;
    job->dec_keys = nullptr;
    job->key_len_in_bytes = 0;
    job->msg_len_to_cipher_in_bytes = 0;
  } else {
    job->cipher_mode = t.cipher;
    job->enc_keys = k.enc_keys;
    job->dec_keys = k.dec_keys;
    job->key_len_in_bytes = t.key_len;
  }
  if (t.cipher == IMB_CIPHER_GCM) {
    job->u.GCM.aad = op->aad;
    job->u.GCM.aad_len_in_bytes = op->aad_len;
    job->u.GCM.ctx = nullptr;
  } else {
    job->u.HMAC._hashed_auth_key_xor_ipad = k.ipad;
    job->u.HMAC._hashed_auth_key_xor_opad = k.opad;
  }
}

[[gnu::always_inline]] inline void complete(IMB_JOB* job) {
  auto* op = static_cast<crypto_op*>(job->user_data);
  if (job->status != IMB_STATUS_COMPLETED) {
    op->ok = false;
    return;
  }
  if (op->dir == direction::decrypt) {
    op->ok = crypto_ctx::icv_equal(static_cast<const uint8_t*>(job->user_data2), op->icv,
                       static_cast<uint32_t>(job->auth_tag_output_len_in_bytes));
  } else {
    op->ok = true;
  }
}

// The hash half of a burst job, shared by the CBC + HMAC and the 3DES paths: HMAC of `len`
// bytes at `src + off` with the SA's precomputed pads, the tag to `tag`.
inline void fill_hmac(IMB_JOB& j, const sa_keys& k, const transform_info& t, uint8_t* src,
                      uint32_t off, uint32_t len, uint8_t* tag) {
  j.hash_alg = t.hash;
  j.src = src;
  j.hash_start_src_offset_in_bytes = off;
  j.msg_len_to_hash_in_bytes = len;
  j.auth_tag_output = tag;
  j.auth_tag_output_len_in_bytes = t.icv_len;
  j.u.HMAC._hashed_auth_key_xor_ipad = k.ipad;
  j.u.HMAC._hashed_auth_key_xor_opad = k.opad;
}

// An operator's (or a benchmark's) override of an automatic engine choice, for A/B runs
// of the whole data plane: `var` set to `a_name` or `b_name` picks `a` or `b`.
template <class E>
E env_override(E choice, const char* var, const char* a_name, E a, const char* b_name, E b) {
  const char* e = std::getenv(var);
  if (e != nullptr && std::strcmp(e, a_name) == 0) {
    return a;
  }
  if (e != nullptr && std::strcmp(e, b_name) == 0) {
    return b;
  }
  return choice;
}

IMB_ARCH to_imb(arch a) {
  switch (a) {
    case arch::sse:
      return IMB_ARCH_SSE;
    case arch::avx:
      return IMB_ARCH_AVX;
    case arch::avx2:
      return IMB_ARCH_AVX2;
    case arch::avx512:
      return IMB_ARCH_AVX512;
  }
  return IMB_ARCH_SSE;
}

}  // namespace

std::string_view arch_name(arch a) {
  switch (a) {
    case arch::sse:
      return "SSE";
    case arch::avx:
      return "AVX";
    case arch::avx2:
      return "AVX2";
    case arch::avx512:
      return "AVX512";
  }
  return "?";
}

std::unique_ptr<crypto_ctx> crypto_ctx::create(arch cap, sha_ni_use sha_ni, des_engine des,
                                               gcm_engine gcm, cbc_sha1_engine cbc) {
  IMB_MGR* mgr = alloc_mb_mgr(0);
  if (mgr == nullptr) {
    return nullptr;
  }
  const uint64_t f = mgr->features;
  const bool has_avx512 = (f & IMB_CPUFLAGS_AVX512) == IMB_CPUFLAGS_AVX512;
  const bool has_avx2 = (f & IMB_CPUFLAGS_AVX2) == IMB_CPUFLAGS_AVX2;
  const bool has_avx = (f & IMB_CPUFLAGS_AVX) == IMB_CPUFLAGS_AVX;
  const bool has_sse = (f & IMB_CPUFLAGS_SSE) == IMB_CPUFLAGS_SSE;
  arch best;
  if (has_avx512 && cap >= arch::avx512) {
    best = arch::avx512;  // picks the VAES/VPCLMULQDQ code paths itself where present
  } else if (has_avx2 && cap >= arch::avx2) {
    best = arch::avx2;
  } else if (has_avx && cap >= arch::avx) {
    best = arch::avx;
  } else if (has_sse) {
    best = arch::sse;
  } else {
    free_mb_mgr(mgr);
    return nullptr;  // no AES-NI: we do not offer the emulated path on a data plane
  }
  switch (to_imb(best)) {
    case IMB_ARCH_AVX512:
      init_mb_mgr_avx512(mgr);
      break;
    case IMB_ARCH_AVX2:
      init_mb_mgr_avx2(mgr);
      break;
    case IMB_ARCH_AVX:
      init_mb_mgr_avx(mgr);
      break;
    default:
      init_mb_mgr_sse(mgr);
      break;
  }
  if (imb_get_errno(mgr) != 0) {
    free_mb_mgr(mgr);
    return nullptr;
  }
  std::unique_ptr<crypto_ctx> ctx(new crypto_ctx(mgr, best));
  ctx->_des_openssl = des == des_engine::openssl ||
                      (des == des_engine::auto_select && best != arch::avx512);
  if (gcm == gcm_engine::auto_select) {
    gcm = env_override(gcm, "GM_GCM_ENGINE", "ipsec-mb", gcm_engine::ipsec_mb, "vaes",
                       gcm_engine::vaes_avx2);
  }
  ctx->_gcm_vaes = gcm_vaes::cpu_supported() &&
                   (gcm == gcm_engine::vaes_avx2 ||
                    (gcm == gcm_engine::auto_select && best != arch::avx512));
  if (cbc == cbc_sha1_engine::auto_select) {
    cbc = env_override(cbc, "GM_CBC_SHA1_ENGINE", "ipsec-mb", cbc_sha1_engine::ipsec_mb,
                       "stitched", cbc_sha1_engine::stitched);
  }
  ctx->_cbc_sha1 = cbc_sha1::cpu_supported() &&
                   (cbc == cbc_sha1_engine::stitched ||
                    (cbc == cbc_sha1_engine::auto_select && best != arch::avx512));
  ctx->_cbc_sha1_dec = ctx->_cbc_sha1 && cbc_sha1::decrypt_supported();
  const bool has_sha_ni = (f & IMB_FEATURE_SHANI) != 0;
  if (sha_ni == sha_ni_use::always ||
      (sha_ni == sha_ni_use::auto_select && has_sha_ni && best != arch::avx512)) {
    IMB_MGR* sse = alloc_mb_mgr(0);
    if (sse == nullptr) {
      return nullptr;
    }
    init_mb_mgr_sse(sse);  // takes the SHA-NI code where the CPU has it
    if (imb_get_errno(sse) != 0) {
      free_mb_mgr(sse);
      return nullptr;
    }
    ctx->_sha_ni = sse;
  }
  return ctx;
}

crypto_ctx::~crypto_ctx() {
  imb_clear_mem(&_gcm_ctx, sizeof(_gcm_ctx));  // last packet's counter block and GHASH state
  free_mb_mgr(_mgr);
  if (_sha_ni != nullptr) {
    free_mb_mgr(_sha_ni);
  }
}

// ipsec-mb 1.3's cipher and hash burst calls cover AES-CBC and the HMAC-SHA family. They
// run each stage straight over an array of jobs: no job ring, no lane scheduling, no
// per-job validation. Against submit/flush of the same 32 jobs (perf/results/2026-11-25/
// r4-micro.log, AES-128-CBC + HMAC-SHA1, 64 B): ~185 against ~235 cycles a packet
// encrypt, ~145 against ~200 decrypt.
bool crypto_ctx::burst_eligible(crypto_op* const* ops, uint16_t n) const {
  const crypto_op& a = *ops[0];
  const transform_info& t = info(a.keys->xf);
  if (a.auth_only || t.cipher != IMB_CIPHER_CBC ||
      (t.hash != IMB_AUTH_HMAC_SHA_1 && t.hash != IMB_AUTH_HMAC_SHA_256)) {
    return false;
  }
  for (uint16_t i = 0; i < n; ++i) {
    const crypto_op& o = *ops[i];
    // The burst calls do not validate: what the job manager would reject stays with it.
    if (o.keys->xf != a.keys->xf || o.dir != a.dir || o.auth_only || o.cipher_len == 0 ||
        (o.cipher_len & (t.block - 1u)) != 0) {
      return false;
    }
  }
  return true;
}

namespace {

// ESP's layout (esp_job_op()): header and IV, then the payload, then the ICV.
bool esp_layout(const crypto_op& o) {
  constexpr uint32_t hdr_iv = 24;
  return o.cipher_off == hdr_iv && o.auth_off == 0 && o.auth_len == hdr_iv + o.cipher_len &&
         o.iv == o.buf + 8;
}

}  // namespace

uint16_t crypto_ctx::process_burst(crypto_op* const* ops, uint16_t n) {
  const transform_info& t = info(ops[0]->keys->xf);
  const bool enc = ops[0]->dir == direction::encrypt;
  if (!enc && _cbc_sha1_dec && t.hash == IMB_AUTH_HMAC_SHA_1) {
    return decrypt_cbc_sha1(ops, n);
  }
  return hash_cipher_bursts(ops, n);
}

uint16_t crypto_ctx::hash_cipher_bursts(crypto_op* const* ops, uint16_t n) {
  const transform_info& t = info(ops[0]->keys->xf);
  const bool enc = ops[0]->dir == direction::encrypt;
  const auto key_size = static_cast<IMB_KEY_SIZE_BYTES>(t.key_len);
  const IMB_CIPHER_DIRECTION cdir = enc ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  uint16_t good = 0;
  for (uint16_t base = 0; base < n; base += IMB_MAX_BURST_SIZE) {
    const uint16_t k = n - base < IMB_MAX_BURST_SIZE ? n - base : IMB_MAX_BURST_SIZE;
    uint16_t op_of_job[IMB_MAX_BURST_SIZE];
    uint16_t front = 0;
    uint16_t back = 0;
    for (uint16_t i = 0; i < k; ++i) {
      const crypto_op& op = *ops[base + i];
      const uint16_t ji = place(t.hash, op.auth_len, k, front, back);
      op_of_job[ji] = i;
      IMB_JOB& j = _burst_jobs[ji];
      j.cipher_mode = t.cipher;
      j.cipher_direction = cdir;
      j.chain_order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
      j.dst = op.buf + op.cipher_off;  // the offset applies to src only
      j.cipher_start_src_offset_in_bytes = op.cipher_off;
      j.msg_len_to_cipher_in_bytes = op.cipher_len;
      j.iv = op.iv;
      j.iv_len_in_bytes = t.iv_len;
      j.enc_keys = op.keys->enc_keys;
      j.dec_keys = op.keys->dec_keys;
      j.key_len_in_bytes = t.key_len;
      fill_hmac(j, *op.keys, t, op.buf, op.auth_off, op.auth_len,
                enc ? op.icv : _scratch[ji].bytes);
    }
    uint32_t ciphered;
    uint32_t hashed;
    if (enc) {  // RFC 4303: the ICV covers the ciphertext
      ciphered = IMB_SUBMIT_CIPHER_BURST_NOCHECK(_mgr, _burst_jobs, k, t.cipher, cdir, key_size);
      hashed = hash_burst(k, front, t.hash);
    } else {  // the ICV of the ciphertext, before it is decrypted in place
      hashed = hash_burst(k, front, t.hash);
      ciphered = IMB_SUBMIT_CIPHER_BURST_NOCHECK(_mgr, _burst_jobs, k, t.cipher, cdir, key_size);
    }
    const bool done = ciphered == k && hashed == k;
    for (uint16_t ji = 0; ji < k; ++ji) {
      crypto_op& op = *ops[base + op_of_job[ji]];
      op.ok = done && (enc || icv_equal(_scratch[ji].bytes, op.icv, t.icv_len));
      good += op.ok ? 1 : 0;
    }
  }
  return good;
}

// Every length goes to ours since the padding blocks are built in registers: 1.2-1.4x
// ipsec-mb's hash and cipher bursts (its two-lane SHA-NI code below 448 bytes) from 48 to
// 1408 bytes of payload (perf/results/2026-12-07/r9-micro). Ops not in ESP's layout (the
// self-test's) stay with ipsec-mb.
uint16_t crypto_ctx::decrypt_cbc_sha1(crypto_op* const* ops, uint16_t n) {
  const uint32_t icv_len = info(ops[0]->keys->xf).icv_len;
  cbc_sha1::rx_packet pk[IMB_MAX_BURST_SIZE];
  crypto_op* ours[IMB_MAX_BURST_SIZE];
  crypto_op* theirs[IMB_MAX_BURST_SIZE];
  bool ok[IMB_MAX_BURST_SIZE];
  uint16_t good = 0;
  for (uint16_t base = 0; base < n; base += IMB_MAX_BURST_SIZE) {
    const uint16_t cnt = n - base < IMB_MAX_BURST_SIZE ? n - base : IMB_MAX_BURST_SIZE;
    uint16_t nours = 0;
    uint16_t ntheirs = 0;
    for (uint16_t i = 0; i < cnt; ++i) {
      crypto_op* o = ops[base + i];
      if (!esp_layout(*o)) {
        theirs[ntheirs++] = o;
        continue;
      }
      pk[nours] = {o->keys, o->buf, o->cipher_len, o->icv};
      ours[nours++] = o;
    }
    if (nours != 0) {
      cbc_sha1::decrypt(pk, nours, icv_len, ok);
      for (uint16_t i = 0; i < nours; ++i) {
        ours[i]->ok = ok[i];
        good += ok[i] ? 1 : 0;
      }
    }
    if (ntheirs != 0) {
      good += hash_cipher_bursts(theirs, ntheirs);
    }
  }
  return good;
}

void crypto_ctx::esp_cbc_hmac_encrypt(const sa_keys& k, const esp_span* pkts, uint16_t n) {
  const transform_info& t = info(k.xf);
  if (_cbc_sha1 && t.hash == IMB_AUTH_HMAC_SHA_1) {
    static_assert(sizeof(cbc_sha1::packet) <= 32, "a burst's packets stay on the stack");
    cbc_sha1::packet pk[IMB_MAX_BURST_SIZE];
    for (uint16_t base = 0; base < n; base += IMB_MAX_BURST_SIZE) {
      const uint16_t cnt = n - base < IMB_MAX_BURST_SIZE ? n - base : IMB_MAX_BURST_SIZE;
      for (uint16_t i = 0; i < cnt; ++i) {
        const esp_span& p = pkts[base + i];
        pk[i] = {p.esp, p.len, p.esp + 24 + p.len};
      }
      cbc_sha1::encrypt(k, pk, cnt, t.icv_len);
    }
    return;
  }
  const auto key_size = static_cast<IMB_KEY_SIZE_BYTES>(t.key_len);
  constexpr uint32_t esp_hdr = 8;  // SPI, sequence number
  const uint32_t ct_off = esp_hdr + t.iv_len;
  for (uint16_t base = 0; base < n; base += IMB_MAX_BURST_SIZE) {
    const uint16_t cnt = n - base < IMB_MAX_BURST_SIZE ? n - base : IMB_MAX_BURST_SIZE;
    uint16_t front = 0;
    uint16_t back = 0;
    for (uint16_t i = 0; i < cnt; ++i) {
      const esp_span& p = pkts[base + i];
      IMB_JOB& j = _burst_jobs[place(t.hash, ct_off + p.len, cnt, front, back)];
      j.cipher_mode = t.cipher;
      j.cipher_direction = IMB_DIR_ENCRYPT;
      j.chain_order = IMB_ORDER_CIPHER_HASH;
      j.dst = p.esp + ct_off;
      j.cipher_start_src_offset_in_bytes = ct_off;
      j.msg_len_to_cipher_in_bytes = p.len;
      j.iv = p.esp + esp_hdr;
      j.iv_len_in_bytes = t.iv_len;
      j.enc_keys = k.enc_keys;
      j.dec_keys = k.dec_keys;
      j.key_len_in_bytes = t.key_len;
      fill_hmac(j, k, t, p.esp, 0, ct_off + p.len, p.esp + ct_off + p.len);
    }
    IMB_SUBMIT_CIPHER_BURST_NOCHECK(_mgr, _burst_jobs, cnt, t.cipher, IMB_DIR_ENCRYPT, key_size);
    hash_burst(cnt, front, t.hash);
  }
}

// process_des3() hashes a burst of 3DES ops in one call, so with one algorithm.
constexpr bool des3_transforms_share_one_hash() {
  IMB_HASH_ALG h = IMB_AUTH_NULL;
  for (const auto& t : transform_table) {
    if (t.cipher != IMB_CIPHER_DES3) continue;
    if (h != IMB_AUTH_NULL && t.hash != h) return false;
    h = t.hash;
  }
  return true;
}
static_assert(des3_transforms_share_one_hash());

void crypto_ctx::process_des3(crypto_op* const* ops, uint16_t n, bool* handled) {
  uint16_t idx[IMB_MAX_BURST_SIZE];  // n <= IMB_MAX_BURST_SIZE: one burst of hash jobs
  uint16_t cnt = 0;
  for (uint16_t i = 0; i < n; ++i) {
    crypto_op& op = *ops[i];
    handled[i] = info(op.keys->xf).cipher == IMB_CIPHER_DES3 && !op.auth_only;
    if (!handled[i]) {
      continue;
    }
    // What the job manager's validation refused: DES_ede3_cbc_encrypt would pad it.
    if (op.cipher_len == 0 || (op.cipher_len & 7u) != 0) [[unlikely]] {
      op.ok = false;
      continue;
    }
    idx[cnt++] = i;
  }
  if (cnt == 0) {
    return;
  }
  uint16_t op_of_job[IMB_MAX_BURST_SIZE];
  uint16_t front = 0;
  uint16_t back = 0;
  for (uint16_t c = 0; c < cnt; ++c) {
    crypto_op& op = *ops[idx[c]];
    const transform_info& t = info(op.keys->xf);
    const bool enc = op.dir == direction::encrypt;
    if (enc) {  // RFC 4303: the ICV covers the ciphertext
      des3_cbc(op.keys->des.openssl, op.buf + op.cipher_off, op.cipher_len, op.iv, true);
    }
    const uint16_t ji = place(t.hash, op.auth_len, cnt, front, back);
    op_of_job[ji] = idx[c];
    IMB_JOB& j = _burst_jobs[ji];
    j.cipher_mode = IMB_CIPHER_NULL;
    fill_hmac(j, *op.keys, t, op.buf, op.auth_off, op.auth_len,
              enc ? op.icv : _scratch[ji].bytes);
  }
  // One hash algorithm a call (static_assert above).
  const IMB_HASH_ALG h = info(ops[idx[0]]->keys->xf).hash;
  const bool hashed = hash_burst(cnt, front, h) == cnt;
  for (uint16_t ji = 0; ji < cnt; ++ji) {
    crypto_op& op = *ops[op_of_job[ji]];
    if (op.dir == direction::encrypt) {
      op.ok = hashed;
      continue;
    }
    // Decrypt only what verified: the ICV of the ciphertext, before it is decrypted.
    op.ok = hashed && icv_equal(_scratch[ji].bytes, op.icv, info(op.keys->xf).icv_len);
    if (op.ok) {
      des3_cbc(op.keys->des.openssl, op.buf + op.cipher_off, op.cipher_len, op.iv, false);
    }
  }
}

uint16_t crypto_ctx::process(crypto_op* const* ops, uint16_t n) {
  if (n != 0 && burst_eligible(ops, n)) {
    return process_burst(ops, n);
  }
  for (uint16_t base = 0; base < n; base += IMB_MAX_BURST_SIZE) {
    const uint16_t k = n - base < IMB_MAX_BURST_SIZE ? n - base : IMB_MAX_BURST_SIZE;
    crypto_op* const* slice = ops + base;
    bool des_done[IMB_MAX_BURST_SIZE] = {};
    if (_des_openssl) {
      process_des3(slice, k, des_done);  // before the manager uses _scratch again
    }
    for (uint16_t i = 0; i < k; ++i) {
      if (des_done[i]) {
        continue;
      }
      if (info(slice[i]->keys->xf).cipher == IMB_CIPHER_GCM && !slice[i]->auth_only) {
        gcm(*slice[i]);
        continue;
      }
      IMB_JOB* job = IMB_GET_NEXT_JOB(_mgr);
      // One scratch ICV per job slot of the manager: a slot is reused only after its job
      // was returned (and compared) by complete().
      uint8_t* slot = _scratch[job - _mgr->jobs].bytes;
      fill_job(job, slice[i], slot);
      job = IMB_SUBMIT_JOB(_mgr);
      while (job != nullptr) {
        complete(job);
        job = IMB_GET_COMPLETED_JOB(_mgr);
      }
    }
    // Flushed per slice: the next slice's 3DES ops reuse _scratch.
    IMB_JOB* job;
    while ((job = IMB_FLUSH_JOB(_mgr)) != nullptr) {
      complete(job);
    }
  }
  uint16_t good = 0;
  for (uint16_t i = 0; i < n; ++i) {
    good += ops[i]->ok ? 1 : 0;
  }
  return good;
}

}  // namespace gm::crypto
