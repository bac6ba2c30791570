// The real gm-ks binary on 127.0.0.1 and a high port, driven over UDP by a GM built from the
// library classes (test_gm.h) and over its command socket: registration, `show crypto gdoi
// ks members`, a TEK rekey on SIGUSR1 that the GM opens and ACKs, a KEK rekey on SIGUSR2,
// the same rekeys from the `rekey [tek|kek]` command, `clear crypto gdoi ks members`, a bad
// config refused with its error, and a clean exit on SIGTERM.
//
// argv[1] = the gm-ks executable.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "tests/control/ks/test_gm.h"

namespace gm::control::ks {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::test_gm;

std::string g_gm_ks;

constexpr uint32_t loopback = 0x7f000001;

class udp_client {
 public:
  explicit udp_client(uint16_t ks_port) {
    _fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in me{};
    me.sin_family = AF_INET;
    me.sin_addr.s_addr = htonl(loopback);
    bind(_fd, reinterpret_cast<sockaddr*>(&me), sizeof me);
    _ks.sin_family = AF_INET;
    _ks.sin_addr.s_addr = htonl(loopback);
    _ks.sin_port = htons(ks_port);
  }
  ~udp_client() { close(_fd); }

  void send(const bytes& d) {
    sendto(_fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&_ks), sizeof _ks);
  }
  std::optional<bytes> receive(std::chrono::milliseconds timeout) {
    pollfd p{_fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      return std::nullopt;
    }
    bytes b(65536);
    const ssize_t n = recv(_fd, b.data(), b.size(), 0);
    if (n < 0) {
      return std::nullopt;
    }
    b.resize(static_cast<std::size_t>(n));
    return b;
  }
  test_gm::transport transport() {
    return [this](const bytes& d) {
      send(d);
      return receive(2000ms);
    };
  }

 private:
  int _fd = -1;
  sockaddr_in _ks{};
};

// One request on the command socket; the reply is everything until the server closes.
std::string ask(const std::string& path, const std::string& line) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "<connect failed>";
  }
  const std::string req = line + "\n";
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

class gm_ks_integration : public ::testing::Test {
 protected:
  void SetUp() override {
    _dir = fs::temp_directory_path() / ("gm_ks_integration." + std::to_string(getpid()));
    fs::create_directories(_dir);
    _psk = (_dir / "psk").string();
    std::ofstream(_psk) << "integration-psk\n";
    chmod(_psk.c_str(), 0600);
    _sock = (_dir / "ks.sock").string();
    // A port from the pid keeps parallel runs apart.
    _port = static_cast<uint16_t>(20000 + getpid() % 20000);
  }
  void TearDown() override {
    if (_pid > 0) {
      kill(_pid, SIGKILL);
      waitpid(_pid, nullptr, 0);
    }
    fs::remove_all(_dir);
  }

  std::string config(const std::string& tek_line) const {
    return "listen: 127.0.0.1\n"
           "port: " + std::to_string(_port) + "\n"
           "group: {name: LAB_GROUP, identity: 4321}\n"
           "psk: [{peer: any, key_file: " + _psk + "}]\n"
           "acl:\n"
           "  - deny udp any eq 848 any eq 848\n"
           "  - permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n" +
           tek_line + "\n"
           "kek: {algorithm: aes-256, rsa_key: " + (_dir / "ks.pem").string() +
           ", rsa_bits: 1024}\n"
           "rekey: {transport: unicast, retransmit: {period: 5, count: 2}}\n"
           "sender_ids: true\n"
           "socket: " + _sock + "\n";
  }

