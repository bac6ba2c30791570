// Round 5 (2026-12-07, AMD EPYC Zen 3): SHA-1 compression with SHA-NI intrinsics, K
// independent blocks interleaved, cycles a block a lane (TSC). Checks "abc" against
// OpenSSL. g++ -O2 -msha -mssse3 -msse4.1 sha_micro.cc -lcrypto
#include <immintrin.h>
#include <x86intrin.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <openssl/sha.h>

// K independent SHA-1 compressions in lockstep with SHA-NI.
template <int K>
struct lanes {
  __m128i abcd[K], prev[K], e[K], w[4][K];
};

template <int I, int K>
__attribute__((always_inline)) inline void step(lanes<K>& s) {
  constexpr int f = I / 5;
  if constexpr (I >= 4) {
    for (int k = 0; k < K; ++k) {
      // w[I%4] holds W[I-4]; W[I] = msg2(msg1(W[I-4],W[I-3]) ^ W[I-2], W[I-1])
      __m128i t = _mm_sha1msg1_epu32(s.w[I % 4][k], s.w[(I + 1) % 4][k]);
      t = _mm_xor_si128(t, s.w[(I + 2) % 4][k]);
      s.w[I % 4][k] = _mm_sha1msg2_epu32(t, s.w[(I + 3) % 4][k]);
    }
  }
  for (int k = 0; k < K; ++k) {
    __m128i e;
    if constexpr (I == 0) e = _mm_add_epi32(s.e[k], s.w[0][k]);
    else e = _mm_sha1nexte_epu32(s.prev[k], s.w[I % 4][k]);
    s.prev[k] = s.abcd[k];
    s.abcd[k] = _mm_sha1rnds4_epu32(s.abcd[k], e, f);
  }
  if constexpr (I < 19) step<I + 1, K>(s);
}

template <int K>
__attribute__((noinline)) void compress(uint32_t* st[K], const uint8_t* blk[K]) {
  const __m128i mask = _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
  lanes<K> s;
  __m128i abcd0[K], e0[K];
  for (int k = 0; k < K; ++k) {
    s.abcd[k] = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i*)st[k]), 0x1b);
    s.e[k] = _mm_set_epi32(st[k][4], 0, 0, 0);
    abcd0[k] = s.abcd[k];
    e0[k] = s.e[k];
    for (int j = 0; j < 4; ++j)
      s.w[j][k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(blk[k] + 16 * j)), mask);
  }
  step<0, K>(s);
  for (int k = 0; k < K; ++k) {
    __m128i e = _mm_sha1nexte_epu32(s.prev[k], e0[k]);
    __m128i a = _mm_add_epi32(s.abcd[k], abcd0[k]);
    _mm_storeu_si128((__m128i*)st[k], _mm_shuffle_epi32(a, 0x1b));
    st[k][4] = _mm_extract_epi32(e, 3);
  }
}

template <int K>
double bench(int nblocks) {
  static uint8_t data[8][4096];
  static uint32_t state[8][5];
  for (int k = 0; k < 8; ++k) for (int i = 0; i < 4096; ++i) data[k][i] = i * 7 + k;
  uint32_t* st[K]; const uint8_t* b[K];
  double best = 1e9;
  for (int rep = 0; rep < 20; ++rep) {
    uint64_t t0 = __rdtsc();
    for (int it = 0; it < 1000; ++it)
      for (int j = 0; j < nblocks; ++j) {
        for (int k = 0; k < K; ++k) { st[k] = state[k]; b[k] = data[k] + 64 * j; }
        compress<K>(st, b);
      }
    double c = double(__rdtsc() - t0) / (1000.0 * nblocks * K);
    if (c < best) best = c;
  }
  return best;
}

int main() {
  // correctness vs OpenSSL on one block "abc" padded
  uint8_t blk[64] = {'a', 'b', 'c', 0x80};
  blk[63] = 24;
  uint32_t st[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  uint32_t* sp[1] = {st}; const uint8_t* bp[1] = {blk};
  compress<1>(sp, bp);
  uint8_t ref[20]; SHA1((const uint8_t*)"abc", 3, ref);
  uint8_t got[20]; for (int i = 0; i < 5; ++i) { got[4*i]=st[i]>>24; got[4*i+1]=st[i]>>16; got[4*i+2]=st[i]>>8; got[4*i+3]=st[i]; }
  printf("abc %s\n", memcmp(ref, got, 20) == 0 ? "OK" : "MISMATCH");
  printf("cycles/block/lane: K=1 %.1f K=2 %.1f K=3 %.1f K=4 %.1f K=6 %.1f K=8 %.1f\n", bench<1>(24), bench<2>(24), bench<3>(24), bench<4>(24), bench<6>(24), bench<8>(24));
}
