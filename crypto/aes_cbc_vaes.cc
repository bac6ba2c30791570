#include "crypto/aes_cbc_vaes.h"

#include <immintrin.h>

#include "crypto/cpu_features.h"

#define GM_VAES __attribute__((target("avx2,aes,vaes")))
// The run template keeps its blocks in local arrays: inlined whole, or they live in memory.
#define GM_VAES_INLINE GM_VAES __attribute__((always_inline)) inline

namespace gm::crypto::aes_cbc_vaes {

namespace {

// K ymm registers (2K blocks) decrypted side by side. `carry` is the ciphertext block
// before the run (the IV first); on return, the run's last ciphertext block. The previous
// blocks come from loads made before any store of the run, except the first, which comes
// from `carry`: loading it would straddle the previous run's 32-byte store, which the
// store buffer cannot forward.
template <int Nr, int K>
GM_VAES_INLINE void run(const __m256i* rk, uint8_t* ct, __m128i& carry) {
  __m256i x[K];
  __m256i prev[K];
#pragma GCC unroll 8
  for (int j = 0; j < K; ++j) {
    x[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ct + 32 * j));
  }
  prev[0] = _mm256_inserti128_si256(_mm256_castsi128_si256(carry), _mm256_castsi256_si128(x[0]), 1);
#pragma GCC unroll 8
  for (int j = 1; j < K; ++j) {
    prev[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ct + 32 * j - 16));
  }
  carry = _mm256_extracti128_si256(x[K - 1], 1);
#pragma GCC unroll 8
  for (int j = 0; j < K; ++j) {
    x[j] = _mm256_xor_si256(x[j], rk[0]);
  }
#pragma GCC unroll 14
  for (int r = 1; r < Nr; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < K; ++j) {
      x[j] = _mm256_aesdec_epi128(x[j], rk[r]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < K; ++j) {
    x[j] = _mm256_xor_si256(_mm256_aesdeclast_epi128(x[j], rk[Nr]), prev[j]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ct + 32 * j), x[j]);
  }
}

template <int Nr>
GM_VAES void decrypt_n(const __m128i* dk, uint8_t* ct, std::size_t nb) {
  __m256i rk[Nr + 1];
  for (int r = 0; r <= Nr; ++r) {
    rk[r] = _mm256_broadcastsi128_si256(_mm_loadu_si128(dk + r));
  }
  __m128i carry = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ct - 16));
  for (; nb >= 16; nb -= 16, ct += 256) {
    run<Nr, 8>(rk, ct, carry);
  }
  switch (nb / 2) {
    case 7: run<Nr, 7>(rk, ct, carry); break;
    case 6: run<Nr, 6>(rk, ct, carry); break;
    case 5: run<Nr, 5>(rk, ct, carry); break;
    case 4: run<Nr, 4>(rk, ct, carry); break;
    case 3: run<Nr, 3>(rk, ct, carry); break;
    case 2: run<Nr, 2>(rk, ct, carry); break;
    case 1: run<Nr, 1>(rk, ct, carry); break;
    default: break;
  }
  if ((nb & 1u) != 0) {
    ct += 32 * (nb / 2);
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ct));
    __m128i x = _mm_xor_si128(c, dk[0]);
#pragma GCC unroll 14
    for (int r = 1; r < Nr; ++r) {
      x = _mm_aesdec_si128(x, dk[r]);
    }
    x = _mm_xor_si128(_mm_aesdeclast_si128(x, dk[Nr]), carry);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(ct), x);
  }
}

}  // namespace

bool cpu_supported() {
  const cpu_features& f = cpu();
  return f.avx2 && f.aes && f.vaes;
}

void decrypt(const void* dec_keys, int rounds, uint8_t* ct, std::size_t nblocks) {
  const auto* dk = static_cast<const __m128i*>(dec_keys);
  if (rounds == 10) {
    decrypt_n<10>(dk, ct, nblocks);
  } else {
    decrypt_n<14>(dk, ct, nblocks);
  }
}

}  // namespace gm::crypto::aes_cbc_vaes
