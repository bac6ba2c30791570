#include "crypto/cbc_sha1_shani.h"

#include <immintrin.h>

#include <cstddef>
#include <cstring>

#include "crypto/aes_cbc_vaes.h"
#include "crypto/cpu_features.h"
#include "crypto/crypto_ctx.h"
#include "crypto/sa_keys.h"
#include "crypto/transform.h"

// Every function that touches a vector register is compiled for the instructions
// cpu_supported() checks; AVX for the three-operand forms of the AES and XOR steps.
#define GM_SHANI __attribute__((target("avx,aes,sha")))
// The step templates hold every lane's registers in local arrays: they have to be inlined
// whole, or the arrays live in memory across calls.
#define GM_SHANI_INLINE GM_SHANI __attribute__((always_inline)) inline

namespace gm::crypto::cbc_sha1 {

namespace {

constexpr uint32_t esp_hdr_iv = 24;  // SPI, sequence number, 16-byte IV
// Packets a group takes, in both directions. Three, not four: four lanes' registers
// (seven a lane for the hash, more with the cipher) spill, and three measured faster, by
// 4-8 % a SHA-1 block alone and 5-20 % for the whole encrypt or decrypt call
// (perf/results/2026-12-07/r8-micro: sha1_sched_ahead.log, group_lanes.log).
constexpr int group_lanes = 3;

// The state of one group of packets of equal length: SHA-1 as SHA-NI holds it (ABCD in
// one register, E in the top word of another) and each packet's last CBC block.
template <int L>
struct lanes {
  uint8_t* esp[L];
  __m128i abcd[L];
  __m128i e[L];
  __m128i chain[L];  // the last ciphertext block
};

GM_SHANI_INLINE __m128i be_words(__m128i x) {  // message bytes to SHA-1's big-endian words
  return _mm_shuffle_epi8(x, _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL));
}

template <int I>
GM_SHANI_INLINE __m128i rounds4(__m128i abcd, __m128i e) {
  return _mm_sha1rnds4_epu32(abcd, e, I / 5);
}

// Four rounds (step I of 20) of one block for each lane: the SHA-NI sequence of Intel's
// white paper, with the message schedule kept in w[l][0..3] (w[l][j] holds words
// 4(I+k)..4(I+k)+3 for the k with (I+k) % 4 == j). `prev` is ABCD before the step before.
template <int L, int I>
GM_SHANI_INLINE void sha_step(__m128i (&w)[L][4], __m128i* abcd, __m128i* e, __m128i* prev) {
#pragma GCC unroll 4
  for (int l = 0; l < L; ++l) {
    __m128i x = I == 0 ? _mm_add_epi32(e[l], w[l][0]) : _mm_sha1nexte_epu32(prev[l], w[l][I % 4]);
    prev[l] = abcd[l];
    if (I >= 3 && I <= 18) {
      w[l][(I + 1) % 4] = _mm_sha1msg2_epu32(w[l][(I + 1) % 4], w[l][I % 4]);
    }
    abcd[l] = rounds4<I>(abcd[l], x);
    if (I >= 1 && I <= 16) {
      w[l][(I + 3) % 4] = _mm_sha1msg1_epu32(w[l][(I + 3) % 4], w[l][I % 4]);
    }
    if (I >= 2 && I <= 17) {
      w[l][(I + 2) % 4] = _mm_xor_si128(w[l][(I + 2) % 4], w[l][I % 4]);
    }
  }
}

// One AES micro-step K of the four blocks each lane encrypts in a stitched step: block
// K / (Nr + 1), round K % (Nr + 1), the four blocks chained (CBC).
template <int L, int Nr, int K>
GM_SHANI_INLINE void aes_micro(__m128i (&x)[L][4], __m128i* chain, uint8_t* const* ct,
                               const __m128i* rk) {
  constexpr int b = K / (Nr + 1);
  constexpr int r = K % (Nr + 1);
#pragma GCC unroll 4
  for (int l = 0; l < L; ++l) {
    auto* p = reinterpret_cast<__m128i*>(ct[l] + 16 * b);
    if constexpr (r == 0) {
      const __m128i before = b == 0 ? chain[l] : x[l][b > 0 ? b - 1 : 0];
      x[l][b] = _mm_xor_si128(_mm_xor_si128(_mm_loadu_si128(p), before), rk[0]);
    } else if constexpr (r < Nr) {
      x[l][b] = _mm_aesenc_si128(x[l][b], rk[r]);
    } else {
      x[l][b] = _mm_aesenclast_si128(x[l][b], rk[Nr]);
      _mm_storeu_si128(p, x[l][b]);
      if constexpr (b == 3) {
        chain[l] = x[l][3];
      }
    }
  }
}

// The AES micro-steps that ride along SHA step I: 4 (Nr + 1) of them over 20 steps.
template <int L, int Nr, int I, int K = I * 4 * (Nr + 1) / 20>
GM_SHANI_INLINE void aes_share(__m128i (&x)[L][4], __m128i* chain, uint8_t* const* ct,
                               const __m128i* rk) {
  if constexpr (K < (I + 1) * 4 * (Nr + 1) / 20) {
    aes_micro<L, Nr, K>(x, chain, ct, rk);
    aes_share<L, Nr, I, K + 1>(x, chain, ct, rk);
  }
}

template <int L, int Nr, int I>
GM_SHANI_INLINE void steps(__m128i (&w)[L][4], __m128i* abcd, __m128i* e, __m128i* prev,
                           __m128i (&x)[L][4], __m128i* chain, uint8_t* const* ct,
                           const __m128i* rk) {
  if constexpr (I < 20) {
    sha_step<L, I>(w, abcd, e, prev);
    if constexpr (Nr != 0) {
      aes_share<L, Nr, I>(x, chain, ct, rk);
    }
    steps<L, Nr, I + 1>(w, abcd, e, prev, x, chain, ct, rk);
  }
}

// One 64-byte SHA-1 block for each lane, its message words already in w (as be_words()
// leaves them) and, with Nr != 0, four AES blocks encrypted in place at ct[l] (CBC,
// chained through g.chain).
template <int L, int Nr>
GM_SHANI_INLINE void block_words(lanes<L>& g, __m128i (&w)[L][4], uint8_t* const* ct,
                                 const __m128i* rk) {
  __m128i save_abcd[L];
  __m128i save_e[L];
  __m128i prev[L];
  __m128i x[L][4];
#pragma GCC unroll 4
  for (int l = 0; l < L; ++l) {
    save_abcd[l] = g.abcd[l];
    save_e[l] = g.e[l];
  }
  steps<L, Nr, 0>(w, g.abcd, g.e, prev, x, g.chain, ct, rk);
#pragma GCC unroll 4
  for (int l = 0; l < L; ++l) {
    g.e[l] = _mm_sha1nexte_epu32(prev[l], save_e[l]);
    g.abcd[l] = _mm_add_epi32(g.abcd[l], save_abcd[l]);
  }
}

// The same, the message block read from src[l].
template <int L, int Nr>
GM_SHANI_INLINE void block(lanes<L>& g, const uint8_t* const* src, uint8_t* const* ct,
                           const __m128i* rk) {
  __m128i w[L][4];
#pragma GCC unroll 4
  for (int l = 0; l < L; ++l) {
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      w[l][j] = be_words(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src[l] + 16 * j)));
    }
  }
  block_words<L, Nr>(g, w, ct, rk);
}

