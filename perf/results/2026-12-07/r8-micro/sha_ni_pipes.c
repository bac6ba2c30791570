// Whether SHA1NEXTE, SHA1MSG1 and SHA1MSG2 compete with SHA1RNDS4 for a pipe: four
// independent SHA1RNDS4 chains, alone and with one of each of the others beside every
// SHA1RNDS4 (throughput only, no dependencies between the kinds).
#include <immintrin.h>
#include <stdio.h>
#include <x86intrin.h>
#define N 2000000
// 4 independent lanes; per "block-equivalent": 20 rnds4, plus optional nexte/msg1/msg2 counts
static double run(int nexte, int msg1, int msg2) {
  __m128i a0 = _mm_set1_epi32(1), a1 = _mm_set1_epi32(2), a2 = _mm_set1_epi32(3), a3 = _mm_set1_epi32(4);
  __m128i e = _mm_set1_epi32(5);
  __m128i x0 = _mm_set1_epi32(6), x1 = _mm_set1_epi32(7), x2 = _mm_set1_epi32(8), x3 = _mm_set1_epi32(9);
  __m128i y0 = x0, y1 = x1, y2 = x2, y3 = x3;
  unsigned long long t0 = __rdtsc();
  for (int i = 0; i < N; i++) {
    a0 = _mm_sha1rnds4_epu32(a0, e, 0); a1 = _mm_sha1rnds4_epu32(a1, e, 0);
    a2 = _mm_sha1rnds4_epu32(a2, e, 0); a3 = _mm_sha1rnds4_epu32(a3, e, 0);
    if (nexte) { x0 = _mm_sha1nexte_epu32(x0, e); x1 = _mm_sha1nexte_epu32(x1, e); x2 = _mm_sha1nexte_epu32(x2, e); x3 = _mm_sha1nexte_epu32(x3, e); }
    if (msg1) { y0 = _mm_sha1msg1_epu32(y0, e); y1 = _mm_sha1msg1_epu32(y1, e); y2 = _mm_sha1msg1_epu32(y2, e); y3 = _mm_sha1msg1_epu32(y3, e); }
    if (msg2) { x0 = _mm_sha1msg2_epu32(x0, e); x1 = _mm_sha1msg2_epu32(x1, e); x2 = _mm_sha1msg2_epu32(x2, e); x3 = _mm_sha1msg2_epu32(x3, e); }
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(x0), "+x"(x1), "+x"(x2), "+x"(x3));
    __asm__ volatile("" : "+x"(y0), "+x"(y1), "+x"(y2), "+x"(y3));
  }
  unsigned long long t = __rdtsc() - t0;
  volatile int sink = _mm_cvtsi128_si32(a0) + _mm_cvtsi128_si32(x0) + _mm_cvtsi128_si32(y0);
  (void)sink;
  return (double)t / N;  // TSC per 4 rnds4 (one per lane)
}
int main() {
  for (int r = 0; r < 2; r++) {
    printf("rnds4 only: %.2f TSC per 4\n", run(0, 0, 0));
    printf("+nexte: %.2f\n", run(1, 0, 0));
    printf("+msg1: %.2f\n", run(0, 1, 0));
    printf("+msg2: %.2f\n", run(0, 0, 1));
    printf("+all: %.2f\n", run(1, 1, 1));
  }
}
