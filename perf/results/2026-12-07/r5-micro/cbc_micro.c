// Round 5 (2026-12-07, AMD EPYC Zen 3): round 4's micro (perf/results/2026-11-25/r4-micro)
// with the manager from $MGR (avx2, the default here; sse; avx) and the buffers offset by
// argv[2] bytes (98: where the ESP header lands in our mbufs).
// Round 4: AES-128-CBC + HMAC-SHA1 through ipsec-mb 1.3 (AVX512 manager), cycles a packet
// for a 32-packet burst, best of 15 x 2000 bursts. Variants:
//  job:      IMB_GET_NEXT_JOB, fill ~20 fields, IMB_SUBMIT_JOB (validated), completions, FLUSH
//  nocheck:  the same with IMB_SUBMIT_JOB_NOCHECK
//  burst:    IMB_SUBMIT_CIPHER_BURST_NOCHECK then IMB_SUBMIT_HASH_BURST_NOCHECK on a reused
//            job array (encrypt), hash then cipher (decrypt)
// gcc -O2 cbc_micro.c -lIPSec_MB -o cbc_micro; MGR=avx2 ./cbc_micro <cipher_len> [offset]
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
static unsigned clen; static unsigned OFF;

static void fill(IMB_JOB* j, int i, int encdir) {
  j->cipher_direction = encdir ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  j->chain_order = encdir ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  j->src = bufs[i] + OFF;
  j->dst = bufs[i] + OFF + 24;
  j->cipher_start_src_offset_in_bytes = 24;
  j->msg_len_to_cipher_in_bytes = clen;
  j->hash_start_src_offset_in_bytes = 0;
  j->msg_len_to_hash_in_bytes = 24 + clen;
  j->iv = bufs[i] + OFF + 8;
  j->iv_len_in_bytes = 16;
  j->auth_tag_output = tags[i];
  j->auth_tag_output_len_in_bytes = 12;
  j->hash_alg = IMB_AUTH_HMAC_SHA_1;
  j->cipher_mode = IMB_CIPHER_CBC;
  j->enc_keys = enc;
  j->dec_keys = dec;
  j->key_len_in_bytes = 16;
  j->u.HMAC._hashed_auth_key_xor_ipad = ipad;
  j->u.HMAC._hashed_auth_key_xor_opad = opad;
  j->user_data = bufs[i];
}

static void run_job(IMB_MGR* m, int encdir, int nocheck) {
  for (int i = 0; i < N; i++) {
    IMB_JOB* j = IMB_GET_NEXT_JOB(m);
    fill(j, i, encdir);
    j = nocheck ? IMB_SUBMIT_JOB_NOCHECK(m) : IMB_SUBMIT_JOB(m);
    while (j) { if (j->status != IMB_STATUS_COMPLETED) abort(); j = IMB_GET_COMPLETED_JOB(m); }
  }
  IMB_JOB* j;
  while ((j = IMB_FLUSH_JOB(m)) != NULL) if (j->status != IMB_STATUS_COMPLETED) abort();
}

static int only;  // 1: cipher only, 2: hash only
static void run_burst(IMB_MGR* m, int encdir) {
  for (int i = 0; i < N; i++) {  // per-packet fields only; the rest set once
    arr[i].src = bufs[i] + OFF;
    arr[i].dst = bufs[i] + OFF + 24;
    arr[i].iv = bufs[i] + OFF + 8;
    arr[i].msg_len_to_cipher_in_bytes = clen;
    arr[i].msg_len_to_hash_in_bytes = 24 + clen;
    arr[i].auth_tag_output = tags[i];
  }
  if (only == 1) {
    if (IMB_SUBMIT_CIPHER_BURST_NOCHECK(m, arr, N, IMB_CIPHER_CBC, encdir ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT, IMB_KEY_128_BYTES) != N) abort();
    return;
  }
  if (only == 2) {
    if (IMB_SUBMIT_HASH_BURST_NOCHECK(m, arr, N, IMB_AUTH_HMAC_SHA_1) != N) abort();
    return;
  }
  if (encdir) {
    if (IMB_SUBMIT_CIPHER_BURST_NOCHECK(m, arr, N, IMB_CIPHER_CBC, IMB_DIR_ENCRYPT, IMB_KEY_128_BYTES) != N) abort();
    if (IMB_SUBMIT_HASH_BURST_NOCHECK(m, arr, N, IMB_AUTH_HMAC_SHA_1) != N) abort();
  } else {
    if (IMB_SUBMIT_HASH_BURST_NOCHECK(m, arr, N, IMB_AUTH_HMAC_SHA_1) != N) abort();
    if (IMB_SUBMIT_CIPHER_BURST_NOCHECK(m, arr, N, IMB_CIPHER_CBC, IMB_DIR_DECRYPT, IMB_KEY_128_BYTES) != N) abort();
  }
}

