// AES-GCM on VAES and VPCLMULQDQ over 256-bit registers with AVX2, for CPUs that have
// those instructions but not AVX-512 (AMD Zen 3 and 4, Intel Alder Lake and later client
// cores). ipsec-mb 1.3 has VAES GCM only in its AVX-512 manager; on these CPUs it runs its
// AVX2 code, one 128-bit block an instruction: ~1,020 cycles for 1404 bytes on an AMD
// EPYC Zen 3, where two blocks an instruction halve the AES work (docs/perf.md, round 6).
//
// The functions have ipsec-mb's direct-API signature (aes_gcm_enc_dec_t), so crypto_ctx
// hands out either engine's through the same pointer. They take the gcm_key_data that is
// the first member of gcm_keys, and read the rest of gcm_keys through it.
//
// GHASH runs as POLYVAL on byte-reversed blocks (RFC 8452, appendix A): one carry-less
// multiply (Karatsuba) a block and a two-fold reduction per eight blocks, with H^1..H^9
// precomputed.
#pragma once

#include <cstdint>

#include <intel-ipsec-mb.h>

namespace gm::crypto {

struct gcm_keys {
  gcm_key_data imb;  ///< ipsec-mb's: its expanded keys (ours read them too) and GHASH table
  alignas(32) uint8_t rk2[15][32];  ///< round keys, each twice: one per 128-bit lane
  // Each table starts 16 bytes past a 32-byte boundary, so that the pairs the eight-block
  // loop loads (entries 1-2, 3-4, 5-6, 7-8) do not cross cache lines.
  alignas(32) uint8_t pad1[16];
  uint8_t hpow[9][16];  ///< hpow[i] = H^(9-i), H in POLYVAL form (times x)
  alignas(32) uint8_t pad2[16];
  uint8_t hkar[9][16];  ///< hpow[i]'s two halves XORed, in both: for Karatsuba
};

namespace gcm_vaes {

/// True when the CPU (and OS) run AVX2, AES-NI, PCLMULQDQ, VAES and VPCLMULQDQ.
bool cpu_supported();

/// Fills rk2 and hpow from imb.expanded_keys (filled by IMB_AES*_GCM_PRE first).
/// `rounds`: 10 (AES-128) or 14 (AES-256). Only where cpu_supported().
void init_key(gcm_keys& k, int rounds);

/// Encrypt or decrypt `len` bytes from `in` to `out` (the same buffer or apart) and write
/// the `tag_len`-byte tag; the nonce `iv` is 12 bytes; the context argument is unused.
/// AES-128 and AES-256.
extern const aes_gcm_enc_dec_t enc128;
extern const aes_gcm_enc_dec_t dec128;
extern const aes_gcm_enc_dec_t enc256;
extern const aes_gcm_enc_dec_t dec256;

}  // namespace gcm_vaes
}  // namespace gm::crypto
