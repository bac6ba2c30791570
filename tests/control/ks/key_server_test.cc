// The gm-ks engine driven in memory with a manual clock by GMs built from the library
// classes (Main Mode + GROUPKEY-PULL initiators, rekey_receiver, RFC 8263 ACKs).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "control/event_trace.h"
#include "control/gm_log.h"
#include "control/ks/key_server.h"
#include "control/ks/ks_config.h"
#include "tests/control/ks/test_gm.h"

namespace gm::control::ks {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using test::test_gm;

constexpr uint32_t ks_addr = 0x0a000001;  // 10.0.0.1
constexpr uint32_t group_id = 1234;

uint32_t gm_addr(int i) { return 0x0a000100u + static_cast<uint32_t>(i); }  // 10.0.1.i

class key_server_test : public ::testing::Test {
 protected:
  void SetUp() override {
    _dir = fs::temp_directory_path() / ("key_server_test." + std::to_string(getpid()));
    fs::create_directories(_dir);
    const std::string psk = (_dir / "psk").string();
    std::ofstream(psk) << "lab-psk\n";
    chmod(psk.c_str(), 0600);
    _psk_file = psk;
  }
  void TearDown() override { fs::remove_all(_dir); }

  // Builds the server from YAML where REKEY stands for the rekey line.
  void start(const std::string& rekey = "rekey: {transport: unicast, retransmit: {period: 10, "
                                        "count: 2}, ack_missed_limit: 3, before_expiry: 60}",
             const std::string& tek = "tek: {transform: aes-gcm-128, lifetime: 3600, replay: "
                                      "{mode: time, window: 5}}") {
    const std::string yaml = "listen: 10.0.0.1\n"
                             "group: {name: GETVPN_GROUP, identity: 1234}\n"
                             "psk: [{peer: any, key_file: " + _psk_file + "}]\n"
                             "acl:\n"
                             "  - deny udp any eq 848 any eq 848\n"
                             "  - permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"
                             "  - permit tcp host 10.1.1.1 any eq 80\n" +
                             tek + "\n"
                             "kek: {algorithm: aes-128, lifetime: 86400, rsa_key: unused.pem}\n" +
                             rekey + "\n"
                             "sender_ids: true\n";
    std::string err;
    auto c = parse_ks_config(yaml, "ks.yaml", err);
    ASSERT_TRUE(c) << err;
    _cfg = std::make_unique<ks_config>(std::move(*c));
    auto key = ike::rsa_key::generate(1024);
    ASSERT_TRUE(key);
    log_options lo;
    lo.to_stderr = true;
    _log = std::make_unique<gm_log>(_clock, lo, _log_text);
    _trace = std::make_unique<event_trace>(_clock);
    _ks = std::make_unique<key_server>(*_cfg, std::move(*key), _clock, *_log, *_trace);
  }

  // A GM that talks to the engine directly; replies must come back to its endpoint.
  test_gm& add_gm(int i, bool want_sid = false, std::string psk = "lab-psk",
                  uint32_t group = group_id) {
    _gms.push_back(std::make_unique<test_gm>(gm_addr(i), ks_addr, psk, group, want_sid));
    return *_gms.back();
  }

  std::string register_gm(test_gm& gm) {
    const endpoint ep{gm.addr(), 848};
    return gm.register_with([&](const bytes& d) -> std::optional<bytes> {
      auto out = _ks->on_datagram(ep, d);
      if (out.size() != 1 || !(out[0].to == ep)) {
        return std::nullopt;
      }
      return out[0].data;
    });
  }

  // Hands each rekey datagram to the GM it is for; ACKs when `ack`. Returns how many were
  // delivered.
  int deliver(const std::vector<outgoing>& out, bool ack = true) {
    int n = 0;
    for (const outgoing& o : out) {
      for (auto& gm : _gms) {
        if (gm->addr() != o.to.addr) {
          continue;
        }
        auto r = gm->take_rekey(o.data);
        EXPECT_TRUE(std::holds_alternative<bytes>(r))
            << describe(std::get<push_error>(r));
        ++n;
        if (ack && std::holds_alternative<bytes>(r)) {
          EXPECT_TRUE(_ks->on_datagram({gm->addr(), 848}, std::get<bytes>(r)).empty());
        }
      }
    }
    return n;
  }