// The loops below work on a local copy of the group's state: the stores to the packets
// are char-typed, so they may alias anything whose address has left the function, and
// the compiler would write the chain and digest state back and reload it around every
// one, a store-forwarding round trip in the CBC chain (cipher_blocks 14.0-14.4 -> 11.3-11.6
// TSC an AES block-lane, perf/results/2026-12-07/r9-micro/local_state.log).

// Hash-only blocks [from, to) of each lane's message.
template <int L>
GM_SHANI void hash_blocks(lanes<L>& group, size_t from, size_t to) {
  lanes<L> g = group;
  for (size_t s = from; s < to; ++s) {
    const uint8_t* src[L];
    for (int l = 0; l < L; ++l) {
      src[l] = g.esp[l] + 64 * s;
    }
    block<L, 0>(g, src, nullptr, nullptr);
  }
  group = g;
}

// Encrypt-only CBC blocks [from, to) of each lane's payload, lanes side by side.
template <int L, int Nr>
GM_SHANI void cipher_blocks(lanes<L>& group, size_t from, size_t to, const __m128i* rk) {
  lanes<L> g = group;
  for (size_t j = from; j < to; ++j) {
    __m128i x[L];
#pragma GCC unroll 4
    for (int l = 0; l < L; ++l) {
      const __m128i p =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(g.esp[l] + esp_hdr_iv + 16 * j));
      x[l] = _mm_xor_si128(_mm_xor_si128(p, g.chain[l]), rk[0]);
    }
#pragma GCC unroll 14
    for (int r = 1; r < Nr; ++r) {
#pragma GCC unroll 4
      for (int l = 0; l < L; ++l) {
        x[l] = _mm_aesenc_si128(x[l], rk[r]);
      }
    }
#pragma GCC unroll 4
    for (int l = 0; l < L; ++l) {
      x[l] = _mm_aesenclast_si128(x[l], rk[Nr]);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(g.esp[l] + esp_hdr_iv + 16 * j), x[l]);
      g.chain[l] = x[l];
    }
  }
  group = g;
}

