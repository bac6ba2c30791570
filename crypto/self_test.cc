#include "crypto/self_test.h"

#include <cstring>
#include <memory>

namespace gm::crypto {

bool from_hex(std::string_view hex, std::vector<uint8_t>& out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) {
    return false;
  }
  out.clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

namespace {

// Returns an empty string on success, else what went wrong.
std::string run_one(crypto_ctx& ctx, const kat_vector& v) {
  const transform_info& t = info(v.xf);
  std::vector<uint8_t> key, iv, aad, pt, ct, tag;
  if (!from_hex(v.key, key) || !from_hex(v.iv, iv) || !from_hex(v.aad, aad) ||
      !from_hex(v.pt, pt) || !from_hex(v.ct, ct) || !from_hex(v.tag, tag)) {
    return "vector is not valid hex";
  }
  std::vector<uint8_t> cipher_key(std::size_t{t.key_len} + t.salt_len, 0);
  std::vector<uint8_t> auth_key(t.auth_key_len, 0);
  if (v.auth_only) {
    auth_key = key;
  } else {
    cipher_key = key;
    cipher_key.resize(std::size_t{t.key_len} + t.salt_len, 0);
  }
  auto keys = std::make_unique<sa_keys>();
  if (keys->init(ctx.mgr(), v.xf, cipher_key, auth_key) != key_error::none) {
    return "key expansion rejected the vector's key";
  }
  std::vector<uint8_t> buf = pt;
  buf.resize(pt.size() + 1);  // never hand ipsec-mb a null buffer
  alignas(16) uint8_t icv[32] = {};
  crypto_op op{};
  op.keys = keys.get();
  op.buf = buf.data();
  op.dir = direction::encrypt;
  op.icv = icv;
  op.auth_only = v.auth_only;
  if (v.auth_only) {
    op.auth_len = static_cast<uint32_t>(pt.size());
  } else {
    op.cipher_len = static_cast<uint32_t>(pt.size());
    op.iv = iv.data();
    op.aad = aad.data();
    op.aad_len = static_cast<uint32_t>(aad.size());
    op.auth_len = op.cipher_len;  // HMAC transforms: authenticate the ciphertext
  }
  crypto_op* ops[1] = {&op};
  if (ctx.process(ops, 1) != 1) {
    return "ipsec-mb rejected the job";
  }
  if (!v.auth_only && std::memcmp(buf.data(), ct.data(), ct.size()) != 0) {
    return "ciphertext mismatch";
  }
  if (!tag.empty() && std::memcmp(icv, tag.data(), t.icv_len) != 0) {
    return v.auth_only ? "HMAC mismatch" : "tag mismatch";
  }
  if (t.is_aead() && !v.auth_only) {
    // And back: the decrypt direction must restore the plaintext and accept the tag.
    std::memcpy(icv, tag.data(), t.icv_len);
    op.dir = direction::decrypt;
    if (ctx.process(ops, 1) != 1 || std::memcmp(buf.data(), pt.data(), pt.size()) != 0) {
      return "decrypt did not verify or restore the plaintext";
    }
  }
  return {};
}

}  // namespace

self_test_report run_self_test(crypto_ctx& ctx, std::span<const kat_vector> vectors) {
  self_test_report r;
  std::array<bool, transform_count> seen{};
  r.enabled.fill(true);
  for (const kat_vector& v : vectors) {
    const auto i = static_cast<std::size_t>(v.xf);
    seen[i] = true;
    std::string err = run_one(ctx, v);
    if (!err.empty()) {
      r.enabled[i] = false;
      r.failures.push_back("transform " + std::string(info(v.xf).name) +
                           " disabled: known-answer test '" + std::string(v.source) +
                           "' failed: " + err);
    }
  }
  for (std::size_t i = 0; i < transform_count; ++i) {
    if (!seen[i]) {
      r.enabled[i] = false;
      r.failures.push_back("transform " + std::string(transform_table[i].name) +
                           " disabled: no known-answer test ran for it");
    }
  }
  return r;
}

}  // namespace gm::crypto
