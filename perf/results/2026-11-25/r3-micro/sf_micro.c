// Store-forwarding / SSE-AVX micro-benchmark around ipsec-mb 1.3's direct GCM-128 encrypt.
// Models what esp_encrypt's prepare() does right before the call: ESP header (SPI, seq),
// 12-byte nonce (salt || IV) and the trailer (pad bytes, pad length, next header).
// Variants: 0 untouched buffers, 1 today's stores (2x4-byte AAD, 4+8 nonce, trailer bytes),
// 2 wide stores (one 8-byte AAD, one 16-byte nonce, one 8-byte trailer),
// 3 today's stores but the cipher called 8 packets later (two passes over a burst),
// 4 wide stores + legacy SSE code (movdqu) between calls.
#include <intel-ipsec-mb.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <x86intrin.h>
#define NB 32
#define PL 56   // 64 B frame: 50 B inner + 4 pad + 2 -> 56 B ESP payload
static uint8_t buf[NB][2048] __attribute__((aligned(64)));
static uint8_t nonce[NB][16] __attribute__((aligned(16)));
static struct gcm_key_data kd; static struct gcm_context_data ctx;
static IMB_MGR *m;
static volatile uint32_t sink;
__attribute__((noinline)) static void stores_narrow(int i, uint32_t seq) {
  uint8_t *b = buf[i];
  uint32_t spi = 0x0a000000u, s = __builtin_bswap32(seq);
  memcpy(b, &spi, 4); memcpy(b + 4, &s, 4);           // esp->spi, esp->seq
  uint64_t iv = seq; memcpy(b + 8, &iv, 8);            // IV in the packet
  memcpy(nonce[i], "\x01\x02\x03\x04", 4); memcpy(nonce[i] + 4, &iv, 8);
  uint8_t *t = b + 16 + 50;                            // trailer after 50 B inner
  for (int k = 0; k < 4; k++) ((volatile uint8_t*)t)[k] = (uint8_t)(k + 1);
  t[4] = 4; t[5] = 4;
}
__attribute__((noinline)) static void stores_wide(int i, uint32_t seq) {
  uint8_t *b = buf[i];
  uint64_t aad = 0x0a000000u | (uint64_t)__builtin_bswap32(seq) << 32;
  memcpy(b, &aad, 8);
  uint64_t iv = seq; memcpy(b + 8, &iv, 8);
  __m128i n = _mm_set_epi64x((long long)(iv >> 32), (long long)((iv << 32) | 0x04030201u));
  _mm_store_si128((__m128i*)nonce[i], n);
  uint64_t tr = 0x040404030201ull; memcpy(b + 16 + 50, &tr, 8);  // 01 02 03 04 04 04
}
__attribute__((noinline)) static void stores_part(int i, uint32_t seq, int which) {
  uint8_t *b = buf[i];
  uint32_t spi = 0x0a000000u, s = __builtin_bswap32(seq);
  uint64_t iv = seq;
  if (which == 0) { memcpy(b, &spi, 4); memcpy(b + 4, &s, 4); }
  if (which == 1) { memcpy(nonce[i], "\x01\x02\x03\x04", 4); memcpy(nonce[i] + 4, &iv, 8); }
  if (which == 2) { uint8_t *t = b + 16 + 50;
    for (int k = 0; k < 4; k++) ((volatile uint8_t*)t)[k] = (uint8_t)(k + 1);
    t[4] = 4; t[5] = 4; }
}
static void enc(int i) {
  uint8_t *b = buf[i];
  IMB_AES128_GCM_ENC(m, &kd, &ctx, b + 16, b + 16, PL, nonce[i], b, 8, b + 16 + PL, 16);
}
static double run(int variant) {
  double best = 1e9;
  uint32_t seq = 1;
  for (int rep = 0; rep < 15; rep++) {
    uint64_t t0 = __rdtsc();
    for (int it = 0; it < 20000 / NB; it++) {
      if (variant >= 5 && variant <= 7) {
        for (int i = 0; i < NB; i++) { stores_part(i, seq++, variant - 5); enc(i); }
        continue;
      }
      if (variant == 8) {
        for (int i = 0; i < NB; i++) stores_wide(i, seq++);
        for (int i = 0; i < NB; i++) enc(i);
        continue;
      }
      if (variant == 9) {  // lag: cipher packet i-4 after preparing packet i
        for (int i = 0; i < NB; i++) { stores_narrow(i, seq++); if (i >= 4) enc(i - 4); }
        for (int i = NB - 4; i < NB; i++) enc(i);
        continue;
      }
      if (variant == 3) {
        for (int i = 0; i < NB; i++) stores_narrow(i, seq++);
        for (int i = 0; i < NB; i++) enc(i);
        continue;
      }
      for (int i = 0; i < NB; i++) {
        if (variant == 1) stores_narrow(i, seq++);
        else if (variant == 2 || variant == 4) stores_wide(i, seq++);
        if (variant == 4) {
          __m128i x; __asm__ volatile("movdqu (%1), %0\n\tpaddq %0, %0\n\tmovdqu %0, 16(%1)" : "=x"(x) : "r"(nonce[i]) : "memory");
        }
        enc(i);
      }
    }
    double c = (double)(__rdtsc() - t0) / (20000 / NB * NB);
    if (c < best) best = c;
  }
  return best;
}
int main(void) {
  m = alloc_mb_mgr(0); init_mb_mgr_avx512(m);
  uint8_t key[16] = {1, 2, 3}; IMB_AES128_GCM_PRE(m, key, &kd);
  const char *names[] = {"untouched", "narrow stores (today)", "wide stores", "narrow, two passes", "wide + SSE between", "only AAD 2x4", "only nonce 4+8", "only trailer bytes", "wide, two passes", "narrow, lag 4"};
  for (int r = 0; r < 3; r++)
    for (int v = 0; v < 10; v++) printf("%-24s %.1f cyc/pkt (incl. the stores)\n", names[v], run(v));
  return 0;
}
