// gm-control's engine against the real lab KS engine, in memory, with one manual clock:
// registration, TEK and KEK rekeys with RFC 8263 ACKs, rekey replay, KS failover, clear,
// a refused transform (logged once, no re-registration loop), and bad input. The data
// plane side is a recorder of the ring messages the engine would send (the end-to-end test
// with the real gm-dataplane is tests/control/gm/gm_dataplane_e2e_test.py).
#include <gtest/gtest.h>
#include <cerrno>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/gm/member_engine.h"
#include "control/ks/key_server.h"
#include "control/ks/ks_config.h"

namespace {

namespace fs = std::filesystem;
using namespace gm::control;
using namespace gm::control::gmd;
using namespace std::chrono_literals;

constexpr uint32_t ks1 = 0x0a000001;  // 10.0.0.1
constexpr uint32_t ks2 = 0x0a000003;  // 10.0.0.3
constexpr uint32_t gm_addr = 0x0a000002;

struct recorded_dp final : dp_port {
  std::vector<gm::ctrl::msg> msgs;
  std::vector<std::vector<gm::ctrl::ace_rec>> policies;
  int refuse_sa_add = 0;  // errno to answer sa_add with
  gm::ctrl::ack_result request(gm::ctrl::msg& m) override {
    msgs.push_back(m);
    m.wipe();
    if (msgs.back().type == gm::ctrl::msg_type::sa_add && refuse_sa_add != 0) {
      return {refuse_sa_add, "transform failed its self-test"};
    }
    return {0, ""};
  }
  gm::ctrl::ack_result replace_policy(const std::vector<gm::ctrl::ace_rec>& a) override {
    policies.push_back(a);
    return {0, ""};
  }
  bool poll_event(gm::ctrl::msg&) override { return false; }
  std::vector<uint32_t> spis(gm::ctrl::msg_type t) const {
    std::vector<uint32_t> out;
    for (const auto& m : msgs) {
      if (m.type == t) out.push_back(t == gm::ctrl::msg_type::sa_add ? m.u.sa_add.spi : m.u.spi.spi);
    }
    return out;
  }
};

std::string write_private(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  chmod(p.c_str(), 0600);
  return p.string();
}

class gm_engine_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("gm_engine_test_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
    psk_file = write_private(dir / "psk", "lab-secret\n");
  }
  void TearDown() override { fs::remove_all(dir); }

  std::unique_ptr<ks::key_server> make_ks(uint32_t listen, const std::string& extra_tek = "",
                                          const std::string& psk = "",
                                          const std::string& interop = "") {
    ks_cfgs.push_back(ks_config(listen, extra_tek, psk, interop));
    std::string err;
    auto key_pair = ks::load_or_create_signing_key(ks_cfgs.back()->kek, err);
    EXPECT_TRUE(key_pair) << err;
    return std::make_unique<ks::key_server>(*ks_cfgs.back(), std::move(*key_pair), clock, log, trace);
  }

  // The KS config make_ks uses; `acl` replaces the ACL's lines when not empty.
  std::unique_ptr<ks::ks_config> ks_config(uint32_t listen, const std::string& extra_tek = "",
                                           const std::string& psk = "",
                                           const std::string& interop = "",
                                           const std::string& acl = "") {
    const std::string key = psk.empty() ? psk_file : write_private(dir / "psk_other", psk);
    const std::string yaml =
        "listen: " + dotted(listen) + "\n"
        "group: {name: G1, identity: 1234}\n"
        "psk: [{peer: any, key_file: " + key + "}]\n"
        "phase1: [{encryption: aes-256, hash: sha256, group: 14}]\n"
        "acl:\n" + (acl.empty() ? std::string(
        "  - deny udp any eq 848 any eq 848\n"
        "  - permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"
        "  - permit ip 10.2.0.0 0.0.255.255 10.1.0.0 0.0.255.255\n") : acl) +
        "tek: {transform: " + (extra_tek.empty() ? std::string("aes-gcm-128") : extra_tek) +
        ", lifetime: 900, replay: {mode: time, window: 5}}\n"
        "kek: {algorithm: aes-128, lifetime: 3600, sig_hash: sha256, rsa_key: " +
        (dir / ("ks" + std::to_string(listen) + ".pem")).string() + ", rsa_bits: 2048}\n"
        "rekey: {transport: unicast, retransmit: {period: 5, count: 2}, ack_missed_limit: 3}\n"
        "sender_ids: true\n" + interop;
    std::string err;
    auto out = std::make_unique<ks::ks_config>();
    auto c = ks::parse_ks_config(yaml, "ks.yaml", err);
    EXPECT_TRUE(c) << err;
    if (c) *out = std::move(*c);
    return out;
  }

