// protect()/unprotect() under a phase-1 SA and the RFC 2409 Appendix B IV rules, checked by
// decrypting with the (known-answer tested) CBC primitive and IVs computed here by hand.
#include "control/phase1_sa.h"

#include <gtest/gtest.h>

#include "tests/control/hex.h"

namespace gm::control {
namespace {

using test::hexb;

phase1_sa make_sa(ike::cipher c, uint16_t key_bits, ike::hash_alg h, bool initiator) {
  phase1_sa sa;
  sa.policy.cipher = c;
  sa.policy.key_bits = key_bits;
  sa.policy.hash = h;
  sa.initiator = initiator;
  sa.icookie = {1, 2, 3, 4, 5, 6, 7, 8};
  sa.rcookie = {9, 10, 11, 12, 13, 14, 15, 16};
  sa.enc_key = key_bytes(key_bits / 8);
  for (std::size_t i = 0; i < sa.enc_key.size(); ++i) {
    sa.enc_key[i] = static_cast<uint8_t>(0x40 + i);
  }
  sa.phase1_iv = hexb("00112233445566778899aabbccddeeff");
  sa.phase1_iv.resize(ike::block_len(c));
  return sa;
}

isakmp_header pull_header(const phase1_sa& sa, uint32_t mid) {
  isakmp_header h;
  h.initiator_cookie = sa.icookie;
  h.responder_cookie = sa.rcookie;
  h.next_payload = payload::hash;
  h.exchange_type = exchange::groupkey_pull;
  h.message_id = mid;
  return h;
}

bytes first_iv_by_hand(const phase1_sa& sa, uint32_t mid) {
  bytes in = sa.phase1_iv;
  for (int s = 24; s >= 0; s -= 8) {
    in.push_back(static_cast<uint8_t>(mid >> s));
  }
  bytes h = ike::digest(sa.policy.hash, in);
  h.resize(ike::block_len(sa.policy.cipher));
  return h;
}

bytes chain_of(std::size_t n) {
  bytes c(n);
  for (std::size_t i = 0; i < n; ++i) {
    c[i] = static_cast<uint8_t>(i * 7 + 1);
  }
  return c;
}

struct suite_param {
  ike::cipher cipher;
  uint16_t key_bits;
  ike::hash_alg hash;
};

class phase1_protect : public ::testing::TestWithParam<suite_param> {};

TEST_P(phase1_protect, first_message_uses_hash_of_phase1_iv_and_mid) {
  const auto p = GetParam();
  phase1_sa gm = make_sa(p.cipher, p.key_bits, p.hash, true);
  const std::size_t block = ike::block_len(p.cipher);
  const uint32_t mid = 0xa1b2c3d4;
  const bytes chain = chain_of(21);
  EXPECT_EQ(next_iv(gm, mid), first_iv_by_hand(gm, mid));
  const bytes msg = protect(gm, pull_header(gm, mid), chain);
  const std::size_t padded = (21 + block - 1) / block * block;
  ASSERT_EQ(msg.size(), header_len + padded);
  auto h = decode_header(msg);
  ASSERT_TRUE(h.ok()) << describe(h.error());
  EXPECT_EQ(h->flags & flag::encryption, flag::encryption);
  EXPECT_EQ(h->length, msg.size());
  EXPECT_EQ(h->message_id, mid);
  EXPECT_EQ(h->next_payload, payload::hash);
  // Decrypt by hand: zero padding after the chain.
  auto plain = ike::cbc_decrypt(p.cipher, gm.enc_key, first_iv_by_hand(gm, mid),
                                std::span(msg).subspan(header_len));
  ASSERT_TRUE(plain);
  bytes expect = chain;
  expect.resize(padded, 0);
  EXPECT_EQ(*plain, expect);
  // The exchange now chains on the last ciphertext block.
  EXPECT_EQ(gm.exchange_iv.at(mid), bytes(msg.end() - static_cast<long>(block), msg.end()));
}

TEST_P(phase1_protect, exchange_round_trip_chains_in_both_directions) {
  const auto p = GetParam();
  phase1_sa gm = make_sa(p.cipher, p.key_bits, p.hash, true);
  phase1_sa ks = make_sa(p.cipher, p.key_bits, p.hash, false);
  const std::size_t block = ike::block_len(p.cipher);
  const uint32_t mid = 77;
  // GROUPKEY-PULL: four messages, alternating direction, one message id.
  for (int i = 0; i < 4; ++i) {
    phase1_sa& tx = (i % 2 == 0) ? gm : ks;
    phase1_sa& rx = (i % 2 == 0) ? ks : gm;
    const bytes chain = chain_of(static_cast<std::size_t>(30 + i * 17));
    const bytes iv_before = next_iv(tx, mid);
    EXPECT_EQ(iv_before, next_iv(rx, mid)) << i;
    if (i == 0) {
      EXPECT_EQ(iv_before, first_iv_by_hand(gm, mid));
    }
    const bytes msg = protect(tx, pull_header(tx, mid), chain);
    auto plain = unprotect(rx, msg);
    ASSERT_TRUE(plain) << i;
    EXPECT_EQ(bytes(plain->begin(), plain->begin() + static_cast<long>(chain.size())), chain);
    EXPECT_EQ(plain->size() % block, 0u);
    const bytes last(msg.end() - static_cast<long>(block), msg.end());
    EXPECT_EQ(tx.exchange_iv.at(mid), last) << i;
    EXPECT_EQ(rx.exchange_iv.at(mid), last) << i;
  }
  // Another exchange starts afresh from the phase-1 IV, independent of the first.
  EXPECT_EQ(next_iv(gm, 78), first_iv_by_hand(gm, 78));
  EXPECT_NE(next_iv(gm, 78), next_iv(gm, 77));
}

TEST_P(phase1_protect, block_aligned_chain_is_not_padded) {
  const auto p = GetParam();
  phase1_sa gm = make_sa(p.cipher, p.key_bits, p.hash, true);
  const std::size_t block = ike::block_len(p.cipher);
  const bytes msg = protect(gm, pull_header(gm, 5), chain_of(block * 3));
  EXPECT_EQ(msg.size(), header_len + block * 3);
}

INSTANTIATE_TEST_SUITE_P(
    suites, phase1_protect,
    ::testing::Values(suite_param{ike::cipher::aes_cbc, 128, ike::hash_alg::sha1},
                      suite_param{ike::cipher::aes_cbc, 256, ike::hash_alg::sha256},
                      suite_param{ike::cipher::des3_cbc, 192, ike::hash_alg::sha1},
                      suite_param{ike::cipher::des3_cbc, 192, ike::hash_alg::sha256}),
    [](const auto& info) {
      return std::string(info.param.cipher == ike::cipher::aes_cbc ? "aes" : "3des") +
             std::to_string(info.param.key_bits) + "_" + ike::name(info.param.hash);
    });

TEST(phase1_iv, message_id_zero_starts_from_phase1_iv) {
  phase1_sa sa = make_sa(ike::cipher::aes_cbc, 128, ike::hash_alg::sha1, true);
  EXPECT_EQ(next_iv(sa, 0), sa.phase1_iv);
  isakmp_header h = pull_header(sa, 0);
  h.exchange_type = exchange::identity_protection;
  const bytes msg = protect(sa, h, chain_of(40));
  auto plain = ike::cbc_decrypt(sa.policy.cipher, sa.enc_key, sa.phase1_iv,
                                std::span(msg).subspan(header_len));
  ASSERT_TRUE(plain);
  EXPECT_EQ(bytes(plain->begin(), plain->begin() + 40), chain_of(40));
}

TEST(phase1_iv, message_id_is_big_endian_in_the_hash) {
  // Byte order matters: 0x01000000 and 0x00000001 give different first IVs.
  phase1_sa sa = make_sa(ike::cipher::aes_cbc, 128, ike::hash_alg::sha256, true);
  EXPECT_NE(next_iv(sa, 1), next_iv(sa, 0x01000000));
  bytes in = sa.phase1_iv;
  in.insert(in.end(), {0, 0, 0, 1});
  bytes h = ike::digest(ike::hash_alg::sha256, in);
  EXPECT_EQ(next_iv(sa, 1), bytes(h.begin(), h.begin() + 16));
}

TEST(phase1_unprotect, refuses_malformed) {
  phase1_sa gm = make_sa(ike::cipher::aes_cbc, 128, ike::hash_alg::sha1, true);
  phase1_sa ks = make_sa(ike::cipher::aes_cbc, 128, ike::hash_alg::sha1, false);
  const bytes msg = protect(gm, pull_header(gm, 9), chain_of(20));
  // Short of a block: the header length still matches the datagram.
  bytes cut(msg.begin(), msg.end() - 1);
  cut[27] = static_cast<uint8_t>(cut.size());
  EXPECT_FALSE(unprotect(ks, cut));
  // No E flag.
  bytes clear = msg;
  clear[19] &= static_cast<uint8_t>(~flag::encryption);
  EXPECT_FALSE(unprotect(ks, clear));
  // Header length disagreeing with the datagram.
  bytes longer = msg;
  longer.push_back(0);
  EXPECT_FALSE(unprotect(ks, longer));
  // Header only.
  bytes header_only(msg.begin(), msg.begin() + header_len);
  header_only[27] = header_len;
  EXPECT_FALSE(unprotect(ks, header_only));
  EXPECT_FALSE(unprotect(ks, bytes{}));
  // None of these moved the IV: the good message still decrypts.
  EXPECT_TRUE(ks.exchange_iv.empty());
  auto plain = unprotect(ks, msg);
  ASSERT_TRUE(plain);
  EXPECT_EQ(bytes(plain->begin(), plain->begin() + 20), chain_of(20));
}

TEST(phase1_unprotect, restoring_exchange_iv_rolls_back_a_rejected_message) {
  phase1_sa gm = make_sa(ike::cipher::aes_cbc, 256, ike::hash_alg::sha256, true);
  phase1_sa ks = make_sa(ike::cipher::aes_cbc, 256, ike::hash_alg::sha256, false);
  const bytes good = protect(gm, pull_header(gm, 3), chain_of(33));
  bytes forged = good;
  forged.back() ^= 0xff;
  const auto saved = ks.exchange_iv;
  ASSERT_TRUE(unprotect(ks, forged));  // decrypts to garbage; a HASH check would fail
  ks.exchange_iv = saved;
  auto plain = unprotect(ks, good);
  ASSERT_TRUE(plain);
  EXPECT_EQ(bytes(plain->begin(), plain->begin() + 33), chain_of(33));
}

}  // namespace
}  // namespace gm::control
