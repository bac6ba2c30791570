#include "crypto/esp_lcore.h"

#include <sys/random.h>

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

bool esp_lcore::next_gcm_iv(uint8_t* iv) {
  const uint64_t ctr = gcm_iv_counter;
  if (ctr >> 40 != 0) [[unlikely]] {
    return false;
  }
  gcm_iv_counter = ctr + 1;
  iv[0] = static_cast<uint8_t>(sender_id >> 8);
  iv[1] = static_cast<uint8_t>(sender_id);
  iv[2] = lcore_index;
  for (int i = 0; i < 5; ++i) {
    iv[3 + i] = static_cast<uint8_t>(ctr >> (32 - 8 * i));
  }
  return true;
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

}  // namespace gm::crypto
