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

// Our AES-CBC + HMAC-SHA1 engines (crypto/cbc_sha1_shani) take packets in ESP's layout
// only: esp_cbc_hmac_encrypt(), and process() on esp_job_op()s. The vectors above are not
// in that layout, so they reach ipsec-mb alone. Each engine is checked here against
// ipsec-mb, whose known answers have just passed: one burst of ESP packets whose lengths
// cover one and two padding blocks, the stitched steps and groups of one to three, then
// decrypted, and one packet's ICV flipped. Returns an empty string on success.
std::string check_esp_cbc_sha1(crypto_ctx& ctx, transform_id xf) {
  constexpr uint32_t hdr = 8;
  constexpr uint32_t iv_len = 16;
  constexpr uint32_t lens[] = {16, 32, 48, 96, 400, 400, 400, 400, 1408, 1504, 1504};
  constexpr uint16_t n = sizeof(lens) / sizeof(lens[0]);
  const transform_info& t = info(xf);
  std::vector<uint8_t> cipher_key(t.key_len);
  std::vector<uint8_t> auth_key(t.auth_key_len);
  for (std::size_t i = 0; i < cipher_key.size(); ++i) {
    cipher_key[i] = static_cast<uint8_t>(0x11 * i + 3);
  }
  for (std::size_t i = 0; i < auth_key.size(); ++i) {
    auth_key[i] = static_cast<uint8_t>(0x2b * i + 7);
  }
  auto keys = std::make_unique<sa_keys>();
  if (keys->init(ctx.mgr(), xf, cipher_key, auth_key) != key_error::none) {
    return "key expansion failed";
  }
  std::vector<std::vector<uint8_t>> ref(n);
  std::vector<std::vector<uint8_t>> ours(n);
  std::vector<crypto_op> op(n);
  std::vector<crypto_op*> ops(n);
  std::vector<esp_span> spans(n);
  for (uint16_t i = 0; i < n; ++i) {
    ref[i].resize(hdr + iv_len + lens[i] + t.icv_len);
    for (std::size_t b = 0; b < ref[i].size(); ++b) {
      ref[i][b] = static_cast<uint8_t>(b * 7 + i * 31 + 1);
    }
    ours[i] = ref[i];
    esp_job_op(keys.get(), ref[i].data(), hdr, iv_len, lens[i], direction::encrypt, op[i]);
    ops[i] = &op[i];
    spans[i] = {ours[i].data(), lens[i]};
  }
  const std::vector<std::vector<uint8_t>> plain = ref;
  if (ctx.process(ops.data(), n) != n) {
    return "ipsec-mb rejected an ESP packet";
  }
  ctx.esp_cbc_hmac_encrypt(*keys, spans.data(), n);
  for (uint16_t i = 0; i < n; ++i) {
    if (ours[i] != ref[i]) {
      return "encryption of a " + std::to_string(lens[i]) +
             "-byte payload disagreed with ipsec-mb";
    }
  }
  constexpr uint16_t flipped = 5;
  ours[flipped].back() ^= 0x01;
  for (uint16_t i = 0; i < n; ++i) {
    esp_job_op(keys.get(), ours[i].data(), hdr, iv_len, lens[i], direction::decrypt, op[i]);
  }
  ctx.process(ops.data(), n);
  for (uint16_t i = 0; i < n; ++i) {
    const bool restored =
        std::memcmp(ours[i].data(), plain[i].data(), hdr + iv_len + lens[i]) == 0;
    if (i == flipped ? op[i].ok : !op[i].ok || !restored) {
      return "decryption of a " + std::to_string(lens[i]) + "-byte payload " +
             (i == flipped ? "accepted a wrong ICV" : "did not verify or restore it");
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
  // cbc_sha1_decrypt_ours() implies cbc_sha1_stitched(): without it neither engine runs.
  for (const transform_info& t : transform_table) {
    const auto i = static_cast<std::size_t>(t.id);
    if (!ctx.cbc_sha1_stitched() || !r.enabled[i] || !t.cbc_hmac_sha1()) continue;
    const std::string err = check_esp_cbc_sha1(ctx, t.id);
    if (!err.empty()) {
      r.enabled[i] = false;
      r.failures.push_back("transform " + std::string(t.name) +
                           " disabled: the SHA-NI engine's " + err +
                           " (GM_CBC_SHA1_ENGINE=ipsec-mb runs it on ipsec-mb)");
    } else {
      r.engine_checked.push_back(t.id);
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
