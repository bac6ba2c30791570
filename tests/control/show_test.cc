// The show renderers against the IOS outputs in Cisco's GETVPN troubleshooting guide
// (seed 000). The seed's lines are quoted below as published; its copy lost IOS's column
// alignment, so each rendered line is compared with runs of blanks collapsed, and the
// seed's lines must appear in the rendered text in the seed's order. One exact golden
// text per command pins our alignment on top of that.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "control/show_gm.h"
#include "control/show_ks.h"
#include "tests/control/show_fixture.h"

namespace gm::control {
namespace {

std::string squeeze(const std::string& line) {
  std::string out;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Every seed line, in order, equals a later rendered line (blanks collapsed).
void expect_seed_layout(const std::string& rendered, const std::vector<std::string>& seed) {
  std::vector<std::string> lines;
  std::istringstream in(rendered);
  for (std::string l; std::getline(in, l);) lines.push_back(squeeze(l));
  std::size_t at = 0;
  for (const auto& want : seed) {
    std::size_t i = at;
    while (i < lines.size() && lines[i] != want) ++i;
    ASSERT_LT(i, lines.size()) << "seed line \"" << want << "\" missing or out of order in:\n"
                               << rendered;
    at = i + 1;
  }
}

TEST(ShowGm, GdoiFollowsSeedLayout) {
  expect_seed_layout(
      show_gdoi(test::seed_gm()),
      {"GROUP INFORMATION", "Group Name : G1", "Group Identity : 3333", "Crypto Path : ipv4",
       "Key Management Path : ipv4", "Rekeys received : 1", "IPSec SA Direction : Both",
       "Group Server list : 10.1.11.2", "10.1.12.2", "Group member : 10.1.13.2 vrf: None",
       "Version : 1.0.4", "Registration status : Registered", "Registered with : 10.1.12.2",
       "Re-registers in : 139 sec", "Succeeded registration: 1", "Attempted registration: 1",
       "Last rekey from : 10.1.11.2", "Last rekey seq num : 0", "Unicast rekey received: 1",
       "Rekey ACKs sent : 1", "Rekey Rcvd(hh:mm:ss) : 00:05:20", "allowable rekey cipher: any",
       "allowable rekey hash : any", "allowable transformtag: any ESP", "Rekeys cumulative",
       "Total received : 1", "After latest register : 1", "Rekey Acks sents : 1",
       "ACL Downloaded From KS 10.1.11.2:", "access-list deny icmp any any",
       "access-list deny eigrp any any", "access-list deny ip any 224.0.0.0 0.255.255.255",
       "access-list deny ip 224.0.0.0 0.255.255.255 any",
       "access-list deny udp any port = 848 any port = 848", "access-list permit ip any any",
       "KEK POLICY:", "Rekey Transport Type : Unicast", "Lifetime (secs) : 878",
       "Encrypt Algorithm : 3DES", "Key Size : 192", "Sig Hash Algorithm : HMAC_AUTH_SHA",
       "Sig Key Length (bits) : 1024", "TEK POLICY for the current KS-Policy ACEs Downloaded:",
       "Serial1/0:", "IPsec SA:", "spi: 0x8BF147EF(2347845615)",
       "transform: esp-3des esp-sha-hmac", "sa timing:remaining key lifetime (sec): (200)",
       "Anti-Replay(Time Based) : 4 sec interval"});
}

TEST(ShowGm, GdoiGolden) {
  const std::string out = show_gdoi(test::seed_gm());
  // Alignment: every "name : value" field of the group block has its colon in column 29.
  EXPECT_NE(out.find("    Group Name               : G1\n"), std::string::npos);
  EXPECT_NE(out.find("     Group Server list       : 10.1.11.2\n"
                     "                               10.1.12.2\n"),
            std::string::npos);
  EXPECT_NE(out.find("       Succeeded registration: 1\n"), std::string::npos);
  EXPECT_NE(out.find("    Sig Key Length (bits)    : 1024\n"), std::string::npos);
  EXPECT_NE(out.find("TEK POLICY for the current KS-Policy ACEs Downloaded:\n"
                     "  Serial1/0:\n"
                     "    IPsec SA:\n"
                     "        spi: 0x8BF147EF(2347845615)\n"
                     "        transform: esp-3des esp-sha-hmac\n"
                     "        sa timing:remaining key lifetime (sec): (200)\n"
                     "        Anti-Replay(Time Based) : 4 sec interval\n"
                     "        tag method : disabled\n"
                     "        alg key size: 24 (bytes)\n"
                     "        sig key size: 20 (bytes)\n"
                     "        encaps: ENCAPS_TUNNEL\n"),
            std::string::npos);
}

TEST(ShowGm, GdoiStatesAndAbsentParts) {
  gm_status s = test::seed_gm();
  gm_group_status& g = s.groups[0];
  g.registration = registration_state::registering;
  g.registered_with = 0;
  g.reregister_in_s.reset();
  g.last_rekey_age_s.reset();
  g.kek.reset();
  g.teks.clear();
  g.teks.push_back({0x3000, "esp-gcm 128", 3580, 0, 64, 16, 0});
  g.local_deny_acl = {"access-list deny tcp any any eq 22"};
  const std::string out = show_gdoi(s);
  EXPECT_NE(out.find("Registration status   : Registering\n"), std::string::npos);
  EXPECT_EQ(out.find("Registered with"), std::string::npos);
  EXPECT_EQ(out.find("Re-registers in"), std::string::npos);
  EXPECT_NE(out.find("Rekey Rcvd(hh:mm:ss)  : never\n"), std::string::npos);
  EXPECT_EQ(out.find("KEK POLICY"), std::string::npos);
  EXPECT_NE(out.find(" ACL Configured Locally:\n   access-list deny tcp any any eq 22\n"),
            std::string::npos);
  EXPECT_NE(out.find("Anti-Replay(Counter Based) : 64\n"), std::string::npos);
  EXPECT_EQ(out.find("Time Based"), std::string::npos);
  g.registration = registration_state::not_registered;
  EXPECT_NE(show_gdoi(s).find("Registration status   : Not registered\n"), std::string::npos);
}

TEST(ShowGm, GmRekeyFollowsSeedLayout) {
  gm_status s = test::seed_gm();
  s.groups[0].rekeys_total = s.groups[0].rekeys_after_register = 340;
  s.groups[0].rekey_acks_sent = 340;
  const std::string out = show_gdoi_gm_rekey(s);
  expect_seed_layout(out, {"Group G1 (Unicast)", "Number of Rekeys received (cumulative) : 340",
                           "Number of Rekeys received after registration : 340",
                           "Number of Rekey Acks sent : 340"});
  s.groups[0].kek->transport = rekey_transport::multicast;
  EXPECT_EQ(show_gdoi_gm_rekey(s).rfind("Group G1 (Multicast)\n", 0), 0u);
}

TEST(ShowGm, GmFollowsSeedLayout) {
  const std::string out = show_gdoi_gm(test::seed_gm());
  EXPECT_EQ(out.rfind("Group Member Information For Group G1:\n", 0), 0u);
  expect_seed_layout(out, {"Group member : 10.1.13.2 vrf: None", "Registration status : Registered",
                           "Rekey Acks sents : 1", "access-list permit ip any any"});
  EXPECT_EQ(out.find("KEK POLICY"), std::string::npos);
}

TEST(ShowGm, ReplayFollowsSeedLayout) {
  const std::string out = show_gdoi_gm_replay(test::seed_gm());
  expect_seed_layout(out, {"Anti-replay Information For Group G1:", "Timebased Replay:",
                           "Replay Value : 621388.66 secs", "Input Packets : 0 Output Packets : 0",
                           "Input Error Packets : 2 Output Error Packets : 0",
                           "Time Sync Error : 0 Max time delta : 0.00 secs",
                           "TBAR Error History (sampled at 10pak/min):",
                           "19:29:32.081 EST Wed Nov 13 2013: src=192.168.13.2; "
                           "my_pst=620051.84 secs; peer_pst=619767.09 secs; win=4"});
  EXPECT_NE(out.find("     Replay Value                     : 621388.66 secs\n"),
            std::string::npos);
}

TEST(ShowGm, ReplayValueUnits) {
  gm_status s = test::seed_gm();
  s.replay[0].replay_value_ms = 442843290;  // the seed's KS value
  s.replay[0].max_time_delta_ms = 1005;     // 1.005 s shows as IOS's two decimals, truncated
  s.replay[0].history.clear();
  const std::string out = show_gdoi_gm_replay(s);
  EXPECT_NE(out.find(": 442843.29 secs\n"), std::string::npos);
  EXPECT_NE(out.find("Max time delta        : 1.00 secs\n"), std::string::npos);
  EXPECT_EQ(out.find("TBAR Error History"), std::string::npos);
  s.replay[0].replay_value_ms = 7;
  EXPECT_NE(show_gdoi_gm_replay(s).find(": 0.00 secs\n"), std::string::npos);
  s.replay[0].replay_value_ms = 10;
  EXPECT_NE(show_gdoi_gm_replay(s).find(": 0.01 secs\n"), std::string::npos);
}

TEST(ShowGm, IsakmpAndRekeySaFollowSeedLayout) {
  const gm_status s = test::seed_gm();
  const std::string isakmp = show_isakmp_sa(s);
  expect_seed_layout(isakmp, {"IPv4 Crypto ISAKMP SA", "dst src state conn-id status",
                              "10.1.13.2 10.1.11.2 GDOI_REKEY 1075 ACTIVE",
                              "10.1.11.2 10.1.13.2 GDOI_IDLE 1074 ACTIVE", "IPv6 Crypto ISAKMP SA"});
  EXPECT_EQ(isakmp,
            "IPv4 Crypto ISAKMP SA\n"
            "dst             src             state          conn-id status\n"
            "10.1.13.2       10.1.11.2       GDOI_REKEY        1075 ACTIVE\n"
            "10.1.11.2       10.1.13.2       GDOI_IDLE         1074 ACTIVE\n"
            "\n"
            "IPv6 Crypto ISAKMP SA\n"
            "\n");
  EXPECT_EQ(show_rekey_sa(s),
            "GETVPN REKEY SA\n"
            "dst             src             conn-id status\n"
            "10.1.13.2       10.1.11.2          1114 ACTIVE\n"
            "\n");
}

TEST(ShowGm, IpsecSaFollowsSeedLayout) {
  const std::string out = show_ipsec_sa(test::seed_gm());
  const std::vector<std::string> sa = {
      "spi: 0x8BF147EF(2347845615)", "transform: esp-3des esp-sha-hmac ,",
      "in use settings ={Tunnel, }", "sa timing: remaining key lifetime (sec): (192)",
      "Kilobyte Volume Rekey has been disabled", "IV size: 8 bytes",
      "replay detection support: Y replay window size: 4", "Status: ACTIVE(ACTIVE)"};
  std::vector<std::string> seed = {
      "interface: Serial1/0", "Crypto map tag: gmlmap, local addr 10.1.13.2",
      "protected vrf: (none)", "current_peer 0.0.0.0 port 848", "PERMIT, flags={}",
      "#pkts encaps: 100, #pkts encrypt: 100, #pkts digest: 100",
      "#pkts decaps: 100, #pkts decrypt: 100, #pkts verify: 100",
      "#pkts compressed: 0, #pkts decompressed: 0",
      "#pkts not compressed: 0, #pkts compr. failed: 0",
      "#pkts not decompressed: 0, #pkts decompress failed: 0", "#send errors 0, #recv errors 0",
      "local crypto endpt.: 10.1.13.2, remote crypto endpt.: 0.0.0.0",
      "path mtu 1500, ip mtu 1500, ip mtu idb Serial1/0",
      "current outbound spi: 0x8BF147EF(2347845615)", "PFS (Y/N): N, DH group: none",
      "inbound esp sas:"};
  seed.insert(seed.end(), sa.begin(), sa.end());
  seed.insert(seed.end(), {"inbound ah sas:", "outbound esp sas:"});
  seed.insert(seed.end(), sa.begin(), sa.end());
  seed.insert(seed.end(), {"outbound ah sas:", "outbound pcp sas:"});
  expect_seed_layout(out, seed);
  // The seed's `show crypto ipsec sa | in encrypt|decrypt`, through our filter.
  output_filter f{filter_kind::include, "encrypt|decrypt"};
  EXPECT_EQ(apply_filter(f, out),
            "    #pkts encaps: 100, #pkts encrypt: 100, #pkts digest: 100\n"
            "    #pkts decaps: 100, #pkts decrypt: 100, #pkts verify: 100\n");
}

TEST(ShowGm, IpsecSaWithoutReplayOrOutbound) {
  gm_status s = test::seed_gm();
  s.ipsec[0].current_outbound_spi = 0;
  s.ipsec[0].outbound.clear();
  s.ipsec[0].inbound[0].replay_window = 0;
  s.ipsec[0].inbound[0].status = sa_status::standby;
  const std::string out = show_ipsec_sa(s);
  EXPECT_NE(out.find("current outbound spi: 0x0(0)\n"), std::string::npos);  // as IOS
  EXPECT_NE(out.find("replay detection support: N\n"), std::string::npos);
  EXPECT_NE(out.find("Status: STANDBY(STANDBY)\n"), std::string::npos);
  EXPECT_NE(out.find("     outbound esp sas:\n\n     outbound ah sas:\n"), std::string::npos);
}

TEST(ShowGm, EventTraceFollowsSeedLayout) {
  const gm_status s = test::seed_gm();
  // Both stamp forms (with and without event_trace.h's trailing colon) print alike.
  EXPECT_EQ(show_event_trace(s.trace, trace_kind::rekey),
            "*Nov 6 15:55:16.117: GDOI_REKEY_EVENT: ACK_SENT: From 10.1.12.2 to 10.1.13.2 with "
            "seq no 1 for the group G1\n"
            "*Nov 6 15:55:16.117: GDOI_REKEY_EVENT: REKEY_RCVD: From 10.1.12.2 to 10.1.13.2 with "
            "seq no 1 for the group G1\n");
  EXPECT_EQ(show_event_trace(s.trace, trace_kind::exit),
            "*Nov 6 15:15:25.611: NULL_VALUE_FOUND:Invalid GROUP Name\n");
  const std::string all = show_event_trace(s.trace, trace_kind::all);
  EXPECT_NE(all.find("GDOI_REGISTRATION_EVENT"), std::string::npos);
  EXPECT_NE(all.find("NULL_VALUE_FOUND"), std::string::npos);
  EXPECT_NE(all.find("REKEY_RCVD"), std::string::npos);
}

TEST(ShowGm, RenderDispatch) {
  const gm_status s = test::seed_gm();
  command c;
  c.kind = command_kind::show_isakmp_sa;
  EXPECT_EQ(render_gm(c, s, false), show_isakmp_sa(s));
  EXPECT_EQ(render_gm(c, s, true), show_isakmp_sa_json(s));
  c.kind = command_kind::show_gdoi_ks_members;
  EXPECT_EQ(render_gm(c, s, false), "% Not supported on a group member.\n");
}

TEST(ShowKs, MembersFollowSeedLayout) {
  ks_status s = test::seed_ks();
  s.groups[0].rekey.rekeys_sent = 346;
  const std::vector<std::string> per_member = {"Rekeys retries : 0", "Rekey Acks missed : 0",
                                               "Sent seq num : 2 1 2 1", "Rcvd seq num : 2 1 2 1"};
  std::vector<std::string> seed = {"Group Member Information :",
                                   "Number of rekeys sent for group G1 : 346",
                                   "Group Member ID : 10.1.14.2 GM Version: 1.0.4",
                                   "Group ID : 3333", "Group Name : G1",
                                   "Key Server ID : 10.1.11.2", "Rekeys sent : 346"};
  seed.insert(seed.end(), {"Rekeys retries : 0", "Rekey Acks Rcvd : 346", "Rekey Acks missed : 0",
                           "Sent seq num : 2 1 2 1", "Rcvd seq num : 2 1 2 1",
                           "Group Member ID : 10.1.13.2 GM Version: 1.0.4", "Group ID : 3333",
                           "Group Name : G1", "Key Server ID : 10.1.12.2", "Rekeys sent : 340",
                           "Rekeys retries : 0", "Rekey Acks Rcvd : 340", "Rekey Acks missed : 0",
                           "Sent seq num : 2 1 2 1", "Rcvd seq num : 2 1 2 1"});
  const std::string out = show_ks_members(s);
  expect_seed_layout(out, seed);
  EXPECT_NE(out.find(" Status            : Registered\n"), std::string::npos);
  s.groups[0].members[0].status = member_state::rekey_pending;
  EXPECT_NE(show_ks_members(s).find(" Status            : Rekey ACK pending\n"), std::string::npos);
}

TEST(ShowKs, RekeyFollowsSeedLayout) {
  expect_seed_layout(show_ks_rekey(test::seed_ks()),
                     {"Group G1 (Unicast)", "Number of Rekeys sent : 341",
                      "Number of Rekeys retransmitted : 0", "KEK rekey lifetime (sec) : 1200",
                      "Remaining lifetime (sec) : 894", "Retransmit period : 10",
                      "Number of retransmissions : 5", "IPSec SA 1 lifetime (sec) : 900",
                      "Remaining lifetime (sec) : 405"});
}

TEST(ShowKs, CoopShowsRoleAndPeer) {
  ks_status s = test::seed_ks();
  EXPECT_NE(show_ks_coop(s).find("% Key sharing is not configured for group G1"),
            std::string::npos);
  ks_coop_status& c = s.groups[0].coop;
  c.enabled = true;
  c.primary = false;
  c.state_file = "/run/gm/ks-state";
  c.takeover_after_s = 3;
  c.version = 42;
  c.peer_addr = 0x0a630001;
  c.peer_heartbeat_age_ms = 350;
  std::string t = show_ks_coop(s);
  EXPECT_NE(t.find("Crypto Gdoi Group Name :G1"), std::string::npos) << t;
  EXPECT_NE(t.find("Local KS Role: Secondary , Local KS Status: Alive"), std::string::npos) << t;
  EXPECT_NE(t.find("Key state version: 42"), std::string::npos) << t;
  EXPECT_NE(t.find("Peer Address: 10.99.0.1"), std::string::npos) << t;
  EXPECT_NE(t.find("Peer KS Role: Primary , Peer KS Status: Alive"), std::string::npos) << t;
  c.peer_heartbeat_age_ms = 5000;  // older than takeover_after
  EXPECT_NE(show_ks_coop(s).find("Peer KS Status: Dead"), std::string::npos);
  c.primary = true;  // took over from it
  EXPECT_NE(show_ks_coop(s).find("Peer KS Role: Former primary , Peer KS Status: Dead"),
            std::string::npos);
  c.primary = true;
  c.peer_addr = 0;
  t = show_ks_coop(s);
  EXPECT_NE(t.find("Local KS Role: Primary"), std::string::npos) << t;
  EXPECT_NE(t.find("none followed"), std::string::npos) << t;
  const command cmd = std::get<command>(parse_command("sh cry gd ks coop"));
  EXPECT_EQ(cmd.kind, command_kind::show_gdoi_ks_coop);
  EXPECT_EQ(render_ks(cmd, s, false), t);
}

TEST(ShowKs, PolicyFollowsSeedLayout) {
  // The seed's "For group G1 (handle: 2147483650) ..." lines name IOS-internal handles we
  // do not have; everything after them is compared.
  expect_seed_layout(show_ks_policy(test::seed_ks()),
                     {"Key Server Policy:", "# of teks : 1 Seq num : 10",
                      "KEK POLICY (transport type : Unicast)",
                      "spi : 0x18864836BA888BCD1126671EEAFEB4C7",
                      "management alg : disabled encrypt alg : 3DES",
                      "crypto iv length : 8 key size : 24",
                      "orig life(sec): 1200 remaining life(sec): 528",
                      "sig hash algorithm : enabled sig key length : 162", "sig size : 128",
                      "sig key name : key1", "TEK POLICY (encaps : ENCAPS_TUNNEL)",
                      "spi : 0x91E3985A", "access-list : ENCPOL",
                      "transform : esp-null esp-sha-hmac", "alg key size : 0 sig key size : 20",
                      "orig life(sec) : 900 remaining life(sec) : 796",
                      "tek life(sec) : 2203 elapsed time(sec) : 1407",
                      "override life (sec): 0 antireplay window size: 4",
                      "Replay Value 442843.29 secs"});
}

TEST(ShowKs, RenderDispatch) {
  const ks_status s = test::seed_ks();
  command c;
  c.kind = command_kind::show_gdoi_ks_policy;
  EXPECT_EQ(render_ks(c, s, false), show_ks_policy(s));
  EXPECT_EQ(render_ks(c, s, true), show_ks_policy_json(s));
  c.kind = command_kind::show_ipsec_sa;
  EXPECT_EQ(render_ks(c, s, false), "% Not supported on a key server.\n");
}

TEST(ShowKs, RekeyReply) {
  EXPECT_EQ(ks_rekey_reply(cmd_rekey_kind::tek, true, 2, false), "TEK rekey sent: 2 datagrams\n");
  EXPECT_EQ(ks_rekey_reply(cmd_rekey_kind::kek, true, 1, false), "KEK rekey sent: 1 datagram\n");
  EXPECT_EQ(ks_rekey_reply(cmd_rekey_kind::tek, true, 0, false), "TEK rekey sent: 0 datagrams\n");
  // Not built: a "% " line, which gmctl turns into exit status 3.
  EXPECT_TRUE(ks_rekey_reply(cmd_rekey_kind::kek, false, 0, false).starts_with("% KEK rekey"));
  EXPECT_EQ(ks_rekey_reply(cmd_rekey_kind::kek, true, 3, true),
            "{\"rekey\":\"KEK\",\"built\":true,\"datagrams\":3}\n");
}

}  // namespace
}  // namespace gm::control