  static std::string dotted(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
           std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
  }

  gm_config gm_cfg(std::vector<uint32_t> servers) {
    gm_config c;
    c.group_name = "G1";
    c.identity = 1234;
    c.servers = std::move(servers);
    c.local_address = gm_addr;
    c.psk.assign({'l', 'a', 'b', '-', 's', 'e', 'c', 'r', 'e', 't'});
    c.phase1 = {phase1_policy{}};
    for (const auto& t : gm::crypto::transform_table) c.allowed_transforms.push_back(t.id);
    c.retransmit_s = 1;
    c.retransmit_count = 2;
    return c;
  }

  // Delivers datagrams both ways until nothing is in flight (bounded).
  void pump() {
    for (int round = 0; round < 50 && !to_ks.empty(); ++round) {
      auto batch = std::move(to_ks);
      to_ks.clear();
      for (auto& [addr, data] : batch) {
        auto* k = addr == ks1 ? k1.get() : addr == ks2 ? k2.get() : nullptr;
        if (k == nullptr || (addr == ks1 && ks1_down)) continue;
        for (auto& out : k->on_datagram({gm_addr, 848}, data)) deliver_to_gm(addr, out.data);
      }
    }
  }
  void deliver_to_gm(uint32_t from, const bytes& d) { engine->on_datagram(from, 848, d); }
  void run_for(std::chrono::seconds s) {
    for (auto t = 0s; t < s; t += 1s) {
      clock.advance(1s);
      engine->tick();
      pump();
      for (auto* k : {k1.get(), k2.get()}) {
        if (k == nullptr) continue;
        for (auto& out : k->on_timer()) deliver_to_gm(k == k1.get() ? ks1 : ks2, out.data);
      }
      pump();
    }
  }
  void start(std::vector<uint32_t> servers) {
    cfg = gm_cfg(std::move(servers));
    if (cfg_tweak) cfg_tweak(cfg);
    engine = std::make_unique<gmd::member_engine>(
        cfg,
        gm_io{[this](uint32_t a, uint16_t, const bytes& b) { to_ks.emplace_back(a, b); }, nullptr},
        &dp, clock, log, trace);
    engine->start();
    pump();
  }
  // A rekey from k1, delivered; returns the datagrams (for replay tests).
  std::vector<ks::outgoing> rekey(ks::rekey_kind kind) {
    auto out = k1->rekey(kind);
    for (auto& o : out) {
      if (o.to.addr == gm_addr) deliver_to_gm(ks1, o.data);
    }
    pump();
    return out;
  }

  fs::path dir;
  std::string psk_file;
  manual_ops_clock clock{wall_time{} + 1000h, mono_time{} + 1000h};
  std::ostringstream log_out;
  gm_log log{clock, log_options{}, log_out};
  event_trace trace{clock};
  std::vector<std::unique_ptr<ks::ks_config>> ks_cfgs;
  std::unique_ptr<ks::key_server> k1, k2;
  bool ks1_down = false;
  gm_config cfg;
  std::function<void(gm_config&)> cfg_tweak;
  recorded_dp dp;
  std::vector<std::pair<uint32_t, bytes>> to_ks;
  std::unique_ptr<gmd::member_engine> engine;
};

