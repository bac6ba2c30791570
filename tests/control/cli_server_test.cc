// The command socket: a real Asio server in a temp dir, raw clients and the gmctl binary
// (path in $GMCTL, set by meson) over it; permissions, stale sockets, limits.
#include <grp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>

#include "control/cli_server.h"
#include "control/show_gm.h"
#include "tests/control/show_fixture.h"

namespace gm::control {
namespace {

class temp_dir {
 public:
  temp_dir() {
    char tmpl[] = "/tmp/gm-cli-XXXXXX";
    _path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { std::system(("rm -rf " + _path).c_str()); }
  std::string operator/(const std::string& name) const { return _path + "/" + name; }

 private:
  std::string _path;
};

// A cli_server answering from the seed GM status on its own io thread.
class running_server {
 public:
  explicit running_server(cli_server_options o)
      : _guard(boost::asio::make_work_guard(_io)),
        _srv(std::make_unique<cli_server>(_io, std::move(o), [this](const command& c, bool json) {
          ++calls;
          if (c.kind == command_kind::debug_condition_peer) return std::string("% GDOI Debug Condition added.\n");
          return render_gm(c, test::seed_gm(), json);
        })) {}
  cli_server_error start() {
    auto e = _srv->start();
    _thread = std::thread([this] { _io.run(); });
    return e;
  }
  ~running_server() { stop(); }
  void stop() {
    _guard.reset();
    _io.stop();
    if (_thread.joinable()) _thread.join();
    _srv.reset();  // destroyed off the io thread once it has stopped
  }
  cli_server* operator->() { return _srv.get(); }

  std::atomic<int> calls{0};

