// Everything the ESP stages mutate, owned by one lcore: the crypto context, IV and
// sequence counters, per-SA counters and scratch. No field is shared with another lcore,
// so the packet path needs no atomics; readers sum the per-lcore copies.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

#include <rte_byteorder.h>

#include "crypto/crypto_ctx.h"
#include "crypto/esp_sa.h"
#include "dataplane/burst.h"
#include "dataplane/drop_reason.h"

namespace gm::crypto {

struct alignas(64) sa_counters {
  uint64_t encaps = 0, encrypt = 0, digest = 0;  // IOS: #pkts encaps/encrypt/digest
  uint64_t decaps = 0, decrypt = 0, verify = 0;  // IOS: #pkts decaps/decrypt/verify
  uint64_t bytes_out = 0, bytes_in = 0;          // inner bytes
  std::array<uint64_t, drop_reason_count> drops{};

  sa_counters& operator+=(const sa_counters& o);
};

class esp_lcore {
 public:
  /// `sender_id`: the GM's sender id (KS-assigned SID, or configured); only the low 16 bits
  /// go into GCM IVs. `lcore_index`: 0..255, unique among this GM's workers.
  /// Returns nullptr if the crypto context cannot start.
  static std::unique_ptr<esp_lcore> create(uint32_t sender_id, uint8_t lcore_index,
                                           arch cap = arch::avx512);

  crypto_ctx& crypto() { return *_crypto; }
  const crypto_ctx& crypto() const { return *_crypto; }

  /// Transforms the start-up self-test passed; others are dropped as transform_disabled.
  std::array<bool, transform_count> enabled{};

  /// Per-SA counters, indexed by esp_sa::slot.
  std::array<sa_counters, max_sa_slots> sa{};
  /// Drops that have no SA to be charged to (unknown SPI, malformed outer header).
  sa_counters no_sa{};

  // --- used by the ESP stages ------------------------------------------------------
  uint32_t sender_id;
  uint8_t lcore_index;
  uint16_t next_ip_id;
  uint64_t gcm_iv_counter;  ///< 40 bits used; see next_gcm_iv()
  std::array<uint32_t, max_sa_slots> seq_out{};

  /// Writes the 8-byte GCM IV: sender id (16 bits) | lcore (8) | counter (40). Unique
  /// across every GM and lcore sharing the key as long as sender ids are. Returns false
  /// when the counter is exhausted (2^40 packets: a rekey is long overdue).
  bool next_gcm_iv(uint8_t* iv) {
    const uint64_t ctr = gcm_iv_counter;
    if (ctr >> 40 != 0) [[unlikely]] {
      return false;
    }
    gcm_iv_counter = ctr + 1;
    const uint64_t be = rte_cpu_to_be_64(uint64_t{sender_id & 0xffff} << 48 |
                                         uint64_t{lcore_index} << 40 | ctr);
    std::memcpy(iv, &be, sizeof(be));
    return true;
  }

  /// Writes `len` (8 or 16) unpredictable IV bytes for CBC: AES-128 of a per-lcore
  /// counter under a per-lcore random key (distinct values, nothing an observer can
  /// predict, one AES block per packet).
  void next_cbc_iv(uint8_t* iv, uint8_t len);

  /// The next `n` (<= max_burst) IVs that next_cbc_iv() would give, 16 bytes each (take
  /// the first 8 for 3DES), computed together so that the AES rounds of several blocks
  /// overlap. Consumes none: consume_cbc_ivs(k) then takes the first k.
  void peek_cbc_ivs(uint8_t (*ivs)[16], uint16_t n) const;
  void consume_cbc_ivs(uint16_t k) { _cbc_iv_counter += k; }

  struct scratch_t {
    crypto_op ops[max_burst];
    crypto_op* op_ptrs[max_burst];  // &ops[i], set once
    crypto_op* job_ops[max_burst];  // decrypt: the chunk's non-GCM ops
    alignas(16) uint8_t nonce[max_burst][16];
  } scratch;

 private:
  esp_lcore() = default;
  std::unique_ptr<crypto_ctx> _crypto;
  alignas(16) uint32_t _iv_key_enc[4 * 11];
  alignas(16) uint32_t _iv_key_dec[4 * 11];
  uint64_t _cbc_iv_counter = 0;
};

}  // namespace gm::crypto
