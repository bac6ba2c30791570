// Four-lane (and 2..8-lane) SHA-1 block functions on SHA-NI: "old" is crypto/
// cbc_sha1_shani.cc's hash step as it stands (message schedule in four registers a lane,
// updated between the rounds); "new" computes the next block's schedule into memory
// during the current block's rounds, so that only ABCD, E and the round input stay live.
// Checks both give the same state, then times them (best of 20 x 200 x 22 blocks).
#include <immintrin.h>
#include <x86intrin.h>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <algorithm>
#define GM_SHANI __attribute__((target("avx,aes,sha")))
#define GM_SHANI_INLINE GM_SHANI __attribute__((always_inline)) inline
template <int L> struct lanes { const uint8_t* esp[L]; __m128i abcd[L]; __m128i e[L]; };
GM_SHANI_INLINE __m128i be_words(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL));
}
template <int I> GM_SHANI_INLINE __m128i rounds4(__m128i abcd, __m128i e) { return _mm_sha1rnds4_epu32(abcd, e, I / 5); }
// ---- old
template <int L, int I>
GM_SHANI_INLINE void sha_step(__m128i (&w)[L][4], __m128i* abcd, __m128i* e, __m128i* prev) {
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) {
    __m128i x = I == 0 ? _mm_add_epi32(e[l], w[l][0]) : _mm_sha1nexte_epu32(prev[l], w[l][I % 4]);
    prev[l] = abcd[l];
    if (I >= 3 && I <= 18) w[l][(I + 1) % 4] = _mm_sha1msg2_epu32(w[l][(I + 1) % 4], w[l][I % 4]);
    abcd[l] = rounds4<I>(abcd[l], x);
    if (I >= 1 && I <= 16) w[l][(I + 3) % 4] = _mm_sha1msg1_epu32(w[l][(I + 3) % 4], w[l][I % 4]);
    if (I >= 2 && I <= 17) w[l][(I + 2) % 4] = _mm_xor_si128(w[l][(I + 2) % 4], w[l][I % 4]);
  }
}
template <int L, int I> GM_SHANI_INLINE void steps(__m128i (&w)[L][4], __m128i* abcd, __m128i* e, __m128i* prev) {
  if constexpr (I < 20) { sha_step<L, I>(w, abcd, e, prev); steps<L, I + 1>(w, abcd, e, prev); }
}
template <int L> GM_SHANI __attribute__((noinline)) void old_blocks(lanes<L>& g, size_t from, size_t to) {
  for (size_t s = from; s < to; ++s) {
    __m128i w[L][4], sa[L], se[L], prev[L];
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) {
#pragma GCC unroll 8
      for (int j = 0; j < 4; ++j) w[l][j] = be_words(_mm_loadu_si128((const __m128i*)(g.esp[l] + 64 * s + 16 * j)));
      sa[l] = g.abcd[l]; se[l] = g.e[l];
    }
    steps<L, 0>(w, g.abcd, g.e, prev);
#pragma GCC unroll 8
    for (int l = 0; l < L; ++l) { g.e[l] = _mm_sha1nexte_epu32(prev[l], se[l]); g.abcd[l] = _mm_add_epi32(g.abcd[l], sa[l]); }
  }
}
// ---- new: schedule of block s+1 computed during the rounds of block s, into memory
template <int L, int I>
GM_SHANI_INLINE void sched_word(__m128i (&W)[L][20], const uint8_t* const* src) {
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) {
    if constexpr (I < 4) {
      W[l][I] = be_words(_mm_loadu_si128((const __m128i*)(src[l] + 16 * I)));
    } else {
      W[l][I] = _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32(W[l][I - 4], W[l][I - 3]), W[l][I - 2]), W[l][I - 1]);
    }
  }
}
template <int L, int I>
GM_SHANI_INLINE void round_step(const __m128i (&W)[L][20], __m128i* abcd, __m128i* e, __m128i* prev) {
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) {
    __m128i x = I == 0 ? _mm_add_epi32(e[l], W[l][0]) : _mm_sha1nexte_epu32(prev[l], W[l][I]);
    prev[l] = abcd[l];
    abcd[l] = rounds4<I>(abcd[l], x);
  }
}
template <int L, int I, bool Next>
GM_SHANI_INLINE void nsteps(const __m128i (&W)[L][20], __m128i (&Wn)[L][20], const uint8_t* const* nsrc, __m128i* abcd, __m128i* e, __m128i* prev) {
  if constexpr (I < 20) {
    round_step<L, I>(W, abcd, e, prev);
    if constexpr (Next) sched_word<L, I>(Wn, nsrc);
    nsteps<L, I + 1, Next>(W, Wn, nsrc, abcd, e, prev);
  }
}
template <int L, int I>
GM_SHANI_INLINE void sched_all(__m128i (&W)[L][20], const uint8_t* const* src) {
  if constexpr (I < 20) { sched_word<L, I>(W, src); sched_all<L, I + 1>(W, src); }
}
template <int L, bool Next>
GM_SHANI_INLINE void new_block(lanes<L>& g, const __m128i (&W)[L][20], __m128i (&Wn)[L][20], const uint8_t* const* nsrc) {
  __m128i sa[L], se[L], prev[L];
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) { sa[l] = g.abcd[l]; se[l] = g.e[l]; }
  nsteps<L, 0, Next>(W, Wn, nsrc, g.abcd, g.e, prev);
