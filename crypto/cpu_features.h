// The CPU features our own vector code needs, read from CPUID (and XCR0 for the ymm
// state) directly: clang's __builtin_cpu_supports does not know "vaes" or "vpclmulqdq",
// and the fuzz targets build with clang.
#pragma once

#include <cpuid.h>

#include <cstdint>

namespace gm::crypto {

struct cpu_features {
  bool ssse3 = false;
  bool sse41 = false;
  bool aes = false;
  bool pclmul = false;
  bool avx = false;  ///< the CPU has AVX and the OS saves the ymm registers
  bool avx2 = false;
  bool vaes = false;
  bool vpclmulqdq = false;
  bool sha = false;
};

inline const cpu_features& cpu() {
  static const cpu_features f = [] {
    cpu_features r;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) {
      return r;
    }
    r.ssse3 = (c & (1u << 9)) != 0;
    r.sse41 = (c & (1u << 19)) != 0;
    r.aes = (c & (1u << 25)) != 0;
    r.pclmul = (c & (1u << 1)) != 0;
    const bool osxsave = (c & (1u << 27)) != 0;
    if (osxsave && (c & (1u << 28)) != 0) {
      uint32_t xcr0_lo = 0, xcr0_hi = 0;
      __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
      r.avx = (xcr0_lo & 0x6u) == 0x6u;  // the OS saves the xmm and ymm registers
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) != 0) {
      r.avx2 = r.avx && (b & (1u << 5)) != 0;
      r.sha = (b & (1u << 29)) != 0;
      r.vaes = r.avx && (c & (1u << 9)) != 0;
      r.vpclmulqdq = r.avx && (c & (1u << 10)) != 0;
    }
    return r;
  }();
  return f;
}

}  // namespace gm::crypto
