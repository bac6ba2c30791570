#include "crypto/esp_lcore.h"

#include <sys/random.h>
#include <wmmintrin.h>

#include <cstring>

namespace gm::crypto {

namespace {

bool random_bytes(void* out, std::size_t n) {
  auto* p = static_cast<uint8_t*>(out);
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got <= 0) {
      return false;
    }
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

// AES-128 encryption of `n` counter blocks with AES-NI, eight at a time so that the
// rounds of independent blocks overlap. `rk`: the 11 round keys IMB_AES_KEYEXP_128 made.
// Every group computes all eight lanes and stores only those asked for: with a constant
// lane count, unrolled, the blocks stay in registers. With the last group's variable
// count and no unrolling (-O2), GCC kept them on the stack, and every round was a load,
// an aesenc and a store.
__attribute__((target("aes,sse2"))) void aes128_counter_blocks(const uint32_t* rk, uint64_t first,
                                                               uint8_t lcore, uint8_t (*out)[16],
                                                               uint16_t n) {
  __m128i keys[11];
  for (int r = 0; r < 11; ++r) {
    keys[r] = _mm_load_si128(reinterpret_cast<const __m128i*>(rk) + r);
  }
  constexpr uint16_t lanes = 8;
  for (uint16_t base = 0; base < n; base += lanes) {
    __m128i b[lanes];
#pragma GCC unroll 8
    for (uint16_t j = 0; j < lanes; ++j) {
      // Same block next_cbc_iv() builds: the counter little-endian, then the lcore index.
      b[j] = _mm_xor_si128(_mm_set_epi64x(lcore, static_cast<int64_t>(first + base + j)), keys[0]);
    }
#pragma GCC unroll 9
    for (int r = 1; r < 10; ++r) {
#pragma GCC unroll 8
      for (uint16_t j = 0; j < lanes; ++j) {
        b[j] = _mm_aesenc_si128(b[j], keys[r]);
      }
    }
#pragma GCC unroll 8
    for (uint16_t j = 0; j < lanes; ++j) {
      b[j] = _mm_aesenclast_si128(b[j], keys[10]);
    }
    const uint16_t k = n - base < lanes ? n - base : lanes;
#pragma GCC unroll 8
    for (uint16_t j = 0; j < lanes; ++j) {
      if (j < k) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out[base + j]), b[j]);
      }
    }
  }
}

}  // namespace

sa_counters& sa_counters::operator+=(const sa_counters& o) {
  encaps += o.encaps;
  encrypt += o.encrypt;
  digest += o.digest;
  decaps += o.decaps;
  decrypt += o.decrypt;
  verify += o.verify;
  bytes_out += o.bytes_out;
  bytes_in += o.bytes_in;
  for (std::size_t i = 0; i < drops.size(); ++i) {
    drops[i] += o.drops[i];
  }
  return *this;
}

std::unique_ptr<esp_lcore> esp_lcore::create(uint32_t sender_id, uint8_t lcore_index, arch cap) {
  std::unique_ptr<esp_lcore> lc(new esp_lcore());
  lc->_crypto = crypto_ctx::create(cap);
  if (!lc->_crypto) {
    return nullptr;
  }
  lc->enabled.fill(true);
  lc->sender_id = sender_id;
  lc->lcore_index = lcore_index;
  uint8_t key[16];
  uint64_t starts[2];
  if (!random_bytes(key, sizeof(key)) || !random_bytes(starts, sizeof(starts))) {
    return nullptr;
  }
  IMB_AES_KEYEXP_128(lc->_crypto->mgr(), key, lc->_iv_key_enc, lc->_iv_key_dec);
  imb_clear_mem(key, sizeof(key));
  lc->_cbc_iv_counter = starts[0];
  // A random start in the lower half of the 40-bit space: a restart that keeps the same
  // key and sender id (static keys) is unlikely to replay an IV, and 2^39 remain.
  lc->gcm_iv_counter = starts[1] & ((uint64_t{1} << 39) - 1);
  lc->next_ip_id = static_cast<uint16_t>(starts[1] >> 48);
  for (uint16_t i = 0; i < max_burst; ++i) {
    lc->scratch.op_ptrs[i] = &lc->scratch.ops[i];
  }
  return lc;
}

void esp_lcore::next_cbc_iv(uint8_t* iv, uint8_t len) {
  alignas(16) uint8_t block[16] = {};
  alignas(16) uint8_t counter[16] = {};
  const uint64_t c = _cbc_iv_counter++;
  std::memcpy(counter, &c, sizeof(c));
  counter[8] = lcore_index;
  // CFB of a zero block with IV = counter is exactly AES_K(counter).
  IMB_AES128_CFB_ONE(_crypto->mgr(), block, block, counter, _iv_key_enc, 16);
  std::memcpy(iv, block, len);
}

void esp_lcore::peek_cbc_ivs(uint8_t (*ivs)[16], uint16_t n) const {
  aes128_counter_blocks(_iv_key_enc, _cbc_iv_counter, lcore_index, ivs, n);
}

}  // namespace gm::crypto