TEST_F(gm_engine_test, registers_and_installs_the_ks_policy_and_keys) {
  k1 = make_ks(ks1);
  start({ks1});
  ASSERT_TRUE(engine->registered()) << log_out.str();
  EXPECT_EQ(engine->registered_with(), ks1);
  const auto& tek = k1->teks().back();
  const auto added = dp.spis(gm::ctrl::msg_type::sa_add);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0], tek.spi);
  const gm::ctrl::msg* add = nullptr;
  for (const auto& m : dp.msgs) {
    if (m.type == gm::ctrl::msg_type::sa_add) add = &m;
  }
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->u.sa_add.transform, static_cast<uint8_t>(gm::crypto::transform_id::aes_gcm_128));
  EXPECT_EQ(add->u.sa_add.key_len, 20);  // 16-byte key + 4-byte salt
  EXPECT_EQ(add->u.sa_add.replay_mode, static_cast<uint8_t>(gm::ctrl::replay::time));
  EXPECT_EQ(add->u.sa_add.window, 5000u);
  // The ACL: deny 848 (bypass) then the two permits on one policy index.
  ASSERT_EQ(dp.policies.size(), 1u);
  ASSERT_EQ(dp.policies[0].size(), 3u);
  EXPECT_EQ(dp.policies[0][0].action, static_cast<uint8_t>(gm::classifier::action::bypass));
  EXPECT_EQ(dp.policies[0][1].action, static_cast<uint8_t>(gm::classifier::action::protect));
  EXPECT_EQ(dp.policies[0][1].src, 0x0a010000u);
  EXPECT_EQ(dp.policies[0][1].src_len, 16);
  EXPECT_EQ(dp.policies[0][1].sa_index, dp.policies[0][2].sa_index);
  // The KS-allocated sender id reached the data plane, and outbound uses the TEK.
  bool sid = false;
  for (const auto& m : dp.msgs) sid = sid || (m.type == gm::ctrl::msg_type::sender_id && m.u.sender.sid != 0);
  EXPECT_TRUE(sid);
  engine->tick();
  EXPECT_EQ(engine->current_outbound_spi(), tek.spi);
  EXPECT_NE(log_out.str().find("%GDOI-5-GM_REGS_COMPL"), std::string::npos);
  gm_status s;
  engine->fill_status(s);
  ASSERT_EQ(s.groups.size(), 1u);
  EXPECT_EQ(s.groups[0].registration, registration_state::registered);
  EXPECT_EQ(s.groups[0].ks_acl.size(), 3u);
  ASSERT_EQ(s.groups[0].teks.size(), 1u);
  EXPECT_EQ(s.groups[0].teks[0].tbar_window_s, 5u);
  ASSERT_TRUE(s.groups[0].kek);
  EXPECT_EQ(s.isakmp_sas.size(), 2u);  // GDOI_IDLE + GDOI_REKEY
  ASSERT_EQ(s.ipsec.size(), 1u);
  EXPECT_EQ(s.ipsec[0].local_addr, gm_addr);
  EXPECT_EQ(s.ipsec[0].current_outbound_spi, tek.spi);
  ASSERT_EQ(s.ipsec[0].outbound.size(), 1u);
  EXPECT_GT(s.ipsec[0].outbound[0].remaining_lifetime_s, 800u);  // TEK lifetime 900 s
  ASSERT_EQ(s.replay.size(), 1u);
  EXPECT_TRUE(s.replay[0].time_based);
}

TEST_F(gm_engine_test, tek_rekey_installs_inbound_now_outbound_after_the_delay_and_acks) {
  k1 = make_ks(ks1);
  start({ks1});
  ASSERT_TRUE(engine->registered());
  const uint32_t old_spi = k1->teks().back().spi;
  engine->tick();
  rekey(ks::rekey_kind::tek);
  const uint32_t new_spi = k1->teks().back().spi;
  ASSERT_NE(new_spi, old_spi);
  EXPECT_EQ(engine->rekeys(), 1u);
  EXPECT_EQ(dp.spis(gm::ctrl::msg_type::sa_add).back(), new_spi);
  // The KS's GAP activation delay: retransmit period 5 s x (2 resends + 1) = 15 s.
  run_for(14s);
  EXPECT_EQ(engine->current_outbound_spi(), old_spi);  // not yet
  run_for(2s);
  EXPECT_EQ(engine->current_outbound_spi(), new_spi);
  // The old SA stays for inbound until it expires.
  EXPECT_TRUE(dp.spis(gm::ctrl::msg_type::sa_del).empty());
  // The ACK reached the KS.
  EXPECT_EQ(k1->members().at(gm_addr).acks_received, 1u);
  EXPECT_NE(log_out.str().find("%GDOI-5-GM_RECV_REKEY"), std::string::npos);
  EXPECT_NE(log_out.str().find("%GDOI-5-SA_TEK_UPDATED"), std::string::npos);
}

