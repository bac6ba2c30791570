// GROUPKEY-PUSH build/open round trips over the KEK algorithm x signature hash x signature
// form x IV mode matrix, each failure its typed error, the KEK-rekey SEQ reset, and the
// RFC 8263 acknowledgement.
#include "control/groupkey_push.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <tuple>
#include <variant>

#include "control/gdoi_message.h"
#include "tests/control/groupkey_fixture.h"

namespace gm::control {
namespace {

using test::make_kek;
using test::make_offer;
using test::spi_filled;

bytes built(const std::variant<bytes, push_error>& r) {
  if (const auto* e = std::get_if<push_error>(&r)) {
    ADD_FAILURE() << describe(*e);
    return {};
  }
  return std::get<bytes>(r);
}

push_errc error_of(const std::variant<opened_push, push_error>& r) {
  const auto* e = std::get_if<push_error>(&r);
  if (e == nullptr) {
    ADD_FAILURE() << "accepted";
    return push_errc::codec;
  }
  return e->code;
}

const ike::rsa_key& other_signing_key() {
  static const ike::rsa_key k = *ike::rsa_key::generate(2048);
  return k;
}

delete_payload delete_old_tek() {
  delete_payload d;
  d.spis.push_back(bytes{0x0f, 0xee, 0xdd, 0xcc});
  return d;
}

using matrix = std::tuple<uint16_t /*kek alg*/, uint16_t /*key bits*/, uint16_t /*sig hash*/,
                          ike::sig_form, bool /*static iv*/>;

struct push_matrix : ::testing::TestWithParam<matrix> {};

TEST_P(push_matrix, build_then_open) {
  const auto [alg, bits, hash, form, static_iv] = GetParam();
  const auto kek = make_kek(spi_filled(0xa0), alg, bits, hash, test::ks_signing_key());
  const kek_state ks = test::kek_state_of(kek);
  EXPECT_EQ(ks.key.size(), bits / 8u);
  EXPECT_EQ(ks.iv.size(), alg == kek_alg::aes ? 16u : 8u);
  ks_offer o = make_offer(4, kek);
  o.kd.packets.pop_back();  // a TEK rekey: no new KEK
  o.sa.kek.reset();
  const bytes dgram = built(build_push(ks, test::ks_signing_key(), 42, o.sa, o.kd, delete_old_tek(),
                                       rekey_build_options{form, static_iv}));
  auto h = decode_header(dgram);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->exchange_type, exchange::groupkey_push);
  EXPECT_EQ(h->message_id, 0u);
  EXPECT_EQ(h->flags, flag::encryption);
  EXPECT_EQ(h->next_payload, payload::seq);
  EXPECT_TRUE(std::equal(ks.spi.begin(), ks.spi.begin() + 8, h->initiator_cookie.begin()));
  EXPECT_TRUE(std::equal(ks.spi.begin() + 8, ks.spi.end(), h->responder_cookie.begin()));
  // RFC mode sends one IV block more than the ciphertext needs.
  EXPECT_EQ((dgram.size() - header_len) %
                ike::block_len(alg == kek_alg::aes ? ike::cipher::aes_cbc : ike::cipher::des3_cbc),
            0u);

  const auto r = open_push(dgram, ks, 41);
  ASSERT_TRUE(std::holds_alternative<opened_push>(r)) << describe(std::get<push_error>(r));
  const opened_push& p = std::get<opened_push>(r);
  EXPECT_EQ(p.seq, 42u);
  EXPECT_EQ(p.sa, o.sa);
  EXPECT_EQ(p.kd, o.kd);
  ASSERT_TRUE(p.del.has_value());
  EXPECT_EQ(*p.del, delete_old_tek());
  EXPECT_EQ(p.form, form);
  EXPECT_EQ(p.static_iv, static_iv);
  EXPECT_TRUE(p.forms.tek_rfc);
  // The plaintext copy decodes as a whole message with the same payloads.
  auto plain = decode_message(p.plaintext);
  ASSERT_TRUE(plain.ok()) << describe(plain.error());
  EXPECT_EQ(plain->message.payloads.size(), 5u);
}

INSTANTIATE_TEST_SUITE_P(kek_x_hash_x_form_x_iv, push_matrix,
                         ::testing::Combine(::testing::Values(kek_alg::aes),
                                            ::testing::Values(uint16_t{128}, uint16_t{256}),
                                            ::testing::Values(sig_hash::sha1, sig_hash::sha256),
                                            ::testing::Values(ike::sig_form::digest_info,
                                                              ike::sig_form::raw_hash),
                                            ::testing::Bool()));
INSTANTIATE_TEST_SUITE_P(
    des3, push_matrix,
    ::testing::Combine(::testing::Values(kek_alg::des3), ::testing::Values(uint16_t{192}),
                       ::testing::Values(sig_hash::sha1, sig_hash::sha256),
                       ::testing::Values(ike::sig_form::digest_info, ike::sig_form::raw_hash),
                       ::testing::Bool()));

struct push : ::testing::Test {
  test::kek_material kek =
      make_kek(spi_filled(0xa0), kek_alg::aes, 128, sig_hash::sha256, test::ks_signing_key());
  kek_state state = test::kek_state_of(kek);
  ks_offer offer = make_offer(3, kek);

