// Prometheus exposition: rendering rules checked line by line, and the HTTP endpoint asked
// by a real TCP client over 127.0.0.1.
#include "control/prometheus.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <utility>  // before asio: Boost 1.74's awaitable.hpp misses it

#include <boost/asio.hpp>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

namespace gm::control {
namespace {

std::vector<metric_sample> sample_set() {
  return {
      {"gm_rekeys_received_total", "Rekeys received (GROUPKEY-PUSH accepted).",
       metric_type::counter, {{"group", "G1"}}, 340},
      {"gm_registrations_total", "Registrations by result.", metric_type::counter,
       {{"group", "G1"}, {"result", "success"}}, 1},
      {"gm_rekeys_received_total", "ignored: the family's first help wins", metric_type::gauge,
       {{"group", "G2"}}, 2},
      {"gm_registrations_total", "", metric_type::counter,
       {{"group", "G1"}, {"result", "failure"}}, 0},
      {"gm_pseudotime_seconds", "Pseudotime (TBAR) of the group.\nSecond line \\ too.",
       metric_type::gauge, {{"group", "G\"1\"\\\n"}}, 442843.29},
      {"gm.bad-name", "Sanitised name.", metric_type::gauge, {{"0bad", "x"}}, 1},
  };
}

// The exposition grammar's pieces (format 0.0.4).
const std::regex help_re(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
const std::regex type_re(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
const std::regex sample_re(
    R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf))");

// Checks every line and returns HELP/TYPE counts per family.
void check_exposition(const std::string& text, std::map<std::string, int>& helps,
                      std::map<std::string, int>& types) {
  std::istringstream in(text);
  std::string line;
  std::string family;  // the family whose HELP/TYPE came last
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help_re)) {
      ++helps[m[1]];
      family = m[1];
    } else if (std::regex_match(line, m, type_re)) {
      ++types[m[1]];
      EXPECT_EQ(m[1], family) << "TYPE right after its HELP";
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample_re)) << "bad line: " << line;
      EXPECT_EQ(m[1], family) << "a family's samples follow its HELP/TYPE: " << line;
    }
  }
}

