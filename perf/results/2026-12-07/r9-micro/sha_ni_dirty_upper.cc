// SHA1RNDS4 (legacy-SSE encoding only: SHA-NI has no VEX form) chained with AESENC, with
// the upper halves of the YMM registers clean, and with a 256-bit value live across the
// loop (dirty). g++ -O2 -mavx2 sha_ni_dirty_upper.cc -o t && ./t
#include <immintrin.h>
#include <x86intrin.h>

#include <cstdio>

#define T __attribute__((target("avx2,vaes,aes,sha"))) __attribute__((noinline))

T __m128i clean(__m128i a, __m128i k, int n) {
  for (int i = 0; i < n; ++i) {
    a = _mm_sha1rnds4_epu32(a, k, 0);
    k = _mm_aesenc_si128(k, a);
  }
  return _mm_xor_si128(a, k);
}

// y stays in a YMM register through the loop, so its upper half is live (dirty).
T __m128i dirty(__m128i a, __m128i k, __m256i y, int n) {
  const __m256i kk = _mm256_broadcastsi128_si256(k);
  for (int i = 0; i < n; ++i) {
    a = _mm_sha1rnds4_epu32(a, k, 0);
    y = _mm256_aesenc_epi128(y, kk);
  }
  return _mm_xor_si128(a, _mm256_extracti128_si256(y, 1));
}

int main() {
  __m128i a = _mm_set1_epi32(1);
  const __m128i k = _mm_set1_epi32(3);
  const __m256i y = _mm256_set1_epi32(5);
  constexpr int n = 100000;
  for (int rep = 0; rep < 3; ++rep) {
    const unsigned long long t0 = __rdtsc();
    a = clean(a, k, n);
    const unsigned long long t1 = __rdtsc();
    a = dirty(a, k, y, n);
    const unsigned long long t2 = __rdtsc();
    std::printf("SHA1RNDS4 + AESENC, upper YMM clean: %.1f TSC an iteration; dirty: %.1f\n",
                (t1 - t0) / double(n), (t2 - t1) / double(n));
  }
  return _mm_cvtsi128_si32(a) == 42;
}