  bytes make(uint32_t seq, const ike::rsa_key& signer, bool static_iv = false) {
    return built(build_push(state, signer, seq, offer.sa, offer.kd, std::nullopt,
                            rekey_build_options{ike::sig_form::digest_info, static_iv}));
  }
};

TEST_F(push, signed_by_another_key) {
  EXPECT_EQ(error_of(open_push(make(2, other_signing_key()), state, 1)), push_errc::bad_signature);
}

TEST_F(push, tampered_ciphertext) {
  for (bool static_iv : {false, true}) {
    const bytes good = make(2, test::ks_signing_key(), static_iv);
    // The last block carries the end of the SIG payload.
    bytes last = good;
    last[last.size() - 1] ^= 0x01;
    EXPECT_EQ(error_of(open_push(last, state, 1)), push_errc::bad_signature) << static_iv;
    // The first ciphertext block (RFC mode: flipping the sent IV flips the SEQ value).
    bytes first = good;
    first[header_len + 7] ^= 0x01;
    const push_errc e = error_of(open_push(first, state, 1));
    EXPECT_TRUE(e == push_errc::bad_signature || e == push_errc::decrypt_failed ||
                e == push_errc::missing_payload)
        << name(e);
    // The header is signed too: a commit flag added in transit breaks the signature.
    bytes hdr = good;
    hdr[19] |= flag::commit;
    EXPECT_EQ(error_of(open_push(hdr, state, 1)), push_errc::bad_signature);
  }
}

TEST_F(push, wrong_key_cannot_decrypt) {
  kek_state wrong = state;
  wrong.key[0] ^= 0xff;
  EXPECT_EQ(error_of(open_push(make(2, test::ks_signing_key()), wrong, 1)),
            push_errc::decrypt_failed);
}

TEST_F(push, wrong_cookies) {
  kek_state other = state;
  other.spi[15] ^= 1;
  EXPECT_EQ(error_of(open_push(make(2, test::ks_signing_key()), other, 1)), push_errc::unknown_kek);
}

TEST_F(push, replayed_seq) {
  const bytes m = make(5, test::ks_signing_key());
  EXPECT_EQ(error_of(open_push(m, state, 5)), push_errc::replayed_seq);
  EXPECT_EQ(error_of(open_push(m, state, 6)), push_errc::replayed_seq);
  EXPECT_TRUE(std::holds_alternative<opened_push>(open_push(m, state, 4)));
  rekey_receiver gm{state, 4};
  EXPECT_TRUE(std::holds_alternative<opened_push>(gm.receive(m)));
  EXPECT_EQ(gm.last_seq, 5u);
  EXPECT_EQ(error_of(gm.receive(m)), push_errc::replayed_seq);
}

TEST_F(push, other_exchanges_and_garbage) {
  EXPECT_EQ(error_of(open_push(ike::random_bytes(10), state, 0)), push_errc::codec);
  bytes m = make(2, test::ks_signing_key());
  m[18] = exchange::groupkey_pull;
  EXPECT_EQ(error_of(open_push(m, state, 0)), push_errc::wrong_exchange);
  m = make(2, test::ks_signing_key());
  m[23] = 1;
  EXPECT_EQ(error_of(open_push(m, state, 0)), push_errc::bad_message_id);
  m = make(2, test::ks_signing_key());
  m[19] = 0;
  EXPECT_EQ(error_of(open_push(m, state, 0)), push_errc::not_encrypted);
}

TEST_F(push, kek_rekey_resets_the_seq) {
  // Push 1, under KEK A with SEQ 10, carries KEK B (new SPI, new key); the KS then
  // restarts its count: push 2 under KEK B with SEQ 1 must be accepted (spec 7).
  const auto kek_b =
      make_kek(spi_filled(0xb0), kek_alg::des3, 192, sig_hash::sha1, test::ks_signing_key());
  ks_offer o = make_offer(3, kek_b, 1);
  rekey_receiver gm{state, 9};
  const bytes push1 =
      built(build_push(state, test::ks_signing_key(), 10, o.sa, o.kd, std::nullopt));
  const auto r1 = gm.receive(push1);
  ASSERT_TRUE(std::holds_alternative<opened_push>(r1)) << describe(std::get<push_error>(r1));
  EXPECT_EQ(gm.kek.spi, kek_b.policy.spi);
  EXPECT_EQ(gm.kek.alg, kek_alg::des3);
  EXPECT_EQ(gm.kek.sig_hash, ike::hash_alg::sha1);
  EXPECT_EQ(gm.last_seq, 0u);
  const kek_state b = test::kek_state_of(kek_b);
  EXPECT_EQ(gm.kek.key, b.key);
  EXPECT_EQ(gm.kek.iv, b.iv);
  // A TEK rekey under KEK B that resends KEK B (as key servers do).
  const bytes push2 = built(build_push(b, test::ks_signing_key(), 1, o.sa, o.kd, std::nullopt));
  const auto r2 = gm.receive(push2);
  ASSERT_TRUE(std::holds_alternative<opened_push>(r2)) << describe(std::get<push_error>(r2));
  EXPECT_EQ(std::get<opened_push>(r2).seq, 1u);
  EXPECT_EQ(gm.last_seq, 1u);
  // Pushes under the old KEK are now from an unknown KEK.
  EXPECT_EQ(error_of(gm.receive(make(11, test::ks_signing_key()))), push_errc::unknown_kek);
}

TEST_F(push, twenty_teks) {
  offer = make_offer(20, kek);
  const bytes m = make(3, test::ks_signing_key());
  EXPECT_GT(m.size(), 1500u);
  const auto r = open_push(m, state, 2);
  ASSERT_TRUE(std::holds_alternative<opened_push>(r));
  EXPECT_EQ(std::get<opened_push>(r).sa.teks.size(), 20u);
}

TEST_F(push, keys_missing) {
  offer.kd.packets.erase(offer.kd.packets.begin());
  const auto r = open_push(make(3, test::ks_signing_key()), state, 2);
  ASSERT_TRUE(std::holds_alternative<push_error>(r));
  EXPECT_EQ(std::get<push_error>(r).code, push_errc::keys_missing);
  EXPECT_EQ(std::get<push_error>(r).detail->code, codec_errc::tek_keys_missing);
}

TEST(kek_state_from_kd, lengths_and_algorithms) {
  auto kek = make_kek(spi_filled(1), kek_alg::aes, 256, sig_hash::sha256, test::ks_signing_key());
  ASSERT_TRUE(std::holds_alternative<kek_state>(make_kek_state(kek.policy, kek.keys)));
  auto short_key = kek;
  short_key.keys.algorithm_key.pop_back();
  EXPECT_EQ(std::get<push_error>(make_kek_state(short_key.policy, short_key.keys)).code,
            push_errc::bad_kek);
  auto bad_alg = kek;
  bad_alg.policy.attrs.algorithm = 9;
  EXPECT_EQ(std::get<push_error>(make_kek_state(bad_alg.policy, bad_alg.keys)).code,
            push_errc::bad_kek);
  // Without KEK_KEY_LENGTH the key is what follows the IV.
  auto no_len = kek;
  no_len.policy.attrs.key_length.reset();
  EXPECT_EQ(std::get<kek_state>(make_kek_state(no_len.policy, no_len.keys)).key.size(), 32u);
  // No public key in the packet: the previous one stays.
  auto no_pub = kek;
  no_pub.keys.signature_key.clear();
  const bytes prev{1, 2, 3};
  EXPECT_EQ(std::get<kek_state>(make_kek_state(no_pub.policy, no_pub.keys, prev)).ks_public_der,
            prev);
}

TEST(push_ack, round_trip) {
  auto kek =
      make_kek(spi_filled(0xa0), kek_alg::aes, 128, sig_hash::sha256, test::ks_signing_key());
  EXPECT_FALSE(ack_requested(kek.policy));
  kek.policy.attrs.other.push_back(attribute::basic(kek_ack_requested_attr, kek_ack_type::kek_sha256));
  EXPECT_TRUE(ack_requested(kek.policy));
  const kek_state s = test::kek_state_of(kek);
  EXPECT_TRUE(s.ack_requested);
  EXPECT_EQ(s.ack_type, kek_ack_type::kek_sha256);
  id_payload me;
  me.id_type = id_type::ipv4_addr;
  me.data = {10, 0, 0, 2};
  const bytes ack = built(build_push_ack(s, 17, me));
  auto h = decode_header(ack);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->exchange_type, groupkey_push_ack_exchange);
  EXPECT_EQ(h->flags, 0);
  const auto r = open_push_ack(ack, s);
  ASSERT_TRUE(std::holds_alternative<opened_ack>(r)) << describe(std::get<push_error>(r));
  EXPECT_EQ(std::get<opened_ack>(r).seq, 17u);
  EXPECT_EQ(std::get<opened_ack>(r).member, me);

