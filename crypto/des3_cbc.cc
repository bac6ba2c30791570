// OpenSSL 3.0 marks the DES_* primitives deprecated in favour of EVP. EVP wants a context
// holding the key per SA per lcore; these keep the schedule in the SA (read-only, wiped
// with it) and take the IV per call, which is what a multi-lcore data plane needs.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/des3_cbc.h"

#include <cstring>

#include <openssl/crypto.h>
#include <openssl/des.h>

namespace gm::crypto {

static_assert(sizeof(DES_key_schedule) == des3_sched_len);

void des3_schedule(const uint8_t* key, des3_schedules& out) {
  for (int i = 0; i < 3; ++i) {
    DES_cblock k;
    std::memcpy(k, key + 8 * i, sizeof(k));
    DES_set_key_unchecked(&k, reinterpret_cast<DES_key_schedule*>(out[i]));
    OPENSSL_cleanse(k, sizeof(k));
  }
}

void des3_cbc(const des3_schedules& k, uint8_t* data, uint32_t len, const uint8_t* iv,
              bool encrypt) {
  DES_cblock chain;
  std::memcpy(chain, iv, sizeof(chain));
  // const_cast: OpenSSL's prototypes take non-const schedules but only read them.
  auto* ks = reinterpret_cast<DES_key_schedule*>(const_cast<uint8_t*>(&k[0][0]));
  DES_ede3_cbc_encrypt(data, data, len, &ks[0], &ks[1], &ks[2], &chain,
                       encrypt ? DES_ENCRYPT : DES_DECRYPT);
}

}  // namespace gm::crypto
