// The data plane telemetry client: parsing real /gm/* replies, folding them into
// gm_status, typed errors, and the SEQPACKET protocol against a stand-in telemetry socket.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <thread>

#include "control/dp_telemetry.h"
#include "control/show_gm.h"
#include "tests/control/telemetry_samples.h"

namespace gm::control {
namespace {

TEST(DpTelemetry, ParsesEveryEndpoint) {
  dp_snapshot s;
  ASSERT_FALSE(parse_ports(test::kPorts, s));
  EXPECT_EQ(s.lan.rx, 13235584u);
  EXPECT_EQ(s.wan.tx, 13235552u);
  EXPECT_EQ(s.wan.drops.at("not_ipv4"), 13235352u);
  EXPECT_EQ(s.wan.drops.at("policy_discard"), 195u);
  EXPECT_EQ(s.lan.drops.size(), 32u);  // every reason in dataplane/drop_reason.h
  EXPECT_EQ(s.lan.drops.count("rx"), 0u);

  EXPECT_EQ(s.lan.link_up, 0u);  // a data plane from before the link fields

  dp_snapshot l;
  ASSERT_FALSE(parse_ports(test::kPortsWithLinks, l));
  EXPECT_EQ(l.lan.link_up, 1u);
  EXPECT_EQ(l.wan.link_up, 1u);
  EXPECT_EQ(l.wan.link_changes, 0u);
  EXPECT_EQ(l.lan.drops.size(), 32u);  // the link fields are not drop reasons
  EXPECT_EQ(l.lan.drops.count("link_up"), 0u);
  EXPECT_GT(l.lan.rx, 0u);

  ASSERT_FALSE(parse_sas(test::kSa, s));
  ASSERT_EQ(s.sas.size(), 1u);
  EXPECT_EQ(s.sas[0].spi, 0x1234abcdu);
  EXPECT_EQ(s.sas[0].transform, "aes-gcm-128");
  EXPECT_EQ(s.sas[0].tbar_window_ms, 4000u);
  EXPECT_EQ(s.sas[0].encaps, 13235552u);
  EXPECT_EQ(s.sas[0].bytes_out, 1217670784u);
  EXPECT_EQ(s.sas[0].drops.size(), 32u);

  ASSERT_FALSE(parse_drops(test::kDrops, s));
  EXPECT_EQ(s.drops.at("clear_protected"), 5u);
  ASSERT_FALSE(parse_replay(test::kReplay, s));
  EXPECT_EQ(s.replay.output_packets, 13235552u);
  ASSERT_FALSE(parse_lcores(test::kLcores, s));
  ASSERT_EQ(s.lcores.size(), 1u);
  EXPECT_EQ(s.lcores[0].name, "worker0");
  EXPECT_EQ(s.lcores[0].lan_rx, 13235584u);
}

TEST(DpTelemetry, SasSortedBySpi) {
  dp_snapshot s;
  ASSERT_FALSE(parse_sas(test::kTwoSas, s));
  ASSERT_EQ(s.sas.size(), 2u);
  EXPECT_EQ(s.sas[0].spi, 0x2000u);
  EXPECT_EQ(s.sas[0].decrypt, 42u);
  EXPECT_EQ(s.sas[0].drops.at("icv_mismatch"), 3u);
  EXPECT_EQ(s.sas[1].spi, 0x1234abcdu);
}

TEST(DpTelemetry, Errors) {
  dp_snapshot s;
  auto e = parse_sas("{\"/gm/sa\": {", s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, telemetry_errc::bad_json);
  e = parse_sas(test::kPorts, s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, telemetry_errc::wrong_endpoint);
  EXPECT_EQ(describe(*e), "wrong_endpoint: /gm/sa");
  e = parse_replay(R"({"/gm/replay":null})", s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, telemetry_errc::bad_field);
  e = parse_replay(R"({"/gm/replay":{"input_packets":1}})", s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, telemetry_errc::bad_field);
  EXPECT_EQ(e->detail, "output_packets");
  e = parse_replay(R"({"/gm/replay":{"input_packets":"many","output_packets":0}})", s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->detail, "input_packets");
  e = parse_sas(R"({"/gm/sa":{"0xzz":{}}})", s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, telemetry_errc::bad_field);
  EXPECT_TRUE(parse_ports(test::kNosuch, s));
}

TEST(DpTelemetry, AppliedToShowCommands) {
  dp_snapshot dp;
  ASSERT_FALSE(parse_ports(test::kPorts, dp));
  ASSERT_FALSE(parse_sas(test::kTwoSas, dp));
  ASSERT_FALSE(parse_drops(test::kDrops, dp));
  ASSERT_FALSE(parse_replay(test::kReplay, dp));

  gm_status s;
  ipsec_interface_status wan;
  wan.interface = "net_null0";
  wan.crypto_map = "G1";
  esp_sa_status known;
  known.spi = 0x1234abcd;
  known.transform = "esp-gcm 128";
  known.remaining_lifetime_s = 3000;
  wan.inbound.push_back(known);
  wan.outbound.push_back(known);
  s.ipsec.push_back(wan);
  replay_status r;
  r.group = "G1";
  r.replay_value_ms = 442843290;
  s.replay.push_back(r);

  apply_snapshot(dp, s);
  const ipsec_interface_status& i = s.ipsec[0];
  EXPECT_EQ(i.counters.encaps, 13235552u);
  EXPECT_EQ(i.counters.decrypt, 42u);
  EXPECT_EQ(i.counters.send_errors, 0u);
  // Everything dropped was on the receive side: 13235352 + 195 + 5.
  EXPECT_EQ(i.counters.recv_errors, 13235552u);
  ASSERT_EQ(i.inbound.size(), 2u);  // the control plane's SA kept, the unknown one added
  EXPECT_EQ(i.inbound[0].remaining_lifetime_s, 3000u);
  EXPECT_EQ(i.inbound[1].spi, 0x2000u);
  EXPECT_EQ(i.inbound[1].transform, "esp-gcm 128");  // IOS name from the transform table
  EXPECT_EQ(i.inbound[1].iv_size, 8u);
  EXPECT_EQ(i.inbound[1].replay_window, 4u);
  EXPECT_EQ(s.replay[0].output_packets, 13235552u);
  EXPECT_EQ(s.replay[0].replay_value_ms, 442843290u);  // the control plane's, untouched

  const std::string text = show_ipsec_sa(s);
  EXPECT_NE(text.find("#pkts encaps: 13235552, #pkts encrypt: 13235552, #pkts digest: 13235552"),
            std::string::npos);
  EXPECT_NE(text.find("#send errors 0, #recv errors 13235552"), std::string::npos);
  EXPECT_NE(show_gdoi_gm_replay(s).find("Output Packets        : 13235552"), std::string::npos);

  gm_status empty;
  apply_snapshot(dp, empty);
  ASSERT_EQ(empty.ipsec.size(), 1u);
  EXPECT_EQ(empty.ipsec[0].inbound.size(), 2u);
  EXPECT_EQ(empty.replay.size(), 1u);
}

// A stand-in for DPDK's telemetry socket: greets, then answers each command from a table.
class fake_telemetry {
 public:
  explicit fake_telemetry(std::map<std::string, std::string> replies)
      : _replies(std::move(replies)) {
    char tmpl[] = "/tmp/gm-tel-XXXXXX";
    _dir = ::mkdtemp(tmpl);
    _path = _dir + "/dpdk_telemetry.v2";
    _fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, _path.c_str());
    EXPECT_EQ(::bind(_fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(_fd, 4), 0);
    _thread = std::thread([this] { serve(); });
  }
  ~fake_telemetry() {
    ::shutdown(_fd, SHUT_RDWR);
    _thread.join();
    ::close(_fd);
    ::unlink(_path.c_str());
    ::rmdir(_dir.c_str());
  }
  const std::string& path() const { return _path; }
  int commands() const { return _commands; }

