#include <immintrin.h>
#include <stdint.h>
#include <stddef.h>
// state: words h0..h4 host order
template <int L>
__attribute__((noinline))
void sha1_blocks(uint32_t (*st)[5], const uint8_t* const* p, size_t nblocks) {
  const __m128i mask = _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
  __m128i abcd[L], e0[L];
  const uint8_t* q[L];
  for (int l = 0; l < L; ++l) {
    abcd[l] = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i*)st[l]), 0x1B);
    e0[l] = _mm_set_epi32(st[l][4], 0, 0, 0);
    q[l] = p[l];
  }
  for (size_t b = 0; b < nblocks; ++b) {
    __m128i w[L][4], es[L], as[L], e[L], prev[L];
#pragma GCC unroll 20
    for (int i = 0; i < 20; ++i) {
#pragma GCC unroll 4
      for (int l = 0; l < L; ++l) {
        if (i < 4) w[l][i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(q[l] + 16 * i)), mask);
        if (i == 0) { es[l] = e0[l]; as[l] = abcd[l]; e[l] = _mm_add_epi32(e0[l], w[l][0]); }
        else e[l] = _mm_sha1nexte_epu32(prev[l], w[l][i % 4]);
        prev[l] = abcd[l];
        if (i >= 3 && i <= 18) w[l][(i + 1) % 4] = _mm_sha1msg2_epu32(w[l][(i + 1) % 4], w[l][i % 4]);
        switch (i / 5) {
          case 0: abcd[l] = _mm_sha1rnds4_epu32(abcd[l], e[l], 0); break;
          case 1: abcd[l] = _mm_sha1rnds4_epu32(abcd[l], e[l], 1); break;
          case 2: abcd[l] = _mm_sha1rnds4_epu32(abcd[l], e[l], 2); break;
          default: abcd[l] = _mm_sha1rnds4_epu32(abcd[l], e[l], 3); break;
        }
        if (i >= 1 && i <= 16) w[l][(i + 3) % 4] = _mm_sha1msg1_epu32(w[l][(i + 3) % 4], w[l][i % 4]);
        if (i >= 2 && i <= 17) w[l][(i + 2) % 4] = _mm_xor_si128(w[l][(i + 2) % 4], w[l][i % 4]);
      }
    }
    for (int l = 0; l < L; ++l) {
      e0[l] = _mm_sha1nexte_epu32(prev[l], es[l]);
      abcd[l] = _mm_add_epi32(abcd[l], as[l]);
      q[l] += 64;
    }
  }
  for (int l = 0; l < L; ++l) {
    _mm_storeu_si128((__m128i*)st[l], _mm_shuffle_epi32(abcd[l], 0x1B));
    st[l][4] = (uint32_t)_mm_extract_epi32(e0[l], 3);
  }
}