 private:
  boost::asio::io_context _io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> _guard;
  std::unique_ptr<cli_server> _srv;
  std::thread _thread;
};

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

std::string ask(const std::string& path, const std::string& msg, bool shut_write = false) {
  const int fd = connect_to(path);
  EXPECT_GE(fd, 0) << path;
  if (fd < 0) return "";
  EXPECT_EQ(::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL), static_cast<ssize_t>(msg.size()));
  if (shut_write) ::shutdown(fd, SHUT_WR);
  return read_all(fd);
}

cli_server_options opts(const temp_dir& d, const std::string& name = "gm.sock") {
  cli_server_options o;
  o.path = d / name;
  return o;
}

TEST(CliServer, AnswersShowCommands) {
  temp_dir d;
  running_server s(opts(d));
  ASSERT_FALSE(s.start());
  const gm_status st = test::seed_gm();
  EXPECT_EQ(ask(d / "gm.sock", "show crypto isakmp sa\n"), show_isakmp_sa(st));
  EXPECT_EQ(ask(d / "gm.sock", "sh cry gd gm rek\r\n"), show_gdoi_gm_rekey(st));
  EXPECT_EQ(ask(d / "gm.sock", "sh cry ips sa | in encrypt|decrypt\n"),
            "    #pkts encaps: 100, #pkts encrypt: 100, #pkts digest: 100\n"
            "    #pkts decaps: 100, #pkts decrypt: 100, #pkts verify: 100\n");
  // No newline, but the client closed its side: the line is what it sent.
  EXPECT_EQ(ask(d / "gm.sock", "show crypto gdoi rekey sa", true), show_rekey_sa(st));
  EXPECT_EQ(ask(d / "gm.sock", "debug crypto gdoi condition peer add ipv4 10.1.20.2\n"),
            "% GDOI Debug Condition added.\n");
  EXPECT_EQ(s.calls, 5);
}

TEST(CliServer, JsonAndErrors) {
  temp_dir d;
  running_server s(opts(d));
  ASSERT_FALSE(s.start());
  const YAML::Node j = YAML::Load(ask(d / "gm.sock", "json show crypto ipsec sa | in x\n"));
  EXPECT_EQ(j["interfaces"][0]["pkts_encaps"].as<uint64_t>(), 100u);  // no filter on JSON
  EXPECT_EQ(ask(d / "gm.sock", "show crypto gdoo\n"),
            "show crypto gdoo\n            ^\n% Invalid input detected at '^' marker.\n");
  EXPECT_EQ(ask(d / "gm.sock", "show crypto\n"), "% Incomplete command.\n");
  // Asked for JSON, a refusal is JSON too, with the IOS text and the column.
  const YAML::Node e = YAML::Load(ask(d / "gm.sock", "json show crypto gdoo\n"));
  EXPECT_NE(e["error"].as<std::string>().find("% Invalid input"), std::string::npos);
  EXPECT_EQ(e["column"].as<uint64_t>(), 12u);
  EXPECT_EQ(ask(d / "gm.sock", "\n"), "");
  EXPECT_EQ(s.calls, 1);  // refused lines never reach the daemon
  EXPECT_EQ(ask(d / "gm.sock", std::string(max_command_line + 100, 'x') + "\n"),
            "% Command line too long\n");
  EXPECT_EQ(s->answer("sh cry gd r s"), show_rekey_sa(test::seed_gm()));
}

TEST(CliServer, SocketIs0660WithTheOperatorGroup) {
  temp_dir d;
  cli_server_options o = opts(d);
  // Any group we may give the file to: as root any other group, else our own.
  gid_t want = ::getegid();
  if (::geteuid() == 0) {
    for (group* g; (g = ::getgrent()) != nullptr;) {
      if (g->gr_gid != want) {
        want = g->gr_gid;
        o.group = g->gr_name;
        break;
      }
    }
    ::endgrent();
  } else {
    o.group = ::getgrgid(want)->gr_name;
  }
  running_server s(o);
  ASSERT_FALSE(s.start());
  struct stat st {};
  ASSERT_EQ(::lstat(o.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_gid, want) << o.group;
  s.stop();
  EXPECT_NE(::access(o.path.c_str(), F_OK), 0) << "socket file removed on destruction";
}

TEST(CliServer, StartErrors) {
  temp_dir d;
  cli_server_options o = opts(d);
  o.group = "no-such-group-gm";
  EXPECT_EQ(running_server(o).start().what, "unknown group no-such-group-gm");

  o = opts(d, "file");
  std::ofstream(o.path) << "keep me";
  EXPECT_EQ(running_server(o).start().what, o.path + " exists and is not a socket");
  EXPECT_EQ(::access(o.path.c_str(), F_OK), 0);

  o = opts(d, std::string(120, 'x'));
  EXPECT_NE(running_server(o).start().what.find("too long"), std::string::npos);

  o = opts(d, "nodir/gm.sock");
  EXPECT_NE(running_server(o).start().what.find("No such file or directory"), std::string::npos);
}

TEST(CliServer, ReplacesStaleSocketButNotALiveOne) {
  temp_dir d;
  const std::string path = d / "gm.sock";
  {  // a daemon that died without unlinking
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::close(fd);
  }
  running_server first(opts(d));
  ASSERT_FALSE(first.start());
  EXPECT_EQ(ask(path, "sh cry isa sa\n"), show_isakmp_sa(test::seed_gm()));
  running_server second(opts(d));
  EXPECT_EQ(second.start().what, path + " is in use by a running process");
  second.stop();
  EXPECT_EQ(ask(path, "sh cry isa sa\n"), show_isakmp_sa(test::seed_gm()));
}

TEST(CliServer, SilentClientIsDropped) {
  temp_dir d;
  cli_server_options o = opts(d);
  o.timeout_ms = 100;
  running_server s(o);
  ASSERT_FALSE(s.start());
  const int fd = connect_to(o.path);
  ASSERT_GE(fd, 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_all(fd), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(ask(o.path, "sh cry isa sa\n"), show_isakmp_sa(test::seed_gm()));  // still serving
}

struct run_result {
  int status;
  std::string out;
};

run_result sh(const std::string& cmd) {
  run_result r{-1, ""};
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(Gmctl, RoundTrip) {
  const char* gmctl = std::getenv("GMCTL");
  if (gmctl == nullptr) GTEST_SKIP() << "GMCTL not set (meson test sets it)";
  temp_dir d;
  running_server s(opts(d));
  ASSERT_FALSE(s.start());
  const std::string base = std::string(gmctl) + " -s " + (d / "gm.sock");
  const gm_status st = test::seed_gm();

  run_result r = sh(base + " show crypto isakmp sa");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, show_isakmp_sa(st));
  r = sh(base + " sh cry ipsec sa '|' in encrypt");
  EXPECT_EQ(r.out, "    #pkts encaps: 100, #pkts encrypt: 100, #pkts digest: 100\n");
  r = sh(base + " --json sh cry gd gm replay");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(YAML::Load(r.out)["groups"][0]["replay_value_ms"].as<uint64_t>(), 621388660u);
  r = sh(base + " show crypto gdoo");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("% Invalid input detected at '^' marker."), std::string::npos);
  r = sh(base + " --json show crypto gdoo");
  EXPECT_EQ(r.status, 3);
  EXPECT_TRUE(YAML::Load(r.out)["error"].IsDefined());
  // The mini shell: one command per stdin line.
  r = sh("printf 'sh cry isa sa\\n\\nsh cry gd r s\\n' | " + base);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, show_isakmp_sa(st) + show_rekey_sa(st));
}

TEST(Gmctl, CannotReachDaemon) {
  const char* gmctl = std::getenv("GMCTL");
  if (gmctl == nullptr) GTEST_SKIP() << "GMCTL not set (meson test sets it)";
  temp_dir d;
  run_result r = sh(std::string(gmctl) + " -s " + (d / "none.sock") + " show crypto gdoi");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "gmctl: cannot reach gm-control at " + (d / "none.sock") +
                       ": No such file or directory\n");
  r = sh(std::string(gmctl) + " --ks -s " + (d / "none.sock") + " sh cry gd ks mem");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("cannot reach gm-ks at"), std::string::npos);
  r = sh(std::string(gmctl) + " --bogus");
  EXPECT_EQ(r.status, 2);
}

}  // namespace
}  // namespace gm::control