// Stitched steps s in [from, to): SHA-1 block s and CBC blocks [4s + 3, 4s + 7).
template <int L, int Nr>
GM_SHANI void stitched(lanes<L>& group, size_t from, size_t to, const __m128i* rk) {
  lanes<L> g = group;
  for (size_t s = from; s < to; ++s) {
    const uint8_t* src[L];
    uint8_t* ct[L];
    for (int l = 0; l < L; ++l) {
      src[l] = g.esp[l] + 64 * s;
      ct[l] = g.esp[l] + esp_hdr_iv + 16 * (4 * s + 3);
    }
    block<L, Nr>(g, src, ct, rk);
  }
  group = g;
}

GM_SHANI inline void load_state(const uint8_t* words, __m128i& abcd, __m128i& e) {
  uint32_t h[5];
  std::memcpy(h, words, sizeof(h));
  abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)), 0x1b);
  e = _mm_set_epi32(static_cast<int>(h[4]), 0, 0, 0);
}

// The digest as SHA-1 writes it: five big-endian words.
GM_SHANI inline void digest(__m128i abcd, __m128i e, uint8_t* out) {
  const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_shuffle_epi8(_mm_shuffle_epi32(abcd, 0x1b), mask));
  const uint32_t h4 = __builtin_bswap32(static_cast<uint32_t>(_mm_extract_epi32(e, 3)));
  std::memcpy(out + 16, &h4, 4);
}

// pshufb masks that move the last r bytes of a 16-byte load to its front and zero the
// rest, and the 0x80 that ends a SHA-1 message, at byte r.
struct tail_tables {
  alignas(16) uint8_t front[16][16];
  alignas(16) uint8_t marker[16][16];
};
constexpr tail_tables make_tail_tables() {
  tail_tables t{};
  for (int r = 0; r < 16; ++r) {
    for (int i = 0; i < 16; ++i) {
      t.front[r][i] = i < r ? static_cast<uint8_t>(16 - r + i) : 0x80;
      t.marker[r][i] = i == r ? 0x80 : 0;
    }
  }
  return t;
}
constexpr tail_tables tail_table = make_tail_tables();

// Bytes [16c, 16c + 16) of the padded tail: the message's last `tail` (< 64) bytes at t,
// 0x80, zeros, and in the last chunk (c == 4 * blocks - 1) the length in bits. Built in a
// register: a padded copy on the stack, written with narrow stores and read back 16 bytes
// at a time, stalls every load on store forwarding, ~150 TSC a packet that made small
// packets no faster than ipsec-mb's. A partial chunk is the 16 bytes that end the message
// (t + tail - 16 is inside it: the ESP header and IV alone are 24 bytes), shifted down.
GM_SHANI_INLINE __m128i pad_chunk(const uint8_t* t, size_t tail, size_t c, bool last,
                                  uint64_t bits) {
  const size_t off = 16 * c;
  __m128i v;
  if (off + 16 <= tail) {
    v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t + off));
  } else if (off <= tail) {
    const size_t r = tail - off;
    const auto* mask = reinterpret_cast<const __m128i*>(tail_table.front[r]);
    const auto* mark = reinterpret_cast<const __m128i*>(tail_table.marker[r]);
    v = r == 0 ? _mm_load_si128(mark)
               : _mm_or_si128(_mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(
                                                   t + tail - 16)),
                                               _mm_load_si128(mask)),
                              _mm_load_si128(mark));
  } else {
    v = _mm_setzero_si128();
  }
  if (last) {
    v = _mm_insert_epi64(v, static_cast<long long>(__builtin_bswap64(bits)), 1);
  }
  return be_words(v);
}