  // Starts gm-ks; returns once the command socket answers (or the process died).
  bool start(const std::string& yaml, std::string* stderr_text = nullptr) {
    const std::string cfg = (_dir / "ks.yaml").string();
    std::ofstream(cfg) << yaml;
    const std::string err = (_dir / "stderr").string();
    _pid = fork();
    if (_pid == 0) {
      freopen(err.c_str(), "w", stderr);
      execl(g_gm_ks.c_str(), g_gm_ks.c_str(), "--config", cfg.c_str(), "--foreground",
            "--log-level", "debugging", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(_pid, &status, WNOHANG) == _pid) {
        _pid = -1;
        _exit_status = status;
        break;
      }
      if (fs::exists(_sock) && ask(_sock, "show crypto gdoi ks policy").find("LAB_GROUP") !=
                                   std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    if (stderr_text) {
      std::ifstream in(err);
      *stderr_text = std::string(std::istreambuf_iterator<char>(in), {});
    }
    return false;
  }

  std::string stderr_text() const {
    std::ifstream in(_dir / "stderr");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Polls a show command until `pattern` matches (the KS handles datagrams asynchronously).
  bool eventually(const std::string& cmd, const std::string& pattern) {
    const std::regex re(pattern);
    for (int i = 0; i < 100; ++i) {
      if (std::regex_search(ask(_sock, cmd), re)) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  fs::path _dir;
  std::string _psk;
  std::string _sock;
  uint16_t _port = 0;
  pid_t _pid = -1;
  int _exit_status = 0;
};

TEST_F(gm_ks_integration, registers_a_gm_rekeys_on_signals_and_counts_acks) {
  ASSERT_TRUE(start(config("tek: {transform: aes-gcm-128, lifetime: 3600}"))) << stderr_text();
  // The signing key was generated on first start, private.
  struct stat st{};
  ASSERT_EQ(stat((_dir / "ks.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  udp_client net(_port);
  test_gm gm(loopback, loopback, "integration-psk", 4321, true);
  ASSERT_EQ(gm.register_with(net.transport()), "");
  ASSERT_EQ(gm.keys.teks.size(), 2u);
  EXPECT_EQ(gm.keys.teks[0].spi, 0u);
  const uint32_t spi = gm.keys.teks[1].spi;
  EXPECT_NE(spi, 0u);
  EXPECT_EQ(gm.keys.tek_keys.at(spi).algorithm_key.size(), 20u);
  EXPECT_EQ(gm.keys.sender_id(), 1u);
  EXPECT_EQ(gm.keys.kek->attrs.key_length, 256);

  const std::string members = ask(_sock, "show crypto gdoi ks members");
  EXPECT_TRUE(std::regex_search(members, std::regex("Group Member ID\\s+: 127\\.0\\.0\\.1")))
      << members;
  EXPECT_TRUE(std::regex_search(members, std::regex("Group Name\\s+: LAB_GROUP"))) << members;

  // SIGUSR1: a TEK rekey arrives at the GM's socket; it verifies, and the ACK is counted.
  kill(_pid, SIGUSR1);
  auto rekey = net.receive(3000ms);
  ASSERT_TRUE(rekey);
  auto ack = gm.take_rekey(*rekey);
  ASSERT_TRUE(std::holds_alternative<bytes>(ack)) << describe(std::get<push_error>(ack));
  EXPECT_EQ(gm.last->seq, 1u);
  EXPECT_NE(gm.last->sa.teks[1].spi, spi);
  net.send(std::get<bytes>(ack));
  EXPECT_TRUE(eventually("show crypto gdoi ks members", "Rekey Acks Rcvd\\s+:\\s+1\\b"))
      << ask(_sock, "show crypto gdoi ks members");
  EXPECT_TRUE(eventually("show crypto gdoi ks members", "Rekeys sent\\s+:\\s+1\\b"));

  // SIGUSR2: a KEK rekey under the old KEK; the next TEK rekey comes under the new one.
  const kek_spi old_kek = gm.rekeys.kek.spi;
  kill(_pid, SIGUSR2);
  rekey = net.receive(3000ms);
  ASSERT_TRUE(rekey);
  ack = gm.take_rekey(*rekey);
  ASSERT_TRUE(std::holds_alternative<bytes>(ack)) << describe(std::get<push_error>(ack));
  EXPECT_NE(gm.rekeys.kek.spi, old_kek);
  net.send(std::get<bytes>(ack));
  EXPECT_TRUE(eventually("show crypto gdoi ks members", "Rekey Acks Rcvd\\s+:\\s+2\\b"));
  kill(_pid, SIGUSR1);
  rekey = net.receive(3000ms);
  ASSERT_TRUE(rekey);
  ack = gm.take_rekey(*rekey);
  ASSERT_TRUE(std::holds_alternative<bytes>(ack)) << describe(std::get<push_error>(ack));
  EXPECT_EQ(gm.last->seq, 1u);

  const std::string policy = ask(_sock, "json show crypto gdoi ks policy");
  EXPECT_NE(policy.find("LAB_GROUP"), std::string::npos) << policy;
  const std::string trace = ask(_sock, "show monitor event-trace gdoi registration");
  EXPECT_NE(trace.find("REGISTERED: GM 127.0.0.1"), std::string::npos) << trace;

  // `clear crypto gdoi` forgets the members.
  ask(_sock, "clear crypto gdoi");
  EXPECT_EQ(ask(_sock, "show crypto gdoi ks members").find("127.0.0.1"), std::string::npos);

  EXPECT_NE(stderr_text().find("%GDOI-5-KS_REGS_COMPL"), std::string::npos) << stderr_text();
  EXPECT_NE(stderr_text().find("%GDOI-5-KS_SEND_UNICAST_REKEY"), std::string::npos);

  // SIGTERM: clean exit, command socket removed.
  kill(_pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(_pid, &status, 0), _pid);
  _pid = -1;
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(_sock));
}

// The operator commands: `rekey` / `rekey kek` on the command socket send what SIGUSR1 /
// SIGUSR2 send, `clear crypto gdoi ks members` forgets the GM, debug conditions show back.
TEST_F(gm_ks_integration, rekeys_and_clears_members_from_the_command_socket) {
  ASSERT_TRUE(start(config("tek: {transform: aes-gcm-128, lifetime: 3600}"))) << stderr_text();
  udp_client net(_port);
  test_gm gm(loopback, loopback, "integration-psk", 4321, true);
  ASSERT_EQ(gm.register_with(net.transport()), "");
  const uint32_t spi = gm.keys.teks[1].spi;

  EXPECT_EQ(ask(_sock, "rekey"), "TEK rekey sent: 1 datagram\n");
  auto rekey = net.receive(3000ms);
  ASSERT_TRUE(rekey);
  auto ack = gm.take_rekey(*rekey);
  ASSERT_TRUE(std::holds_alternative<bytes>(ack)) << describe(std::get<push_error>(ack));
  EXPECT_EQ(gm.last->seq, 1u);
  EXPECT_NE(gm.last->sa.teks[1].spi, spi);
  net.send(std::get<bytes>(ack));
  EXPECT_TRUE(eventually("show crypto gdoi ks members", "Rekey Acks Rcvd\\s+:\\s+1\\b"))
      << ask(_sock, "show crypto gdoi ks members");

  const kek_spi old_kek = gm.rekeys.kek.spi;
  EXPECT_EQ(ask(_sock, "json rek k"), "{\"rekey\":\"KEK\",\"built\":true,\"datagrams\":1}\n");
  rekey = net.receive(3000ms);
  ASSERT_TRUE(rekey);
  ack = gm.take_rekey(*rekey);
  ASSERT_TRUE(std::holds_alternative<bytes>(ack)) << describe(std::get<push_error>(ack));
  EXPECT_NE(gm.rekeys.kek.spi, old_kek);
  net.send(std::get<bytes>(ack));
  EXPECT_TRUE(eventually("show crypto gdoi ks members", "Rekey Acks Rcvd\\s+:\\s+2\\b"));
  EXPECT_TRUE(eventually("show crypto gdoi ks rekey", "Number of Rekeys sent\\s+:?\\s*2\\b"))
      << ask(_sock, "show crypto gdoi ks rekey");

  EXPECT_EQ(ask(_sock, "show crypto gdoi debug-condition"),
            "GDOI Conditional Filters:\nNo conditions set\nUnmatched NOT set\n");
  ask(_sock, "debug crypto gdoi condition peer add ipv4 127.0.0.1");
  EXPECT_NE(ask(_sock, "show crypto gdoi debug-condition").find("Peer Address 127.0.0.1"),
            std::string::npos);

  EXPECT_EQ(ask(_sock, "clear crypto gdoi ks members"), "");
  EXPECT_EQ(ask(_sock, "show crypto gdoi ks members").find("127.0.0.1"), std::string::npos);
  // No member left: the rekey is built but goes nowhere, and nothing reaches the old GM.
  EXPECT_EQ(ask(_sock, "rekey tek"), "TEK rekey sent: 0 datagrams\n");
  EXPECT_FALSE(net.receive(300ms));
  EXPECT_EQ(ask(_sock, "rekey gm"),
            "rekey gm\n      ^\n% Invalid input detected at '^' marker.\n");
}

TEST_F(gm_ks_integration, a_bad_config_stops_it_with_file_line_field) {
  std::string err;
  EXPECT_FALSE(start(config("tek: {transform: rc4}"), &err));
  EXPECT_TRUE(WIFEXITED(_exit_status));
  EXPECT_EQ(WEXITSTATUS(_exit_status), 1);
  EXPECT_NE(err.find("ks.yaml:8: tek.transform: unknown transform 'rc4'"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace gm::control::ks

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <gm-ks>\n", argv[0]);
    return 2;
  }
  gm::control::ks::g_gm_ks = argv[1];
  return RUN_ALL_TESTS();
}
