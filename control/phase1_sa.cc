// IKEv1 encryption of messages under a phase-1 SA and the CBC IV chaining of RFC 2409
// Appendix B: every exchange (message id) keeps its own chain, seeded from the phase-1 IV.
#include "control/phase1_sa.h"

#include <algorithm>

namespace gm::control {

namespace {

bytes last_block(std::span<const uint8_t> c, std::size_t block) {
  return bytes(c.end() - static_cast<std::ptrdiff_t>(block), c.end());
}

}  // namespace

bytes next_iv(const phase1_sa& sa, uint32_t message_id) {
  const std::size_t block = ike::block_len(sa.policy.cipher);
  if (auto it = sa.exchange_iv.find(message_id); it != sa.exchange_iv.end()) {
    return it->second;
  }
  if (message_id == 0) {
    // Phase 1 itself (Main Mode messages 5 and 6): the IV Main Mode derived from g^xi | g^xr.
    return sa.phase1_iv;
  }
  // First message of a new exchange: hash(last phase-1 CBC block | M-ID), M-ID big-endian.
  const uint8_t mid[4] = {static_cast<uint8_t>(message_id >> 24),
                          static_cast<uint8_t>(message_id >> 16),
                          static_cast<uint8_t>(message_id >> 8), static_cast<uint8_t>(message_id)};
  bytes h = ike::digest(sa.policy.hash, {sa.phase1_iv, mid});
  h.resize(std::min(block, h.size()));
  return h;
}

bytes protect(phase1_sa& sa, isakmp_header header, std::span<const uint8_t> payload_chain) {
  const std::size_t block = ike::block_len(sa.policy.cipher);
  // Zero padding to the block (IKEv1 has no pad-length byte; the chain's own lengths say
  // where the payloads end).
  bytes plain(payload_chain.begin(), payload_chain.end());
  plain.resize((plain.size() + block - 1) / block * block, 0);
  const bytes iv = next_iv(sa, header.message_id);
  auto cipher_text = ike::cbc_encrypt(sa.policy.cipher, sa.enc_key, iv, plain);
  if (!cipher_text) {
    return {};  // enc_key or phase1_iv of the wrong size: a broken SA, not a network input
  }
  header.flags |= flag::encryption;
  header.length = static_cast<uint32_t>(header_len + cipher_text->size());
  bytes out;
  out.reserve(header.length);
  byte_writer w(out);
  encode_header(header, w);
  w.put(*cipher_text);
  if (!cipher_text->empty()) {
    sa.exchange_iv[header.message_id] = last_block(*cipher_text, block);
  }
  return out;
}

std::optional<bytes> unprotect(phase1_sa& sa, std::span<const uint8_t> datagram) {
  auto h = decode_header(datagram);
  if (!h || (h->flags & flag::encryption) == 0) {
    return std::nullopt;
  }
  const std::size_t block = ike::block_len(sa.policy.cipher);
  const auto cipher_text = datagram.subspan(header_len);
  if (cipher_text.empty() || cipher_text.size() % block != 0) {
    return std::nullopt;
  }
  auto plain =
      ike::cbc_decrypt(sa.policy.cipher, sa.enc_key, next_iv(sa, h->message_id), cipher_text);
  if (!plain) {
    return std::nullopt;
  }
  sa.exchange_iv[h->message_id] = last_block(cipher_text, block);
  return plain;
}

}  // namespace gm::control