  void advance(seconds s) { _clock.advance(s); }

  fs::path _dir;
  std::string _psk_file;
  manual_ops_clock _clock{wall_time{} + std::chrono::hours(24 * 365 * 56),
                          mono_time{} + std::chrono::hours(1000)};
  std::ostringstream _log_text;
  std::unique_ptr<ks_config> _cfg;
  std::unique_ptr<gm_log> _log;
  std::unique_ptr<event_trace> _trace;
  std::unique_ptr<key_server> _ks;
  std::vector<std::unique_ptr<test_gm>> _gms;
};

TEST_F(key_server_test, registration_serves_the_configured_policy_and_keys) {
  start();
  test_gm& gm = add_gm(1);
  advance(seconds(7));
  ASSERT_EQ(register_gm(gm), "");

  // The ACL in order, one SA TEK per ACE; the deny ACE has SPI 0 and no keys.
  const auto& k = gm.keys;
  ASSERT_EQ(k.teks.size(), 3u);
  const tek_generation& tek = _ks->teks().back();
  EXPECT_EQ(k.teks[0].spi, 0u);
  EXPECT_EQ(k.teks[0].ip_protocol, 17);
  EXPECT_EQ(k.teks[0].src.port, 848);
  EXPECT_EQ(k.teks[1].spi, tek.spi);
  EXPECT_EQ(k.teks[1].src, sa_identity::ipv4_subnet(0x0a010000, 0xffff0000));
  EXPECT_EQ(k.teks[1].dst, sa_identity::ipv4_subnet(0x0a020000, 0xffff0000));
  EXPECT_EQ(k.teks[2].src, sa_identity::ipv4_addr(0x0a010101));
  EXPECT_EQ(k.teks[2].dst, sa_identity::ipv4_subnet(0, 0, 80));
  EXPECT_EQ(k.teks[2].ip_protocol, 6);
  for (const sa_tek& t : k.teks) {
    EXPECT_EQ(t.transform_id, esp_transform::aes_gcm_16);
    EXPECT_EQ(t.attrs.key_length, 128);
    EXPECT_EQ(t.attrs.address_preservation, addr_preservation::source_and_destination);
    EXPECT_EQ(t.attrs.sa_direction, sa_dir::symmetric);
    EXPECT_EQ(t.attrs.replay_method, replay::time);
    EXPECT_EQ(t.attrs.replay_window, 5u);
    ASSERT_EQ(t.attrs.lifetimes.size(), 1u);
    EXPECT_EQ(t.attrs.lifetimes[0].duration, 3600u - 7);
  }
  // Pseudotime starts with the first registration.
  EXPECT_EQ(k.teks[1].attrs.pseudotime_ms, 0u);

  ASSERT_EQ(k.tek_keys.size(), 1u);
  const key_packet& tk = k.tek_keys.at(tek.spi);
  EXPECT_EQ(tk.algorithm_key, tek.alg_key);
  EXPECT_EQ(tk.algorithm_key.size(), 20u);  // AES-128 key || 4-byte salt
  EXPECT_TRUE(tk.integrity_key.empty());

  ASSERT_TRUE(k.kek);
  EXPECT_EQ(k.kek->spi, _ks->kek().state.spi);
  EXPECT_EQ(k.kek->attrs.algorithm, kek_alg::aes);
  EXPECT_EQ(k.kek->attrs.key_length, 128);
  EXPECT_EQ(k.kek->attrs.sig_key_length, 1024);
  EXPECT_TRUE(ack_requested(*k.kek));
  EXPECT_EQ(k.kek_keys->signature_key, key_bytes(_ks->public_der().begin(),
                                                 _ks->public_der().end()));
  EXPECT_EQ(k.seq, 0u);
  EXPECT_FALSE(k.sid);

  ASSERT_EQ(_ks->members().size(), 1u);
  EXPECT_EQ(_ks->members().at(gm.addr()).peer.port, 848);
  EXPECT_EQ(_ks->counters().registrations, 1u);
  EXPECT_NE(_log_text.str().find("%GDOI-5-KS_REGS_COMPL: KS completed successful registration "
                                 "in group GETVPN_GROUP with GM 10.0.1.1."),
            std::string::npos)
      << _log_text.str();

  advance(seconds(2));
  EXPECT_EQ(_ks->pseudotime_ms(), 2000u);
}

TEST_F(key_server_test, many_gms_get_distinct_sender_ids_and_keep_them) {
  start();
  std::set<uint64_t> sids;
  for (int i = 1; i <= 6; ++i) {
    test_gm& gm = add_gm(i, true);
    ASSERT_EQ(register_gm(gm), "") << i;
    ASSERT_TRUE(gm.keys.sender_id()) << i;
    EXPECT_NE(*gm.keys.sender_id(), 0u);
    EXPECT_TRUE(sids.insert(*gm.keys.sender_id()).second) << "duplicate sid for GM " << i;
    EXPECT_EQ(_ks->members().at(gm.addr()).sender_id, *gm.keys.sender_id());
  }
  EXPECT_EQ(_ks->members().size(), 6u);
  // A GM that registers again (a new phase 1) keeps its sender id.
  const uint64_t first = *_gms[2]->keys.sender_id();
  test_gm& again = add_gm(3, true);
  ASSERT_EQ(register_gm(again), "");
  EXPECT_EQ(again.keys.sender_id(), first);
  EXPECT_EQ(_ks->members().size(), 6u);
  // A GM that does not ask gets none.
  test_gm& plain = add_gm(9, false);
  ASSERT_EQ(register_gm(plain), "");
  EXPECT_FALSE(plain.keys.sid);
}

TEST_F(key_server_test, wrong_psk_or_group_registers_nobody) {
  start();
  test_gm& bad_psk = add_gm(1, false, "not-the-psk");
  EXPECT_NE(register_gm(bad_psk), "");
  test_gm& bad_group = add_gm(2, false, "lab-psk", 999);
  EXPECT_NE(register_gm(bad_group), "");
  EXPECT_TRUE(_ks->members().empty());
  EXPECT_GE(_ks->counters().drops[static_cast<int>(ks_drop::phase1_failed)], 1u);
  EXPECT_GE(_ks->counters().drops[static_cast<int>(ks_drop::pull_failed)], 1u);
  EXPECT_NE(_log_text.str().find("KS_UNAUTHORIZED"), std::string::npos);
}

TEST_F(key_server_test, tek_rekey_goes_out_before_expiry_and_is_acked) {
  start();
  test_gm& a = add_gm(1);
  test_gm& b = add_gm(2);
  ASSERT_EQ(register_gm(a), "");
  ASSERT_EQ(register_gm(b), "");
  const uint32_t old_spi = _ks->teks().back().spi;
  const mono_time created = _ks->teks().back().created;
  EXPECT_EQ(_ks->next_deadline(), created + seconds(3600 - 60));

  _clock.advance(created + seconds(3539) - _clock.mono());
  EXPECT_TRUE(_ks->on_timer().empty());
  advance(seconds(1));
  const auto out = _ks->on_timer();
  ASSERT_EQ(out.size(), 2u);  // one unicast rekey per member
  EXPECT_EQ(deliver(out), 2);

  // The GMs got a new TEK for every ACE, with keys, SEQ 1, a GAP activation delay, and the
  // pseudotime; the old TEK stays in the KS policy until it expires.
  ASSERT_TRUE(a.last);
  EXPECT_EQ(a.last->seq, 1u);
  const uint32_t new_spi = _ks->teks().back().spi;
  EXPECT_NE(new_spi, old_spi);
  ASSERT_EQ(a.last->sa.teks.size(), 3u);
  EXPECT_EQ(a.last->sa.teks[0].spi, 0u);
  EXPECT_EQ(a.last->sa.teks[1].spi, new_spi);
  EXPECT_EQ(a.last->sa.teks[1].attrs.lifetimes[0].duration, 3600u);
  ASSERT_TRUE(a.last->sa.gap);
  EXPECT_EQ(a.last->sa.gap->activation_time_delay, 30);  // 10 s x (2 resends + 1)
  EXPECT_EQ(a.keys.tek_keys.count(old_spi), 1u);
  EXPECT_EQ(a.keys.tek_keys.at(new_spi).algorithm_key, _ks->teks().back().alg_key);
  EXPECT_EQ(_ks->teks().size(), 2u);
  EXPECT_EQ(_ks->seq(), 1u);

  for (const test_gm* g : {&a, &b}) {
    const member& m = _ks->members().at(g->addr());
    EXPECT_EQ(m.rekeys_sent, 1u);
    EXPECT_EQ(m.acks_received, 1u);
    EXPECT_EQ(m.acks_missed, 0u);
    EXPECT_FALSE(m.pending);
    ASSERT_EQ(m.acked_seqs.size(), 1u);
    EXPECT_EQ(m.acked_seqs[0], 1u);
  }
  // Nothing to resend; the old TEK goes when it expires.
  advance(seconds(60));
  EXPECT_TRUE(_ks->on_timer().empty());
  ASSERT_EQ(_ks->teks().size(), 1u);
  EXPECT_EQ(_ks->teks().front().spi, new_spi);
}

TEST_F(key_server_test, unacked_rekeys_are_resent_then_missed_and_the_gm_dropped_after_three) {
  start();
  test_gm& quiet = add_gm(1);
  test_gm& good = add_gm(2);
  ASSERT_EQ(register_gm(quiet), "");
  ASSERT_EQ(register_gm(good), "");
  for (int r = 1; r <= 3; ++r) {
    auto out = _ks->rekey(rekey_kind::tek);
    ASSERT_EQ(out.size(), 2u) << r;
    for (const outgoing& o : out) {
      deliver({o}, /*ack=*/o.to.addr == good.addr());
    }
    // Resent at +10 s and +20 s, identical bytes, to the silent GM only.
    for (int resend = 1; resend <= 2; ++resend) {
      EXPECT_EQ(_ks->next_deadline(), _clock.mono() + seconds(10));
      advance(seconds(10));
      auto again = _ks->on_timer();
      ASSERT_EQ(again.size(), 1u) << r << "/" << resend;
      EXPECT_EQ(again[0].to.addr, quiet.addr());
      EXPECT_EQ(again[0].data, out[0].to.addr == quiet.addr() ? out[0].data : out[1].data);
    }
    advance(seconds(10));
    EXPECT_TRUE(_ks->on_timer().empty());  // counted as missed now
    if (r < 3) {
      const member& m = _ks->members().at(quiet.addr());
      EXPECT_EQ(m.acks_missed, static_cast<uint64_t>(r));
      EXPECT_EQ(m.retries, static_cast<uint64_t>(2 * r));
      EXPECT_EQ(m.rekeys_sent, static_cast<uint64_t>(r));
      EXPECT_FALSE(m.pending);
    }
  }
  EXPECT_EQ(_ks->members().count(quiet.addr()), 0u);
  ASSERT_EQ(_ks->members().count(good.addr()), 1u);
  EXPECT_EQ(_ks->members().at(good.addr()).acks_received, 3u);
  EXPECT_EQ(_ks->counters().members_removed, 1u);
  EXPECT_NE(_log_text.str().find("%GDOI-5-KS_GM_REVOKED: Re-key: GM 10.0.1.1 revoked by KS in "
                                 "the group GETVPN_GROUP."),
            std::string::npos);
  // The next rekey goes to the remaining member only.
  EXPECT_EQ(_ks->rekey(rekey_kind::tek).size(), 1u);
}

TEST_F(key_server_test, an_ack_resets_the_missed_streak) {
  start();
  test_gm& gm = add_gm(1);
  ASSERT_EQ(register_gm(gm), "");
  auto miss = [&] {
    auto out = _ks->rekey(rekey_kind::tek);
    deliver(out, false);
    for (int i = 0; i < 3; ++i) {
      advance(seconds(10));
      _ks->on_timer();
    }
  };
  miss();
  miss();
  deliver(_ks->rekey(rekey_kind::tek), true);
  miss();
  miss();
  ASSERT_EQ(_ks->members().count(gm.addr()), 1u);
  EXPECT_EQ(_ks->members().at(gm.addr()).acks_missed, 4u);
  EXPECT_EQ(_ks->members().at(gm.addr()).missed_in_row, 2u);
}

TEST_F(key_server_test, seq_increments_and_a_replayed_rekey_is_refused_by_the_gm) {
  start();
  test_gm& gm = add_gm(1);
  ASSERT_EQ(register_gm(gm), "");
  auto first = _ks->rekey(rekey_kind::tek);
  ASSERT_EQ(deliver(first), 1);
  EXPECT_EQ(gm.last->seq, 1u);
  ASSERT_EQ(deliver(_ks->rekey(rekey_kind::tek)), 1);
  EXPECT_EQ(gm.last->seq, 2u);
  auto replay = gm.take_rekey(first[0].data);
  ASSERT_TRUE(std::holds_alternative<push_error>(replay));
  EXPECT_EQ(std::get<push_error>(replay).code, push_errc::replayed_seq);
  EXPECT_EQ(_ks->members().at(gm.addr()).sent_seqs, (std::deque<uint32_t>{2, 1}));
  // A registration after rekeys learns the current SEQ.
  test_gm& late = add_gm(2);
  ASSERT_EQ(register_gm(late), "");
  EXPECT_EQ(late.keys.seq, 2u);
}

TEST_F(key_server_test, kek_rekey_installs_a_new_kek_and_restarts_the_seq) {
  start();
  test_gm& gm = add_gm(1);
  ASSERT_EQ(register_gm(gm), "");
  ASSERT_EQ(deliver(_ks->rekey(rekey_kind::tek)), 1);
  const kek_spi old_spi = _ks->kek().state.spi;
  ASSERT_EQ(deliver(_ks->rekey(rekey_kind::kek)), 1);
  EXPECT_EQ(gm.last->seq, 2u);  // sent under the old KEK with the next SEQ
  EXPECT_NE(_ks->kek().state.spi, old_spi);
  EXPECT_EQ(gm.rekeys.kek.spi, _ks->kek().state.spi);
  EXPECT_EQ(gm.rekeys.kek.key, _ks->kek().state.key);
  EXPECT_EQ(_ks->seq(), 0u);
  EXPECT_EQ(_ks->members().at(gm.addr()).acks_received, 2u);
  // The next TEK rekey, under the new KEK, carries SEQ 1 and the GM accepts it.
  ASSERT_EQ(deliver(_ks->rekey(rekey_kind::tek)), 1);
  EXPECT_EQ(gm.last->seq, 1u);
  EXPECT_EQ(_ks->members().at(gm.addr()).acks_received, 3u);
}

TEST_F(key_server_test, kek_rekey_is_due_before_the_kek_expires) {
  start("rekey: {transport: unicast, before_expiry: 60}",
        "tek: {transform: aes-cbc-128-sha1, lifetime: 86400}");
  const mono_time kek_expiry = _ks->kek().expires;
  EXPECT_EQ(_ks->next_deadline(), kek_expiry - seconds(60));
  test_gm& gm = add_gm(1);
  ASSERT_EQ(register_gm(gm), "");
  EXPECT_EQ(gm.keys.teks[1].attrs.auth_algorithm, auth_alg::hmac_sha1);
  EXPECT_EQ(gm.keys.tek_keys.begin()->second.integrity_key.size(), 20u);
  _clock.advance(kek_expiry - seconds(60) - _clock.mono());
  const kek_spi before = _ks->kek().state.spi;
  auto out = _ks->on_timer();
  // KEK and TEK were both due (same lifetime): the KEK goes first, then the TEK under it.
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(deliver(out), 2);
  EXPECT_NE(_ks->kek().state.spi, before);
  EXPECT_EQ(gm.rekeys.kek.spi, _ks->kek().state.spi);
  EXPECT_EQ(gm.last->seq, 1u);
}

TEST_F(key_server_test, registration_during_a_rollover_gets_both_teks) {
  start();
  test_gm& a = add_gm(1);
  ASSERT_EQ(register_gm(a), "");
  deliver(_ks->rekey(rekey_kind::tek));
  test_gm& b = add_gm(2);
  ASSERT_EQ(register_gm(b), "");
  EXPECT_EQ(b.keys.teks.size(), 6u);
  EXPECT_EQ(b.keys.tek_keys.size(), 2u);
  EXPECT_EQ(b.keys.teks[1].spi, _ks->teks().front().spi);
  EXPECT_EQ(b.keys.teks[4].spi, _ks->teks().back().spi);
}

TEST_F(key_server_test, multicast_rekeys_go_to_the_group_and_are_not_tracked) {
  start("rekey: {transport: multicast, address: 239.192.1.190}");
  test_gm& gm = add_gm(1);
  ASSERT_EQ(register_gm(gm), "");
  EXPECT_FALSE(ack_requested(*gm.keys.kek));
  const auto out = _ks->rekey(rekey_kind::tek);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to.addr, 0xefc001beu);
  EXPECT_EQ(out[0].to.port, 848);
  ASSERT_TRUE(std::holds_alternative<bytes>(gm.take_rekey(out[0].data)));
  EXPECT_EQ(gm.last->seq, 1u);
  const member& m = _ks->members().at(gm.addr());
  EXPECT_EQ(m.rekeys_sent, 1u);
  EXPECT_FALSE(m.pending);
  advance(seconds(600));
  EXPECT_TRUE(_ks->on_timer().empty());
  EXPECT_EQ(_ks->members().size(), 1u);
}

