// AES-CBC and HMAC-SHA1 of ESP packets in one pass, on AES-NI and SHA-NI, up to three
// packets at a time: for CPUs with SHA-NI and no AVX-512 (AMD Zen, Intel client cores).
//
// Why: there ipsec-mb 1.3 runs the cipher (eight AES-NI lanes) and the hash (eight AVX2
// SHA-1 lanes, or its two-buffer SHA-NI code) as two passes over the packet, ~1,800
// cycles for 1420 bytes on an AMD EPYC Zen 3, and so does ipsec-secgw. SHA-1's rounds
// (SHA1RNDS4) and AES's run on different pipes there (docs/perf.md, round 7), so the
// cipher's rounds can run in the gaps of the hash's: each step hashes one 64-byte block of
// each packet and ciphers four 16-byte blocks of each, and three packets keep both units
// busy where one packet's dependency chains would leave them idle (four spill registers,
// and measured slower: docs/perf.md, round 8).
//
// The HMAC covers the ESP header, the IV and the ciphertext (RFC 4303: encrypt-then-MAC);
// the pads are the SA's precomputed SHA-1 states (sa_keys::ipad/opad, host-order words,
// as ipsec-mb's one-block call leaves them).
#pragma once

#include <cstdint>

namespace gm::crypto {

struct sa_keys;

namespace cbc_sha1 {

/// One ESP packet: the 8-byte header and the 16-byte IV at `esp`, then `ct_len` bytes to
/// encrypt in place.
struct packet {
  uint8_t* esp;
  uint32_t ct_len;  ///< a nonzero multiple of 16
  uint8_t* icv;     ///< where the ICV goes
};

/// True when the CPU (and OS) run AVX, AES-NI and SHA-NI.
bool cpu_supported();

/// Encrypts each packet's payload and writes its `icv_len`-byte ICV (at most 20). `k` is an
/// AES-CBC + HMAC-SHA1 SA (AES-128 or AES-256). Only where cpu_supported().
void encrypt(const sa_keys& k, const packet* p, uint16_t n, uint32_t icv_len);

/// One received ESP packet: its SA, the 8-byte header and the 16-byte IV at `esp`, then
/// `ct_len` bytes to decrypt in place, then the ICV to check.
struct rx_packet {
  const sa_keys* keys;  ///< AES-CBC + HMAC-SHA1, AES-128 or AES-256
  uint8_t* esp;
  uint32_t ct_len;  ///< a nonzero multiple of 16
  const uint8_t* icv;
};

/// True when the CPU runs decrypt(): SHA-NI and VAES (crypto/aes_cbc_vaes.h) as well.
bool decrypt_supported();

/// Checks each packet's `icv_len`-byte ICV (three packets of one length hashed side by
/// side on SHA-NI, not stitched with the cipher) and sets ok[i]; decrypts the payload of
/// those that match (crypto/aes_cbc_vaes.h), and leaves the others as they came. The
/// stitched shape of encrypt() measured no faster for decryption (docs/perf.md, round 7):
/// CBC decryption has no chain, so the cipher is best run at the AES unit's full width
/// on its own. Only where decrypt_supported().
void decrypt(const rx_packet* p, uint16_t n, uint32_t icv_len, bool* ok);

}  // namespace cbc_sha1
}  // namespace gm::crypto