TEST(prometheus, names) {
  EXPECT_TRUE(valid_metric_name("gm_rekeys_total"));
  EXPECT_TRUE(valid_metric_name("gm:rekeys"));
  EXPECT_TRUE(valid_metric_name("_x"));
  EXPECT_FALSE(valid_metric_name("0x"));
  EXPECT_FALSE(valid_metric_name("gm-x"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("group"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

TEST(prometheus, render_groups_families_and_escapes) {
  const auto samples = sample_set();
  const std::string text = render_prometheus(samples);
  EXPECT_EQ(text,
            "# HELP gm_rekeys_received_total Rekeys received (GROUPKEY-PUSH accepted).\n"
            "# TYPE gm_rekeys_received_total counter\n"
            "gm_rekeys_received_total{group=\"G1\"} 340\n"
            "gm_rekeys_received_total{group=\"G2\"} 2\n"
            "# HELP gm_registrations_total Registrations by result.\n"
            "# TYPE gm_registrations_total counter\n"
            "gm_registrations_total{group=\"G1\",result=\"success\"} 1\n"
            "gm_registrations_total{group=\"G1\",result=\"failure\"} 0\n"
            "# HELP gm_pseudotime_seconds Pseudotime (TBAR) of the group.\\nSecond line \\\\ "
            "too.\n"
            "# TYPE gm_pseudotime_seconds gauge\n"
            "gm_pseudotime_seconds{group=\"G\\\"1\\\"\\\\\\n\"} 442843.28999999998\n"
            "# HELP gm_bad_name Sanitised name.\n"
            "# TYPE gm_bad_name gauge\n"
            "gm_bad_name{_0bad=\"x\"} 1\n");
  std::map<std::string, int> helps, types;
  check_exposition(text, helps, types);
  EXPECT_EQ(helps.size(), 4u);
  for (const auto& [name, n] : helps) {
    EXPECT_EQ(n, 1) << name;
    EXPECT_EQ(types[name], 1) << name;
    EXPECT_TRUE(valid_metric_name(name));
  }
}

TEST(prometheus, values) {
  const std::vector<metric_sample> s = {
      {"a", "h", metric_type::gauge, {}, 18446744073709551616.0},  // 2^64: exponent form
      {"b", "h", metric_type::gauge, {}, -3},
      {"c", "h", metric_type::gauge, {}, std::numeric_limits<double>::infinity()},
      {"d", "h", metric_type::gauge, {}, std::numeric_limits<double>::quiet_NaN()},
      {"e", "h", metric_type::counter, {}, 9007199254740991.0},
  };
  const std::string t = render_prometheus(s);
  EXPECT_NE(t.find("\na 1.8446744073709552e+19\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nb -3\n"), std::string::npos);
  EXPECT_NE(t.find("\nc +Inf\n"), std::string::npos);
  EXPECT_NE(t.find("\nd NaN\n"), std::string::npos);
  EXPECT_NE(t.find("\ne 9007199254740991\n"), std::string::npos);
  std::map<std::string, int> helps, types;
  check_exposition(t, helps, types);
}

// A blocking client: sends `request`, returns everything the server sent before closing.
std::string http(uint16_t port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return "connect failed";
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

class metrics_http : public ::testing::Test {
 protected:
  void SetUp() override {
    _server = std::make_unique<metrics_server>(_io, [this] {
      ++_calls;
      return sample_set();
    });
    ASSERT_EQ(_server->listen("127.0.0.1:0"), "");
    ASSERT_NE(_server->port(), 0);
    _guard.emplace(_io.get_executor());
    _thread = std::thread([this] { _io.run(); });
  }
  void TearDown() override {
    _guard.reset();
    _io.stop();
    _thread.join();
    _server.reset();
  }

  boost::asio::io_context _io;
  std::unique_ptr<metrics_server> _server;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> _guard;
  std::thread _thread;
  int _calls = 0;
};

TEST_F(metrics_http, get_metrics_answers_the_exposition) {
  const std::string r = http(_server->port(), "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
  const std::size_t end = r.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << r;
  const std::string head = r.substr(0, end + 2);
  const std::string body = r.substr(end + 4);
  EXPECT_EQ(head.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  const auto samples = sample_set();
  EXPECT_EQ(body, render_prometheus(samples));
  std::map<std::string, int> helps, types;
  check_exposition(body, helps, types);
  for (const auto& [name, n] : helps) {
    EXPECT_EQ(n, 1) << name;
    EXPECT_EQ(types[name], 1) << name;
  }
  EXPECT_EQ(_calls, 1);
}

TEST_F(metrics_http, other_paths_methods_and_garbage_are_refused) {
  EXPECT_EQ(http(_server->port(), "GET / HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404 Not Found\r\n", 0),
            0u);
  EXPECT_EQ(http(_server->port(), "GET /metricsx HTTP/1.1\r\n\r\n").rfind("HTTP/1.0 404", 0),
            0u);
  EXPECT_EQ(http(_server->port(), "POST /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 405", 0),
            0u);
  EXPECT_EQ(http(_server->port(), "GET /metrics SMTP\r\n\r\n").rfind("HTTP/1.0 400", 0), 0u);
  EXPECT_EQ(http(_server->port(), std::string(9000, 'A')).rfind("HTTP/1.0 400", 0), 0u);
  EXPECT_EQ(_calls, 0);  // none of them asked the producer
  // Still serving afterwards.
  EXPECT_EQ(http(_server->port(), "GET /metrics?x=1 HTTP/1.1\r\n\r\n").rfind("HTTP/1.0 200", 0),
            0u);
}

TEST(metrics_server_listen, bad_addresses_are_reported) {
  boost::asio::io_context io;
  metrics_server s(io, [] { return std::vector<metric_sample>{}; });
  EXPECT_NE(s.listen("127.0.0.1").find("expected A.B.C.D:port"), std::string::npos);
  EXPECT_NE(s.listen("localhost:9464").find("not an IPv4 address"), std::string::npos);
  EXPECT_NE(s.listen("127.0.0.1:99999").find("port must be"), std::string::npos);
  EXPECT_EQ(s.port(), 0);
}

}  // namespace
}  // namespace gm::control
