// AVX2 vs SSE (SHA-NI) manager: IMB_SUBMIT_HASH_BURST_NOCHECK HMAC-SHA1 (or -SHA256 with
// a third argument "sha256") on 32 jobs, alternating 31 times, median cycles a packet each.
// gcc -O2 hash_ab.c -lIPSec_MB -o hash_ab; ./hash_ab <cipher_len> <offset> [sha256]
#include <intel-ipsec-mb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>
#define N 32
static uint8_t bufs[N][2048] __attribute__((aligned(64)));
static uint8_t tags[N][32];
static DECLARE_ALIGNED(uint8_t ipad[32], 16);
static DECLARE_ALIGNED(uint8_t opad[32], 16);
static IMB_JOB arr[N];
static int cmp(const void* a, const void* b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
int main(int argc, char** argv) {
  unsigned clen = atoi(argv[1]), off = atoi(argv[2]);
  const IMB_HASH_ALG h = argc > 3 && !strcmp(argv[3], "sha256") ? IMB_AUTH_HMAC_SHA_256 : IMB_AUTH_HMAC_SHA_1;
  IMB_MGR* m[2] = {alloc_mb_mgr(0), alloc_mb_mgr(0)};
  init_mb_mgr_avx2(m[0]); init_mb_mgr_sse(m[1]);
  memset(ipad, 0x36, 32); memset(opad, 0x5c, 32); memset(bufs, 7, sizeof bufs);
  for (int i = 0; i < N; i++) {
    IMB_JOB* j = &arr[i]; memset(j, 0, sizeof *j);
    j->src = bufs[i] + off; j->hash_start_src_offset_in_bytes = 0; j->msg_len_to_hash_in_bytes = 24 + clen;
    j->auth_tag_output = tags[i]; j->auth_tag_output_len_in_bytes = h == IMB_AUTH_HMAC_SHA_1 ? 12 : 16; j->hash_alg = h;
    j->u.HMAC._hashed_auth_key_xor_ipad = ipad; j->u.HMAC._hashed_auth_key_xor_opad = opad;
  }
  double r[2][31];
  for (int rep = 0; rep < 31; rep++)
    for (int k = 0; k < 2; k++) {
      uint64_t t0 = __rdtsc();
      for (int it = 0; it < 500; it++) IMB_SUBMIT_HASH_BURST_NOCHECK(m[k], arr, N, h);
      r[k][rep] = (double)(__rdtsc() - t0) / (500.0 * N);
    }
  uint8_t t0[N][32]; memcpy(t0, tags, sizeof tags); memset(tags, 0, sizeof tags);
  IMB_SUBMIT_HASH_BURST_NOCHECK(m[0], arr, N, h);
  int same = !memcmp(t0, tags, sizeof tags);
  qsort(r[0], 31, sizeof(double), cmp); qsort(r[1], 31, sizeof(double), cmp);
  printf("len %4u off %3u: avx2 median %6.1f min %6.1f | sse/sha-ni median %6.1f min %6.1f | sse/avx2 %.2f  tags equal %s\n",
         clen, off, r[0][15], r[0][0], r[1][15], r[1][0], r[1][15] / r[0][15], same ? "yes" : "NO");
  return 0;
}
