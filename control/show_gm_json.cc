// JSON forms of the GM show commands: the same data as the text, field names as in
// gm_status.h, addresses as dotted strings, SPIs as numbers plus a hex string.
#include "control/json_out.h"
#include "control/show_format.h"
#include "control/show_gm.h"

namespace gm::control {

namespace {

void strings(json_out& j, std::string_view k, const std::vector<std::string>& v) {
  j.key(k).begin_array();
  for (const auto& s : v) j.value(s);
  j.end_array();
}

void member_fields(json_out& j, const gm_group_status& g) {
  j.field("name", g.name).field("identity", g.identity);
  j.key("servers").begin_array();
  for (uint32_t a : g.servers) j.value(fmt::ipv4(a));
  j.end_array();
  j.field("member_addr", fmt::ipv4(g.member_addr))
      .field("version", g.version)
      .field("registration", fmt::registration_id(g.registration))
      .field("registered_with", g.registered_with ? fmt::ipv4(g.registered_with) : "");
  j.key("reregister_in_s");
  g.reregister_in_s ? j.value(*g.reregister_in_s) : j.null();
  j.field("succeeded_registrations", g.succeeded_registrations)
      .field("attempted_registrations", g.attempted_registrations)
      .field("last_rekey_from", fmt::ipv4(g.last_rekey_from))
      .field("last_rekey_seq", g.last_rekey_seq);
  j.key("last_rekey_age_s");
  g.last_rekey_age_s ? j.value(*g.last_rekey_age_s) : j.null();
  j.field("unicast_rekeys_received", g.unicast_rekeys_received)
      .field("multicast_rekeys_received", g.multicast_rekeys_received)
      .field("rekeys_total", g.rekeys_total)
      .field("rekeys_after_register", g.rekeys_after_register)
      .field("rekey_acks_sent", g.rekey_acks_sent)
      .field("acl_from", fmt::ipv4(g.acl_from));
  strings(j, "ks_acl", g.ks_acl);
  strings(j, "local_deny_acl", g.local_deny_acl);
}

void policy_fields(json_out& j, const gm_group_status& g) {
  j.key("kek");
  if (g.kek) {
    const kek_policy_status& k = *g.kek;
    j.begin_object()
        .field("transport", fmt::transport_id(k.transport))
        .field("lifetime_remaining_s", k.lifetime_remaining_s)
        .field("encrypt_alg", k.encrypt_alg)
        .field("key_size_bits", k.key_size_bits)
        .field("sig_hash_alg", k.sig_hash_alg)
        .field("sig_key_length_bits", k.sig_key_length_bits)
        .end_object();
  } else {
    j.null();
  }
  j.field("tek_interface", g.tek_interface);
  j.key("teks").begin_array();
  for (const auto& t : g.teks) {
    j.begin_object()
        .field("spi", t.spi)
        .field("spi_hex", fmt::spi_hex(t.spi))
        .field("transform", t.transform)
        .field("remaining_lifetime_s", t.remaining_lifetime_s)
        .field("tbar_window_s", t.tbar_window_s)
        .field("counter_window", t.counter_window)
        .field("alg_key_size_bytes", t.alg_key_size_bytes)
        .field("sig_key_size_bytes", t.sig_key_size_bytes)
        .end_object();
  }
  j.end_array();
}

std::string groups(const gm_status& s, bool policy) {
  json_out j;
  j.begin_object().key("groups").begin_array();
  for (const auto& g : s.groups) {
    j.begin_object();
    member_fields(j, g);
    if (policy) policy_fields(j, g);
    j.end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

void esp_sas(json_out& j, std::string_view k, const std::vector<esp_sa_status>& v) {
  j.key(k).begin_array();
  for (const auto& sa : v) {
    j.begin_object()
        .field("spi", sa.spi)
        .field("spi_hex", fmt::spi_hex(sa.spi))
        .field("transform", sa.transform)
        .field("conn_id", sa.conn_id)
        .field("remaining_lifetime_s", sa.remaining_lifetime_s)
        .field("iv_size", sa.iv_size)
        .field("replay_window", sa.replay_window)
        .field("time_based", sa.time_based)
        .field("status", fmt::status_id(sa.status))
        .end_object();
  }
  j.end_array();
}

void trace_ring(json_out& j, std::string_view k, const std::vector<trace_row>& v) {
  j.key(k).begin_array();
  for (const auto& e : v) {
    j.begin_object().field("timestamp", e.timestamp).field("text", e.text).end_object();
  }
  j.end_array();
}

}  // namespace

std::string show_gdoi_json(const gm_status& s) { return groups(s, true); }

std::string show_gdoi_gm_json(const gm_status& s) { return groups(s, false); }

std::string show_gdoi_gm_rekey_json(const gm_status& s) {
  json_out j;
  j.begin_object().key("groups").begin_array();
  for (const auto& g : s.groups) {
    j.begin_object()
        .field("name", g.name)
        .field("transport",
               fmt::transport_id(g.kek ? g.kek->transport : rekey_transport::unicast))
        .field("rekeys_total", g.rekeys_total)
        .field("rekeys_after_register", g.rekeys_after_register)
        .field("rekey_acks_sent", g.rekey_acks_sent)
        .end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

std::string show_gdoi_gm_replay_json(const gm_status& s) {
  json_out j;
  j.begin_object().key("groups").begin_array();
  for (const auto& r : s.replay) {
    j.begin_object()
        .field("group", r.group)
        .field("time_based", r.time_based)
        .field("replay_value_ms", r.replay_value_ms)
        .field("input_packets", r.input_packets)
        .field("output_packets", r.output_packets)
        .field("input_error_packets", r.input_error_packets)
        .field("output_error_packets", r.output_error_packets)
        .field("time_sync_errors", r.time_sync_errors)
        .field("max_time_delta_ms", r.max_time_delta_ms);
    j.key("history").begin_array();
    for (const auto& h : r.history) {
      j.begin_object()
          .field("timestamp", h.timestamp)
          .field("src", fmt::ipv4(h.src))
          .field("my_pst_ms", h.my_pst_ms)
          .field("peer_pst_ms", h.peer_pst_ms)
          .field("window_s", h.window_s)
          .end_object();
    }
    j.end_array().end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

std::string show_rekey_sa_json(const gm_status& s) {
  json_out j;
  j.begin_object().key("rekey_sas").begin_array();
  for (const auto& r : s.rekey_sas) {
    j.begin_object()
        .field("dst", fmt::ipv4(r.dst))
        .field("src", fmt::ipv4(r.src))
        .field("conn_id", r.conn_id)
        .field("status", fmt::status_id(r.status))
        .end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

std::string show_isakmp_sa_json(const gm_status& s) {
  json_out j;
  j.begin_object().key("isakmp_sas").begin_array();
  for (const auto& r : s.isakmp_sas) {
    j.begin_object()
        .field("dst", fmt::ipv4(r.dst))
        .field("src", fmt::ipv4(r.src))
        .field("state", fmt::isakmp_state_id(r.state))
        .field("conn_id", r.conn_id)
        .field("status", fmt::status_id(r.status))
        .end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

std::string show_ipsec_sa_json(const gm_status& s) {
  json_out j;
  j.begin_object().key("interfaces").begin_array();
  for (const auto& i : s.ipsec) {
    const ipsec_counters& c = i.counters;
    j.begin_object()
        .field("interface", i.interface)
        .field("crypto_map", i.crypto_map)
        .field("local_addr", fmt::ipv4(i.local_addr))
        .field("path_mtu", i.path_mtu)
        .field("pkts_encaps", c.encaps)
        .field("pkts_encrypt", c.encrypt)
        .field("pkts_digest", c.digest)
        .field("pkts_decaps", c.decaps)
        .field("pkts_decrypt", c.decrypt)
        .field("pkts_verify", c.verify)
        .field("send_errors", c.send_errors)
        .field("recv_errors", c.recv_errors)
        .field("current_outbound_spi", i.current_outbound_spi);
    esp_sas(j, "inbound", i.inbound);
    esp_sas(j, "outbound", i.outbound);
    j.end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

std::string show_event_trace_json(const event_trace_status& t, trace_kind k) {
  json_out j;
  j.begin_object();
  if (k == trace_kind::registration || k == trace_kind::all) trace_ring(j, "registration", t.registration);
  if (k == trace_kind::rekey || k == trace_kind::all) trace_ring(j, "rekey", t.rekey);
  if (k == trace_kind::exit || k == trace_kind::all) trace_ring(j, "exit", t.exit);
  j.end_object();
  return j.str() + "\n";
}

}  // namespace gm::control
