// Every byte buffer of the control-plane codec is a `bytes`: a vector whose storage is
// wiped before it is freed (STYLE: wipe key buffers after use). KD payloads carry TEK and
// KEK keys, and decrypted or to-be-encrypted messages hold them too, so the codec does not
// try to tell key buffers from others.
#pragma once

#include <string.h>  // explicit_bzero (glibc)

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace gm::control {

template <typename T>
struct wiping_allocator {
  using value_type = T;

  wiping_allocator() = default;
  template <typename U>
  wiping_allocator(const wiping_allocator<U>&) {}  // NOLINT: allocator rebind

  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) {
    explicit_bzero(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const wiping_allocator<U>&) const {
    return true;
  }
};

using bytes = std::vector<uint8_t, wiping_allocator<uint8_t>>;
/// The same type as `bytes`; the name marks key material.
using key_bytes = bytes;

}  // namespace gm::control