TEST_F(gm_engine_test, replayed_rekey_is_rejected_and_counted) {
  k1 = make_ks(ks1);
  start({ks1});
  const auto out = rekey(ks::rekey_kind::tek);
  ASSERT_FALSE(out.empty());
  const auto adds = dp.spis(gm::ctrl::msg_type::sa_add).size();
  deliver_to_gm(ks1, out[0].data);
  EXPECT_EQ(engine->drops(rx_drop::push_replay), 1u);
  EXPECT_EQ(engine->rekeys(), 1u);
  EXPECT_EQ(dp.spis(gm::ctrl::msg_type::sa_add).size(), adds);
  EXPECT_NE(log_out.str().find("%GDOI-4-REPLAY_FAILED"), std::string::npos);
}

TEST_F(gm_engine_test, kek_rekey_then_tek_rekey_under_the_new_kek) {
  k1 = make_ks(ks1);
  start({ks1});
  const auto old_cookies = engine->rekey_state()->kek.spi;
  rekey(ks::rekey_kind::kek);
  EXPECT_NE(engine->rekey_state()->kek.spi, old_cookies);
  EXPECT_NE(log_out.str().find("%GDOI-5-SA_KEK_UPDATED"), std::string::npos);
  rekey(ks::rekey_kind::tek);  // SEQ restarted under the new KEK: must be accepted
  EXPECT_EQ(engine->rekeys(), 2u);
  EXPECT_EQ(engine->drops(rx_drop::push_replay), 0u);
  EXPECT_EQ(engine->drops(rx_drop::push_error), 0u);
}

TEST_F(gm_engine_test, fails_over_to_the_second_ks) {
  k1 = make_ks(ks1);
  k2 = make_ks(ks2);
  ks1_down = true;
  start({ks1, ks2});
  EXPECT_FALSE(engine->registered());
  run_for(20s);
  ASSERT_TRUE(engine->registered()) << log_out.str();
  EXPECT_EQ(engine->registered_with(), ks2);
  EXPECT_NE(log_out.str().find("GM_KS_UNREACHABLE"), std::string::npos);
}

TEST_F(gm_engine_test, clear_deletes_the_sas_keeps_the_acl_and_registers_again) {
  k1 = make_ks(ks1);
  start({ks1});
  ASSERT_TRUE(engine->registered());
  engine->clear();
  pump();
  EXPECT_TRUE(engine->registered());
  // The old SA was deleted and the ACL kept (fail closed while re-registering): no flush.
  bool flushed = false;
  for (const auto& m : dp.msgs) flushed = flushed || m.type == gm::ctrl::msg_type::flush;
  EXPECT_FALSE(flushed);
  EXPECT_EQ(dp.spis(gm::ctrl::msg_type::sa_del).size(), 1u);
  EXPECT_NE(log_out.str().find("%GDOI-5-GM_CLEAR_REGISTER"), std::string::npos);
}

TEST_F(gm_engine_test, wrong_psk_does_not_register) {
  k1 = make_ks(ks1, "", "another-secret\n");
  start({ks1});
  run_for(10s);
  EXPECT_FALSE(engine->registered());
  EXPECT_NE(log_out.str().find("check the pre-shared key"), std::string::npos) << log_out.str();
}

TEST_F(gm_engine_test, refused_transform_is_logged_once_and_backs_off) {
  k1 = make_ks(ks1, "3des-cbc-sha1");
  dp.refuse_sa_add = EOPNOTSUPP;
  start({ks1});
  EXPECT_FALSE(engine->registered());
  const std::string first = log_out.str();
  const auto n = [&](const std::string& s) {
    std::size_t c = 0;
    for (auto at = s.find("GM_REJECTING_SA_PAYLOAD"); at != std::string::npos;
         at = s.find("GM_REJECTING_SA_PAYLOAD", at + 1)) ++c;
    return c;
  };
  EXPECT_EQ(n(first), 1u);
  EXPECT_NE(first.find("esp-3des esp-sha-hmac"), std::string::npos);  // names the transform
  const auto adds = dp.spis(gm::ctrl::msg_type::sa_add).size();
  run_for(60s);  // inside the back-off: no new attempt
  EXPECT_EQ(dp.spis(gm::ctrl::msg_type::sa_add).size(), adds);
}