 private:
  void serve() {
    for (;;) {
      const int c = ::accept(_fd, nullptr, nullptr);
      if (c < 0) return;
      ::send(c, test::kGreeting, std::strlen(test::kGreeting), 0);
      char buf[256];
      for (ssize_t n; (n = ::recv(c, buf, sizeof buf, 0)) > 0;) {
        ++_commands;
        auto it = _replies.find(std::string(buf, static_cast<std::size_t>(n)));
        const std::string r = it == _replies.end() ? "{}" : it->second;
        ::send(c, r.data(), r.size(), 0);
      }
      ::close(c);
    }
  }

  std::map<std::string, std::string> _replies;
  std::string _dir;
  std::string _path;
  int _fd = -1;
  std::atomic<int> _commands{0};
  std::thread _thread;
};

TEST(DpTelemetry, ClientSnapshotOverSeqpacket) {
  fake_telemetry t(std::map<std::string, std::string>{{"/gm/ports", test::kPorts},
                    {"/gm/sa", test::kSa},
                    {"/gm/drops", test::kDrops},
                    {"/gm/replay", test::kReplay},
                    {"/gm/lcores", test::kLcores}});
  dp_telemetry_client c(t.path());
  dp_snapshot s;
  const auto e = c.snapshot(s);
  ASSERT_FALSE(e) << describe(*e);
  EXPECT_EQ(t.commands(), 5);
  EXPECT_EQ(s.sas.size(), 1u);
  EXPECT_EQ(s.lan.rx, 13235584u);
  EXPECT_EQ(s.lcores.size(), 1u);
  std::string raw;
  ASSERT_FALSE(c.query("/gm/replay", raw));
  EXPECT_EQ(raw, test::kReplay);
}

TEST(DpTelemetry, ClientErrors) {
  EXPECT_EQ(dp_telemetry_client::socket_path("gmA"), "/var/run/dpdk/gmA/dpdk_telemetry.v2");
  EXPECT_EQ(dp_telemetry_client::socket_path("p", "/run/x"), "/run/x/p/dpdk_telemetry.v2");
  dp_telemetry_client none("/nonexistent/dpdk_telemetry.v2");
  dp_snapshot s;
  auto e = none.snapshot(s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, telemetry_errc::connect_failed);
  EXPECT_NE(describe(*e).find("No such file or directory"), std::string::npos);
  // A data plane whose endpoint answers something else: the parse error comes back.
  fake_telemetry t(std::map<std::string, std::string>{{"/gm/ports", test::kSa}});
  e = dp_telemetry_client(t.path()).snapshot(s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, telemetry_errc::wrong_endpoint);
}

}  // namespace
}  // namespace gm::control