// The inner hash's last bytes, padded, then the outer hash from each lane's opad state:
// the HMACs, into d[l]. `tail_of[l]`: the message's last msg_len % 64 bytes.
template <int L>
GM_SHANI void finish(lanes<L>& g, size_t msg_len, const uint8_t* const* tail_of,
                     const uint8_t* const* opad, uint8_t (*d)[20]) {
  const size_t tail = msg_len % 64;
  const size_t nb = tail <= 55 ? 1 : 2;
  const uint64_t bits = (64 + msg_len) * 8;  // the ipad block counts too
  __m128i w[L][4];
  for (size_t b = 0; b < nb; ++b) {
#pragma GCC unroll 4
    for (int l = 0; l < L; ++l) {
#pragma GCC unroll 4
      for (size_t j = 0; j < 4; ++j) {
        const size_t c = 4 * b + j;
        w[l][j] = pad_chunk(tail_of[l], tail, c, c == 4 * nb - 1, bits);
      }
    }
    block_words<L, 0>(g, w, nullptr, nullptr);
  }
  // The outer message is the inner digest, which in SHA-NI's order is already its words:
  // ABCD are W0..W3, E (the top word) W4; then 0x80000000, zeros and 8 * (64 + 20).
#pragma GCC unroll 4
  for (int l = 0; l < L; ++l) {
    w[l][0] = g.abcd[l];
    w[l][1] = _mm_blend_epi16(_mm_set_epi32(0, static_cast<int>(0x80000000u), 0, 0), g.e[l],
                              0xc0);
    w[l][2] = _mm_setzero_si128();
    w[l][3] = _mm_set_epi32(0, 0, 0, (64 + 20) * 8);
    load_state(opad[l], g.abcd[l], g.e[l]);
  }
  block_words<L, 0>(g, w, nullptr, nullptr);
  for (int l = 0; l < L; ++l) {
    digest(g.abcd[l], g.e[l], d[l]);
  }
}

// One group of L packets with the same ct_len.
template <int L, int Nr>
GM_SHANI void run_group(const sa_keys& k, const packet* const* pk, uint32_t icv_len) {
  const auto* rk = static_cast<const __m128i*>(k.enc_keys);  // Nr + 1 round keys
  lanes<L> g;
  for (int l = 0; l < L; ++l) {
    g.esp[l] = pk[l]->esp;
    load_state(k.ipad, g.abcd[l], g.e[l]);
    g.chain[l] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pk[l]->esp + 8));  // IV
  }
  const size_t nct = pk[0]->ct_len / 16;
  const size_t msg_len = esp_hdr_iv + pk[0]->ct_len;
  const size_t full = msg_len / 64;
  // Hash block s needs ciphertext blocks [0, 4s + 3): three ahead, then four a step.
  const size_t head = nct < 3 ? nct : 3;
  cipher_blocks<L, Nr>(g, 0, head, rk);
  size_t steps = nct >= 7 ? (nct - 7) / 4 + 1 : 0;
  steps = steps < full ? steps : full;
  stitched<L, Nr>(g, 0, steps, rk);
  cipher_blocks<L, Nr>(g, steps != 0 ? 4 * steps + 3 : head, nct, rk);
  hash_blocks<L>(g, steps, full);
  const uint8_t* tail_of[L];
  const uint8_t* opad[L];
  for (int l = 0; l < L; ++l) {
    tail_of[l] = pk[l]->esp + 64 * full;
    opad[l] = k.opad;
  }
  alignas(16) uint8_t d[L][20];
  finish<L>(g, msg_len, tail_of, opad, d);
  for (int l = 0; l < L; ++l) {
    std::memcpy(pk[l]->icv, d[l], icv_len);
  }
}

// The HMACs of L received packets of one length (each its own SA's pads), hash only.
template <int L>
GM_SHANI void hash_group(const rx_packet* const* pk, uint8_t (*d)[20]) {
  lanes<L> g;
  const uint8_t* opad[L];
  const uint8_t* tail_of[L];
  const size_t msg_len = esp_hdr_iv + pk[0]->ct_len;
  const size_t full = msg_len / 64;
  for (int l = 0; l < L; ++l) {
    g.esp[l] = pk[l]->esp;
    load_state(pk[l]->keys->ipad, g.abcd[l], g.e[l]);
    opad[l] = pk[l]->keys->opad;
    tail_of[l] = pk[l]->esp + 64 * full;
  }
  hash_blocks<L>(g, 0, full);
  finish<L>(g, msg_len, tail_of, opad, d);
}

