// 3DES-CBC through OpenSSL's DES primitives, for CPUs where ipsec-mb 1.3's DES is its
// portable code: without AVX-512 it measured ~5,900 cycles a byte on an AMD EPYC
// (perf/results/2026-12-07/r5-micro/des_micro.c), ~60x OpenSSL's on the same core. The key
// schedules live in sa_keys beside ipsec-mb's, so any lcore can use them (read-only); the
// IV is copied per call, never written back into the packet.
#pragma once

#include <cstdint>

namespace gm::crypto {

inline constexpr std::size_t des3_sched_len = 128;  // sizeof(DES_key_schedule)
using des3_schedules = uint8_t[3][des3_sched_len];

/// Expands the 24-byte key (K1 || K2 || K3) into `out`. Parity and weak keys are not
/// checked (neither does ipsec-mb, nor IOS for keys a KS sent).
void des3_schedule(const uint8_t* key, des3_schedules& out);

/// CBC-encrypts or -decrypts `len` bytes (a multiple of 8) at `data` in place.
void des3_cbc(const des3_schedules& k, uint8_t* data, uint32_t len, const uint8_t* iv,
              bool encrypt);

}  // namespace gm::crypto
