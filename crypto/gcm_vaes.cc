#include "crypto/gcm_vaes.h"

#include "crypto/cpu_features.h"

#include <immintrin.h>

#include <cstddef>
#include <cstring>

// Every function that touches a vector register is compiled for the instructions
// cpu_supported() checks; the rest of the project stays baseline x86-64.
#define GM_VAES __attribute__((target("avx2,aes,pclmul,vaes,vpclmulqdq")))

namespace gm::crypto::gcm_vaes {

namespace {

static_assert(offsetof(gcm_keys, imb) == 0, "gcm_keys is reached through its imb member");
static_assert(offsetof(gcm_keys, hpow) % 32 == 16 && offsetof(gcm_keys, hkar) % 32 == 16,
              "the eight-block loop's power pairs are 32-byte aligned");

const gcm_keys& keys_of(const gcm_key_data* k) {
  return *reinterpret_cast<const gcm_keys*>(k);
}

GM_VAES inline __m128i bswap(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
}

GM_VAES inline __m256i bswap(__m256i x) {
  return _mm256_shuffle_epi8(x, _mm256_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2,
                                                 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
                                                 3, 2, 1, 0));
}

// a * b * x^-128 modulo x^128 + x^127 + x^126 + x^121 + 1, from the 256-bit carry-less
// product hi:lo: two folds of the low 64 bits by the polynomial's 0xc2 << 56 word.
GM_VAES inline __m128i reduce(__m128i lo, __m128i hi) {
  const __m128i poly = _mm_setr_epi32(1, 0, 0, static_cast<int>(0xc2000000u));
  __m128i t = _mm_clmulepi64_si128(lo, poly, 0x10);
  lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), t);
  t = _mm_clmulepi64_si128(lo, poly, 0x10);
  lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), t);
  return _mm_xor_si128(lo, hi);
}

// POLYVAL's dot product of one pair of blocks.
GM_VAES inline __m128i dot(__m128i a, __m128i b) {
  __m128i lo = _mm_clmulepi64_si128(a, b, 0x00);
  __m128i hi = _mm_clmulepi64_si128(a, b, 0x11);
  const __m128i mid =
      _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10));
  lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
  hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
  return reduce(lo, hi);
}

// Unreduced products summed over many blocks, reduced once: a GHASH of n blocks from
// state s is s' = (s ^ X1)·H^n ^ X2·H^(n-1) ^ ... ^ Xn·H, and the reduction is linear.
// Karatsuba: three carry-less multiplies a pair of blocks, not four (the multiplier is
// what limits the loop on Zen 3: one 256-bit multiply every ~1.7 TSC cycles).
struct ghash_acc {
  __m256i lo, hi, mid;

