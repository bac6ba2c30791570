// gm-ks configuration: a complete file loads with every field as written, defaults apply,
// and each bad field is refused with "file:line: field: what".
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "control/ks/ks_config.h"

namespace gm::control::ks {
namespace {

namespace fs = std::filesystem;

class ks_config_test : public ::testing::Test {
 protected:
  void SetUp() override {
    _dir = fs::temp_directory_path() / ("ks_config_test." + std::to_string(getpid()));
    fs::create_directories(_dir);
    _psk = write("psk", "s3cret-key\n", 0600);
    _psk_any = write("psk-any", "wildcard", 0600);
  }
  void TearDown() override { fs::remove_all(_dir); }

  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string p = (_dir / name).string();
    std::ofstream(p) << text;
    chmod(p.c_str(), mode);
    return p;
  }

  // A complete, valid config; `extra` replaces nothing, tests edit the text instead.
  std::string good() const {
    return "listen: 10.0.0.1\n"                                                    // 1
           "port: 10848\n"                                                         // 2
           "group: {name: GETVPN_GROUP, identity: 1234}\n"                         // 3
           "psk:\n"                                                                // 4
           "  - {peer: 10.0.0.2, key_file: " + _psk + "}\n"                        // 5
           "  - {peer: any, key_file: " + _psk_any + "}\n"                         // 6
           "phase1: [{encryption: aes-128, hash: sha1, group: 2, lifetime: 3600}]\n"  // 7
           "acl:\n"                                                                // 8
           "  - deny udp any eq 848 any eq 848\n"                                  // 9
           "  - permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"             // 10
           "tek: {transform: aes-cbc-256-sha1, lifetime: 900, replay: {mode: time, window: 4}}\n"
           "kek: {algorithm: aes-256, lifetime: 7200, sig_hash: sha1, rsa_key: " +
           (_dir / "ks.pem").string() + ", rsa_bits: 1024}\n"                      // 12
           "rekey: {transport: unicast, retransmit: {period: 5, count: 3}, ack_missed_limit: 2, "
           "before_expiry: 90}\n"                                                  // 13
           "sender_ids: true\n"                                                    // 14
           "interop: {sig_form: raw_hash, static_kek_iv: true, id_length: rfc}\n"  // 15
           "socket: /tmp/ks.sock\n";                                               // 16
  }

  // Replaces the first occurrence of `from` in the good config.
  std::string edit(const std::string& from, const std::string& to) const {
    std::string s = good();
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  }

  std::string error_of(const std::string& yaml) const {
    std::string err;
    auto c = parse_ks_config(yaml, "ks.yaml", err);
    EXPECT_FALSE(c.has_value()) << yaml;
    return err;
  }