TEST_F(gm_engine_test, garbage_and_foreign_datagrams_are_counted_not_fatal) {
  k1 = make_ks(ks1);
  start({ks1});
  const bytes junk(40, 0xab);
  engine->on_datagram(ks1, 848, junk);
  engine->on_datagram(0x01020304, 848, junk);
  bytes push_like(60, 0);
  push_like[17] = 0x10;  // version 1.0
  push_like[18] = exchange::groupkey_push;
  push_like[27] = 60;
  engine->on_datagram(ks1, 848, push_like);
  EXPECT_GE(engine->drops(rx_drop::not_isakmp), 1u);
  EXPECT_EQ(engine->drops(rx_drop::push_error), 1u);
  EXPECT_TRUE(engine->registered());
  rekey(ks::rekey_kind::tek);
  EXPECT_EQ(engine->rekeys(), 1u);
}

}  // namespace

namespace {

// A restarted gm-control finds its TEK still installed (the data plane kept forwarding)
// and takes it over instead of refusing the policy.
TEST_F(gm_engine_test, restart_takes_over_the_sas_the_data_plane_kept) {
  k1 = make_ks(ks1);
  dp.refuse_sa_add = EEXIST;
  start({ks1});
  ASSERT_TRUE(engine->registered()) << log_out.str();
  engine->tick();
  EXPECT_EQ(engine->current_outbound_spi(), k1->teks().back().spi);
  EXPECT_EQ(log_out.str().find("GM_REJECTING_SA_PAYLOAD"), std::string::npos);
}

// Without rekeys, the GM registers again before the TEK expires (IOS: about 60 s before).
TEST_F(gm_engine_test, re_registers_before_expiry_when_no_rekey_comes) {
  k1 = make_ks(ks1);
  start({ks1});
  ASSERT_TRUE(engine->registered());
  gm_status s;
  engine->fill_status(s);
  ASSERT_TRUE(s.groups[0].reregister_in_s);
  EXPECT_EQ(*s.groups[0].reregister_in_s, 900u - 60u);  // TEK lifetime 900 s, 60 s before
  clock.advance(std::chrono::seconds(*s.groups[0].reregister_in_s + 1));
  engine->tick();  // the KS's own rekey timer is not run: no rekey arrives
  pump();
  EXPECT_TRUE(engine->registered());
  EXPECT_NE(log_out.str().find("%GDOI-5-GM_RE_REGISTER"), std::string::npos);
  gm_status after;
  engine->fill_status(after);
  EXPECT_EQ(after.groups[0].succeeded_registrations, 2u);
}

}  // namespace

namespace {

// Spec §5 interop tolerance: a KS signing rekeys over the raw hash with a static KEK IV
// (Cisco's 2011 reference) is accepted, and the GM says so once.
TEST_F(gm_engine_test, cisco_2011_rekey_forms_are_accepted_and_logged_once) {
  k1 = make_ks(ks1, "", "", "interop: {sig_form: raw_hash, static_kek_iv: true, id_length: rfc}\n");
  start({ks1});
  ASSERT_TRUE(engine->registered());
  rekey(ks::rekey_kind::tek);
  rekey(ks::rekey_kind::tek);
  EXPECT_EQ(engine->rekeys(), 2u);
  const std::string l = log_out.str();
  const auto first = l.find("raw-hash RSA signatures and the static KEK IV");
  ASSERT_NE(first, std::string::npos) << l;
  EXPECT_EQ(l.find("raw-hash RSA signatures", first + 1), std::string::npos);
}

}  // namespace

namespace {

// A TEK lifetime below reregister_before must not make the GM re-register continuously:
// it re-registers halfway through the lifetime instead.
TEST_F(gm_engine_test, short_lifetimes_do_not_cause_a_registration_storm) {
  k1 = make_ks(ks1);
  cfg_tweak = [](gm_config& c) { c.reregister_before_s = 1000; };  // TEK lifetime is 900 s
  start({ks1});
  ASSERT_TRUE(engine->registered());
  gm_status s;
  engine->fill_status(s);
  ASSERT_TRUE(s.groups[0].reregister_in_s);
  EXPECT_EQ(*s.groups[0].reregister_in_s, 450u);
  run_for(10s);
  gm_status after;
  engine->fill_status(after);
  EXPECT_EQ(after.groups[0].attempted_registrations, 1u);
}

}  // namespace

