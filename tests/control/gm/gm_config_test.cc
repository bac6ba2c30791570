// gm-control's config: a complete file loads field by field; each mistake stops it with
// `file:line: field: what`; a key file others can read is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "control/gm/gm_config.h"

namespace {

namespace fs = std::filesystem;
using gm::control::gmd::gm_config;
using gm::control::gmd::load_gm_config;

class gm_config_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("gm_config_test_" + std::to_string(getpid()));
    fs::create_directories(dir);
    psk = (dir / "psk").string();
    std::ofstream(psk) << "secret\n";
    chmod(psk.c_str(), 0600);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string good() const {
    return "group: {name: G1, identity: 1234, servers: [10.0.0.1, 10.0.0.3]}\n"  // 1
           "local_address: 10.0.0.2\n"                                           // 2
           "psk_file: " + psk + "\n"                                             // 3
           "phase1: [{encryption: aes-128, hash: sha1, group: 2}]\n"             // 4
           "local_acl: [\"deny udp any eq 848 any eq 848\"]\n"                   // 5
           "dataplane: {file_prefix: gmA}\n"                                     // 6
           "prometheus: 127.0.0.1:9464\n"                                        // 7
           "rekey: {allowed_transforms: [aes-gcm-128, aes-gcm-256]}\n"           // 8
           "timers: {retransmit: 1, retransmit_count: 2}\n";                      // 9
  }
  std::optional<gm_config> load(const std::string& text, std::string& err) const {
    const std::string path = (dir / "gm.yaml").string();
    std::ofstream(path) << text;
    return load_gm_config(path, err);
  }
  std::string error_of(const std::string& from, const std::string& to) const {
    std::string s = good();
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    std::string err;
    EXPECT_FALSE(load(s.replace(at, from.size(), to), err));
    return err.substr(err.find("gm.yaml"));
  }

  fs::path dir;
  std::string psk;
};

TEST_F(gm_config_test, good_file_loads) {
  std::string err;
  const auto c = load(good(), err);
  ASSERT_TRUE(c) << err;
  EXPECT_EQ(c->group_name, "G1");
  EXPECT_EQ(c->identity, 1234u);
  EXPECT_EQ(c->servers, (std::vector<uint32_t>{0x0a000001, 0x0a000003}));
  EXPECT_EQ(c->local_address, 0x0a000002u);
  EXPECT_EQ(std::string(c->psk.begin(), c->psk.end()), "secret");
  ASSERT_EQ(c->phase1.size(), 1u);
  EXPECT_EQ(c->phase1[0].key_bits, 128);
  ASSERT_EQ(c->local_acl.size(), 1u);
  EXPECT_EQ(c->file_prefix, "gmA");
  ASSERT_TRUE(c->prometheus);
  EXPECT_EQ(c->prometheus->port, 9464);
  EXPECT_EQ(c->allowed_transforms.size(), 2u);
  EXPECT_EQ(c->retransmit_s, 1u);
}

TEST_F(gm_config_test, each_mistake_names_line_and_field) {
  EXPECT_EQ(error_of("servers: [10.0.0.1, 10.0.0.3]", "servers: [10.0.0.1, 10.0.0.1]"),
            "gm.yaml:1: group.servers[1]: listed twice");
  EXPECT_EQ(error_of("local_address: 10.0.0.2", "local_address: 10.0.0"),
            "gm.yaml:2: local_address: is not an IPv4 address, got '10.0.0'");
  EXPECT_EQ(error_of("group: 2}", "group: 5}"), "gm.yaml:4: phase1[0].group: DH group must be 2 or 14");
  EXPECT_EQ(error_of("deny udp any eq 848 any eq 848", "permit ip any any"),
            "gm.yaml:5: local_acl[0]: the local ACL holds deny entries only (traffic the GM never encrypts)");
  EXPECT_EQ(error_of("127.0.0.1:9464", "127.0.0.1"), "gm.yaml:7: prometheus: must be A.B.C.D:port, got '127.0.0.1'");
  EXPECT_EQ(error_of("aes-gcm-256]", "aes-gcm-512]"), "gm.yaml:8: rekey.allowed_transforms[1]: unknown transform 'aes-gcm-512'");
  EXPECT_EQ(error_of("retransmit: 1,", "retransmit: 0,"), "gm.yaml:9: timers.retransmit: must be at least 1");
  EXPECT_EQ(error_of("prometheus:", "promethus:"), "gm.yaml:7: promethus: unknown field");
}

TEST_F(gm_config_test, a_key_file_others_can_read_is_refused) {
  chmod(psk.c_str(), 0644);
  std::string err;
  EXPECT_FALSE(load(good(), err));
  EXPECT_NE(err.find("psk_file: " + psk + " is readable or writable by others; chmod 600"),
            std::string::npos)
      << err;
}

}  // namespace