  bytes forged = ack;
  forged.back() ^= 1;  // the member address
  EXPECT_EQ(std::get<push_error>(open_push_ack(forged, s)).code, push_errc::bad_hash);
  kek_state other = s;
  other.key[0] ^= 1;
  EXPECT_EQ(std::get<push_error>(open_push_ack(ack, other)).code, push_errc::bad_hash);
  other = s;
  other.spi[0] ^= 1;
  EXPECT_EQ(std::get<push_error>(open_push_ack(ack, other)).code, push_errc::unknown_kek);
  // The type picks the prf: an ACK made for SHA-256 does not verify as SHA-512.
  other = s;
  other.ack_type = kek_ack_type::kek_sha512;
  EXPECT_EQ(std::get<push_error>(open_push_ack(ack, other)).code, push_errc::bad_hash);
}

// RFC 8263 2/4.2 by hand, with OpenSSL's HMAC as the only primitive: the HASH payload of
// the ACK must be HMAC(ack_key, SEQ payload | ID payload) with
// ack_key = HMAC(KEK key, "GROUPKEY-PUSH ACK\0" | cookies | L).
TEST(push_ack, hash_is_rfc8263s_for_both_types) {
  for (const uint16_t type : {kek_ack_type::kek_sha256, kek_ack_type::kek_sha512}) {
    auto kek =
        make_kek(spi_filled(0xa0), kek_alg::aes, 128, sig_hash::sha256, test::ks_signing_key());
    kek.policy.attrs.other.push_back(attribute::basic(kek_ack_requested_attr, type));
    const kek_state s = test::kek_state_of(kek);
    ASSERT_EQ(s.ack_type, type);
    id_payload me;
    me.id_type = id_type::ipv4_addr;
    me.data = {10, 0, 0, 2};
    const bytes ack = built(build_push_ack(s, 0x01020304, me));
    // HDR(28) | HASH(4 + n) | SEQ(4 + 4) | ID(4 + 4 + 4)
    const EVP_MD* md = type == kek_ack_type::kek_sha512 ? EVP_sha512() : EVP_sha256();
    const std::size_t n = static_cast<std::size_t>(EVP_MD_get_size(md));
    ASSERT_EQ(ack.size(), 28 + 4 + n + 8 + 12);
    EXPECT_EQ(ack[16], payload::hash);  // next payload
    EXPECT_EQ(ack[17], 0x10);           // version 1.0
    EXPECT_EQ(ack[18], 35);             // GROUPKEY-PUSH-ACK
    EXPECT_EQ(ack[19], 0);              // flags
    EXPECT_EQ(bytes(ack.begin() + 20, ack.begin() + 24), bytes(4, 0));  // message id 0
    bytes ctx{'G', 'R', 'O', 'U', 'P', 'K', 'E', 'Y', '-', 'P', 'U', 'S', 'H', ' ', 'A', 'C', 'K', 0};
    ctx.insert(ctx.end(), s.spi.begin(), s.spi.end());
    ctx.push_back(type == kek_ack_type::kek_sha512 ? 0x04 : 0x02);  // L = 1024 / 512
    ctx.push_back(0x00);
    uint8_t ack_key[64];
    unsigned kl = 0;
    ASSERT_NE(HMAC(md, s.key.data(), static_cast<int>(s.key.size()), ctx.data(), ctx.size(),
                   ack_key, &kl), nullptr);
    const bytes rest(ack.begin() + 28 + 4 + static_cast<long>(n), ack.end());
    uint8_t want[64];
    unsigned wl = 0;
    ASSERT_NE(HMAC(md, ack_key, static_cast<int>(kl), rest.data(), rest.size(), want, &wl), nullptr);
    EXPECT_EQ(bytes(ack.begin() + 32, ack.begin() + 32 + static_cast<long>(n)), bytes(want, want + wl));
    // The ID: ID_IPV4_ADDR, protocol 0, port 0 (RFC 8263 4.4).
    EXPECT_EQ(bytes(ack.end() - 8, ack.end()), (bytes{1, 0, 0, 0, 10, 0, 0, 2}));
  }
}

TEST(push_ack, lkh_types_are_not_built_or_accepted) {
  auto kek =
      make_kek(spi_filled(0xa0), kek_alg::aes, 128, sig_hash::sha256, test::ks_signing_key());
  kek.policy.attrs.other.push_back(attribute::basic(kek_ack_requested_attr, kek_ack_type::lkh_sha256));
  const kek_state s = test::kek_state_of(kek);
  EXPECT_TRUE(s.ack_requested);
  EXPECT_FALSE(ack_type_supported(s.ack_type));
  id_payload me;
  me.id_type = id_type::ipv4_addr;
  me.data = {10, 0, 0, 2};
  EXPECT_EQ(std::get<push_error>(build_push_ack(s, 1, me)).code, push_errc::bad_kek);
}

}  // namespace
}  // namespace gm::control
