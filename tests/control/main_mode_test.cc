// Main Mode with pre-shared keys, initiator <-> responder in memory: every supported suite
// reaches the same keys on both sides (and the keys the wire values imply), phase-2
// protect/unprotect works across the pair, and every kind of bad message is refused with a
// typed error that leaves the state machine able to take the genuine message.
#include "control/main_mode.h"

#include <gtest/gtest.h>

#include <string>

#include "control/gdoi_payloads.h"
#include "control/isakmp.h"
#include "control/phase1_keys.h"
#include "control/phase1_payloads.h"

namespace gm::control {
namespace {

using clock_point = std::chrono::steady_clock::time_point;

constexpr uint32_t gm_addr = 0x0a000001;  // 10.0.0.1
constexpr uint32_t ks_addr = 0x0a000002;

key_bytes key_of(const std::string& s) { return key_bytes(s.begin(), s.end()); }

// The accepted outcome of receive(): outer empty = refused (a test failure), inner empty =
// nothing to send.
using reply_t = std::optional<std::optional<bytes>>;

reply_t sent(const mm_result& r) {
  if (const auto* e = std::get_if<ike_error>(&r)) {
    ADD_FAILURE() << describe(*e);
    return std::nullopt;
  }
  return std::get<0>(r);
}

reply_t reply(const bytes& b) { return reply_t{std::optional<bytes>{b}}; }

// The error of a refused datagram (ike_errc::codec with a code 0 offset 0 when accepted, and
// a test failure).
ike_error refused(const mm_result& r) {
  if (const auto* e = std::get_if<ike_error>(&r)) {
    return *e;
  }
  ADD_FAILURE() << "datagram was accepted";
  return {};
}

main_mode_config gm_config(std::vector<phase1_policy> ps, const std::string& psk = "s3cret") {
  main_mode_config c;
  c.proposals = std::move(ps);
  c.psk = key_of(psk);
  c.local_addr = gm_addr;
  c.peer_addr = ks_addr;
  return c;
}

main_mode_responder make_ks(std::vector<phase1_policy> accepted,
                            const std::string& psk = "s3cret") {
  return main_mode_responder(
      std::move(accepted),
      [psk](uint32_t peer) -> std::optional<key_bytes> {
        if (peer == gm_addr) {
          return key_of(psk);
        }
        return std::nullopt;
      },
      ks_addr, gm_addr);
}

// The six messages of one exchange.
struct transcript {
  bytes m[7];
};

transcript run(main_mode_initiator& gm, main_mode_responder& ks, clock_point now) {
  transcript t;
  t.m[1] = gm.start();
  for (int i = 2; i <= 6; ++i) {
    auto r = (i % 2 == 0) ? ks.receive(t.m[i - 1], now) : gm.receive(t.m[i - 1], now);
    auto out = sent(r);
    if (!out || !*out) {
      ADD_FAILURE() << "no message " << i;
      return t;
    }
    t.m[i] = **out;
  }
  auto last = sent(gm.receive(t.m[6], now));
  EXPECT_TRUE(last && !*last);  // nothing answers message 6
  return t;
}

// The body of the first payload of `type` in a plaintext Main Mode message.
bytes body_of(const bytes& msg, uint8_t type) {
  auto h = decode_header(msg);
  EXPECT_TRUE(h.ok());
  auto ps = walk_payloads(h->next_payload, std::span(msg).subspan(header_len), header_len);
  EXPECT_TRUE(ps.ok());
  for (const auto& p : *ps) {
    if (p.type == type) {
      return bytes(p.body.begin(), p.body.end());
    }
  }
  ADD_FAILURE() << "no payload " << int(type);
  return {};
}

struct suite {
  ike::cipher cipher;
  uint16_t key_bits;
  ike::hash_alg hash;
  ike::dh_group group;
};

std::string suite_name(const suite& s) {
  std::string n = s.cipher == ike::cipher::aes_cbc ? "aes" + std::to_string(s.key_bits) : "3des";
  n += std::string("_") + ike::name(s.hash) + "_g" + std::to_string(static_cast<int>(s.group));
  return n;
}

std::vector<suite> all_suites() {
  std::vector<suite> out;
  for (auto [c, bits] : {std::pair{ike::cipher::aes_cbc, uint16_t{128}},
                         std::pair{ike::cipher::aes_cbc, uint16_t{256}},
                         std::pair{ike::cipher::des3_cbc, uint16_t{192}}}) {
    for (auto h : {ike::hash_alg::sha1, ike::hash_alg::sha256}) {
      for (auto g : {ike::dh_group::modp1024, ike::dh_group::modp2048}) {
        out.push_back({c, bits, h, g});
      }
    }
  }
  return out;
}

class main_mode_suites : public ::testing::TestWithParam<suite> {};

TEST_P(main_mode_suites, both_sides_reach_the_same_keys) {
  const suite s = GetParam();
  const phase1_policy p{s.cipher, s.key_bits, s.hash, s.group, 3600};
  main_mode_initiator gm(gm_config({p}));
  main_mode_responder ks = make_ks({p});
  const clock_point now{std::chrono::seconds(1234)};
  const transcript t = run(gm, ks, now);
  ASSERT_TRUE(gm.established());
  ASSERT_TRUE(ks.established());
  const phase1_sa& a = gm.sa();
  const phase1_sa& b = ks.sa();
  EXPECT_TRUE(a.initiator);
  EXPECT_FALSE(b.initiator);
  EXPECT_EQ(a.policy, p);
  EXPECT_EQ(b.policy, p);
  EXPECT_EQ(a.icookie, b.icookie);
  EXPECT_EQ(a.rcookie, b.rcookie);
  EXPECT_EQ(a.skeyid, b.skeyid);
  EXPECT_EQ(a.skeyid_d, b.skeyid_d);
  EXPECT_EQ(a.skeyid_a, b.skeyid_a);
  EXPECT_EQ(a.skeyid_e, b.skeyid_e);
  EXPECT_EQ(a.enc_key, b.enc_key);
  EXPECT_EQ(a.phase1_iv, b.phase1_iv);
  EXPECT_EQ(a.skeyid_a.size(), ike::hash_len(s.hash));
  EXPECT_EQ(a.enc_key.size(), s.cipher == ike::cipher::aes_cbc ? s.key_bits / 8u : 24u);
  EXPECT_EQ(a.phase1_iv.size(), ike::block_len(s.cipher));
  EXPECT_NE(a.skeyid_a, a.skeyid_e);
  EXPECT_TRUE(a.exchange_iv.empty());
  EXPECT_EQ(a.established, now);
  EXPECT_EQ(b.established, now);
  EXPECT_EQ(a.local_addr, gm_addr);
  EXPECT_EQ(b.local_addr, ks_addr);

  // What the wire implies: SKEYID = prf(PSK, Ni_b | Nr_b), from the nonces in messages 3/4;
  // the phase-1 IV is the last ciphertext block of message 6.
  EXPECT_EQ(a.skeyid, ike::prf(s.hash, key_of("s3cret"),
                               {body_of(t.m[3], payload::nonce), body_of(t.m[4], payload::nonce)}));
  const std::size_t bl = ike::block_len(s.cipher);
  EXPECT_EQ(a.phase1_iv, bytes(t.m[6].end() - static_cast<long>(bl), t.m[6].end()));
  EXPECT_EQ(body_of(t.m[3], payload::key_exchange).size(), ike::dh_len(s.group));
  EXPECT_EQ(a.enc_key, expand_enc_key(s.hash, a.skeyid_e, enc_key_len(p)));
  // Messages 5 and 6 are encrypted; 1-4 are not.
  for (int i = 1; i <= 6; ++i) {
    auto h = decode_header(t.m[i]);
    ASSERT_TRUE(h.ok()) << i;
    EXPECT_EQ(h->exchange_type, exchange::identity_protection);
    EXPECT_EQ((h->flags & flag::encryption) != 0, i >= 5) << i;
    EXPECT_EQ(h->message_id, 0u);
  }

  // Phase 2 across the pair: a GROUPKEY-PULL-like exchange, four messages, one M-ID.
  phase1_sa gsa = gm.take_sa();
  phase1_sa ksa = ks.take_sa();
  const uint32_t mid = 0x11223344;
  for (int i = 0; i < 4; ++i) {
    phase1_sa& tx = i % 2 == 0 ? gsa : ksa;
    phase1_sa& rx = i % 2 == 0 ? ksa : gsa;
    isakmp_header h;
    h.initiator_cookie = tx.icookie;
    h.responder_cookie = tx.rcookie;
    h.next_payload = payload::hash;
    h.exchange_type = exchange::groupkey_pull;
    h.message_id = mid;
    bytes chain(37 + i, static_cast<uint8_t>(i + 1));
    const bytes msg = protect(tx, h, chain);
    auto plain = unprotect(rx, msg);
    ASSERT_TRUE(plain) << i;
    EXPECT_EQ(bytes(plain->begin(), plain->begin() + static_cast<long>(chain.size())), chain);
  }
}

INSTANTIATE_TEST_SUITE_P(all, main_mode_suites, ::testing::ValuesIn(all_suites()),
                         [](const auto& info) { return suite_name(info.param); });

const phase1_policy default_policy{};

TEST(main_mode, wrong_psk_is_auth_failed_at_the_responder) {
  main_mode_initiator gm(gm_config({default_policy}, "right"));
  main_mode_responder ks = make_ks({default_policy}, "wrong");
  const bytes m1 = gm.start();
  auto m2 = sent(ks.receive(m1));
  ASSERT_TRUE(m2 && *m2);
  auto m3 = sent(gm.receive(**m2));
  ASSERT_TRUE(m3 && *m3);
  auto m4 = sent(ks.receive(**m3));
  ASSERT_TRUE(m4 && *m4);
  auto m5 = sent(gm.receive(**m4));
  ASSERT_TRUE(m5 && *m5);
  EXPECT_EQ(refused(ks.receive(**m5)).code, ike_errc::auth_failed);
  EXPECT_FALSE(ks.established());
  EXPECT_FALSE(gm.established());
  // Still refused when retransmitted (it was not taken as the last message).
  EXPECT_EQ(refused(ks.receive(**m5)).code, ike_errc::auth_failed);
}

TEST(main_mode, wrong_psk_at_the_initiator_fails_message_6) {
  // The responder's key is right for it, but message 6 under another SKEYID_e does not
  // authenticate at an initiator with another key: here both sides see it.
  main_mode_initiator gm(gm_config({default_policy}, "one"));
  main_mode_responder ks = make_ks({default_policy}, "one");
  const bytes m1 = gm.start();
  auto m2 = sent(ks.receive(m1));
  auto m3 = sent(gm.receive(**m2));
  auto m4 = sent(ks.receive(**m3));
  auto m5 = sent(gm.receive(**m4));
  auto m6 = sent(ks.receive(**m5));
  ASSERT_TRUE(m6 && *m6);
  bytes bad6 = **m6;
  bad6[header_len + 5] ^= 0x40;  // the first block: ID and HASH lengths turn to noise
  EXPECT_EQ(refused(gm.receive(bad6)).code, ike_errc::auth_failed);
  EXPECT_FALSE(gm.established());
  auto done = sent(gm.receive(**m6));
  ASSERT_TRUE(done);
  EXPECT_FALSE(*done);
  EXPECT_TRUE(gm.established());
}

TEST(main_mode, no_common_proposal) {
  main_mode_initiator gm(
      gm_config({{ike::cipher::aes_cbc, 128, ike::hash_alg::sha1, ike::dh_group::modp1024, 3600}}));
  main_mode_responder ks =
      make_ks({{ike::cipher::aes_cbc, 256, ike::hash_alg::sha256, ike::dh_group::modp2048, 86400}});
  EXPECT_EQ(refused(ks.receive(gm.start())).code, ike_errc::no_proposal_chosen);
  EXPECT_TRUE(ks.last_sent().empty());
  EXPECT_FALSE(ks.established());
}

TEST(main_mode, responder_takes_the_initiators_first_acceptable_transform) {
  const phase1_policy a{ike::cipher::aes_cbc, 256, ike::hash_alg::sha256, ike::dh_group::modp2048,
                        86400};
  const phase1_policy b{ike::cipher::des3_cbc, 192, ike::hash_alg::sha1, ike::dh_group::modp1024,
                        3600};
  const phase1_policy c{ike::cipher::aes_cbc, 128, ike::hash_alg::sha1, ike::dh_group::modp2048,
                        3600};
  main_mode_initiator gm(gm_config({a, b, c}));
  // The responder accepts c and b (in that order of its own); the initiator prefers b.
  main_mode_responder ks = make_ks({c, b});
  run(gm, ks, clock_point{});
  ASSERT_TRUE(gm.established());
  EXPECT_EQ(gm.sa().policy, b);
  EXPECT_EQ(ks.sa().policy, b);
}

TEST(main_mode, longer_lifetime_than_ours_is_not_acceptable) {
  phase1_policy mine = default_policy;
  mine.lifetime_s = 3600;
  phase1_policy theirs = default_policy;
  theirs.lifetime_s = 7200;
  EXPECT_FALSE(acceptable(theirs, mine));
  EXPECT_TRUE(acceptable(mine, theirs));
  main_mode_initiator gm(gm_config({theirs}));
  main_mode_responder ks = make_ks({mine});
  EXPECT_EQ(refused(ks.receive(gm.start())).code, ike_errc::no_proposal_chosen);
}

TEST(main_mode, unknown_peer) {
  main_mode_initiator gm(gm_config({default_policy}));
  main_mode_responder ks(
      {default_policy}, [](uint32_t) { return std::optional<key_bytes>{}; }, ks_addr, gm_addr);
  EXPECT_EQ(refused(ks.receive(gm.start())).code, ike_errc::unknown_peer);
  main_mode_responder empty(
      {default_policy}, [](uint32_t) { return std::optional<key_bytes>{key_bytes{}}; }, ks_addr,
      gm_addr);
  EXPECT_EQ(refused(empty.receive(gm.start())).code, ike_errc::unknown_peer);
}

TEST(main_mode, responder_choosing_what_was_not_offered_is_bad_proposal) {
  const phase1_policy other{ike::cipher::des3_cbc, 192, ike::hash_alg::sha1,
                            ike::dh_group::modp1024, 3600};
  main_mode_initiator gm(gm_config({default_policy}));
  main_mode_initiator other_gm(gm_config({other}));
  main_mode_responder ks = make_ks({other});
  const bytes m1 = gm.start();
  auto m2 = sent(ks.receive(other_gm.start()));
  ASSERT_TRUE(m2 && *m2);
  bytes forged = **m2;
  std::copy(m1.begin(), m1.begin() + 8, forged.begin());  // our cookie, their choice
  EXPECT_EQ(refused(gm.receive(forged)).code, ike_errc::bad_proposal);
}

TEST(main_mode, duplicates_get_the_identical_reply) {
  main_mode_initiator gm(gm_config({default_policy}));
  main_mode_responder ks = make_ks({default_policy});
  const bytes m1 = gm.start();
  const bytes m2 = **sent(ks.receive(m1));
  EXPECT_EQ(sent(ks.receive(m1)), reply(m2));  // message 1 again
  const bytes m3 = **sent(gm.receive(m2));
  EXPECT_EQ(sent(gm.receive(m2)), reply(m3));  // message 2 again
  const bytes m4 = **sent(ks.receive(m3));
  const bytes sa_before = ks.sa().skeyid;
  // Message 3 again: the same message 4 (same DH value and nonce), keys not recomputed.
  EXPECT_EQ(sent(ks.receive(m3)), reply(m4));
  EXPECT_EQ(ks.sa().skeyid, sa_before);
  const bytes m5 = **sent(gm.receive(m4));
  EXPECT_EQ(sent(gm.receive(m4)), reply(m5));
  const bytes m6 = **sent(ks.receive(m5));
  EXPECT_TRUE(ks.established());
  EXPECT_EQ(sent(ks.receive(m5)), reply(m6));  // message 6 lost: resent
  auto done = sent(gm.receive(m6));
  ASSERT_TRUE(done);
  EXPECT_FALSE(*done);
  EXPECT_TRUE(gm.established());
  auto again = sent(gm.receive(m6));
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(gm.sa().enc_key, ks.sa().enc_key);
  EXPECT_EQ(gm.sa().phase1_iv, ks.sa().phase1_iv);
  EXPECT_EQ(gm.last_sent(), m5);
  EXPECT_EQ(ks.last_sent(), m6);
}

// Variants of message `n` that must all be refused. Some damages are not refusable where
// nothing authenticates them yet: another initiator cookie makes message 1 the start of
// another exchange, message 2 is where the initiator learns the responder cookie, and
// other nonce bytes in messages 3/4 only show as auth_failed at message 5/6.
std::vector<bytes> damaged(const bytes& m, int n) {
  std::vector<bytes> out;
  out.push_back({});                                // empty
  out.push_back(bytes(m.begin(), m.begin() + 20));  // short header
  out.push_back(bytes(m.begin(), m.end() - 1));     // length mismatch
  bytes cut(m.begin(), m.end() - 4);                // consistent header length, body short
  for (int k = 0; k < 4; ++k) {
    cut[24 + k] = static_cast<uint8_t>(cut.size() >> (24 - 8 * k));
  }
  out.push_back(cut);
  if (n != 1) {
    bytes cookie = m;
    cookie[3] ^= 1;  // initiator cookie
    out.push_back(cookie);
  }
  if (n != 2) {
    bytes rcookie = m;
    rcookie[12] ^= 1;
    out.push_back(rcookie);
  }
  bytes exch = m;
  exch[18] = exchange::aggressive;
  out.push_back(exch);
  bytes mid = m;
  mid[23] = 1;
  out.push_back(mid);
  bytes flags = m;
  flags[19] ^= flag::encryption;
  out.push_back(flags);
  bytes first_payload = m;
  first_payload[16] = payload::vendor_id;
  out.push_back(first_payload);
  if (n != 3 && n != 4) {
    bytes tail = m;
    tail[m.size() - 3] ^= 0x5a;  // lifetime (1, 2), last cipher block (5, 6)
    out.push_back(tail);
  }
  bytes body_len = m;
  body_len[30] ^= 0x80;  // the first payload's length (a ciphertext byte in 5, 6)
  out.push_back(body_len);
  return out;
}

TEST(main_mode, damaged_messages_are_refused_and_the_genuine_one_still_works) {
  main_mode_initiator gm(gm_config({default_policy}));
  main_mode_responder ks = make_ks({default_policy});
  bytes m = gm.start();
  for (int n = 1; n <= 6; ++n) {
    // The damaged variants of message n go to its receiver, then the genuine one.
    const bool to_ks = (n % 2 == 1);
    int k = 0;
    for (const bytes& d : damaged(m, n)) {
      auto r = to_ks ? ks.receive(d) : gm.receive(d);
      EXPECT_TRUE(std::holds_alternative<ike_error>(r)) << "message " << n << " variant " << k;
      ++k;
    }
    EXPECT_FALSE(gm.established());
    EXPECT_EQ(ks.established(), n == 6) << n;
    auto next = sent(to_ks ? ks.receive(m) : gm.receive(m));
    ASSERT_TRUE(next) << "genuine message " << n << " after damaged ones";
    if (n == 6) {
      EXPECT_FALSE(*next);
      break;
    }
    ASSERT_TRUE(*next);
    m = **next;
  }
  EXPECT_TRUE(gm.established());
  EXPECT_TRUE(ks.established());
  EXPECT_EQ(gm.sa().enc_key, ks.sa().enc_key);
  EXPECT_EQ(gm.sa().phase1_iv, ks.sa().phase1_iv);
}

TEST(main_mode, specific_errors) {
  main_mode_initiator gm(gm_config({default_policy}));
  main_mode_responder ks = make_ks({default_policy});
  const bytes m1 = gm.start();
  // Message 1 with a responder cookie: bad_cookie.
  bytes rc = m1;
  rc[8] = 1;
  EXPECT_EQ(refused(ks.receive(rc)).code, ike_errc::bad_cookie);
  // A codec error keeps the codec_error inside.
  const ike_error short_hdr = refused(ks.receive(bytes(m1.begin(), m1.begin() + 10)));
  EXPECT_EQ(short_hdr.code, ike_errc::codec);
  EXPECT_EQ(short_hdr.codec.code, codec_errc::truncated_header);
  const bytes m2 = **sent(ks.receive(m1));
  const bytes m3 = **sent(gm.receive(m2));
  // KE of zeros: bad_dh_value; then the genuine message 3 works.
  bytes zero_ke = m3;
  const bytes ke = body_of(m3, payload::key_exchange);
  std::fill(zero_ke.begin() + header_len + 4,
            zero_ke.begin() + header_len + 4 + static_cast<long>(ke.size()), 0);
  EXPECT_EQ(refused(ks.receive(zero_ke)).code, ike_errc::bad_dh_value);
  // A message 1 arriving now is out of place.
  main_mode_initiator gm2(gm_config({default_policy}));
  EXPECT_EQ(refused(ks.receive(gm2.start())).code, ike_errc::bad_cookie);
  const bytes m4 = **sent(ks.receive(m3));
  (void)m4;
  // Before start() the initiator takes nothing.
  main_mode_initiator idle(gm_config({default_policy}));
  EXPECT_EQ(refused(idle.receive(m2)).code, ike_errc::unexpected_message);
}

TEST(main_mode, errc_names_and_texts) {
  EXPECT_STREQ(name(ike_errc::auth_failed), "auth_failed");
  EXPECT_STREQ(name(ike_errc::no_proposal_chosen), "no_proposal_chosen");
  EXPECT_NE(std::string(text(ike_errc::bad_dh_value)), "");
  const std::string d = describe(ike_fail(make_error(codec_errc::trailing_data, 40)));
  EXPECT_EQ(d.rfind("codec: trailing_data at offset 40", 0), 0u) << d;
}

}  // namespace
}  // namespace gm::control

