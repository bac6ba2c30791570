// gm-import-ios: seed-000-style GM configurations into gm-control YAML (checked as text and
// loaded back with yaml-cpp), one exact error line per construct it cannot translate, the
// PSK kept out of the YAML and out of every message, and the PSK file's mode.
#include "control/ios_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gm::control {
namespace {

// A GM as `show running-config` prints it: two KSs (seed 000's GM1), two ISAKMP policies out
// of order, a local deny ACL, a LAN interface and a routing block that do not matter.
const char* const gm1_indented = R"(hostname GM1
!
crypto isakmp policy 20
 encr 3des
 hash sha
 authentication pre-share
 group 2
crypto isakmp policy 10
 encr aes 256
 hash sha256
 authentication pre-share
 group 14
 lifetime 3600
crypto isakmp key c1sco123 address 0.0.0.0 0.0.0.0
!
crypto gdoi group G1
 identity number 3333
 server address ipv4 10.1.11.2
 server address ipv4 10.1.12.2
!
crypto map gm_map 10 gdoi
 set group G1
 match address GM_LOCAL
!
ip access-list extended GM_LOCAL
 remark keep the control plane and SSH in clear
 deny udp any eq 848 any eq 848
 deny ip any 224.0.0.0 0.255.255.255
 30 deny tcp any any eq 22
!
interface Ethernet0/0
 description LAN
 ip address 192.168.13.1 255.255.255.0
 ip flow ingress
!
interface Serial1/0
 description WAN interface
 ip address 10.1.13.2 255.255.255.252
 crypto map gm_map
!
router ospf 1
 network 10.0.0.0 0.255.255.255 area 0
!
end
)";

// The same, pasted without indentation, as seed 000 prints its reference configuration.
const char* const gm1_flat = R"(crypto isakmp policy 20
encr 3des
hash sha
authentication pre-share
group 2
crypto isakmp policy 10
encr aes 256
hash sha256
authentication pre-share
group 14
lifetime 3600
crypto isakmp key c1sco123 address 0.0.0.0 0.0.0.0
crypto gdoi group G1
identity number 3333
server address ipv4 10.1.11.2
server address ipv4 10.1.12.2
!
crypto map gm_map 10 gdoi
set group G1
match address GM_LOCAL
!
ip access-list extended GM_LOCAL
remark keep the control plane and SSH in clear
deny udp any eq 848 any eq 848
deny ip any 224.0.0.0 0.255.255.255
30 deny tcp any any eq 22
interface Serial1/0
description WAN interface
ip address 10.1.13.2 255.255.255.252
crypto map gm_map
)";

const char* const gm1_yaml = R"(group:
  name: G1
  identity: 3333
  servers: [10.1.11.2, 10.1.12.2]
local_address: 10.1.13.2
psk_file: /etc/gm/psk
phase1:
  - {encryption: aes-256, hash: sha256, group: 14, lifetime: 3600}
  - {encryption: 3des, hash: sha1, group: 2, lifetime: 86400}
local_acl:
  - deny udp any eq 848 any eq 848
  - deny ip any 224.0.0.0 0.255.255.255
  - deny tcp any any eq 22
migration: none
dataplane: {file_prefix: gm}
socket: /run/gm/gm-control.sock
log: {stderr: true}
event_trace_size: 512
)";

std::string notes(const std::vector<import_note>& v) {
  std::string s;
  for (const import_note& n : v) {
    s += n.text + "\n";
  }
  return s;
}

TEST(ios_import, seed_gm_config_becomes_gm_control_yaml) {
  const ios_import_result r = import_ios(gm1_indented);
  EXPECT_EQ(notes(r.errors), "");
  EXPECT_EQ(notes(r.warnings),
            "line 1: 'hostname GM1': skipped (not part of a GETVPN GM configuration)\n"
            "line 31: 'interface Ethernet0/0': skipped (carries no GDOI crypto map and is not "
            "the registration interface)\n"
            "line 41: 'router ospf 1': skipped (not part of a GETVPN GM configuration)\n");
  EXPECT_EQ(to_gm_control_yaml(r, yaml_defaults{}), gm1_yaml);
  ASSERT_TRUE(r.psk.has_value());
  EXPECT_EQ(std::string(r.psk->begin(), r.psk->end()), "c1sco123");
  EXPECT_EQ(to_gm_control_yaml(r, yaml_defaults{}).find("c1sco123"), std::string::npos);
}

