// Filled status structs with the values of the seed-000 IOS examples.
#pragma once
#include "control/gm_status.h"
#include "control/ks_status.h"

namespace gm::control::test {

inline uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}

inline gm_status seed_gm() {
  gm_status s;
  gm_group_status g;
  g.name = "G1";
  g.identity = 3333;
  g.servers = {ip(10, 1, 11, 2), ip(10, 1, 12, 2)};
  g.member_addr = ip(10, 1, 13, 2);
  g.registration = registration_state::registered;
  g.registered_with = ip(10, 1, 12, 2);
  g.reregister_in_s = 139;
  g.succeeded_registrations = 1;
  g.attempted_registrations = 1;
  g.last_rekey_from = ip(10, 1, 11, 2);
  g.last_rekey_seq = 0;
  g.last_rekey_age_s = 5 * 60 + 20;
  g.unicast_rekeys_received = 1;
  g.rekeys_total = 1;
  g.rekeys_after_register = 1;
  g.rekey_acks_sent = 1;
  g.acl_from = ip(10, 1, 11, 2);
  g.ks_acl = {"access-list deny icmp any any", "access-list deny eigrp any any",
              "access-list deny ip any 224.0.0.0 0.255.255.255",
              "access-list deny ip 224.0.0.0 0.255.255.255 any",
              "access-list deny udp any port = 848 any port = 848",
              "access-list permit ip any any"};
  g.kek = kek_policy_status{rekey_transport::unicast, 878, "3DES", 192, "HMAC_AUTH_SHA", 1024};
  g.tek_interface = "Serial1/0";
  tek_policy_status t;
  t.spi = 0x8BF147EF;
  t.transform = "esp-3des esp-sha-hmac";
  t.remaining_lifetime_s = 200;
  t.tbar_window_s = 4;
  t.alg_key_size_bytes = 24;
  t.sig_key_size_bytes = 20;
  g.teks.push_back(t);
  s.groups.push_back(g);

  replay_status r;
  r.group = "G1";
  r.replay_value_ms = 621388660;
  r.input_error_packets = 2;
  r.history.push_back({"19:29:32.081 EST Wed Nov 13 2013", ip(192, 168, 13, 2), 620051840,
                       619767090, 4});
  s.replay.push_back(r);

  s.isakmp_sas = {{ip(10, 1, 13, 2), ip(10, 1, 11, 2), isakmp_sa_state::gdoi_rekey, 1075,
                   sa_status::active},
                  {ip(10, 1, 11, 2), ip(10, 1, 13, 2), isakmp_sa_state::gdoi_idle, 1074,
                   sa_status::active}};
  s.rekey_sas = {{ip(10, 1, 13, 2), ip(10, 1, 11, 2), 1114, sa_status::active}};

  ipsec_interface_status i;
  i.interface = "Serial1/0";
  i.crypto_map = "gmlmap";
  i.local_addr = ip(10, 1, 13, 2);
  i.counters = {100, 100, 100, 100, 100, 100, 0, 0};
  i.current_outbound_spi = 0x8BF147EF;
  esp_sa_status sa;
  sa.spi = 0x8BF147EF;
  sa.transform = "esp-3des esp-sha-hmac";
  sa.conn_id = 1;
  sa.remaining_lifetime_s = 192;
  sa.iv_size = 8;
  sa.replay_window = 4;
  i.inbound.push_back(sa);
  sa.conn_id = 2;
  i.outbound.push_back(sa);
  s.ipsec.push_back(i);

  s.trace.rekey = {
      {"*Nov 6 15:55:16.117",
       "GDOI_REKEY_EVENT: ACK_SENT: From 10.1.12.2 to 10.1.13.2 with seq no 1 for the group G1"},
      {"*Nov 6 15:55:16.117:",
       "GDOI_REKEY_EVENT: REKEY_RCVD: From 10.1.12.2 to 10.1.13.2 with seq no 1 for the group G1"}};
  s.trace.exit = {{"*Nov 6 15:15:25.611", "NULL_VALUE_FOUND:Invalid GROUP Name"}};
  s.trace.registration = {{"*Nov 6 15:10:01.000", "GDOI_REGISTRATION_EVENT: \"quoted\" \\ tab\t"}};
  return s;
}

inline ks_status seed_ks() {
  ks_status s;
  ks_group_status g;
  g.name = "G1";
  g.identity = 3333;
  g.server = ip(10, 1, 11, 2);
  g.acl = {"access-list ENCPOL permit ip any any"};
  ks_kek_policy k;
  k.spi = {0x18, 0x86, 0x48, 0x36, 0xBA, 0x88, 0x8B, 0xCD,
           0x11, 0x26, 0x67, 0x1E, 0xEA, 0xFE, 0xB4, 0xC7};
  k.encrypt_alg = "3DES";
  k.iv_length = 8;
  k.key_size_bytes = 24;
  k.orig_life_s = 1200;
  k.remaining_life_s = 528;
  k.sig_key_length = 162;
  k.sig_size = 128;
  k.sig_key_name = "key1";
  g.kek = k;
  ks_tek_policy t;
  t.spi = 0x91E3985A;
  t.access_list = "ENCPOL";
  t.transform = "esp-null esp-sha-hmac";
  t.alg_key_size_bytes = 0;
  t.sig_key_size_bytes = 20;
  t.orig_life_s = 900;
  t.remaining_life_s = 796;
  t.tek_life_s = 2203;
  t.elapsed_s = 1407;
  t.antireplay_window = 4;
  t.replay_value_ms = 442843290;
  g.teks.push_back(t);
  g.rekey.seq = 10;
  g.rekey.rekeys_sent = 341;
  g.rekey.kek_lifetime_s = 1200;
  g.rekey.kek_remaining_s = 894;
  g.rekey.retransmit_period_s = 10;
  g.rekey.retransmit_count = 5;
  g.rekey.last_rekey_time = "*Nov 6 16:11:01.125";
  g.rekey.teks = {{900, 405}};
  ks_member_status m;
  m.addr = ip(10, 1, 14, 2);
  m.group_id = 3333;
  m.group_name = "G1";
  m.ks_addr = ip(10, 1, 11, 2);
  m.registered_at = "*Nov 6 15:10:01.000";
  m.rekeys_sent = 346;
  m.acks_received = 346;
  m.sent_seqs = {2, 1, 2, 1};
  m.acked_seqs = {2, 1, 2, 1};
  g.members.push_back(m);
  m.addr = ip(10, 1, 13, 2);
  m.ks_addr = ip(10, 1, 12, 2);
  m.rekeys_sent = 340;
  m.acks_received = 340;
  g.members.push_back(m);
  s.groups.push_back(g);
  return s;
}

}  // namespace gm::control::test
