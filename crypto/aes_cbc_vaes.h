// AES-CBC decryption on VAES: two blocks an instruction, sixteen in flight.
//
// Why: CBC decryption has no chain (each plaintext block is D(C_i) ^ C_{i-1}), so its
// speed is the AES unit's throughput. ipsec-mb 1.3 without AVX-512 decrypts eight 128-bit
// blocks side by side; where the CPU has VAES (AMD Zen 3, Intel Ice Lake and later), a
// 256-bit VAESDEC does two blocks in the time of one, so the same packet takes about
// half the AES time (docs/perf.md, round 8).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gm::crypto::aes_cbc_vaes {

/// True when the CPU (and OS) run AVX2, AES-NI and VAES.
bool cpu_supported();

/// Decrypts `nblocks` 16-byte blocks at `ct` in place; the IV is the 16 bytes before `ct`
/// (ESP's layout). `dec_keys`: the `rounds` + 1 decryption round keys in the order
/// ipsec-mb's key expansion leaves them (XOR with the first, AESDEC with the next
/// `rounds` - 1, AESDECLAST with the last). `rounds` is 10 or 14. Only where
/// cpu_supported().
void decrypt(const void* dec_keys, int rounds, uint8_t* ct, std::size_t nblocks);

}  // namespace gm::crypto::aes_cbc_vaes
