// JSON forms of the KS show commands; field names as in ks_status.h.
#include <cstdio>

#include "control/json_out.h"
#include "control/show_format.h"
#include "control/show_ks.h"

namespace gm::control {

namespace {

void numbers(json_out& j, std::string_view k, const std::vector<uint32_t>& v) {
  j.key(k).begin_array();
  for (uint32_t n : v) j.value(n);
  j.end_array();
}

template <typename F>
std::string per_group(const ks_status& s, F&& body) {
  json_out j;
  j.begin_object().key("groups").begin_array();
  for (const auto& g : s.groups) {
    j.begin_object().field("name", g.name).field("identity", g.identity);
    body(j, g);
    j.end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

}  // namespace

std::string show_ks_members_json(const ks_status& s) {
  return per_group(s, [](json_out& j, const ks_group_status& g) {
    j.field("rekeys_sent", g.rekey.rekeys_sent).key("members").begin_array();
    for (const auto& m : g.members) {
      j.begin_object()
          .field("addr", fmt::ipv4(m.addr))
          .field("version", m.version)
          .field("group_id", m.group_id)
          .field("group_name", m.group_name)
          .field("ks_addr", fmt::ipv4(m.ks_addr))
          .field("registered_at", m.registered_at)
          .field("rekeys_sent", m.rekeys_sent)
          .field("rekey_retries", m.rekey_retries)
          .field("acks_received", m.acks_received)
          .field("acks_missed", m.acks_missed);
      numbers(j, "sent_seqs", m.sent_seqs);
      numbers(j, "acked_seqs", m.acked_seqs);
      j.field("status", fmt::member_id(m.status)).end_object();
    }
    j.end_array();
  });
}

std::string show_ks_rekey_json(const ks_status& s) {
  return per_group(s, [](json_out& j, const ks_group_status& g) {
    const ks_rekey_status& r = g.rekey;
    j.field("transport", fmt::transport_id(r.transport))
        .field("seq", r.seq)
        .field("rekeys_sent", r.rekeys_sent)
        .field("rekeys_retransmitted", r.rekeys_retransmitted)
        .field("kek_lifetime_s", r.kek_lifetime_s)
        .field("kek_remaining_s", r.kek_remaining_s)
        .field("retransmit_period_s", r.retransmit_period_s)
        .field("retransmit_count", r.retransmit_count)
        .field("last_rekey_time", r.last_rekey_time);
    j.key("teks").begin_array();
    for (const auto& t : r.teks) {
      j.begin_object()
          .field("lifetime_s", t.lifetime_s)
          .field("remaining_s", t.remaining_s)
          .end_object();
    }
    j.end_array();
  });
}

std::string show_ks_coop_json(const ks_status& s) {
  return per_group(s, [](json_out& j, const ks_group_status& g) {
    const ks_coop_status& c = g.coop;
    j.field("server", fmt::ipv4(g.server))
        .field("enabled", c.enabled)
        .field("role", c.primary ? "primary" : "secondary")
        .field("state_file", c.state_file)
        .field("takeover_after_s", c.takeover_after_s)
        .field("version", c.version)
        .field("adoptions", c.adoptions)
        .field("takeovers", c.takeovers)
        .field("primary_since", c.primary_since)
        .field("peer", c.peer_addr == 0 ? std::string() : fmt::ipv4(c.peer_addr))
        .field("peer_heartbeat_age_ms", c.peer_heartbeat_age_ms);
  });
}

std::string show_ks_policy_json(const ks_status& s) {
  return per_group(s, [](json_out& j, const ks_group_status& g) {
    j.field("server", fmt::ipv4(g.server)).field("seq", g.rekey.seq);
    j.key("acl").begin_array();
    for (const auto& a : g.acl) j.value(a);
    j.end_array();
    j.key("kek");
    if (g.kek) {
      const ks_kek_policy& k = *g.kek;
      std::string spi;
      char buf[3];
      for (uint8_t b : k.spi) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        spi += buf;
      }
      j.begin_object()
          .field("transport", fmt::transport_id(k.transport))
          .field("spi", spi)
          .field("encrypt_alg", k.encrypt_alg)
          .field("iv_length", k.iv_length)
          .field("key_size_bytes", k.key_size_bytes)
          .field("orig_life_s", k.orig_life_s)
          .field("remaining_life_s", k.remaining_life_s)
          .field("sig_hash_enabled", k.sig_hash_enabled)
          .field("sig_key_length", k.sig_key_length)
          .field("sig_size", k.sig_size)
          .field("sig_key_name", k.sig_key_name)
          .end_object();
    } else {
      j.null();
    }
    j.key("teks").begin_array();
    for (const auto& t : g.teks) {
      j.begin_object()
          .field("spi", t.spi)
          .field("spi_hex", fmt::spi_hex(t.spi))
          .field("access_list", t.access_list)
          .field("transform", t.transform)
          .field("alg_key_size_bytes", t.alg_key_size_bytes)
          .field("sig_key_size_bytes", t.sig_key_size_bytes)
          .field("orig_life_s", t.orig_life_s)
          .field("remaining_life_s", t.remaining_life_s)
          .field("tek_life_s", t.tek_life_s)
          .field("elapsed_s", t.elapsed_s)
          .field("override_life_s", t.override_life_s)
          .field("antireplay_window", t.antireplay_window)
          .field("replay_value_ms", t.replay_value_ms)
          .end_object();
    }
    j.end_array();
  });
}

}  // namespace gm::control
