// crypto_ctx::process() on 32 valid AES-128-CBC + HMAC-SHA1 ESP decrypt ops of one length:
// ipsec-mb (hash burst, then cipher burst) against cbc_sha1::decrypt (SHA-NI hash lanes,
// then VAES CBC), and the latter's parts. Inputs restored before every call (untimed).
#include <x86intrin.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include "crypto/aes_cbc_vaes.h"
#include "crypto/cbc_sha1_shani.h"
#include "crypto/crypto_ctx.h"
#include "crypto/sa_keys.h"
using namespace gm::crypto;
static uint8_t bufs[32][2048], orig[32][2048];
int main() {
  auto imb = crypto_ctx::create(arch::avx512, sha_ni_use::auto_select, des_engine::auto_select,
                                gcm_engine::auto_select, cbc_sha1_engine::ipsec_mb);
  auto ours = crypto_ctx::create(arch::avx512, sha_ni_use::auto_select, des_engine::auto_select,
                                 gcm_engine::auto_select, cbc_sha1_engine::stitched);
  if (!ours->cbc_sha1_decrypt_ours()) { puts("no SHA-NI+VAES"); return 1; }
  sa_keys k; uint8_t ck[16] = {1, 2, 3}, ak[20] = {4, 5, 6};
  k.init(imb->mgr(), transform_id::aes_cbc_128_sha1, ck, ak);
  for (uint32_t len : {48u, 96u, 144u, 208u, 304u, 400u, 496u, 1408u}) {
    esp_span sp[32]; crypto_op ops[32]; crypto_op* po[32];
    for (int i = 0; i < 32; i++) {
      memset(bufs[i], i, sizeof(bufs[i]));
      sp[i] = {bufs[i], len};
    }
    imb->esp_cbc_hmac_encrypt(k, sp, 32);
    memcpy(orig, bufs, sizeof(bufs));
    for (int i = 0; i < 32; i++) {
      esp_job_op(&k, bufs[i], 8, 16, len, direction::decrypt, ops[i]); po[i] = &ops[i];
    }
    auto timed = [&](auto&& fn) {
      uint64_t sum = 0;
      for (int r = 0; r < 300; r++) {
        for (int i = 0; i < 32; i++) memcpy(bufs[i], orig[i], 24 + len + 12);
        uint64_t t0 = __rdtsc(); fn(); sum += __rdtsc() - t0;
      }
      return sum / 9600.0;
    };
    double best[4] = {1e18, 1e18, 1e18, 1e18};
    int good_imb = 0, good_ours = 0;
    for (int rep = 0; rep < 15; rep++) {
      best[0] = std::min(best[0], timed([&] { good_imb = imb->process(po, 32); }));
      best[1] = std::min(best[1], timed([&] { good_ours = ours->process(po, 32); }));
      best[2] = std::min(best[2], timed([&] {
        for (int i = 0; i < 32; i++) aes_cbc_vaes::decrypt(k.dec_keys, 10, bufs[i] + 24, len / 16);
      }));
      best[3] = std::min(best[3], timed([&] {  // hash only: every ICV wrong, nothing decrypted
        cbc_sha1::rx_packet pk[32]; bool ok[32]; static const uint8_t zero[20] = {};
        for (int i = 0; i < 32; i++) pk[i] = {&k, bufs[i], len, zero};
        cbc_sha1::decrypt(pk, 32, 12, ok);
      }));
    }
    printf("ct %4u: decrypt ipsec-mb %6.0f ours %6.0f (%.2fx) | ours' parts: vaes cbc %5.0f, "
           "hmac alone %5.0f | ok %d/%d\n", len, best[0], best[1], best[0] / best[1], best[2],
           best[3], good_imb, good_ours);
  }
}
