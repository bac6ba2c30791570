// Round 5 (2026-12-07, AMD EPYC Zen 3): ipsec-mb 1.3 3DES-CBC on the SSE/AVX/AVX2 managers.
// gcc -O2 des_micro.c -lIPSec_MB -o des_micro; ./des_micro <len>
// 3DES-CBC encrypt of 64 B through ipsec-mb 1.3's job API on each manager: cycles a buffer.
#include <intel-ipsec-mb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>
static uint8_t buf[32][2048] __attribute__((aligned(64)));
int main(int argc, char** argv) {
  unsigned len = argc > 1 ? atoi(argv[1]) : 64;
  const char* names[] = {"sse", "avx", "avx2"};
  for (int a = 0; a < 3; a++) {
    IMB_MGR* m = alloc_mb_mgr(0);
    if (a == 0) init_mb_mgr_sse(m); else if (a == 1) init_mb_mgr_avx(m); else init_mb_mgr_avx2(m);
    uint64_t ks[3][16] __attribute__((aligned(16)));
    uint8_t key[24]; for (int i = 0; i < 24; i++) key[i] = i * 7 + 1;
    for (int i = 0; i < 3; i++) des_key_schedule(ks[i], key + 8 * i);
    const void* ks_ptr[3] = {ks[0], ks[1], ks[2]};
    uint8_t iv[8] = {1};
    int iters = 200;
    uint64_t t0 = __rdtsc();
    for (int it = 0; it < iters; it++) {
      for (int i = 0; i < 32; i++) {
        IMB_JOB* j = IMB_GET_NEXT_JOB(m);
        memset(j, 0, sizeof(*j));
        j->cipher_mode = IMB_CIPHER_DES3; j->cipher_direction = IMB_DIR_ENCRYPT; j->chain_order = IMB_ORDER_CIPHER_HASH;
        j->hash_alg = IMB_AUTH_NULL; j->src = buf[i]; j->dst = buf[i]; j->msg_len_to_cipher_in_bytes = len;
        j->iv = iv; j->iv_len_in_bytes = 8; j->enc_keys = ks_ptr; j->dec_keys = ks_ptr; j->key_len_in_bytes = 24;
        j = IMB_SUBMIT_JOB(m);
        while (j) { if (j->status != IMB_STATUS_COMPLETED) { printf("err %d\n", imb_get_errno(m)); return 1; } j = IMB_GET_COMPLETED_JOB(m); }
      }
      IMB_JOB* j; while ((j = IMB_FLUSH_JOB(m)) != NULL) {}
    }
    printf("%-5s 3DES-CBC %u B: %.0f cycles a buffer\n", names[a], len, (double)(__rdtsc() - t0) / (iters * 32.0));
    free_mb_mgr(m);
  }
  return 0;
}