TEST_F(key_server_test, acks_from_strangers_or_for_old_seqs_are_dropped) {
  start();
  test_gm& gm = add_gm(1);
  ASSERT_EQ(register_gm(gm), "");
  auto out = _ks->rekey(rekey_kind::tek);
  auto ack = gm.take_rekey(out[0].data);
  ASSERT_TRUE(std::holds_alternative<bytes>(ack));
  // The same ACK from another address names the wrong member.
  EXPECT_TRUE(_ks->on_datagram({gm_addr(7), 848}, std::get<bytes>(ack)).empty());
  EXPECT_EQ(_ks->counters().drops[static_cast<int>(ks_drop::bad_ack)], 1u);
  EXPECT_EQ(_ks->members().at(gm.addr()).acks_received, 0u);
  EXPECT_TRUE(_ks->on_datagram({gm.addr(), 848}, std::get<bytes>(ack)).empty());
  EXPECT_EQ(_ks->members().at(gm.addr()).acks_received, 1u);
  // Twice: nothing pending any more.
  EXPECT_TRUE(_ks->on_datagram({gm.addr(), 848}, std::get<bytes>(ack)).empty());
  EXPECT_EQ(_ks->counters().drops[static_cast<int>(ks_drop::unexpected_ack)], 1u);
  EXPECT_EQ(_ks->members().at(gm.addr()).acks_received, 1u);
}

TEST_F(key_server_test, clear_members_forgets_everyone) {
  start();
  test_gm& gm = add_gm(1);
  ASSERT_EQ(register_gm(gm), "");
  _ks->clear_members();
  EXPECT_TRUE(_ks->members().empty());
  EXPECT_TRUE(_ks->rekey(rekey_kind::tek).empty());
}

}  // namespace
}  // namespace gm::control::ks