int main(int argc, char** argv) {
  clen = argc > 1 ? atoi(argv[1]) : 64; OFF = argc > 2 ? atoi(argv[2]) : 0;
  IMB_MGR* m = alloc_mb_mgr(0);
  if (getenv("MGR") && !strcmp(getenv("MGR"),"sse")) init_mb_mgr_sse(m); else if (getenv("MGR") && !strcmp(getenv("MGR"),"avx")) init_mb_mgr_avx(m); else init_mb_mgr_avx2(m); printf("mgr features %llx\n", (unsigned long long)m->features);
  uint8_t key[16] = {1, 2, 3};
  IMB_AES_KEYEXP_128(m, key, enc, dec);
  memset(ipad, 0x36, 20); memset(opad, 0x5c, 20);
  memset(bufs, 7, sizeof bufs);
  for (int i = 0; i < N; i++) fill(&arr[i], i, 1);
  const char* names[] = {"job", "nocheck", "burst"};
  for (int encdir = 1; encdir >= 0; encdir--) {
    for (int v = 0; v < 3; v++) {
      double best = 1e18;
      for (int r = 0; r < 15; r++) {
        uint64_t t0 = __rdtsc();
        for (int k = 0; k < 2000; k++) {
          if (v < 2) run_job(m, encdir, v); else run_burst(m, encdir);
        }
        double c = (double)(__rdtsc() - t0) / (2000.0 * N);
        if (c < best) best = c;
      }
      printf("%s len %4u %-8s %7.1f cycles/pkt\n", encdir ? "encrypt" : "decrypt", clen, names[v], best);
    }
  }
  IMB_MGR* sse = alloc_mb_mgr(0);
  init_mb_mgr_sse(sse);
  for (int encdir = 1; encdir >= 0; encdir--) {
    const char* what[] = {"", "cipher-only", "hash-only", "hash-only(sse mgr, SHA-NI)"};
    for (int o = 1; o <= 3; o++) {
      only = o == 3 ? 2 : o;
      double best = 1e18;
      for (int r = 0; r < 15; r++) {
        uint64_t t0 = __rdtsc();
        for (int k = 0; k < 2000; k++) run_burst(o == 3 ? sse : m, encdir);
        double c = (double)(__rdtsc() - t0) / (2000.0 * N);
        if (c < best) best = c;
      }
      printf("%s len %4u burst %-28s %7.1f cycles/pkt\n", encdir ? "encrypt" : "decrypt", clen, what[o], best);
    }
  }
  only = 0;
  // Cross-check: the burst path gives the same tags/ciphertext as the job path.
  static uint8_t a[N][2048], ta[N][32];
  memset(bufs, 7, sizeof bufs); run_job(m, 1, 0); memcpy(a, bufs, sizeof a); memcpy(ta, tags, sizeof ta);
  memset(bufs, 7, sizeof bufs); memset(tags, 0, sizeof tags); run_burst(m, 1);
  printf("burst == job (encrypt): %s\n", !memcmp(a, bufs, sizeof a) && !memcmp(ta, tags, sizeof ta) ? "yes" : "NO");
  return 0;
}