TEST_F(gm_engine_test, ks_policy_reload_replaces_the_acl_on_the_same_policy_index) {
  k1 = make_ks(ks1);
  start({ks1});
  ASSERT_TRUE(engine->registered());
  engine->tick();
  const uint32_t old_spi = k1->teks().back().spi;
  ASSERT_EQ(dp.policies.size(), 1u);
  const uint32_t idx = dp.policies[0][1].sa_index;

  // A reload that changes what GMs hold is refused, and nothing changes.
  ks_cfgs.push_back(ks_config(ks1, "aes-cbc-128-sha1"));
  std::vector<ks::outgoing> out;
  EXPECT_NE(k1->reload(*ks_cfgs.back(), out).find("tek.transform"), std::string::npos);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(k1->teks().back().spi, old_spi);

  // A new ACL (one more subnet pair) goes out at once as a TEK rekey.
  ks_cfgs.push_back(ks_config(ks1, "", "", "",
                              "  - deny udp any eq 848 any eq 848\n"
                              "  - permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"
                              "  - permit ip 10.2.0.0 0.0.255.255 10.1.0.0 0.0.255.255\n"
                              "  - permit ip 10.3.0.0 0.0.255.255 10.4.0.0 0.0.255.255\n"));
  ASSERT_EQ(k1->reload(*ks_cfgs.back(), out), "");
  ASSERT_EQ(out.size(), 1u);
  const uint32_t new_spi = k1->teks().back().spi;
  ASSERT_NE(new_spi, old_spi);
  deliver_to_gm(ks1, out[0].data);
  pump();
  EXPECT_EQ(engine->rekeys(), 1u);
  // The GM applied the new ACL at once, on the index the old TEK still serves outbound:
  // no window with no outbound SA, and peers' packets under the old SA still pass the
  // inner-policy check.
  ASSERT_EQ(dp.policies.size(), 2u);
  ASSERT_EQ(dp.policies[1].size(), 4u);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(dp.policies[1][i].sa_index, idx);
  const gm::ctrl::msg* add = nullptr;
  for (const auto& m : dp.msgs) {
    if (m.type == gm::ctrl::msg_type::sa_add && m.u.sa_add.spi == new_spi) add = &m;
  }
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->u.sa_add.policy_index, idx);
  EXPECT_EQ(engine->current_outbound_spi(), old_spi);
  run_for(16s);
  EXPECT_EQ(engine->current_outbound_spi(), new_spi);
  EXPECT_EQ(k1->members().at(gm_addr).acks_received, 1u);

  // Back to the first ACL: the same index again (policy changes never use up indices).
  ks_cfgs.push_back(ks_config(ks1));
  ASSERT_EQ(k1->reload(*ks_cfgs.back(), out), "");
  ASSERT_EQ(out.size(), 1u);
  deliver_to_gm(ks1, out[0].data);
  pump();
  ASSERT_EQ(dp.policies.size(), 3u);
  ASSERT_EQ(dp.policies[2].size(), 3u);
  EXPECT_EQ(dp.policies[2][1].sa_index, idx);
  // A reload with the same ACL sends nothing.
  ks_cfgs.push_back(ks_config(ks1));
  ASSERT_EQ(k1->reload(*ks_cfgs.back(), out), "");
  EXPECT_TRUE(out.empty());
}

TEST_F(gm_engine_test, ack_of_a_rekey_superseded_before_its_resend_still_counts) {
  k1 = make_ks(ks1);
  start({ks1});
  ASSERT_TRUE(engine->registered());
  // Two rekeys back to back; the GM's ACK of the first is still in flight when the second
  // goes out.
  for (const auto& o : k1->rekey(ks::rekey_kind::tek)) deliver_to_gm(ks1, o.data);
  for (const auto& o : k1->rekey(ks::rekey_kind::tek)) deliver_to_gm(ks1, o.data);
  pump();
  const auto& m = k1->members().at(gm_addr);
  EXPECT_EQ(m.acks_received, 2u);
  EXPECT_EQ(m.acks_missed, 0u);
  EXPECT_EQ(k1->counters().drops[static_cast<std::size_t>(ks::ks_drop::unexpected_ack)], 0u);
}

