// AES-128-CBC + HMAC-SHA1 encrypt/decrypt, 32 jobs, AVX2 manager: the whole burst through
// the cipher call then the hash call, against groups of G jobs (cipher G, hash G, ...), so a
// group's data is still in L1 when the second pass reads it. Alternating 21 times, median
// cycles a packet. ./group_ab <cipher_len> <G>
#include <intel-ipsec-mb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>
#define N 32
static uint8_t bufs[N][2048] __attribute__((aligned(64)));
static uint8_t tags[N][32];
static DECLARE_ALIGNED(uint8_t enc[16 * 15], 16);
static DECLARE_ALIGNED(uint8_t dec[16 * 15], 16);
static DECLARE_ALIGNED(uint8_t ipad[20], 16);
static DECLARE_ALIGNED(uint8_t opad[20], 16);
static IMB_JOB arr[N];
static int cmp(const void* a, const void* b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static void run(IMB_MGR* m, int g, int encdir) {
  for (int b = 0; b < N; b += g) {
    if (encdir) {
      IMB_SUBMIT_CIPHER_BURST_NOCHECK(m, arr + b, g, IMB_CIPHER_CBC, IMB_DIR_ENCRYPT, IMB_KEY_128_BYTES);
      IMB_SUBMIT_HASH_BURST_NOCHECK(m, arr + b, g, IMB_AUTH_HMAC_SHA_1);
    } else {
      IMB_SUBMIT_HASH_BURST_NOCHECK(m, arr + b, g, IMB_AUTH_HMAC_SHA_1);
      IMB_SUBMIT_CIPHER_BURST_NOCHECK(m, arr + b, g, IMB_CIPHER_CBC, IMB_DIR_DECRYPT, IMB_KEY_128_BYTES);
    }
  }
}
int main(int argc, char** argv) {
  unsigned clen = atoi(argv[1]), G = atoi(argv[2]), off = 98;
  IMB_MGR* m = alloc_mb_mgr(0);
  init_mb_mgr_avx2(m);
  uint8_t key[16] = {1, 2, 3};
  IMB_AES_KEYEXP_128(m, key, enc, dec);
  memset(ipad, 0x36, 20); memset(opad, 0x5c, 20); memset(bufs, 7, sizeof bufs);
  for (int i = 0; i < N; i++) {
    IMB_JOB* j = &arr[i]; memset(j, 0, sizeof *j);
    j->src = bufs[i] + off; j->dst = bufs[i] + off + 24; j->cipher_start_src_offset_in_bytes = 24;
    j->msg_len_to_cipher_in_bytes = clen; j->msg_len_to_hash_in_bytes = 24 + clen; j->iv = bufs[i] + off + 8;
    j->iv_len_in_bytes = 16; j->auth_tag_output = tags[i]; j->auth_tag_output_len_in_bytes = 12;
    j->hash_alg = IMB_AUTH_HMAC_SHA_1; j->cipher_mode = IMB_CIPHER_CBC; j->enc_keys = enc; j->dec_keys = dec;
    j->key_len_in_bytes = 16; j->u.HMAC._hashed_auth_key_xor_ipad = ipad; j->u.HMAC._hashed_auth_key_xor_opad = opad;
  }
  for (int encdir = 1; encdir >= 0; encdir--) {
    double r[2][21];
    for (int rep = 0; rep < 21; rep++)
      for (int k = 0; k < 2; k++) {
        uint64_t t0 = __rdtsc();
        for (int it = 0; it < 300; it++) {
          // touch other 64 KB between bursts as rx/tx would: evicts L1
          run(m, k == 0 ? N : G, encdir);
        }
        r[k][rep] = (double)(__rdtsc() - t0) / (300.0 * N);
      }
    qsort(r[0], 21, sizeof(double), cmp); qsort(r[1], 21, sizeof(double), cmp);
    printf("%s len %4u: whole burst median %7.1f | groups of %2u median %7.1f | ratio %.3f\n",
           encdir ? "encrypt" : "decrypt", clen, r[0][10], G, r[1][10], r[1][10] / r[0][10]);
  }
  return 0;
}
