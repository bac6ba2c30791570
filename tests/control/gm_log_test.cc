// gm_log: IOS mnemonic lines on stderr, RFC 5424 datagrams received by a real UDP socket on
// 127.0.0.1, debug categories/levels/peer conditions, and no path from a key buffer to text.
#include "control/gm_log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <set>
#include <sstream>

namespace gm::control {
namespace {

using namespace std::chrono_literals;

// What must not compile: a key buffer (or any byte buffer) as hex or as a log argument.
template <typename T>
concept hexable = requires(const T& t) { hex_id(t); };
template <typename T>
concept loggable = requires(const T& t) { log_detail::to_text(t); };
static_assert(!hexable<key_bytes>, "a key buffer must never format as hex");
static_assert(!hexable<bytes>);
static_assert(!hexable<std::span<const uint8_t>>);
static_assert(!loggable<key_bytes>, "a key buffer must never be a log argument");
static_assert(!loggable<std::span<const uint8_t>>);
static_assert(!loggable<std::array<uint8_t, 16>>, "fixed ids go through hex_id explicitly");
static_assert(hexable<std::array<uint8_t, 16>>);
static_assert(loggable<redacted> && loggable<ipv4_addr> && loggable<spi32> && loggable<int>);

wall_time nov25() { return wall_time{} + 1795592401s + 123ms; }  // 2026-11-25 07:40:01.123Z

constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

// A syslog collector: a UDP socket the test binds on 127.0.0.1 (kernel-chosen port).
class udp_collector {
 public:
  udp_collector() {
    _fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(_fd, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(_fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    socklen_t len = sizeof sa;
    EXPECT_EQ(getsockname(_fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    _port = ntohs(sa.sin_port);
  }
  ~udp_collector() { close(_fd); }
  std::string address() const { return "127.0.0.1:" + std::to_string(_port); }
  /// The next datagram, or "" after `timeout`.
  std::string receive(std::chrono::milliseconds timeout = 2000ms) {
    pollfd p{_fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      return {};
    }
    char buf[4096];
    const ssize_t n = recv(_fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  int _fd = -1;
  uint16_t _port = 0;
};

log_options test_options() {
  log_options o;
  o.hostname = "gm1";
  o.app_name = "gm-control";
  return o;
}

TEST(gm_log_table, every_spec_mnemonic_is_declared_with_its_severity) {
  // Spec §6 and seed 000, as IOS prints them.
  for (const char* tag :
       {"%GDOI-5-GM_REGS_COMPL", "%GDOI-5-GM_INSTALL_POLICIES_SUCCESS", "%GDOI-5-SA_KEK_UPDATED",
        "%GDOI-5-SA_TEK_UPDATED", "%GDOI-5-GM_RECV_REKEY", "%GDOI-5-GM_REKEY_TRANS_2_UNI",
        "%GDOI-5-GM_REKEY_TRANS_2_MULTI", "%GDOI-5-GM_RE_REGISTER", "%GDOI-5-GM_CLEAR_REGISTER",
        "%GDOI-4-TIMEBASED_REPLAY_FAILED", "%GDOI-4-PSEUDO_TIME_LARGE",
        "%CRYPTO-4-RECVD_PKT_INV_SPI", "%CRYPTO-4-RECVD_PKT_MAC_ERR",
        "%GDOI-5-KS_SEND_UNICAST_REKEY", "%GDOI-5-KS_SEND_MCAST_REKEY", "%GDOI-1-KS_UNAUTHORIZED",
        "%GDOI-1-UNAUTHORIZED_IPADDR", "%GDOI-5-KS_GM_REVOKED", "%GDOI-3-GM_REJECTING_SA_PAYLOAD",
        "%GDOI-3-GM_NO_IPSEC_FLOWS", "%GDOI-4-GM_RECV_DELETE", "%GDOI-5-GM_CM_ATTACH",
        "%GDOI-5-GM_CM_DETACH", "%CRYPTO-4-PKT_REPLAY_ERR", "%CRYPTO-6-IKMP_MODE_FAILURE",
        "%GDOI-5-COOP_KS_ELECTION", "%GDOI-4-COOP_CONFIG_MISMATCH"}) {
    const auto m = find_log_msg(tag);
    ASSERT_TRUE(m.has_value()) << tag;
    EXPECT_EQ(ios_tag(*m), tag);
  }
  EXPECT_FALSE(find_log_msg("GM_NO_SUCH_THING").has_value());
  // Mnemonics are unique, so MSGID identifies the message.
  std::set<std::string_view> seen;
  for (const log_msg_def& d : log_msg_defs) {
    EXPECT_TRUE(seen.insert(d.mnemonic).second) << d.mnemonic;
    EXPECT_LE(d.mnemonic.size(), 32u);
  }
}

TEST(gm_log, stderr_lines_match_the_seed_registration_sequence) {
  manual_ops_clock clock(nov25());
  std::ostringstream err;
  gm_log log(clock, test_options(), err);
  log.emit<log_msg::gm_rekey_trans_2_uni>("G1");
  log.emit<log_msg::sa_kek_updated>();
  log.emit<log_msg::sa_tek_updated>();
  log.emit<log_msg::gm_regs_compl>(ipv4_addr{ip(10, 1, 12, 2)}, "G1", ipv4_addr{ip(10, 1, 13, 2)});
  log.emit<log_msg::gm_install_policies_success>(ipv4_addr{ip(10, 1, 12, 2)}, "G1",
                                                 ipv4_addr{ip(10, 1, 13, 2)});
  // Seed 000, "registration, policy download and SA installation", with our timestamp.
  EXPECT_EQ(err.str(),
            "*Nov 25 07:40:01.123: %GDOI-5-GM_REKEY_TRANS_2_UNI: Group G1 transitioned to "
            "Unicast Rekey.\n"
            "*Nov 25 07:40:01.123: %GDOI-5-SA_KEK_UPDATED: SA KEK was updated\n"
            "*Nov 25 07:40:01.123: %GDOI-5-SA_TEK_UPDATED: SA TEK was updated\n"
            "*Nov 25 07:40:01.123: %GDOI-5-GM_REGS_COMPL: Registration to KS 10.1.12.2 "
            "complete for group G1 using address 10.1.13.2\n"
            "*Nov 25 07:40:01.123: %GDOI-5-GM_INSTALL_POLICIES_SUCCESS: SUCCESS: Installation "
            "of Reg/Rekey policies from KS 10.1.12.2 for group G1 & gm identity 10.1.13.2\n");
  EXPECT_EQ(log.count(log_msg::sa_tek_updated), 1u);
  EXPECT_EQ(log.count(log_msg::gm_recv_rekey), 0u);
}

TEST(gm_log, rfc5424_datagram_reaches_a_real_udp_collector) {
  udp_collector collector;
  manual_ops_clock clock(nov25());
  std::ostringstream err;
  log_options o = test_options();
  o.to_stderr = false;
  gm_log log(clock, o, err);
  ASSERT_EQ(log.set_collector(collector.address()), "");
  log.emit<log_msg::timebased_replay_failed>("G1", "620051.84", "619767.09", 4,
                                             ipv4_addr{ip(192, 168, 13, 2)},
                                             ipv4_addr{ip(192, 168, 14, 2)});
  const std::string got = collector.receive();
  // local7 (23) * 8 + warnings (4) = 188.
  EXPECT_EQ(got, "<188>1 2026-11-25T07:40:01.123Z gm1 gm-control " + std::to_string(getpid()) +
                     " TIMEBASED_REPLAY_FAILED - %GDOI-4-TIMEBASED_REPLAY_FAILED: An anti replay "
                     "check has failed in group G1: my_pseudotime = 620051.84 secs, "
                     "peer_pseudotime = 619767.09 secs, replay_window = 4 (second), src_ip = "
                     "192.168.13.2, dst_ip = 192.168.14.2");
  // The RFC 5424 ABNF, independently of the exact expectation above.
  const std::regex abnf(
      R"(<(\d{1,3})>1 (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}Z) ([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) (-|\[.*\])( .*)?)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(got, m, abnf)) << got;
  EXPECT_EQ(m[1].str(), "188");
  EXPECT_EQ(m[6].str(), "TIMEBASED_REPLAY_FAILED");
  EXPECT_TRUE(err.str().empty());  // stderr off
  EXPECT_EQ(log.send_errors(), 0u);
}

TEST(gm_log, threshold_drops_less_severe_messages_but_counts_them) {
  udp_collector collector;
  manual_ops_clock clock(nov25());
  std::ostringstream err;
  log_options o = test_options();
  o.threshold = severity::warnings;
  gm_log log(clock, o, err);
  ASSERT_EQ(log.set_collector(collector.address()), "");
  log.emit<log_msg::sa_tek_updated>();  // 5: dropped
  log.emit<log_msg::recvd_pkt_inv_spi>(ipv4_addr{ip(10, 1, 14, 2)}, spi32{0x8BF147EF},
                                       ipv4_addr{ip(10, 1, 13, 2)});  // 4: kept
  EXPECT_EQ(err.str(),
            "*Nov 25 07:40:01.123: %CRYPTO-4-RECVD_PKT_INV_SPI: decaps: rec'd IPSEC packet has "
            "invalid spi for destaddr=10.1.14.2, prot=50, spi=0x8BF147EF(2347845615), "
            "srcaddr=10.1.13.2\n");
  const std::string got = collector.receive();
  EXPECT_NE(got.find(" RECVD_PKT_INV_SPI - %CRYPTO-4-RECVD_PKT_INV_SPI: "), std::string::npos);
  EXPECT_EQ(collector.receive(100ms), "");  // nothing else was sent
  EXPECT_EQ(log.count(log_msg::sa_tek_updated), 1u);
}

TEST(gm_log, key_material_never_reaches_stderr_or_the_collector) {
  udp_collector collector;
  manual_ops_clock clock(nov25());
  std::ostringstream err;
  gm_log log(clock, test_options(), err);
  ASSERT_EQ(log.set_collector(collector.address()), "");
  key_bytes key;
  for (int i = 0; i < 32; ++i) {
    key.push_back(static_cast<uint8_t>(0xA0 + i));
  }
  // The only way to mention a key buffer: its size.
  log.emit<log_msg::gm_ks_variant>(ipv4_addr{ip(10, 1, 12, 2)}, "G1", redacted(key));
  const std::string dgram = collector.receive();
  for (const std::string& out : {err.str(), dgram}) {
    EXPECT_NE(out.find("<redacted 32 bytes>"), std::string::npos) << out;
    for (const char* hex : {"A0A1A2", "a0a1a2", "A0 A1", "a0:a1"}) {
      EXPECT_EQ(out.find(hex), std::string::npos) << out;
    }
    EXPECT_EQ(out.find(std::string(key.begin(), key.begin() + 4)), std::string::npos);
  }
}

TEST(gm_log, hex_id_prints_public_identifiers_like_ios) {
  const std::array<uint8_t, 16> kek_spi = {0x18, 0x86, 0x48, 0x36, 0xBA, 0x88, 0x8B, 0xCD,
                                           0x11, 0x26, 0x67, 0x1E, 0xEA, 0xFE, 0xB4, 0xC7};
  EXPECT_EQ(hex_id(kek_spi), "0x18864836BA888BCD1126671EEAFEB4C7");  // seed 000 KEK spi
  EXPECT_EQ(log_detail::to_text(spi32{0x8BF147EF}), "0x8BF147EF(2347845615)");
}

TEST(gm_log, control_characters_cannot_break_the_line) {
  manual_ops_clock clock(nov25());
  std::ostringstream err;
  gm_log log(clock, test_options(), err);
  log.emit<log_msg::gm_rekey_trans_2_uni>("G1\n*Nov 25 00:00:00.000: %GDOI-5-FAKE: x\x1b[2J");
  EXPECT_EQ(err.str(),
            "*Nov 25 07:40:01.123: %GDOI-5-GM_REKEY_TRANS_2_UNI: Group G1?*Nov 25 00:00:00.000: "
            "%GDOI-5-FAKE: x?[2J transitioned to Unicast Rekey.\n");
}

TEST(gm_log, rfc5424_header_fields_are_sanitised) {
  const std::string l = rfc5424_line(23, severity::notifications, nov25(), "", "gm control",
                                     0, "GM_REGS_COMPL", "m");
  EXPECT_EQ(l, "<189>1 2026-11-25T07:40:01.123Z - gm_control - GM_REGS_COMPL - m");
}

TEST(gm_log, collector_address_errors_are_clear) {
  manual_ops_clock clock(nov25());
  std::ostringstream err;
  gm_log log(clock, test_options(), err);
  EXPECT_NE(log.set_collector("127.0.0.1").find("expected A.B.C.D:port"), std::string::npos);
  EXPECT_NE(log.set_collector("host:514").find("not an IPv4 address"), std::string::npos);
  EXPECT_NE(log.set_collector("127.0.0.1:0").find("port must be 1..65535"), std::string::npos);
  EXPECT_NE(log.set_collector("127.0.0.1:70000").find("port must be"), std::string::npos);
  EXPECT_EQ(log.set_collector("127.0.0.1:514"), "");
  EXPECT_EQ(log.set_collector(""), "");
}

TEST(debug_settings, levels_are_cumulative_and_show_like_ios) {
  debug_settings d;
  EXPECT_FALSE(d.any());
  const debug_reply r = d.apply("debug crypto gdoi ks registration all-levels");
  ASSERT_TRUE(r.ok) << r.text;
  // Seed 000's reply to the same command.
  EXPECT_EQ(r.text,
            "GDOI Key Server Registration Debug level: (Packet, Detail, Event, Terse, Error)\n");
  ASSERT_TRUE(d.apply("debug crypto gdoi gm rekey event").ok);
  EXPECT_TRUE(d.wants(debug_role::gm, debug_category::rekey, debug_level::error, std::nullopt));
  EXPECT_TRUE(d.wants(debug_role::gm, debug_category::rekey, debug_level::event, std::nullopt));
  EXPECT_FALSE(d.wants(debug_role::gm, debug_category::rekey, debug_level::detail, std::nullopt));
  EXPECT_FALSE(
      d.wants(debug_role::gm, debug_category::registration, debug_level::error, std::nullopt));
  EXPECT_EQ(d.show_level(debug_role::gm, debug_category::rekey),
            "GDOI Group Member Rekey Debug level: (Event, Terse, Error)");
  ASSERT_TRUE(d.apply("no debug crypto gdoi gm rekey").ok);
  EXPECT_FALSE(d.wants(debug_role::gm, debug_category::rekey, debug_level::error, std::nullopt));
  ASSERT_TRUE(d.apply("debug crypto gdoi gm all-features terse").ok);
  EXPECT_TRUE(d.wants(debug_role::gm, debug_category::replay, debug_level::terse, std::nullopt));
  EXPECT_TRUE(d.any());
  EXPECT_EQ(d.apply("undebug all").text, "All possible debugging has been turned off");
  EXPECT_FALSE(d.any());
}

TEST(debug_settings, bad_commands_say_what_is_wrong) {
  debug_settings d;
  for (const char* bad : {"debug crypto gdoi gm", "debug crypto gdoi gm registration",
                          "debug crypto gdoi gm registration loud",
                          "debug crypto gdoi xx registration event",
                          "debug crypto gdoi gm coop event",
                          "debug crypto gdoi gm rekey event extra",
                          "debug crypto gdoi condition peer ipv4 10.1.300.2",
                          "debug crypto gdoi condition peer ipv6 ::1", "debug crypto isakmp"}) {
    const debug_reply r = d.apply(bad);
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_EQ(r.text.rfind("% ", 0), 0u) << r.text;
  }
  EXPECT_FALSE(d.any());
}

TEST(debug_settings, peer_condition_restricts_lines_to_that_peer) {
  debug_settings d;
  ASSERT_TRUE(d.apply("debug crypto gdoi gm registration all-levels").ok);
  const debug_reply r = d.apply("debug crypto gdoi condition peer add ipv4 10.1.20.2");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.text, "% GDOI Debug Condition added.");
  EXPECT_EQ(d.show_conditions(),
            "GDOI Conditional Filters:\nPeer Address 10.1.20.2\nUnmatched NOT set\n");
  const auto wants = [&](std::optional<uint32_t> peer) {
    return d.wants(debug_role::gm, debug_category::registration, debug_level::event, peer);
  };
  EXPECT_TRUE(wants(ip(10, 1, 20, 2)));
  EXPECT_FALSE(wants(ip(10, 1, 20, 3)));
  EXPECT_FALSE(wants(std::nullopt));  // names no peer: only with `unmatched`
  ASSERT_TRUE(d.apply("debug crypto gdoi condition unmatched").ok);
  EXPECT_TRUE(wants(std::nullopt));
  EXPECT_FALSE(wants(ip(10, 1, 20, 3)));
  // The brief's short form, without `add`.
  ASSERT_TRUE(d.apply("debug crypto gdoi condition peer ipv4 10.1.20.3").ok);
  EXPECT_TRUE(wants(ip(10, 1, 20, 3)));
  EXPECT_FALSE(d.apply("debug crypto gdoi condition peer ipv4 10.1.20.3").ok);  // duplicate
  ASSERT_TRUE(d.apply("debug crypto gdoi condition peer delete ipv4 10.1.20.2").ok);
  EXPECT_FALSE(wants(ip(10, 1, 20, 2)));
  ASSERT_TRUE(d.apply("no debug crypto gdoi condition all").ok);
  EXPECT_TRUE(wants(ip(10, 1, 20, 2)));  // no conditions: every peer
}

TEST(gm_log, debug_lines_obey_categories_levels_and_conditions) {
  manual_ops_clock clock(nov25());
  std::ostringstream err;
  gm_log log(clock, test_options(), err);
  std::vector<std::string> observed;
  log.set_observer([&](std::string_view l) { observed.emplace_back(l); });
  const auto reg = [&](debug_level lvl, std::optional<uint32_t> peer, const char* what) {
    log.debug(debug_role::gm, debug_category::registration, lvl, peer, "{} seq {}", what, 7);
  };
  reg(debug_level::error, ip(10, 1, 20, 2), "off");  // nothing enabled yet
  ASSERT_TRUE(log.debug_config().apply("debug crypto gdoi gm registration event").ok);
  ASSERT_TRUE(log.debug_config().apply("debug crypto gdoi condition peer ipv4 10.1.20.2").ok);
  reg(debug_level::event, ip(10, 1, 20, 2), "shown");
  reg(debug_level::event, ip(10, 1, 99, 9), "other peer");
  reg(debug_level::packet, ip(10, 1, 20, 2), "too detailed");
  reg(debug_level::error, std::nullopt, "no peer");
  log.debug(debug_role::gm, debug_category::rekey, debug_level::error, ip(10, 1, 20, 2), "rekey");
  EXPECT_EQ(err.str(),
            "*Nov 25 07:40:01.123: GDOI:GM:REG:EVENT: (peer 10.1.20.2) shown seq 7\n");
  ASSERT_EQ(observed.size(), 1u);
  EXPECT_EQ(observed[0] + "\n", err.str());
}

}  // namespace
}  // namespace gm::control