TEST_F(gm_engine_test, passive_ks_takes_over_with_the_same_keys_and_rekeys_without_a_registration) {
  k1 = make_ks(ks1);
  // The second KS shares the first one's RSA key file (as the lab's KSs do).
  ks_cfgs.push_back(ks_config(ks2));
  ks_cfgs.back()->kek.rsa_key = ks_cfgs.front()->kek.rsa_key;
  std::string err;
  auto pair = ks::load_or_create_signing_key(ks_cfgs.back()->kek, err);
  ASSERT_TRUE(pair) << err;
  k2 = std::make_unique<ks::key_server>(*ks_cfgs.back(), std::move(*pair), clock, log, trace);
  k2->set_active(false);
  start({ks1, ks2});
  ASSERT_TRUE(engine->registered());
  ASSERT_EQ(engine->registered_with(), ks1);
  engine->tick();
  rekey(ks::rekey_kind::tek);  // seq 1 from k1
  run_for(16s);
  const uint32_t spi1 = engine->current_outbound_spi();
  ASSERT_EQ(spi1, k1->teks().back().spi);

  // k2 follows k1's published state; a passive KS sends no rekeys.
  ASSERT_TRUE(k2->adopt_state(k1->export_state(), err)) << err;
  EXPECT_EQ(k2->teks().back().spi, spi1);
  EXPECT_EQ(k2->seq(), k1->seq());
  EXPECT_EQ(k2->members().count(gm_addr), 1u);
  EXPECT_TRUE(k2->rekey(ks::rekey_kind::tek).empty());

  // k1 dies; k2 takes over and rekeys. The GM takes the rekey from the second KS (same
  // KEK, same RSA key, SEQ above the last one) without registering again, and ACKs it there.
  ks1_down = true;
  const uint64_t sa_adds = dp.spis(gm::ctrl::msg_type::sa_add).size();
  k2->set_active(true);
  for (const auto& o : k2->rekey(ks::rekey_kind::tek)) deliver_to_gm(ks2, o.data);
  pump();
  EXPECT_EQ(engine->rekeys(), 2u);
  EXPECT_EQ(engine->registered_with(), ks1);  // no new registration
  EXPECT_EQ(dp.spis(gm::ctrl::msg_type::sa_add).size(), sa_adds + 1);
  run_for(16s);
  EXPECT_EQ(engine->current_outbound_spi(), k2->teks().back().spi);
  EXPECT_EQ(k2->members().at(gm_addr).acks_received, 1u);

  // A KS with another RSA key must not take the group's keys: GMs would refuse its rekeys.
  auto k3cfg = ks_config(ks2);
  k3cfg->kek.rsa_key = (dir / "other.pem").string();
  auto other = ks::load_or_create_signing_key(k3cfg->kek, err);
  ASSERT_TRUE(other) << err;
  ks::key_server k3(*k3cfg, std::move(*other), clock, log, trace);
  EXPECT_FALSE(k3.adopt_state(k2->export_state(), err));
  EXPECT_NE(err.find("RSA key"), std::string::npos);
}

// When every KS fails, the pause before the next round is retry_all (10 s) plus up to a
// quarter more, different per GM address: GMs that lost their KS together spread out.
TEST_F(gm_engine_test, backoff_after_every_ks_failed_is_spread_per_gm) {
  std::vector<std::chrono::milliseconds> pauses;
  for (const uint32_t addr : {0x0a000002u, 0x0a000005u, 0x0a000009u}) {
    k1 = make_ks(ks1);
    ks1_down = true;
    cfg_tweak = [addr](gm_config& c) { c.local_address = addr; };
    to_ks.clear();
    start({ks1});
    // Send times, in 100 ms steps, for 40 s.
    std::vector<mono_time> sends;
    std::size_t seen = 0;
    for (int i = 0; i < 400; ++i) {
      if (to_ks.size() > seen) sends.push_back(clock.mono());
      seen = to_ks.size();
      clock.advance(100ms);
      engine->tick();
    }
    std::chrono::milliseconds longest{0};
    for (std::size_t i = 1; i < sends.size(); ++i) {
      longest = std::max(longest, std::chrono::duration_cast<std::chrono::milliseconds>(sends[i] - sends[i - 1]));
    }
    // The longest gap is the last attempt's timeout plus the pause.
    EXPECT_GE(longest, 10s) << addr;
    pauses.push_back(longest);
  }
  const auto [lo, hi] = std::minmax_element(pauses.begin(), pauses.end());
  EXPECT_GT(*hi - *lo, 200ms);   // spread ...
  EXPECT_LE(*hi - *lo, 2500ms);  // ... by at most a quarter of retry_all
}