  fs::path _dir;
  std::string _psk;
  std::string _psk_any;
};

TEST_F(ks_config_test, good_file_loads_every_field) {
  std::string err;
  const auto c = parse_ks_config(good(), "ks.yaml", err);
  ASSERT_TRUE(c) << err;
  EXPECT_EQ(c->listen, 0x0a000001u);
  EXPECT_EQ(c->port, 10848);
  EXPECT_EQ(c->group_name, "GETVPN_GROUP");
  EXPECT_EQ(c->group_id, 1234u);
  ASSERT_EQ(c->psks.size(), 2u);
  EXPECT_EQ(c->psks[0].peer, 0x0a000002u);
  EXPECT_FALSE(c->psks[1].peer.has_value());
  ASSERT_EQ(c->phase1.size(), 1u);
  EXPECT_EQ(c->phase1[0].cipher, ike::cipher::aes_cbc);
  EXPECT_EQ(c->phase1[0].key_bits, 128);
  EXPECT_EQ(c->phase1[0].hash, ike::hash_alg::sha1);
  EXPECT_EQ(c->phase1[0].group, ike::dh_group::modp1024);
  EXPECT_EQ(c->phase1[0].lifetime_s, 3600u);
  ASSERT_EQ(c->acl.size(), 2u);
  EXPECT_EQ(c->acl[0].ace.act, classifier::action::bypass);
  EXPECT_EQ(c->acl[0].ace.proto, 17);
  EXPECT_EQ(c->acl[0].ace.dport.lo, 848);
  EXPECT_EQ(c->acl[0].line, 9);
  EXPECT_EQ(c->acl[1].ace.act, classifier::action::protect);
  EXPECT_EQ(c->acl[1].ace.src.addr, 0x0a010000u);
  EXPECT_EQ(c->acl[1].ace.src.len, 16);
  EXPECT_EQ(c->tek.transform, crypto::transform_id::aes_cbc_256_sha1);
  EXPECT_EQ(c->tek.lifetime_s, 900u);
  EXPECT_EQ(c->tek.replay, replay_mode::time);
  EXPECT_EQ(c->tek.window, 4u);
  EXPECT_EQ(c->kek.cipher, ike::cipher::aes_cbc);
  EXPECT_EQ(c->kek.key_bits, 256);
  EXPECT_EQ(c->kek.lifetime_s, 7200u);
  EXPECT_EQ(c->kek.sig_hash, ike::hash_alg::sha1);
  EXPECT_EQ(c->kek.rsa_bits, 1024u);
  EXPECT_EQ(c->rekey.transport, rekey_transport::unicast);
  EXPECT_EQ(c->rekey.retransmit_period_s, 5u);
  EXPECT_EQ(c->rekey.retransmit_count, 3u);
  EXPECT_EQ(c->rekey.ack_missed_limit, 2u);
  EXPECT_EQ(c->rekey.before_expiry_s, 90u);
  EXPECT_TRUE(c->sender_ids);
  EXPECT_EQ(c->interop.sig_form, ike::sig_form::raw_hash);
  EXPECT_TRUE(c->interop.static_kek_iv);
  EXPECT_EQ(c->socket, "/tmp/ks.sock");
}

TEST_F(ks_config_test, psk_lookup_prefers_the_exact_peer_and_strips_the_newline) {
  std::string err;
  const auto c = parse_ks_config(good(), "ks.yaml", err);
  ASSERT_TRUE(c) << err;
  const key_bytes* exact = c->psk_for(0x0a000002);
  ASSERT_NE(exact, nullptr);
  EXPECT_EQ(std::string(exact->begin(), exact->end()), "s3cret-key");
  const key_bytes* other = c->psk_for(0x0a000063);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(std::string(other->begin(), other->end()), "wildcard");
}

TEST_F(ks_config_test, defaults_apply_to_a_minimal_file) {
  const std::string yaml = "listen: 127.0.0.1\n"
                           "group: {name: G1, identity: 1}\n"
                           "psk: [{peer: any, key_file: " + _psk + "}]\n"
                           "acl: [permit ip any any]\n"
                           "tek: {transform: aes-gcm-128}\n"
                           "kek: {rsa_key: /nonexistent/k.pem}\n";
  std::string err;
  const auto c = parse_ks_config(yaml, "ks.yaml", err);
  ASSERT_TRUE(c) << err;
  EXPECT_EQ(c->port, 848);
  ASSERT_EQ(c->phase1.size(), 1u);
  EXPECT_EQ(c->phase1[0], phase1_policy{});
  EXPECT_EQ(c->tek.lifetime_s, 3600u);
  EXPECT_EQ(c->tek.replay, replay_mode::time);
  EXPECT_EQ(c->tek.window, 5u);
  EXPECT_EQ(c->kek.key_bits, 128);
  EXPECT_EQ(c->kek.lifetime_s, 86400u);
  EXPECT_EQ(c->rekey.transport, rekey_transport::unicast);
  EXPECT_EQ(c->rekey.retransmit_period_s, 10u);
  EXPECT_EQ(c->rekey.retransmit_count, 2u);
  EXPECT_EQ(c->rekey.ack_missed_limit, 3u);
  EXPECT_EQ(c->rekey.before_expiry_s, 60u);
  EXPECT_FALSE(c->sender_ids);
  EXPECT_EQ(c->interop.sig_form, ike::sig_form::digest_info);
  EXPECT_EQ(c->socket, "/run/gm/gm-ks.sock");
}

TEST_F(ks_config_test, multicast_transport_takes_an_address) {
  std::string err;
  const auto c = parse_ks_config(
      edit("rekey: {transport: unicast, retransmit: {period: 5, count: 3}, ack_missed_limit: 2, ",
           "rekey: {transport: multicast, address: 239.192.1.190, ttl: 4, "),
      "ks.yaml", err);
  ASSERT_TRUE(c) << err;
  EXPECT_EQ(c->rekey.transport, rekey_transport::multicast);
  EXPECT_EQ(c->rekey.multicast_addr, 0xefc001beu);
  EXPECT_EQ(c->rekey.multicast_ttl, 4);
}

TEST_F(ks_config_test, each_bad_field_names_file_line_and_field) {
  struct bad_case {
    std::string from, to, error;
  };
  const bad_case cases[] = {
      {"listen: 10.0.0.1", "listen: 10.0.0", "ks.yaml:1: listen: is not an IPv4 address, got '10.0.0'"},
      {"port: 10848", "port: 70000", "ks.yaml:2: port: must be 1..65535, got 70000"},
      {"port: 10848", "prot: 10848", "ks.yaml:2: prot: unknown field"},
      {"identity: 1234", "identity: -3", "ks.yaml:3: group.identity: must be a non-negative number, got '-3'"},
      {"{name: GETVPN_GROUP, identity: 1234}", "{name: GETVPN_GROUP}", "ks.yaml:3: group.identity: is required"},
      {"peer: 10.0.0.2,", "peer: 10.0.0.300,", "ks.yaml:5: psk[0].peer: is not an IPv4 address, got '10.0.0.300'"},
      {"peer: 10.0.0.2,", "peer: any,", "ks.yaml:6: psk[1].peer: a PSK for this peer is already configured"},
      {"encryption: aes-128", "encryption: des", "ks.yaml:7: phase1[0].encryption: must be aes-128, aes-192, aes-256 or 3des, got 'des'"},
      {"group: 2,", "group: 5,", "ks.yaml:7: phase1[0].group: DH group must be 2 or 14"},
      {"hash: sha1, group", "hash: md5, group", "ks.yaml:7: phase1[0].hash: must be sha1 or sha256, got 'md5'"},
      {"  - deny udp any eq 848 any eq 848", "  - allow udp any any", "ks.yaml:9: acl[0]: expected permit or deny, got 'allow'"},
      {"  - deny udp any eq 848 any eq 848", "  - deny udp any range 1 5 any", "ks.yaml:9: acl[0]: GDOI SA TEK identities carry one port: use eq, not a range"},
      {"  - permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255", "  - deny ip any any", "ks.yaml:9: acl: has no permit ACE: nothing would be encrypted"},
      {"transform: aes-cbc-256-sha1", "transform: rc4", "ks.yaml:11: tek.transform: unknown transform 'rc4'"},
      {"lifetime: 900", "lifetime: 30", "ks.yaml:11: tek.lifetime: must be 60..86400, got 30"},
      {"mode: time, window: 4", "mode: sequence", "ks.yaml:11: tek.replay.mode: must be time or counter, got 'sequence'"},
      {"mode: time, window: 4", "mode: counter, window: 32", "ks.yaml:11: tek.replay.window: must be 64..1024, got 32"},
      {"algorithm: aes-256", "algorithm: blowfish", "ks.yaml:12: kek.algorithm: must be aes-128, aes-192, aes-256 or 3des, got 'blowfish'"},
      {"sig_hash: sha1", "sig_hash: sha512", "ks.yaml:12: kek.sig_hash: must be sha1 or sha256, got 'sha512'"},
      {"rsa_bits: 1024", "rsa_bits: 1100", "ks.yaml:12: kek.rsa_bits: must be a multiple of 256"},
      {"transport: unicast", "transport: broadcast", "ks.yaml:13: rekey.transport: must be unicast or multicast, got 'broadcast'"},
      {"transport: unicast", "transport: multicast", "ks.yaml:13: rekey.address: is required (multicast group, e.g. 239.192.1.190)"},
      {"before_expiry: 90", "before_expiry: 600", "ks.yaml:13: rekey.before_expiry: must be at most half of tek.lifetime (900 s)"},
      {"period: 5", "period: 0", "ks.yaml:13: rekey.retransmit.period: must be 1..600, got 0"},
      {"sender_ids: true", "sender_ids: maybe", "ks.yaml:14: sender_ids: must be true or false, got 'maybe'"},
      {"sig_form: raw_hash", "sig_form: pss", "ks.yaml:15: interop.sig_form: must be digest_info or raw_hash, got 'pss'"},
      {"id_length: rfc", "id_length: one_byte", "ks.yaml:15: interop.id_length: one_byte is not supported yet: the GDOI encoder writes RFC 6407 forms only"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of(edit(c.from, c.to)), c.error) << c.from << " -> " << c.to;
  }
}

TEST_F(ks_config_test, multicast_address_must_be_multicast) {
  EXPECT_EQ(error_of(edit("rekey: {transport: unicast, retransmit: {period: 5, count: 3}, "
                          "ack_missed_limit: 2, ",
                          "rekey: {transport: multicast, address: 10.1.1.1, ")),
            "ks.yaml:13: rekey.address: is not a multicast address (224.0.0.0/4)");
  EXPECT_EQ(error_of(edit("transport: unicast,", "transport: multicast, address: 239.1.1.1,")),
            "ks.yaml:13: rekey.retransmit: applies to unicast rekeys only (multicast is not ACKed)");
}

TEST_F(ks_config_test, psk_files_others_can_read_are_refused) {
  chmod(_psk.c_str(), 0644);
  EXPECT_EQ(error_of(good()), "ks.yaml:5: psk[0].key_file: " + _psk +
                                  " is readable or writable by others; chmod 600 " + _psk);
  chmod(_psk.c_str(), 0600);
  const std::string missing = (_dir / "nope").string();
  EXPECT_EQ(error_of(edit(_psk_any, missing)),
            "ks.yaml:6: psk[1].key_file: cannot read " + missing + ": No such file or directory");
  const std::string empty = write("empty", "\n", 0600);
  EXPECT_EQ(error_of(edit(_psk_any, empty)),
            "ks.yaml:6: psk[1].key_file: " + empty + " holds no key");
}

TEST_F(ks_config_test, yaml_syntax_errors_carry_the_line) {
  const std::string err = error_of("listen: 10.0.0.1\ngroup: {name: G1\n");
  EXPECT_EQ(err.rfind("ks.yaml:", 0), 0u) << err;
  EXPECT_EQ(error_of("- a\n- b\n"), "ks.yaml:1: the file must be a YAML mapping");
}

TEST_F(ks_config_test, load_reads_the_file_and_names_it) {
  const std::string path = write("ks.yaml", good(), 0600);
  std::string err;
  EXPECT_TRUE(load_ks_config(path, err)) << err;
  EXPECT_FALSE(load_ks_config((_dir / "missing.yaml").string(), err));
  EXPECT_EQ(err, (_dir / "missing.yaml").string() + ": cannot open");
}

TEST_F(ks_config_test, signing_key_is_generated_once_then_loaded) {
  kek_config k;
  k.rsa_key = (_dir / "ks-rsa.pem").string();
  k.rsa_bits = 1024;
  std::string err;
  auto first = load_or_create_signing_key(k, err);
  ASSERT_TRUE(first) << err;
  EXPECT_EQ(first->bits(), 1024u);
  struct stat st{};
  ASSERT_EQ(stat(k.rsa_key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = load_or_create_signing_key(k, err);
  ASSERT_TRUE(second) << err;
  EXPECT_EQ(second->public_der(), first->public_der());
  chmod(k.rsa_key.c_str(), 0640);
  EXPECT_FALSE(load_or_create_signing_key(k, err));
  EXPECT_EQ(err, "kek.rsa_key: " + k.rsa_key + " is readable or writable by others; chmod 600 " +
                     k.rsa_key);
}

}  // namespace
}  // namespace gm::control::ks
