// A per-lcore crypto context: one ipsec-mb manager, created on the lcore that uses it, and
// the burst entry point that pushes many operations through the multi-buffer job API.
// Not thread-safe: exactly one lcore uses a context.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <intel-ipsec-mb.h>

#include "crypto/sa_keys.h"

namespace gm::crypto {

enum class direction : uint8_t { encrypt, decrypt };

/// One cipher+auth operation on a flat buffer. For ESP the buffer starts at the ESP header.
struct crypto_op {
  const sa_keys* keys;
  uint8_t* buf;
  uint32_t cipher_off;  ///< from buf
  uint32_t cipher_len;
  uint32_t auth_off;  ///< HMAC transforms: authenticated region, from buf
  uint32_t auth_len;
  const uint8_t* aad;  ///< GCM only
  uint32_t aad_len;
  const uint8_t* iv;  ///< CBC/3DES IV, or the 12-byte GCM nonce
  uint8_t* icv;       ///< encrypt: written here; decrypt: compared with this
  direction dir;
  bool auth_only;  ///< run only the hash of the transform (used by the self-test)
  bool ok;         ///< result: job completed and (decrypt) the ICV matched
};

enum class arch : uint8_t { sse, avx, avx2, avx512 };

std::string_view arch_name(arch a);

class crypto_ctx {
 public:
  /// Creates a manager for the best architecture this CPU supports, or at most `cap`
  /// (tests use it to exercise the fallbacks). Returns nullptr if ipsec-mb cannot start.
  static std::unique_ptr<crypto_ctx> create(arch cap = arch::avx512);
  ~crypto_ctx();
  crypto_ctx(const crypto_ctx&) = delete;
  crypto_ctx& operator=(const crypto_ctx&) = delete;

  /// Runs `n` operations through the multi-buffer manager (submit all, then flush) and
  /// sets each op's `ok`. Returns how many succeeded.
  uint16_t process(crypto_op* const* ops, uint16_t n);

  IMB_MGR* mgr() { return _mgr; }
  arch architecture() const { return _arch; }

 private:
  crypto_ctx(IMB_MGR* mgr, arch a) : _mgr(mgr), _arch(a) {}
  // The computed ICV of a decrypt job lands here first, then is compared with the packet's.
  struct alignas(32) icv_scratch {
    uint8_t bytes[32];
  };
  IMB_MGR* _mgr;
  arch _arch;
  icv_scratch _scratch[IMB_MAX_JOBS];
};

}  // namespace gm::crypto
