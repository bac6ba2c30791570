// Test helper: seals a hand-laid-out ESP packet with an SA's keys through the raw crypto
// op, so a test can put anything (wrong padding, odd next headers) behind a valid ICV.
#pragma once

#include <cstdint>
#include <cstring>

#include "crypto/crypto_ctx.h"
#include "crypto/esp_sa.h"

namespace gm::test {

/// `esp` points at SPI|Seq|IV|payload|room for the ICV; `payload_len` bytes are encrypted
/// (for CBC a multiple of the block). Returns true if ipsec-mb accepted the job.
inline bool seal_esp(crypto::crypto_ctx& ctx, const crypto::esp_sa& sa, uint8_t* esp,
                     uint32_t payload_len) {
  const crypto::transform_info& t = crypto::info(sa.keys.xf);
  alignas(16) uint8_t nonce[12];
  std::memcpy(nonce, sa.keys.salt, 4);
  std::memcpy(nonce + 4, esp + 8, 8);
  crypto::crypto_op op{};
  op.keys = &sa.keys;
  op.buf = esp;
  op.cipher_off = 8 + t.iv_len;
  op.cipher_len = payload_len;
  op.auth_len = 8 + t.iv_len + payload_len;
  op.aad = esp;
  op.aad_len = 8;
  op.iv = t.is_aead() ? nonce : esp + 8;
  op.icv = esp + op.auth_len;
  op.dir = crypto::direction::encrypt;
  crypto::crypto_op* ops[1] = {&op};
  return ctx.process(ops, 1) == 1;
}

}  // namespace gm::test
