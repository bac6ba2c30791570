// Hand-written byte vectors in tests: "01 11 04 0350 ..." (spaces ignored).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "control/wiping_allocator.h"

namespace gm::control::test {

inline bytes hexb(std::string_view s) {
  bytes out;
  int hi = -1;
  for (char c : s) {
    int v = -1;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else if (c == ' ' || c == '\n' || c == '|') {
      continue;
    } else {
      throw std::invalid_argument("hexb: bad character");
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) {
    throw std::invalid_argument("hexb: odd number of digits");
  }
  return out;
}

}  // namespace gm::control::test