TEST(ios_import, unindented_snippet_reads_the_same) {
  const ios_import_result r = import_ios(gm1_flat);
  EXPECT_EQ(notes(r.errors), "");
  EXPECT_EQ(notes(r.warnings), "");
  EXPECT_EQ(to_gm_control_yaml(r, yaml_defaults{}), gm1_yaml);
}

TEST(ios_import, yaml_loads_with_yaml_cpp) {
  const ios_import_result r = import_ios(gm1_indented);
  yaml_defaults d;
  d.psk_file = "/etc/gm/psk: with a colon #and hash";  // must come back quoted correctly
  const YAML::Node y = YAML::Load(to_gm_control_yaml(r, d));
  EXPECT_EQ(y["group"]["name"].as<std::string>(), "G1");
  EXPECT_EQ(y["group"]["identity"].as<uint32_t>(), 3333u);
  ASSERT_EQ(y["group"]["servers"].size(), 2u);
  EXPECT_EQ(y["group"]["servers"][0].as<std::string>(), "10.1.11.2");
  EXPECT_EQ(y["group"]["servers"][1].as<std::string>(), "10.1.12.2");
  EXPECT_EQ(y["local_address"].as<std::string>(), "10.1.13.2");
  EXPECT_EQ(y["psk_file"].as<std::string>(), d.psk_file);
  ASSERT_EQ(y["phase1"].size(), 2u);
  EXPECT_EQ(y["phase1"][0]["encryption"].as<std::string>(), "aes-256");
  EXPECT_EQ(y["phase1"][0]["lifetime"].as<uint32_t>(), 3600u);
  EXPECT_EQ(y["phase1"][1]["group"].as<unsigned>(), 2u);
  ASSERT_EQ(y["local_acl"].size(), 3u);
  EXPECT_EQ(y["local_acl"][2].as<std::string>(), "deny tcp any any eq 22");
  EXPECT_EQ(y["migration"].as<std::string>(), "none");
  EXPECT_EQ(y["dataplane"]["file_prefix"].as<std::string>(), "gm");
  EXPECT_EQ(y["event_trace_size"].as<unsigned>(), 512u);
  EXPECT_TRUE(y["log"]["stderr"].as<bool>());
  EXPECT_FALSE(y["prometheus"]);
}