  GM_VAES void zero() {
    lo = hi = mid = _mm256_setzero_si256();
  }
  // Two byte-reversed blocks times two powers; hk holds each power's lo ^ hi.
  GM_VAES void add(__m256i x, __m256i h, __m256i hk) {
    lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(x, h, 0x00));
    hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(x, h, 0x11));
    const __m256i xk = _mm256_xor_si256(x, _mm256_shuffle_epi32(x, 0x4e));
    mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128(xk, hk, 0x00));
  }
  // One block, in the low lane.
  GM_VAES void add(__m128i x, __m128i h, __m128i hk) {
    lo = _mm256_xor_si256(lo, _mm256_zextsi128_si256(_mm_clmulepi64_si128(x, h, 0x00)));
    hi = _mm256_xor_si256(hi, _mm256_zextsi128_si256(_mm_clmulepi64_si128(x, h, 0x11)));
    const __m128i xk = _mm_xor_si128(x, _mm_shuffle_epi32(x, 0x4e));
    mid = _mm256_xor_si256(mid, _mm256_zextsi128_si256(_mm_clmulepi64_si128(xk, hk, 0x00)));
  }
  GM_VAES __m128i fold() const {
    __m128i l = _mm_xor_si128(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
    __m128i h = _mm_xor_si128(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
    __m128i m = _mm_xor_si128(_mm256_castsi256_si128(mid), _mm256_extracti128_si256(mid, 1));
    m = _mm_xor_si128(m, _mm_xor_si128(l, h));
    l = _mm_xor_si128(l, _mm_slli_si128(m, 8));
    h = _mm_xor_si128(h, _mm_srli_si128(m, 8));
    return reduce(l, h);
  }
};

GM_VAES inline __m128i load16(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

GM_VAES inline __m256i load32(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

GM_VAES inline void store32(uint8_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

// N pairs of counter blocks through the cipher; the round keys come from memory, as
// vaesenc takes them, so the blocks keep the registers.
template <int Nr, int N>
GM_VAES inline void aes_blocks(__m256i (&b)[N], const gcm_keys& k) {
  const auto* rk = reinterpret_cast<const __m256i*>(k.rk2);
#pragma GCC unroll 4
  for (int j = 0; j < N; ++j) {
    b[j] = _mm256_xor_si256(b[j], _mm256_load_si256(rk));
  }
#pragma GCC unroll 14
  for (int r = 1; r < Nr; ++r) {
    const __m256i key = _mm256_load_si256(rk + r);
#pragma GCC unroll 4
    for (int j = 0; j < N; ++j) {
      b[j] = _mm256_aesenc_epi128(b[j], key);
    }
  }
  const __m256i last = _mm256_load_si256(rk + Nr);
#pragma GCC unroll 4
  for (int j = 0; j < N; ++j) {
    b[j] = _mm256_aesenclast_epi128(b[j], last);
  }
}

template <int Nr>
GM_VAES inline __m128i aes_block(__m128i b, const gcm_keys& k) {
  b = _mm_xor_si128(b, _mm_load_si128(reinterpret_cast<const __m128i*>(k.rk2[0])));
#pragma GCC unroll 14
  for (int r = 1; r < Nr; ++r) {
    b = _mm_aesenc_si128(b, _mm_load_si128(reinterpret_cast<const __m128i*>(k.rk2[r])));
  }
  return _mm_aesenclast_si128(b, _mm_load_si128(reinterpret_cast<const __m128i*>(k.rk2[Nr])));
}

// The counter blocks are kept byte-reversed, where GCM's 32-bit big-endian counter is the
// low dword, so a vector add steps them (modulo 2^32, as inc32 does); reversed back per use.
GM_VAES inline __m256i step(__m256i& ctr) {
  const __m256i out = bswap(ctr);
  ctr = _mm256_add_epi32(ctr, _mm256_setr_epi32(2, 0, 0, 0, 2, 0, 0, 0));
  return out;
}

// GHASH of `len` bytes (AAD), the last block zero-padded, one block at a time: the AAD of
// ESP is one block.
GM_VAES inline __m128i ghash_bytes(__m128i s, const uint8_t* p, uint64_t len, __m128i h) {
  for (; len >= 16; len -= 16, p += 16) {
    s = dot(_mm_xor_si128(s, bswap(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))), h);
  }
  if (len != 0) {
    alignas(16) uint8_t b[16] = {};
    std::memcpy(b, p, len);
    s = dot(_mm_xor_si128(s, bswap(_mm_load_si128(reinterpret_cast<const __m128i*>(b)))), h);
  }
  return s;
}

// Loads in the pieces the ESP stages store them in (salt 4 + IV 8 for the nonce, SPI 4 +
// sequence number 4 (+ 4) for the AAD), so each load is forwarded from one store.
GM_VAES inline int load_dword(const uint8_t* p) {
  int w;
  std::memcpy(&w, p, 4);
  return w;
}

// Nonce bytes 0-3, 4-11 into the low three dwords, the fourth zero.
GM_VAES inline __m128i load_nonce(const uint8_t* p) {
  const __m128i iv = _mm_slli_si128(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 4)), 4);
  return _mm_insert_epi32(iv, load_dword(p), 0);
}

// AAD of 8 or 12 bytes, dword by dword, the rest zero.
GM_VAES inline __m128i load_aad(const uint8_t* p, uint64_t len) {
  __m128i a = _mm_insert_epi32(_mm_cvtsi32_si128(load_dword(p)), load_dword(p + 4), 1);
  if (len == 12) {
    a = _mm_insert_epi32(a, load_dword(p + 8), 2);
  }
  return a;
}

// The AAD of ESP (8 or 12 bytes) is one block, A. It is not hashed on its own: it joins
// the first aggregation as the block before the first data block, with the next power up.
struct aad_block {
  __m128i a;
  bool pending;
};

// The last 1..127 bytes in NY pairs of blocks and the length block L, in one aggregation.
// A length that is a whole number of 4-byte words (every ESP payload) is loaded and stored
// with dword masks; other lengths go through stack buffers, as a packet may end at the
// end of its buffer. Returns the final GHASH state.
template <int Nr, bool Enc, int NY>
GM_VAES __m128i tail(const gcm_keys& k, uint8_t* out, const uint8_t* in, uint32_t rem,
                     __m256i ctr, __m128i s, aad_block aad, __m128i len_block) {
  __m256i b[NY];
#pragma GCC unroll 4
  for (int j = 0; j < NY; ++j) {
    b[j] = step(ctr);
  }
  aes_blocks<Nr, NY>(b, k);
  __m256i ct[NY];  // the ciphertext, zero past rem, for GHASH
  if (rem % 4 == 0) {
    // Only the last pair can reach past rem; the others are plain loads and stores (a
    // masked store costs several times a plain one on Zen 3).
#pragma GCC unroll 4
    for (int j = 0; j < NY - 1; ++j) {
      const __m256i d = load32(in + 32 * j);
      const __m256i o = _mm256_xor_si256(d, b[j]);
      store32(out + 32 * j, o);
      ct[j] = Enc ? o : d;
    }
    const __m256i keep = _mm256_cmpgt_epi32(
        _mm256_set1_epi32(static_cast<int>(rem / 4) - 8 * (NY - 1)),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const int last = 32 * (NY - 1);
    const __m256i d = _mm256_maskload_epi32(reinterpret_cast<const int*>(in + last), keep);
    const __m256i o = _mm256_xor_si256(d, b[NY - 1]);
    _mm256_maskstore_epi32(reinterpret_cast<int*>(out + last), keep, o);
    ct[NY - 1] = Enc ? _mm256_and_si256(o, keep) : d;
  } else {
    alignas(32) uint8_t ib[32 * NY] = {};
    alignas(32) uint8_t ob[32 * NY];
    std::memcpy(ib, in, rem);
    const __m256i iota = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                          17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
#pragma GCC unroll 4
    for (int j = 0; j < NY; ++j) {
      const __m256i keep =
          _mm256_cmpgt_epi8(_mm256_set1_epi8(static_cast<char>(rem - 32 * j)), iota);
      const __m256i d = _mm256_load_si256(reinterpret_cast<const __m256i*>(ib + 32 * j));
      const __m256i o = _mm256_xor_si256(d, b[j]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(ob + 32 * j), o);
      ct[j] = Enc ? _mm256_and_si256(o, keep) : d;
    }
    std::memcpy(out, ob, rem);
  }

  // Data block i of nb (1-based) takes H^(nb + 2 - i), L takes H^1, a pending AAD block
  // H^(nb + 2): pair j starts at hpow[8 - nb + 2j]. With an odd nb the last pair's high
  // lane is free, and L goes there.
  const uint32_t nb = (rem + 15) / 16;
  ghash_acc acc;
  acc.zero();
  if (aad.pending) {
    if (nb <= 7) {
      acc.add(aad.a, load16(k.hpow[7 - nb]), load16(k.hkar[7 - nb]));
    } else {
      s = dot(aad.a, load16(k.hpow[8]));
    }
  }
  if (nb % 2 == 1) {
    ct[NY - 1] = _mm256_inserti128_si256(ct[NY - 1], bswap(len_block), 1);
  }
#pragma GCC unroll 4
  for (int j = 0; j < NY; ++j) {
    __m256i x = bswap(ct[j]);
    if (j == 0) {
      x = _mm256_xor_si256(x, _mm256_zextsi128_si256(s));
    }
    acc.add(x, load32(k.hpow[8 - nb + 2 * j]), load32(k.hkar[8 - nb + 2 * j]));
  }
  if (nb % 2 == 0) {
    acc.add(len_block, load16(k.hpow[8]), load16(k.hkar[8]));
  }
  return acc.fold();
}

template <int Nr, bool Enc>
GM_VAES void crypt(const gcm_key_data* key, gcm_context_data* /*unused*/, uint8_t* out,
                   const uint8_t* in, uint64_t len, const uint8_t* iv, const uint8_t* aad,
                   uint64_t aad_len, uint8_t* tag, uint64_t tag_len) {
  const gcm_keys& k = keys_of(key);
  const __m128i h1 = load16(k.hpow[8]);

  // Built in registers: bytes stored to the stack and loaded back as one block would miss
  // store-to-load forwarding, some 10 cycles on the path of a short packet.
  const __m128i j0 = _mm_insert_epi32(load_nonce(iv), 0x01000000, 3);
  const __m128i tag_mask = aes_block<Nr>(j0, k);

  __m128i s = _mm_setzero_si128();
  aad_block a{_mm_setzero_si128(), false};
  if (aad_len > 16) {
    s = ghash_bytes(s, aad, aad_len, h1);
  } else if (aad_len == 8 || aad_len == 12) {
    a = {bswap(load_aad(aad, aad_len)), true};
  } else if (aad_len != 0) {
    alignas(16) uint8_t b[16] = {};
    std::memcpy(b, aad, aad_len);
    a = {bswap(_mm_load_si128(reinterpret_cast<const __m128i*>(b))), true};
  }

  // Data block i uses counter i + 2 (J0 holds 1).
  __m256i ctr = _mm256_add_epi32(_mm256_broadcastsi128_si256(bswap(j0)),
                                 _mm256_setr_epi32(1, 0, 0, 0, 2, 0, 0, 0));
  uint64_t off = 0;
  ghash_acc acc;
  acc.zero();
  if (a.pending && len >= 128) {
    acc.add(a.a, load16(k.hpow[0]), load16(k.hkar[0]));  // A before eight blocks: H^9
    a.pending = false;
  }
  for (; len - off >= 128; off += 128) {
    __m256i b[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      b[j] = step(ctr);
    }
    aes_blocks<Nr, 4>(b, k);
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m256i d = load32(in + off + 32 * j);
      const __m256i o = _mm256_xor_si256(d, b[j]);
      store32(out + off + 32 * j, o);
      __m256i x = bswap(Enc ? o : d);
      if (j == 0) {
        x = _mm256_xor_si256(x, _mm256_zextsi128_si256(s));
      }
      acc.add(x, load32(k.hpow[1 + 2 * j]), load32(k.hkar[1 + 2 * j]));
    }
    s = acc.fold();
    acc.zero();
  }

  const auto rem = static_cast<uint32_t>(len - off);
  // The length block, byte-reversed: bit lengths of the ciphertext (low) and AAD (high).
  const __m128i len_block = _mm_set_epi64x(static_cast<int64_t>(aad_len * 8),
                                           static_cast<int64_t>(len * 8));
  switch ((rem + 31) / 32) {
    case 0:
      if (a.pending) {
        s = dot(a.a, h1);
      }
      s = dot(_mm_xor_si128(s, len_block), h1);
      break;
    case 1:
      s = tail<Nr, Enc, 1>(k, out + off, in + off, rem, ctr, s, a, len_block);
      break;
    case 2:
      s = tail<Nr, Enc, 2>(k, out + off, in + off, rem, ctr, s, a, len_block);
      break;
    case 3:
      s = tail<Nr, Enc, 3>(k, out + off, in + off, rem, ctr, s, a, len_block);
      break;
    default:
      s = tail<Nr, Enc, 4>(k, out + off, in + off, rem, ctr, s, a, len_block);
      break;
  }
  const __m128i t = _mm_xor_si128(bswap(s), tag_mask);
  if (tag_len == 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(tag), t);
  } else {
    alignas(16) uint8_t full[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(full), t);
    std::memcpy(tag, full, tag_len < 16 ? tag_len : 16);
  }
}

}  // namespace

