// The ESP transforms we offer, declared once: name, sizes and the ipsec-mb modes behind
// them. GDOI ids and IOS names are here too so that control and show code share one table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <intel-ipsec-mb.h>

namespace gm::crypto {

// X(id, short name, IOS transform-set name, cipher, cipher key bytes, salt bytes, IV bytes,
//   pad block, hash, auth key bytes, ICV bytes, GDOI/IKE ESP transform id)
#define GM_TRANSFORMS(X)                                                                      \
  X(aes_gcm_128, "aes-gcm-128", "esp-gcm 128", IMB_CIPHER_GCM, 16, 4, 8, 4,                   \
    IMB_AUTH_AES_GMAC, 0, 16, 20)                                                             \
  X(aes_gcm_256, "aes-gcm-256", "esp-gcm 256", IMB_CIPHER_GCM, 32, 4, 8, 4,                   \
    IMB_AUTH_AES_GMAC, 0, 16, 20)                                                             \
  X(aes_cbc_128_sha1, "aes-cbc-128-sha1", "esp-aes 128 esp-sha-hmac", IMB_CIPHER_CBC, 16, 0,  \
    16, 16, IMB_AUTH_HMAC_SHA_1, 20, 12, 12)                                                  \
  X(aes_cbc_256_sha1, "aes-cbc-256-sha1", "esp-aes 256 esp-sha-hmac", IMB_CIPHER_CBC, 32, 0,  \
    16, 16, IMB_AUTH_HMAC_SHA_1, 20, 12, 12)                                                  \
  X(aes_cbc_128_sha256, "aes-cbc-128-sha256", "esp-aes 128 esp-sha256-hmac", IMB_CIPHER_CBC, \
    16, 0, 16, 16, IMB_AUTH_HMAC_SHA_256, 32, 16, 12)                                    \
  X(des3_cbc_sha1, "3des-cbc-sha1", "esp-3des esp-sha-hmac", IMB_CIPHER_DES3, 24, 0, 8, 8,    \
    IMB_AUTH_HMAC_SHA_1, 20, 12, 3)                                                           \
  X(null_sha1, "null-sha1", "esp-null esp-sha-hmac", IMB_CIPHER_NULL, 0, 0, 0, 4,             \
    IMB_AUTH_HMAC_SHA_1, 20, 12, 11)

enum class transform_id : uint8_t {
#define GM_X(id, ...) id,
  GM_TRANSFORMS(GM_X)
#undef GM_X
      count
};

inline constexpr std::size_t transform_count = static_cast<std::size_t>(transform_id::count);

struct transform_info {
  transform_id id;
  std::string_view name;      ///< our config/CLI name
  std::string_view ios_name;  ///< IOS transform-set spelling
  IMB_CIPHER_MODE cipher;
  uint8_t key_len;   ///< cipher key bytes (GCM: without the salt)
  uint8_t salt_len;  ///< GCM salt bytes appended to the key material by GDOI
  uint8_t iv_len;    ///< IV bytes carried in each ESP packet
  uint8_t block;     ///< payload must pad to a multiple of this
  IMB_HASH_ALG hash;
  uint8_t auth_key_len;
  uint8_t icv_len;
  uint8_t esp_transform;  ///< IKE/GDOI ESP transform id

  bool is_aead() const { return cipher == IMB_CIPHER_GCM; }
  /// AES-CBC with HMAC-SHA1: what our own engines (crypto/cbc_sha1_shani) run.
  constexpr bool cbc_hmac_sha1() const {
    return cipher == IMB_CIPHER_CBC && hash == IMB_AUTH_HMAC_SHA_1;
  }
};

inline constexpr std::array<transform_info, transform_count> transform_table = {{
#define GM_X(id, name, ios, cipher, klen, slen, ivlen, blk, hash, aklen, icv, espid) \
  {transform_id::id, name, ios, cipher, klen, slen, ivlen, blk, hash, aklen, icv, espid},
    GM_TRANSFORMS(GM_X)
#undef GM_X
}};

// The ESP stages round and check lengths with masks: every pad block must be a power of two.
constexpr bool blocks_are_powers_of_two() {
  for (const auto& t : transform_table) {
    if (t.block == 0 || (t.block & (t.block - 1)) != 0) {
      return false;
    }
  }
  return true;
}
static_assert(blocks_are_powers_of_two());

constexpr const transform_info& info(transform_id id) {
  return transform_table[static_cast<std::size_t>(id)];
}

inline std::optional<transform_id> transform_from_name(std::string_view name) {
  for (const auto& t : transform_table) {
    if (t.name == name || t.ios_name == name) {
      return t.id;
    }
  }
  return std::nullopt;
}

}  // namespace gm::crypto