// Verifies, then decrypts, one group: the hash reads the ciphertext the decryption
// overwrites. The group's packets are still in L1 for the second pass.
template <int L>
void verify_and_decrypt(const rx_packet* const* pk, uint32_t icv_len, bool* const* ok) {
  alignas(16) uint8_t d[L][20];
  hash_group<L>(pk, d);
  for (int l = 0; l < L; ++l) {
    *ok[l] = crypto_ctx::icv_equal(d[l], pk[l]->icv, icv_len);
    if (*ok[l]) {
      const sa_keys& k = *pk[l]->keys;
      aes_cbc_vaes::decrypt(k.dec_keys, info(k.xf).key_len == 16 ? 10 : 14,
                            pk[l]->esp + esp_hdr_iv, pk[l]->ct_len / 16);
    }
  }
}

// Calls fn(group, m) for groups of up to Cap packets of the same ct_len, in order of
// their first packet.
template <int Cap, typename P, typename Fn>
void for_each_group(const P* p, uint16_t n, Fn&& fn) {
  for (uint16_t base = 0; base < n; base += 64) {
    const uint16_t cnt = n - base < 64 ? n - base : 64;
    uint64_t taken = 0;
    for (uint16_t i = 0; i < cnt; ++i) {
      if ((taken >> i) & 1u) {
        continue;
      }
      const P* g[Cap] = {&p[base + i]};
      int m = 1;
      for (uint16_t j = i + 1; j < cnt && m < Cap; ++j) {
        if (((taken >> j) & 1u) == 0 && p[base + j].ct_len == p[base + i].ct_len) {
          g[m++] = &p[base + j];
          taken |= uint64_t{1} << j;
        }
      }
      fn(g, m);
    }
  }
}

template <int Nr>
void dispatch(const sa_keys& k, const packet* const* pk, int n, uint32_t icv_len) {
  switch (n) {
    case 1:
      run_group<1, Nr>(k, pk, icv_len);
      break;
    case 2:
      run_group<2, Nr>(k, pk, icv_len);
      break;
    default:
      static_assert(group_lanes == 3);
      run_group<3, Nr>(k, pk, icv_len);
      break;
  }
}

// encrypt() instantiates AES-128 and AES-256 only.
constexpr bool cbc_sha1_keys_are_128_or_256() {
  for (const auto& t : transform_table) {
    if (t.cbc_hmac_sha1() && t.key_len != 16 && t.key_len != 32) {
      return false;
    }
  }
  return true;
}
static_assert(cbc_sha1_keys_are_128_or_256());

}  // namespace

bool cpu_supported() {
  const cpu_features& f = cpu();
  return f.avx && f.aes && f.ssse3 && f.sse41 && f.sha;
}

void encrypt(const sa_keys& k, const packet* p, uint16_t n, uint32_t icv_len) {
  const bool aes128 = info(k.xf).key_len == 16;
  for_each_group<group_lanes>(p, n, [&](const packet* const* g, int m) {
    if (aes128) {
      dispatch<10>(k, g, m, icv_len);
    } else {
      dispatch<14>(k, g, m, icv_len);
    }
  });
}

bool decrypt_supported() { return cpu_supported() && aes_cbc_vaes::cpu_supported(); }

void decrypt(const rx_packet* p, uint16_t n, uint32_t icv_len, bool* ok) {
  for_each_group<group_lanes>(p, n, [&](const rx_packet* const* g, int m) {
    bool* out[group_lanes];
    for (int l = 0; l < m; ++l) {
      out[l] = ok + (g[l] - p);
    }
    switch (m) {
      case 1:
        verify_and_decrypt<1>(g, icv_len, out);
        break;
      case 2:
        verify_and_decrypt<2>(g, icv_len, out);
        break;
      default:
        static_assert(group_lanes == 3);
        verify_and_decrypt<3>(g, icv_len, out);
        break;
    }
  });
}

}  // namespace gm::crypto::cbc_sha1