namespace gm::control {
namespace {

TEST(phase1_keys, enc_key_expansion_follows_appendix_b) {
  const key_bytes e(20, 0x42);  // a SHA1-sized SKEYID_e
  // Long enough: its first bytes.
  EXPECT_EQ(expand_enc_key(ike::hash_alg::sha1, e, 16), key_bytes(16, 0x42));
  // 3DES from SHA1: K1 = prf(SKEYID_e, 0x00), K2 = prf(SKEYID_e, K1), Ka = (K1 | K2)[0..24).
  const uint8_t zero = 0;
  const key_bytes k1 = ike::prf(ike::hash_alg::sha1, e, ike::cspan(&zero, 1));
  const key_bytes k2 = ike::prf(ike::hash_alg::sha1, e, k1);
  key_bytes want = k1;
  want.insert(want.end(), k2.begin(), k2.begin() + 4);
  EXPECT_EQ(expand_enc_key(ike::hash_alg::sha1, e, 24), want);
  // AES-256 from SHA1: 32 bytes of the same chain.
  want = k1;
  want.insert(want.end(), k2.begin(), k2.begin() + 12);
  EXPECT_EQ(expand_enc_key(ike::hash_alg::sha1, e, 32), want);
}

}  // namespace
}  // namespace gm::control
