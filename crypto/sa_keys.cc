#include "crypto/sa_keys.h"

#include <cstring>

#include "crypto/des3_cbc.h"

namespace gm::crypto {

namespace {

// HMAC inner/outer pads hashed once, so each packet pays for two compression calls less.
void hmac_pads(IMB_MGR* mgr, IMB_HASH_ALG hash, std::span<const uint8_t> key, uint8_t* ipad,
               uint8_t* opad) {
  alignas(16) uint8_t block[64];
  std::memset(block, 0x36, sizeof(block));
  for (std::size_t i = 0; i < key.size(); ++i) {
    block[i] ^= key[i];
  }
  if (hash == IMB_AUTH_HMAC_SHA_256) {
    IMB_SHA256_ONE_BLOCK(mgr, block, ipad);
  } else {
    IMB_SHA1_ONE_BLOCK(mgr, block, ipad);
  }
  std::memset(block, 0x5c, sizeof(block));
  for (std::size_t i = 0; i < key.size(); ++i) {
    block[i] ^= key[i];
  }
  if (hash == IMB_AUTH_HMAC_SHA_256) {
    IMB_SHA256_ONE_BLOCK(mgr, block, opad);
  } else {
    IMB_SHA1_ONE_BLOCK(mgr, block, opad);
  }
  imb_clear_mem(block, sizeof(block));
}

}  // namespace

sa_keys::~sa_keys() {
  wipe();
  if (sa_keys_destroyed_hook != nullptr) [[unlikely]] {
    sa_keys_destroyed_hook(*this);
  }
}

void sa_keys::wipe() {
  static_assert(sizeof(gcm) >= sizeof(aes) && sizeof(gcm) >= sizeof(des),
                "wiping gcm must wipe the whole key union");
  imb_clear_mem(&gcm, sizeof(gcm));
  imb_clear_mem(ipad, sizeof(ipad));
  imb_clear_mem(opad, sizeof(opad));
  imb_clear_mem(salt, sizeof(salt));
  xf = transform_id::count;
  enc_keys = dec_keys = nullptr;
}

key_error sa_keys::init(IMB_MGR* mgr, transform_id id, std::span<const uint8_t> cipher_key,
                        std::span<const uint8_t> auth_key) {
  const transform_info& t = info(id);
  if (cipher_key.size() != std::size_t{t.key_len} + t.salt_len) {
    return key_error::bad_cipher_key_len;
  }
  // RFC 2104 allows any HMAC key length; ESP keys are the hash size, but the known-answer
  // vectors use others. Longer than one block would need pre-hashing: not offered.
  if ((t.auth_key_len == 0) != auth_key.empty() || auth_key.size() > 64) {
    return key_error::bad_auth_key_len;
  }
  wipe();
  switch (t.cipher) {
    case IMB_CIPHER_GCM:
      if (t.key_len == 16) {
        IMB_AES128_GCM_PRE(mgr, cipher_key.data(), &gcm.imb);
      } else {
        IMB_AES256_GCM_PRE(mgr, cipher_key.data(), &gcm.imb);
      }
      if (gcm_vaes::cpu_supported()) {
        gcm_vaes::init_key(gcm, t.key_len == 16 ? 10 : 14);
      }
      std::memcpy(salt, cipher_key.data() + t.key_len, t.salt_len);
      enc_keys = dec_keys = &gcm.imb;
      break;
    case IMB_CIPHER_CBC:
      if (t.key_len == 16) {
        IMB_AES_KEYEXP_128(mgr, cipher_key.data(), aes.enc, aes.dec);
      } else {
        IMB_AES_KEYEXP_256(mgr, cipher_key.data(), aes.enc, aes.dec);
      }
      enc_keys = aes.enc;
      dec_keys = aes.dec;
      break;
    case IMB_CIPHER_DES3:
      for (int i = 0; i < 3; ++i) {
        IMB_DES_KEYSCHED(mgr, des.sched[i], cipher_key.data() + 8 * i);
        des_ptrs[i] = des.sched[i];
      }
      des3_schedule(cipher_key.data(), des.openssl);
      enc_keys = dec_keys = des_ptrs;
      break;
    default:
      break;
  }
  if (t.auth_key_len != 0) {
    hmac_pads(mgr, t.hash, auth_key, ipad, opad);
  }
  xf = id;
  return key_error::none;
}

}  // namespace gm::crypto
