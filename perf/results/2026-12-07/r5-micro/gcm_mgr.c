// AES-128-GCM encrypt through the direct API of each ipsec-mb 1.3 manager, one buffer at a
// time: median TSC cycles a buffer over 21 alternating runs. ./gcm_mgr <len>
#include <intel-ipsec-mb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>
static uint8_t buf[32][2048] __attribute__((aligned(64)));
static int cmp(const void* a, const void* b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
int main(int argc, char** argv) {
  unsigned len = atoi(argv[1]);
  IMB_MGR* m[3]; const char* nm[3] = {"sse", "avx", "avx2"};
  static struct gcm_key_data k[3]; struct gcm_context_data ctx;
  uint8_t key[16] = {1, 2, 3}, iv[12] = {4}, aad[8] = {5}, tag[16];
  for (int a = 0; a < 3; a++) {
    m[a] = alloc_mb_mgr(0);
    if (a == 0) init_mb_mgr_sse(m[a]); else if (a == 1) init_mb_mgr_avx(m[a]); else init_mb_mgr_avx2(m[a]);
    IMB_AES128_GCM_PRE(m[a], key, &k[a]);
  }
  double r[3][21];
  for (int rep = 0; rep < 21; rep++)
    for (int a = 0; a < 3; a++) {
      uint64_t t0 = __rdtsc();
      for (int it = 0; it < 200; it++)
        for (int i = 0; i < 32; i++) m[a]->gcm128_enc(&k[a], &ctx, buf[i] + 98, buf[i] + 98, len, iv, aad, 8, tag, 16);
      r[a][rep] = (double)(__rdtsc() - t0) / (200.0 * 32);
    }
  for (int a = 0; a < 3; a++) { qsort(r[a], 21, sizeof(double), cmp); printf("len %4u %-4s median %7.1f min %7.1f\n", len, nm[a], r[a][10], r[a][0]); }
  return 0;
}