bool cpu_supported() {
  const cpu_features& f = cpu();
  return f.avx2 && f.aes && f.pclmul && f.vaes && f.vpclmulqdq;
}

GM_VAES void init_key(gcm_keys& k, int rounds) {
  for (int r = 0; r <= rounds; ++r) {
    std::memcpy(k.rk2[r], k.imb.expanded_keys + 16 * r, 16);
    std::memcpy(k.rk2[r] + 16, k.imb.expanded_keys + 16 * r, 16);
  }
  const __m128i h = rounds == 14 ? aes_block<14>(_mm_setzero_si128(), k)
                                 : aes_block<10>(_mm_setzero_si128(), k);
  // H' = ByteReverse(H) times x, modulo POLYVAL's polynomial (RFC 8452, appendix A).
  alignas(16) uint64_t q[2];
  _mm_store_si128(reinterpret_cast<__m128i*>(q), bswap(h));
  const uint64_t carry = q[1] >> 63;
  q[1] = (q[1] << 1) | (q[0] >> 63);
  q[0] <<= 1;
  if (carry != 0) {
    q[1] ^= 0xc200000000000000ULL;
    q[0] ^= 1;
  }
  const __m128i h1 = _mm_load_si128(reinterpret_cast<const __m128i*>(q));
  __m128i p = h1;
  for (int i = 8; i >= 0; --i) {
    _mm_store_si128(reinterpret_cast<__m128i*>(k.hpow[i]), p);
    const __m128i folded = _mm_xor_si128(p, _mm_shuffle_epi32(p, 0x4e));
    _mm_store_si128(reinterpret_cast<__m128i*>(k.hkar[i]), folded);
    p = dot(p, h1);
  }
  _mm_store_si128(reinterpret_cast<__m128i*>(q), _mm_setzero_si128());
}

const aes_gcm_enc_dec_t enc128 = crypt<10, true>;
const aes_gcm_enc_dec_t dec128 = crypt<10, false>;
const aes_gcm_enc_dec_t enc256 = crypt<14, true>;
const aes_gcm_enc_dec_t dec256 = crypt<14, false>;

}  // namespace gm::crypto::gcm_vaes