TEST(ios_import, registration_interface_numbered_acl_and_passive) {
  const ios_import_result r = import_ios(R"(crypto isakmp policy 1
 encryption aes
 authentication pre-share
 group 14
crypto gdoi group GETVPN_GROUP
 identity number 1234
 server address ipv4 10.0.0.1
 server address ipv4 10.0.0.2
 server address ipv4 10.0.0.3
 client registration interface Loopback0
 passive
crypto map M 10 gdoi
 set group GETVPN_GROUP
 match address 120
access-list 120 remark local exclusions
access-list 120 deny udp any port = 848 any port = 848
access-list 130 deny ip any any
interface Loopback0
 ip address 10.1.1.1 255.255.255.255
interface GigabitEthernet0/0/1
 ip address 172.16.0.1 255.255.255.0
 crypto map M
)");
  EXPECT_EQ(notes(r.errors), "");
  EXPECT_EQ(notes(r.warnings),
            "line 17: 'access-list 130 deny ip any any': skipped (ACL 130 is not the GDOI crypto "
            "map's match address)\n");
  EXPECT_EQ(r.group_name, "GETVPN_GROUP");
  EXPECT_EQ(r.identity, 1234u);
  EXPECT_EQ(r.servers, (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
  EXPECT_EQ(r.local_address, "10.1.1.1");  // the registration interface, not the map's
  EXPECT_EQ(r.migration, "passive");
  ASSERT_EQ(r.phase1.size(), 1u);
  EXPECT_EQ(r.phase1[0].encryption, "aes-128");  // IOS `encryption aes` is AES-128
  EXPECT_EQ(r.phase1[0].hash, "sha1");           // IOS's default hash
  EXPECT_EQ(r.local_acl, (std::vector<std::string>{"deny udp any port = 848 any port = 848"}));
  EXPECT_FALSE(r.psk.has_value());
}

TEST(ios_import, every_unsupported_line_gets_its_error) {
  const ios_import_result r = import_ios(R"(crypto isakmp policy 10
 encr des
 hash md5
 authentication rsa-sig
 group 5
 lifetime 10
 crypto-thing
crypto isakmp policy 20
 hash sha256
crypto isakmp key 6 s3cr3t-type6 address 10.1.11.2
crypto isakmp key plain1 address 10.1.11.2
crypto isakmp key plain2 address 10.1.12.2
crypto isakmp key plain3 hostname ks1
crypto gdoi group G1
 identity number 99999999999
 identity address ipv4 10.9.9.9
 server address ipv4 10.1.11.2
 server address ipv4 10.1.11.2
 server address ipv4 10.1.300.2
 server local
 rekey algorithm aes 128
 client transform-sets TS1
 client rekey encryption aes 256
 frobnicate
crypto gdoi group G2
 identity number 2
crypto map gm_map 10 gdoi
 set group G1
 set peer 10.1.11.2
 match address LOCAL
 qos pre-classify
crypto map gm_map 20 gdoi
 set group G1
ip access-list extended LOCAL
 deny udp any eq 848 any eq 848
 permit ip any any
 deny tcp any any eq 22 log
 deny ip any 10.0.0.0 0.255.0.255
interface Serial1/0
 ip address 10.1.13.2 255.255.255.252
 ip tcp adjust-mss 1360
 ip mtu 1400
 ip pim sparse-dense-mode
 crypto map gm_map
)");
  EXPECT_EQ(
      notes(r.errors),
      "line 2: 'encr des': encryption not supported (aes 128/192/256 or 3des) (policy 10 left "
      "out)\n"
      "line 3: 'hash md5': hash not supported (sha or sha256) (policy 10 left out)\n"
      "line 4: 'authentication rsa-sig': only pre-shared keys are supported (RSA signatures "
      "come later) (policy 10 left out)\n"
      "line 5: 'group 5': DH group not supported (14, or 2 for legacy peers) (policy 10 left "
      "out)\n"
      "line 6: 'lifetime 10': lifetime must be 60..86400 seconds (policy 10 left out)\n"
      "line 7: 'crypto-thing': not understood (policy 10 left out)\n"
      "line 8: 'crypto isakmp policy 20': no 'encryption': IOS's default DES is not supported "
      "(policy 20 left out)\n"
      "line 8: 'crypto isakmp policy 20': no 'authentication pre-share': IOS's default rsa-sig "
      "is not supported yet (policy 20 left out)\n"
      "line 8: 'crypto isakmp policy 20': no 'group': IOS's default DH group 1 is not "
      "supported (policy 20 left out)\n"
      "line 10: 'crypto isakmp key 6 <redacted> address 10.1.11.2': the key is stored "
      "encrypted (type 6) (write the clear key into the PSK file yourself; key left out)\n"
      "line 12: 'crypto isakmp key <redacted> address 10.1.12.2': a second, different "
      "pre-shared key (gm-control uses one key for every KS: kept the key from line 11)\n"
      "line 13: 'crypto isakmp key <redacted> hostname ks1': not understood (gm-control takes "
      "one key for every KS, by address; key left out)\n"
      "line 14: 'crypto gdoi group G1': no 'identity number' (group.identity left out: add it "
      "by hand)\n"
      "line 15: 'identity number 99999999999': identity number must be 0..4294967295 "
      "(identity left out)\n"
      "line 16: 'identity address ipv4 10.9.9.9': not understood (only 'identity number N'; "
      "left out)\n"
      "line 18: 'server address ipv4 10.1.11.2': server listed twice (the first place in the "
      "order is kept)\n"
      "line 19: 'server address ipv4 10.1.300.2': '10.1.300.2' is not an IPv4 address (server "
      "left out)\n"
      "line 20: 'server local': not understood (this is key-server configuration: gm-ks has "
      "its own YAML)\n"
      "line 21: 'rekey algorithm aes 128': not understood (key-server configuration: gm-ks has "
      "its own YAML; left out)\n"
      "line 22: 'client transform-sets TS1': not understood (list the accepted TEK transforms "
      "in rekey.allowed_transforms)\n"
      "line 23: 'client rekey encryption aes 256': not understood (every rekey cipher and hash "
      "the GM implements is accepted)\n"
      "line 24: 'frobnicate': not understood (left out)\n"
      "line 25: 'crypto gdoi group G2': not the group the GDOI crypto map sets (gm-control "
      "joins one group; group left out)\n"
      "line 29: 'set peer 10.1.11.2': not understood (a GDOI map takes its SAs and peers from "
      "the KS; left out)\n"
      "line 31: 'qos pre-classify': not understood (left out)\n"
      "line 32: 'crypto map gm_map 20 gdoi': a second GDOI crypto map entry (gm-control joins "
      "one group through one map: line 27 is used, this entry is left out)\n"
      "line 36: 'permit ip any any': a GM's local ACL can only deny (exclude traffic from "
      "encryption) (what to encrypt comes from the KS's ACL; ACE left out)\n"
      "line 37: 'deny tcp any any eq 22 log': unexpected 'log' (ACE left out)\n"
      "line 38: 'deny ip any 10.0.0.0 0.255.0.255': destination: bad wildcard mask after "
      "10.0.0.0 (ACE left out)\n"
      "line 41: 'ip tcp adjust-mss 1360': not understood (set the port's mss_clamp in "
      "gm-dataplane's YAML)\n"
      "line 42: 'ip mtu 1400': not understood (set mtu in gm-dataplane's YAML)\n"
      "line 43: 'ip pim sparse-dense-mode': not understood (interface settings belong to the "
      "host and gm-dataplane; left out)\n");
  // What was understood is still there.
  EXPECT_EQ(r.group_name, "G1");
  EXPECT_FALSE(r.identity.has_value());
  EXPECT_EQ(r.servers, (std::vector<std::string>{"10.1.11.2"}));
  EXPECT_TRUE(r.phase1.empty());
  EXPECT_EQ(r.local_acl, (std::vector<std::string>{"deny udp any eq 848 any eq 848"}));
  EXPECT_EQ(r.local_address, "10.1.13.2");
  ASSERT_TRUE(r.psk.has_value());
  EXPECT_EQ(std::string(r.psk->begin(), r.psk->end()), "plain1");
  // No key text in any message.
  for (const char* secret : {"s3cr3t", "plain1", "plain2", "plain3"}) {
    EXPECT_EQ(notes(r.errors).find(secret), std::string::npos) << secret;
    EXPECT_EQ(notes(r.warnings).find(secret), std::string::npos) << secret;
  }
}

TEST(ios_import, missing_pieces_are_errors) {
  EXPECT_EQ(notes(import_ios("hostname x\n").errors),
            "no 'crypto gdoi group' in the snippet: nothing to join\n");
  const ios_import_result r = import_ios(R"(crypto gdoi group G1
crypto map m 1 gdoi
 set group G9
 match address NOPE
)");
  EXPECT_EQ(notes(r.errors),
            "line 1: 'crypto gdoi group G1': not the group the GDOI crypto map sets (gm-control "
            "joins one group; group left out)\n"
            "line 2: 'crypto map m 1 gdoi': applied to no interface (local_address left out: "
            "add it by hand)\n"
            "line 3: 'set group G9': no 'crypto gdoi group G9' in the snippet (group left out: "
            "add it by hand)\n"
            "line 4: 'match address NOPE': no ACL 'NOPE' in the snippet (local_acl left "
            "empty)\n");
  const ios_import_result s = import_ios(R"(crypto gdoi group G1
 identity number 1
 server address ipv4 10.0.0.1
crypto map m 1 gdoi
 set group G1
interface Gi1
 crypto map m
)");
  EXPECT_EQ(notes(s.errors),
            "line 6: 'interface Gi1': no 'ip address' on the interface carrying the GDOI map "
            "(local_address left out: add it by hand)\n");
}

class temp_dir {
 public:
  temp_dir() {
    char t[] = "/tmp/ios_import_test.XXXXXX";
    _path = mkdtemp(t);
  }
  ~temp_dir() { std::filesystem::remove_all(_path); }
  std::string operator/(const std::string& f) const { return _path + "/" + f; }

 private:
  std::string _path;
};

TEST(ios_import, psk_file_is_private) {
  temp_dir dir;
  const key_bytes key = {'c', '1', 's', 'c', 'o'};
  const std::string fresh = dir / "psk";
  ASSERT_EQ(write_psk_file(fresh, key), "");
  struct stat st {};
  ASSERT_EQ(stat(fresh.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(fresh);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "c1sco\n");

  // An existing world-readable file is truncated and made private.
  const std::string open_file = dir / "old";
  std::ofstream(open_file) << "previous content that is longer\n";
  ASSERT_EQ(chmod(open_file.c_str(), 0644), 0);
  ASSERT_EQ(write_psk_file(open_file, key), "");
  ASSERT_EQ(stat(open_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 6);

  // A symlink is not followed (someone could point it at a readable place).
  const std::string link = dir / "link";
  ASSERT_EQ(symlink((dir / "target").c_str(), link.c_str()), 0);
  EXPECT_NE(write_psk_file(link, key), "");
  EXPECT_FALSE(std::filesystem::exists(dir / "target"));
}

// The executable end to end: YAML on stdout, the key only in --psk-out, exit status.
TEST(gm_import_ios, command_line) {
  const char* exe = std::getenv("GM_IMPORT_IOS");
  if (exe == nullptr) {
    GTEST_SKIP() << "GM_IMPORT_IOS not set (meson sets it)";
  }
  temp_dir dir;
  {
    std::ofstream(dir / "gm1.cfg") << gm1_indented;
  }
  const std::string cmd = std::string(exe) + " --psk-out " + (dir / "psk") + " " +
                          (dir / "gm1.cfg") + " >" + (dir / "out.yaml") + " 2>" +
                          (dir / "err.txt");
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::stringstream out, err, psk;
  out << std::ifstream(dir / "out.yaml").rdbuf();
  err << std::ifstream(dir / "err.txt").rdbuf();
  psk << std::ifstream(dir / "psk").rdbuf();
  std::string expected = gm1_yaml;
  expected.replace(expected.find("/etc/gm/psk"), 11, dir / "psk");
  EXPECT_EQ(out.str(), expected);
  EXPECT_EQ(psk.str(), "c1sco123\n");
  EXPECT_EQ(out.str().find("c1sco123"), std::string::npos);
  EXPECT_EQ(err.str().find("c1sco123"), std::string::npos);
  EXPECT_NE(err.str().find("warning: line 1: 'hostname GM1': skipped"), std::string::npos);

  // Without --psk-out the key is written nowhere and the run fails.
  const std::string no_psk = std::string(exe) + " - <" + (dir / "gm1.cfg") + " >/dev/null 2>" +
                             (dir / "err2.txt");
  const int status2 = std::system(no_psk.c_str());
  ASSERT_TRUE(WIFEXITED(status2));
  EXPECT_EQ(WEXITSTATUS(status2), 1);
  std::stringstream err2;
  err2 << std::ifstream(dir / "err2.txt").rdbuf();
  EXPECT_NE(err2.str().find("name a file for it with --psk-out"), std::string::npos);
}

}  // namespace
}  // namespace gm::control
