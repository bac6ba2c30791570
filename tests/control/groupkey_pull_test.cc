// GROUPKEY-PULL: the GM and KS state machines against each other over a fabricated phase-1
// SA pair. Forged messages are made by decrypting a real one with a copy of the receiver's
// SA, changing the plaintext and re-encrypting it under the same IV (both ends of the
// exchange hold the same IV chain), so only the change under test differs.
#include "control/groupkey_pull.h"

#include <gtest/gtest.h>

#include <functional>
#include <variant>

#include "control/gdoi_message.h"
#include "tests/control/groupkey_fixture.h"

namespace gm::control {
namespace {

using test::make_offer;
using test::make_phase1_pair;

constexpr uint32_t group = 1234;

bytes reply(const pull_step& s) {
  const auto* r = std::get_if<std::optional<bytes>>(&s);
  if (r == nullptr) {
    ADD_FAILURE() << describe(std::get<pull_error>(s));
    return {};
  }
  if (!r->has_value()) {
    ADD_FAILURE() << "no reply";
    return {};
  }
  return **r;
}

pull_errc error_of(const pull_step& s) {
  const auto* e = std::get_if<pull_error>(&s);
  if (e == nullptr) {
    ADD_FAILURE() << "accepted";
    return pull_errc::codec;
  }
  return e->code;
}

/// `msg` decrypted with a copy of `receiver`, changed by `change`, re-encrypted likewise.
bytes forge(const phase1_sa& receiver, const bytes& msg, const std::function<void(bytes&)>& change,
            std::function<void(isakmp_header&)> change_header = nullptr) {
  phase1_sa dec = receiver;
  auto plain = unprotect(dec, msg);
  EXPECT_TRUE(plain.has_value());
  change(*plain);
  isakmp_header h = *decode_header(msg);
  if (change_header) {
    change_header(h);
  }
  phase1_sa enc = receiver;
  return protect(enc, h, *plain);
}

/// Flips a bit of the HASH payload's data (the first payload of every message).
void flip_hash(bytes& plain) { plain[generic_header_len] ^= 0x01; }

struct registration : ::testing::Test {
  test::phase1_pair p1 = make_phase1_pair();
  test::kek_material kek = test::make_kek(test::spi_filled(0xa0), kek_alg::aes, 128,
                                          sig_hash::sha256, test::ks_signing_key());
  ks_offer offer = make_offer(3, kek);
  int policy_calls = 0;
  pull_policy policy = [this](uint32_t g, bool) -> std::optional<ks_offer> {
    ++policy_calls;
    if (g != group) {
      return std::nullopt;
    }
    return offer;
  };
};

void expect_delivers(const group_keys& k, const ks_offer& o, bool with_sid) {
  ASSERT_TRUE(k.kek.has_value());
  EXPECT_EQ(*k.kek, *o.sa.kek);
  ASSERT_TRUE(k.kek_keys.has_value());
  EXPECT_EQ(*k.kek_keys, o.kd.packets.back());
  EXPECT_EQ(k.teks, o.sa.teks);
  std::size_t permits = 0;
  for (const sa_tek& t : o.sa.teks) {
    if (t.deny()) {
      EXPECT_EQ(k.tek_keys.count(0), 0u);
      continue;
    }
    ++permits;
    ASSERT_EQ(k.tek_keys.count(t.spi), 1u) << t.spi;
    const auto want = std::find_if(o.kd.packets.begin(), o.kd.packets.end(),
                                   [&](const key_packet& kp) { return kp.tek_spi() == t.spi; });
    EXPECT_EQ(k.tek_keys.at(t.spi), *want);
  }
  EXPECT_EQ(k.tek_keys.size(), permits);
  EXPECT_EQ(k.seq, o.seq);
  EXPECT_EQ(k.sid.has_value(), with_sid);
  EXPECT_TRUE(k.forms.tek_rfc);
  EXPECT_TRUE(k.forms.kek_rfc);
  EXPECT_FALSE(k.forms.legacy());
}

TEST_F(registration, delivers_exactly_the_offer) {
  pull_initiator gm(p1.gm, group, false);
  pull_responder ks(p1.ks, policy);
  const bytes m1 = gm.start();
  EXPECT_NE(gm.message_id(), 0u);
  const bytes m2 = reply(ks.receive(m1));
  EXPECT_EQ(ks.group(), group);
  const bytes m3 = reply(gm.receive(m2));
  const bytes m4 = reply(ks.receive(m3));
  EXPECT_TRUE(ks.done());
  EXPECT_FALSE(ks.sender_id_requested());
  const auto last = gm.receive(m4);
  ASSERT_TRUE(std::holds_alternative<std::optional<bytes>>(last));
  EXPECT_FALSE(std::get<std::optional<bytes>>(last).has_value());
  ASSERT_TRUE(gm.done());
  expect_delivers(gm.keys(), offer, false);
  EXPECT_EQ(policy_calls, 1);
  // Every message is encrypted and carries the exchange's message id.
  for (const bytes* m : {&m1, &m2, &m3, &m4}) {
    auto h = decode_header(*m);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->flags & flag::encryption, flag::encryption);
    EXPECT_EQ(h->message_id, gm.message_id());
    EXPECT_EQ(h->exchange_type, exchange::groupkey_pull);
    EXPECT_EQ(h->next_payload, payload::hash);
  }
}

TEST_F(registration, sender_id_from_the_offer) {
  offer.sid = make_sid_packet(8, 0x2a);
  pull_initiator gm(p1.gm, group, true);
  pull_responder ks(p1.ks, policy);
  const bytes m4 = reply(ks.receive(reply(gm.receive(reply(ks.receive(gm.start()))))));
  EXPECT_TRUE(ks.sender_id_requested());
  gm.receive(m4);
  ASSERT_TRUE(gm.done());
  expect_delivers(gm.keys(), offer, true);
  EXPECT_EQ(gm.keys().sender_id(), 0x2au);
  EXPECT_EQ(policy_calls, 1);
}

TEST_F(registration, sender_id_from_a_second_policy_call) {
  pull_policy sid_policy = [this](uint32_t g, bool want_sid) -> std::optional<ks_offer> {
    ++policy_calls;
    ks_offer o = offer;
    if (want_sid) {
      o.sid = make_sid_packet(8, 7);
    }
    return g == group ? std::optional(o) : std::nullopt;
  };
  pull_initiator gm(p1.gm, group, true);
  pull_responder ks(p1.ks, sid_policy);
  gm.receive(reply(ks.receive(reply(gm.receive(reply(ks.receive(gm.start())))))));
  ASSERT_TRUE(gm.done());
  EXPECT_EQ(gm.keys().sender_id(), 7u);
  EXPECT_EQ(policy_calls, 2);
}

TEST_F(registration, no_sender_id_unless_requested) {
  offer.sid = make_sid_packet(8, 9);
  pull_initiator gm(p1.gm, group, false);
  pull_responder ks(p1.ks, policy);
  gm.receive(reply(ks.receive(reply(gm.receive(reply(ks.receive(gm.start())))))));
  ASSERT_TRUE(gm.done());
  EXPECT_FALSE(gm.keys().sid.has_value());
}

TEST_F(registration, triple_des_sha1_phase1) {
  p1 = make_phase1_pair(ike::cipher::des3_cbc, ike::hash_alg::sha1);
  pull_initiator gm(p1.gm, group, false);
  pull_responder ks(p1.ks, policy);
  gm.receive(reply(ks.receive(reply(gm.receive(reply(ks.receive(gm.start())))))));
  ASSERT_TRUE(gm.done());
  expect_delivers(gm.keys(), offer, false);
}

TEST_F(registration, twenty_teks_exceed_1500_bytes) {
  offer = make_offer(20, kek);
  pull_initiator gm(p1.gm, group, false);
  pull_responder ks(p1.ks, policy);
  const bytes m2 = reply(ks.receive(gm.start()));
  EXPECT_GT(m2.size(), 1500u);
  const bytes m4 = reply(ks.receive(reply(gm.receive(m2))));
  gm.receive(m4);
  ASSERT_TRUE(gm.done());
  EXPECT_EQ(gm.keys().teks.size(), 20u);
  expect_delivers(gm.keys(), offer, false);
}

TEST_F(registration, unknown_group_is_refused_and_the_responder_stays_usable) {
  pull_initiator stranger(p1.gm, 999, false);
  pull_responder ks(p1.ks, policy);
  EXPECT_EQ(error_of(ks.receive(stranger.start())), pull_errc::unknown_group);
  EXPECT_FALSE(ks.done());
  pull_initiator gm(p1.gm, group, false);
  gm.receive(reply(ks.receive(reply(gm.receive(reply(ks.receive(gm.start())))))));
  EXPECT_TRUE(gm.done());
}

TEST_F(registration, wrong_hash_in_each_message_is_refused_and_the_state_stays_usable) {
  pull_initiator gm(p1.gm, group, true);
  pull_responder ks(p1.ks, policy);
  const bytes m1 = gm.start();
  EXPECT_EQ(error_of(ks.receive(forge(p1.ks, m1, flip_hash))), pull_errc::bad_hash);
  const bytes m2 = reply(ks.receive(m1));
  EXPECT_EQ(error_of(gm.receive(forge(p1.gm, m2, flip_hash))), pull_errc::bad_hash);
  const bytes m3 = reply(gm.receive(m2));
  EXPECT_EQ(error_of(ks.receive(forge(p1.ks, m3, flip_hash))), pull_errc::bad_hash);
  const bytes m4 = reply(ks.receive(m3));
  EXPECT_EQ(error_of(gm.receive(forge(p1.gm, m4, flip_hash))), pull_errc::bad_hash);
  gm.receive(m4);
  ASSERT_TRUE(gm.done());
  expect_delivers(gm.keys(), offer, false);
}

TEST_F(registration, a_changed_payload_breaks_the_hash) {
  // The HASH covers the payloads after it: change a byte of the last payload (the SA in
  // message 2, the KD in message 4) and keep the HASH.
  pull_initiator gm(p1.gm, group, false);
  pull_responder ks(p1.ks, policy);
  const bytes m2 = reply(ks.receive(gm.start()));
  auto last_payload_byte = [](bytes& plain) {
    auto d =
        decode_payloads(payload::hash, plain, header_len, tail::padding, exchange::groupkey_pull);
    ASSERT_TRUE(d.ok());
    const payload_extent& e = d->info.extents.back();
    plain[e.offset - header_len + e.length - 1] ^= 0x80;
  };
  EXPECT_EQ(error_of(gm.receive(forge(p1.gm, m2, last_payload_byte))), pull_errc::bad_hash);
  const bytes m4 = reply(ks.receive(reply(gm.receive(m2))));
  EXPECT_EQ(error_of(gm.receive(forge(p1.gm, m4, last_payload_byte))), pull_errc::bad_hash);
  gm.receive(m4);
  EXPECT_TRUE(gm.done());
}

TEST_F(registration, retransmissions_get_the_identical_reply) {
  pull_initiator gm(p1.gm, group, false);
  pull_responder ks(p1.ks, policy);
  const bytes m1 = gm.start();
  const bytes m2 = reply(ks.receive(m1));
  EXPECT_EQ(reply(ks.receive(m1)), m2);
  EXPECT_EQ(ks.last_sent(), m2);
  const bytes m3 = reply(gm.receive(m2));
  EXPECT_EQ(reply(gm.receive(m2)), m3);
  EXPECT_EQ(gm.last_sent(), m3);
  const bytes m4 = reply(ks.receive(m3));
  EXPECT_EQ(reply(ks.receive(m3)), m4);
  gm.receive(m4);
  ASSERT_TRUE(gm.done());
  // A repeated message 4 needs no answer and changes nothing.
  const auto again = gm.receive(m4);
  ASSERT_TRUE(std::holds_alternative<std::optional<bytes>>(again));
  EXPECT_FALSE(std::get<std::optional<bytes>>(again).has_value());
  expect_delivers(gm.keys(), offer, false);
  EXPECT_EQ(policy_calls, 1);
}

TEST_F(registration, garbage_leaves_both_machines_usable) {
  pull_initiator gm(p1.gm, group, false);
  pull_responder ks(p1.ks, policy);
  const bytes m1 = gm.start();
  const bytes noise = ike::random_bytes(100);
  EXPECT_EQ(error_of(ks.receive(noise)), pull_errc::codec);
  // A valid header over ciphertext that is noise, a whole number of blocks long.
  bytes fake(m1.begin(), m1.begin() + header_len);
  const bytes junk = ike::random_bytes(64);
  fake.insert(fake.end(), junk.begin(), junk.end());
  fake[27] = static_cast<uint8_t>(fake.size());
  fake[26] = static_cast<uint8_t>(fake.size() >> 8);
  const pull_errc e = error_of(ks.receive(fake));
  EXPECT_TRUE(e == pull_errc::codec || e == pull_errc::hash_not_first || e == pull_errc::bad_hash)
      << name(e);
  // Not a whole number of blocks.
  bytes ragged = m1;
  ragged.push_back(0);
  ragged[27] = static_cast<uint8_t>(ragged.size());
  ragged[26] = static_cast<uint8_t>(ragged.size() >> 8);
  EXPECT_EQ(error_of(ks.receive(ragged)), pull_errc::decrypt_failed);
  const bytes m2 = reply(ks.receive(m1));
  EXPECT_EQ(error_of(gm.receive(noise)), pull_errc::codec);
  error_of(gm.receive(fake));  // refused, whatever the noise decodes to
  const bytes m3 = reply(gm.receive(m2));
  gm.receive(reply(ks.receive(m3)));
  EXPECT_TRUE(gm.done());
}

TEST_F(registration, header_checks) {
  pull_initiator gm(p1.gm, group, false);
  pull_responder ks(p1.ks, policy);
  const bytes m1 = gm.start();
  auto with = [&](std::function<void(isakmp_header&)> f) {
    return forge(
        p1.ks, m1, [](bytes&) {}, std::move(f));
  };
  EXPECT_EQ(error_of(ks.receive(with([](isakmp_header& h) { h.initiator_cookie[0] ^= 1; }))),
            pull_errc::wrong_cookies);
  EXPECT_EQ(error_of(ks.receive(with([](isakmp_header& h) { h.exchange_type = 33; }))),
            pull_errc::wrong_exchange);
  const bytes m2 = reply(ks.receive(m1));
  EXPECT_EQ(error_of(gm.receive(forge(
                p1.gm, m2, [](bytes&) {}, [](isakmp_header& h) { h.message_id ^= 1; }))),
            pull_errc::wrong_message_id);
  // A plaintext copy of message 2 (E flag clear) is refused.
  phase1_sa dec = p1.gm;
  auto plain = unprotect(dec, m2);
  ASSERT_TRUE(plain.has_value());
  bytes clear(m2.begin(), m2.begin() + header_len);
  clear.insert(clear.end(), plain->begin(), plain->end());
  clear[19] = 0;
  clear[27] = static_cast<uint8_t>(clear.size());
  clear[26] = static_cast<uint8_t>(clear.size() >> 8);
  EXPECT_EQ(error_of(gm.receive(clear)), pull_errc::not_encrypted);
  gm.receive(reply(ks.receive(reply(gm.receive(m2)))));
  EXPECT_TRUE(gm.done());
}

TEST_F(registration, out_of_turn) {
  pull_initiator gm(p1.gm, group, false);
  EXPECT_EQ(error_of(gm.receive(ike::random_bytes(40))), pull_errc::unexpected_message);
  pull_responder ks(p1.ks, policy);
  const bytes m4 = reply(ks.receive(reply(gm.receive(reply(ks.receive(gm.start()))))));
  gm.receive(m4);
  ASSERT_TRUE(gm.done());
  EXPECT_EQ(error_of(gm.receive(forge(p1.gm, m4, flip_hash))), pull_errc::unexpected_message);
  EXPECT_EQ(error_of(ks.receive(ike::random_bytes(40))), pull_errc::unexpected_message);
}

TEST_F(registration, missing_kd_keys_are_refused) {
  // The KS serves an SA TEK without its key packet: refused at the KS before message 2.
  ks_offer broken = offer;
  broken.kd.packets.erase(broken.kd.packets.begin());
  pull_responder ks(p1.ks, [&](uint32_t, bool) { return std::optional(broken); });
  pull_initiator gm(p1.gm, group, false);
  const auto r = ks.receive(gm.start());
  ASSERT_TRUE(std::holds_alternative<pull_error>(r));
  EXPECT_EQ(std::get<pull_error>(r).code, pull_errc::keys_missing);
  ASSERT_TRUE(std::get<pull_error>(r).detail.has_value());
  EXPECT_EQ(std::get<pull_error>(r).detail->code, codec_errc::tek_keys_missing);
}

TEST(pull_errors, names_and_texts) {
  EXPECT_STREQ(name(pull_errc::bad_hash), "bad_hash");
  EXPECT_STREQ(name(push_errc::replayed_seq), "replayed_seq");
  const std::string d =
      describe(pull_error{pull_errc::codec, codec_error{codec_errc::trailing_data, 40, 5}});
  EXPECT_NE(d.find("codec"), std::string::npos);
  EXPECT_NE(d.find("trailing_data"), std::string::npos);
}

}  // namespace
}  // namespace gm::control
