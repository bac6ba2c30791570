// Expanded key material for one SA, in the form ipsec-mb jobs consume. Built off the fast
// path (key expansion, HMAC pads) and read-only afterwards. Not copyable: the 3DES job
// takes pointers into the object itself. Key bytes are wiped when the object dies.
#pragma once

#include <cstdint>
#include <span>

#include <intel-ipsec-mb.h>

#include "crypto/gcm_vaes.h"
#include "crypto/transform.h"

namespace gm::crypto {

enum class key_error : uint8_t { none, bad_cipher_key_len, bad_auth_key_len };

struct alignas(64) sa_keys {
  sa_keys() = default;
  sa_keys(const sa_keys&) = delete;
  sa_keys& operator=(const sa_keys&) = delete;
  ~sa_keys();

  /// Expands keys for `xf`. GCM: `cipher_key` is key||salt as GDOI delivers it.
  /// Not thread-safe; uses `mgr` only for its key-expansion helpers.
  key_error init(IMB_MGR* mgr, transform_id xf, std::span<const uint8_t> cipher_key,
                 std::span<const uint8_t> auth_key);

  /// Wipes all key material (and marks the object unusable).
  void wipe();

  transform_id xf = transform_id::count;
  union {
    gcm_keys gcm;  // ipsec-mb is handed &gcm.imb
    struct {
      alignas(16) uint32_t enc[4 * 15];
      alignas(16) uint32_t dec[4 * 15];
    } aes;
    struct {
      uint64_t sched[3][16];
      alignas(16) uint8_t openssl[3][128];  // des3_schedules, for des3_cbc()
    } des;
  };
  const void* des_ptrs[3] = {};  // the DES3 job wants an array of three key schedules
  alignas(16) uint8_t ipad[32] = {};
  alignas(16) uint8_t opad[32] = {};
  uint8_t salt[4] = {};

  const void* enc_keys = nullptr;  // resolved once in init(), so jobs need no switch
  const void* dec_keys = nullptr;
};

/// Test hook: when set, every sa_keys destructor calls it after wiping, while the object's
/// memory is still valid, so a test can show what an SA leaves behind when it dies
/// (tests/crypto/key_hygiene_test.cc). Null in production; set only by single-threaded tests.
inline void (*sa_keys_destroyed_hook)(const sa_keys&) = nullptr;

}  // namespace gm::crypto
