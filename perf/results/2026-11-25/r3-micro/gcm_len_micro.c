// ipsec-mb 1.3 direct GCM-128 encrypt (no argument) or decrypt (any argument), untouched
// buffers: TSC cycles/call by payload length and by how many distinct packet buffers (2 KB
// apart) the loop rotates over: 32 at 1408 B are 45 KB (a 32-packet burst; L1 is 48 KB),
// 1024 are 2 MB (L2), 16384 are 32 MB (beyond L2). gcc -O2 ... -lIPSec_MB
#include <intel-ipsec-mb.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <x86intrin.h>
static uint8_t buf[16384][2048] __attribute__((aligned(64)));
int main(int argc, char **argv) { int dec = argc > 1; uint8_t tag[16];
  IMB_MGR *m = alloc_mb_mgr(0); init_mb_mgr_avx512(m);
  uint8_t key[16] = {1, 2, 3}; struct gcm_key_data kd; IMB_AES128_GCM_PRE(m, key, &kd);
  struct gcm_context_data ctx; uint8_t iv[12] = {0};
  int lens[] = {56, 1408}, nbs[] = {32, 1024, 16384};
  for (int r = 0; r < 3; r++)
    for (int l = 0; l < 2; l++)
      for (int b = 0; b < 3; b++) {
        double best = 1e9;
        for (int rep = 0; rep < 15; rep++) {
          uint64_t t0 = __rdtsc();
          for (int i = 0; i < 20000; i++) {
            uint8_t *p = buf[i % nbs[b]];
            if (dec) IMB_AES128_GCM_DEC(m, &kd, &ctx, p + 16, p + 16, lens[l], iv, p, 8, tag, 16); else IMB_AES128_GCM_ENC(m, &kd, &ctx, p + 16, p + 16, lens[l], iv, p, 8, p + 16 + lens[l], 16);
          }
          double c = (double)(__rdtsc() - t0) / 20000;
          if (c < best) best = c;
        }
        printf("len %4d buffers %4d: %.1f cyc/call\n", lens[l], nbs[b], best);
      }
  return 0;
}
