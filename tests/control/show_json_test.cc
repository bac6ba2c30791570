// Every --json form parses back (yaml-cpp reads JSON) to the values in the status structs.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "control/json_out.h"
#include "control/show_gm.h"
#include "control/show_ks.h"
#include "tests/control/show_fixture.h"

namespace gm::control {
namespace {

YAML::Node parse(const std::string& json) {
  EXPECT_FALSE(json.empty());
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(json.find('\n'), json.size() - 1) << "one document on one line";
  return YAML::Load(json);
}

TEST(JsonOut, EscapesPerRfc8259) {
  EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_quote(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(json_quote(std::string("\0", 1)), "\"\\u0000\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // UTF-8 passes through
  // Round trip of every byte value below 0x80 through a parser.
  std::string all;
  for (int c = 1; c < 0x80; ++c) all += static_cast<char>(c);
  json_out j;
  j.begin_object().field("s", all).end_object();
  EXPECT_EQ(YAML::Load(j.str())["s"].as<std::string>(), all);
}

TEST(JsonOut, SeparatorsAndNesting) {
  json_out j;
  j.begin_object()
      .field("a", 1)
      .key("b")
      .begin_array()
      .value(uint64_t{18446744073709551615ULL})
      .value(true)
      .null()
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .end_array()
      .field("c", int64_t{-5})
      .end_object();
  EXPECT_EQ(j.str(), "{\"a\":1,\"b\":[18446744073709551615,true,null,{},[]],\"c\":-5}");
}

TEST(ShowJson, Gdoi) {
  const gm_status s = test::seed_gm();
  const YAML::Node g = parse(show_gdoi_json(s))["groups"][0];
  EXPECT_EQ(g["name"].as<std::string>(), "G1");
  EXPECT_EQ(g["identity"].as<uint32_t>(), 3333u);
  EXPECT_EQ(g["servers"][1].as<std::string>(), "10.1.12.2");
  EXPECT_EQ(g["member_addr"].as<std::string>(), "10.1.13.2");
  EXPECT_EQ(g["registration"].as<std::string>(), "registered");
  EXPECT_EQ(g["registered_with"].as<std::string>(), "10.1.12.2");
  EXPECT_EQ(g["reregister_in_s"].as<uint32_t>(), 139u);
  EXPECT_EQ(g["last_rekey_age_s"].as<uint32_t>(), 320u);
  EXPECT_EQ(g["rekeys_total"].as<uint64_t>(), 1u);
  EXPECT_EQ(g["rekey_acks_sent"].as<uint64_t>(), 1u);
  EXPECT_EQ(g["ks_acl"].size(), 6u);
  EXPECT_EQ(g["ks_acl"][4].as<std::string>(), "access-list deny udp any port = 848 any port = 848");
  EXPECT_EQ(g["kek"]["encrypt_alg"].as<std::string>(), "3DES");
  EXPECT_EQ(g["kek"]["key_size_bits"].as<uint32_t>(), 192u);
  EXPECT_EQ(g["kek"]["transport"].as<std::string>(), "unicast");
  EXPECT_EQ(g["teks"][0]["spi"].as<uint32_t>(), 0x8BF147EFu);
  EXPECT_EQ(g["teks"][0]["spi_hex"].as<std::string>(), "0x8BF147EF");
  EXPECT_EQ(g["teks"][0]["tbar_window_s"].as<uint32_t>(), 4u);

  gm_status n = s;
  n.groups[0].kek.reset();
  n.groups[0].reregister_in_s.reset();
  const YAML::Node h = parse(show_gdoi_json(n))["groups"][0];
  EXPECT_TRUE(h["kek"].IsNull());
  EXPECT_TRUE(h["reregister_in_s"].IsNull());
  EXPECT_FALSE(parse(show_gdoi_gm_json(s))["groups"][0]["teks"]);  // policy only in `gdoi`
}

TEST(ShowJson, GmRekeyAndReplay) {
  gm_status s = test::seed_gm();
  s.groups[0].rekeys_total = 340;
  const YAML::Node r = parse(show_gdoi_gm_rekey_json(s))["groups"][0];
  EXPECT_EQ(r["rekeys_total"].as<uint64_t>(), 340u);
  EXPECT_EQ(r["transport"].as<std::string>(), "unicast");
  const YAML::Node p = parse(show_gdoi_gm_replay_json(s))["groups"][0];
  EXPECT_EQ(p["replay_value_ms"].as<uint64_t>(), 621388660u);
  EXPECT_EQ(p["input_error_packets"].as<uint64_t>(), 2u);
  EXPECT_EQ(p["history"][0]["src"].as<std::string>(), "192.168.13.2");
  EXPECT_EQ(p["history"][0]["peer_pst_ms"].as<uint64_t>(), 619767090u);
  EXPECT_EQ(p["history"][0]["window_s"].as<uint32_t>(), 4u);
}

TEST(ShowJson, SaTables) {
  const gm_status s = test::seed_gm();
  const YAML::Node i = parse(show_isakmp_sa_json(s))["isakmp_sas"];
  ASSERT_EQ(i.size(), 2u);
  EXPECT_EQ(i[0]["state"].as<std::string>(), "gdoi_rekey");
  EXPECT_EQ(i[1]["conn_id"].as<uint32_t>(), 1074u);
  const YAML::Node k = parse(show_rekey_sa_json(s))["rekey_sas"][0];
  EXPECT_EQ(k["dst"].as<std::string>(), "10.1.13.2");
  EXPECT_EQ(k["status"].as<std::string>(), "active");
  const YAML::Node p = parse(show_ipsec_sa_json(s))["interfaces"][0];
  EXPECT_EQ(p["interface"].as<std::string>(), "Serial1/0");
  EXPECT_EQ(p["pkts_encrypt"].as<uint64_t>(), 100u);
  EXPECT_EQ(p["inbound"][0]["spi"].as<uint32_t>(), 0x8BF147EFu);
  EXPECT_EQ(p["outbound"][0]["conn_id"].as<uint32_t>(), 2u);
  EXPECT_TRUE(p["outbound"][0]["time_based"].as<bool>());
}

TEST(ShowJson, EventTraceEscapes) {
  const gm_status s = test::seed_gm();
  const YAML::Node t = parse(show_event_trace_json(s.trace, trace_kind::all));
  EXPECT_EQ(t["registration"][0]["text"].as<std::string>(), s.trace.registration[0].text);
  EXPECT_EQ(t["rekey"].size(), 2u);
  EXPECT_EQ(t["exit"][0]["timestamp"].as<std::string>(), "*Nov 6 15:15:25.611");
  const YAML::Node only = parse(show_event_trace_json(s.trace, trace_kind::rekey));
  EXPECT_FALSE(only["exit"]);
  EXPECT_EQ(only["rekey"].size(), 2u);
}

TEST(ShowJson, Ks) {
  const ks_status s = test::seed_ks();
  const YAML::Node m = parse(show_ks_members_json(s))["groups"][0];
  EXPECT_EQ(m["members"].size(), 2u);
  EXPECT_EQ(m["members"][1]["addr"].as<std::string>(), "10.1.13.2");
  EXPECT_EQ(m["members"][1]["acks_received"].as<uint64_t>(), 340u);
  EXPECT_EQ(m["members"][0]["acked_seqs"][0].as<uint32_t>(), 2u);
  EXPECT_EQ(m["members"][0]["status"].as<std::string>(), "registered");
  const YAML::Node r = parse(show_ks_rekey_json(s))["groups"][0];
  EXPECT_EQ(r["rekeys_sent"].as<uint64_t>(), 341u);
  EXPECT_EQ(r["retransmit_count"].as<uint32_t>(), 5u);
  EXPECT_EQ(r["teks"][0]["remaining_s"].as<uint32_t>(), 405u);
  const YAML::Node p = parse(show_ks_policy_json(s))["groups"][0];
  EXPECT_EQ(p["kek"]["spi"].as<std::string>(), "18864836ba888bcd1126671eeafeb4c7");
  ks_status cs = s;
  cs.groups[0].coop.enabled = true;
  cs.groups[0].coop.primary = false;
  cs.groups[0].coop.peer_addr = 0x0a630001;
  cs.groups[0].coop.peer_heartbeat_age_ms = 350;
  const YAML::Node c = parse(show_ks_coop_json(cs))["groups"][0];
  EXPECT_EQ(c["role"].as<std::string>(), "secondary");
  EXPECT_EQ(c["peer"].as<std::string>(), "10.99.0.1");
  EXPECT_EQ(c["peer_heartbeat_age_ms"].as<int64_t>(), 350);
  EXPECT_EQ(p["kek"]["sig_key_name"].as<std::string>(), "key1");
  EXPECT_EQ(p["teks"][0]["access_list"].as<std::string>(), "ENCPOL");
  EXPECT_EQ(p["teks"][0]["replay_value_ms"].as<uint64_t>(), 442843290u);
  EXPECT_EQ(p["acl"][0].as<std::string>(), "access-list ENCPOL permit ip any any");
}

}  // namespace
}  // namespace gm::control