#pragma GCC unroll 8
  for (int l = 0; l < L; ++l) { g.e[l] = _mm_sha1nexte_epu32(prev[l], se[l]); g.abcd[l] = _mm_add_epi32(g.abcd[l], sa[l]); }
}
template <int L> GM_SHANI __attribute__((noinline)) void new_blocks(lanes<L>& g, size_t from, size_t to) {
  if (from >= to) return;
  alignas(16) __m128i W[2][L][20];
  const uint8_t* src[L];
  for (int l = 0; l < L; ++l) src[l] = g.esp[l] + 64 * from;
  sched_all<L, 0>(W[0], src);
  size_t s = from;
  int cur = 0;
  for (; s + 1 < to; ++s) {
    for (int l = 0; l < L; ++l) src[l] = g.esp[l] + 64 * (s + 1);
    new_block<L, true>(g, W[cur], W[cur ^ 1], src);
    cur ^= 1;
  }
  new_block<L, false>(g, W[cur], W[cur ^ 1], src);
}
alignas(64) static uint8_t msg[8][64 * 24];
template <int L> void bench() {
  lanes<L> a, b;
  for (int l = 0; l < L; l++) { a.esp[l] = b.esp[l] = msg[l]; a.abcd[l] = b.abcd[l] = _mm_set_epi32(1, 2, 3, l); a.e[l] = b.e[l] = _mm_set_epi32(9, 0, 0, 0); }
  double bo = 1e9, bn = 1e9;
  for (int k = 0; k < 20; k++) {
    uint64_t t0 = __rdtsc(); for (int r = 0; r < 200; r++) old_blocks<L>(a, 0, 22);
    uint64_t t1 = __rdtsc(); for (int r = 0; r < 200; r++) new_blocks<L>(b, 0, 22);
    uint64_t t2 = __rdtsc();
    bo = std::min(bo, (t1 - t0) / (200.0 * 22 * L)); bn = std::min(bn, (t2 - t1) / (200.0 * 22 * L));
  }
  printf("L=%d TSC per block-lane: old %.1f new %.1f\n", L, bo, bn);
}
int main() {
  for (int l = 0; l < 8; l++) for (int i = 0; i < 64 * 24; i++) msg[l][i] = (uint8_t)(i * 7 + l * 13);
  for (int rep = 0; rep < 4; rep++) { bench<2>(); bench<3>(); bench<4>(); bench<5>(); bench<6>(); bench<8>(); }
}
