#include "dataplane/telemetry.h"

#include <cstdio>
#include <mutex>

#include <rte_telemetry.h>

namespace gm::dataplane::telemetry {

namespace {

// The latest summed counters. Written by the control loop, read by the telemetry thread.
std::mutex g_mutex;
stats_view g_total;
std::vector<stats_view> g_lcores;
crypto_engines g_crypto;
link_state g_lan_link, g_wan_link;
neighbor_view g_lan_neighbor, g_wan_neighbor;

void add_drops(rte_tel_data* d, const std::array<uint64_t, drop_reason_count>& drops) {
  for (std::size_t i = 0; i < drops.size(); ++i) {
    rte_tel_data_add_dict_u64(d, drop_reason_table[i].name.data(), drops[i]);
  }
}

rte_tel_data* port_dict(const port_counters& p, const link_state& link) {
  rte_tel_data* d = rte_tel_data_alloc();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "link_up", link.up ? 1 : 0);
  rte_tel_data_add_dict_u64(d, "link_changes", link.changes);
  rte_tel_data_add_dict_u64(d, "rx", p.rx);
  rte_tel_data_add_dict_u64(d, "tx", p.tx);
  rte_tel_data_add_dict_u64(d, "fragmented", p.fragmented);
  rte_tel_data_add_dict_u64(d, "mss_clamped", p.mss_clamped);
  add_drops(d, p.drops);
  return d;
}

int ports(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mutex);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_container(d, "lan", port_dict(g_total.lan, g_lan_link), 0);
  rte_tel_data_add_dict_container(d, "wan", port_dict(g_total.wan, g_wan_link), 0);
  return 0;
}

// Its own endpoint, not /gm/ports: readers of /gm/ports (gm-control) take its unknown
// keys for drop reasons.
rte_tel_data* neighbor_dict(const neighbor_view& n, const port_counters& p) {
  rte_tel_data* d = rte_tel_data_alloc();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "ip", n.ip != 0 ? format_ipv4(n.ip).c_str() : "");
  rte_tel_data_add_dict_string(d, "mac", format_mac(n.mac).c_str());
  rte_tel_data_add_dict_string(d, "next_hop_ip",
                               n.next_hop_ip != 0 ? format_ipv4(n.next_hop_ip).c_str() : "");
  const uint64_t v = n.nh != nullptr ? n.nh->mac.load(std::memory_order_relaxed) : 0;
  const bool known = n.nh == nullptr || (v & next_hop::resolved) != 0;
  rte_tel_data_add_dict_string(d, "next_hop_mac",
                               !known ? ""
                               : n.nh != nullptr ? format_mac(next_hop::unpack(v)).c_str()
                                                 : format_mac(n.static_mac).c_str());
  rte_tel_data_add_dict_string(d, "next_hop_by", n.nh != nullptr ? "arp" : "static");
  rte_tel_data_add_dict_u64(d, "resolved", known ? 1 : 0);
  rte_tel_data_add_dict_u64(d, "arp_in", p.arp_in);
  rte_tel_data_add_dict_u64(d, "arp_replies", p.arp_replies);
  rte_tel_data_add_dict_u64(d, "arp_requests", p.arp_requests);
  rte_tel_data_add_dict_u64(d, "arp_learned", p.arp_learned);
  rte_tel_data_add_dict_u64(d, "arp_announcements", p.arp_announcements);
  rte_tel_data_add_dict_u64(d, "echo_requests", p.echo_requests);
  rte_tel_data_add_dict_u64(d, "for_us", p.drops[static_cast<std::size_t>(drop_reason::for_us)]);
  rte_tel_data_add_dict_u64(d, "no_neighbor", p.drops[static_cast<std::size_t>(drop_reason::no_neighbor)]);
  return d;
}

int neighbors(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mutex);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_container(d, "lan", neighbor_dict(g_lan_neighbor, g_total.lan), 0);
  rte_tel_data_add_dict_container(d, "wan", neighbor_dict(g_wan_neighbor, g_total.wan), 0);
  return 0;
}

int sas(const char*, const char* params, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mutex);
  rte_tel_data_start_dict(d);
  for (const auto& s : g_total.sas) {
    char spi[16];
    std::snprintf(spi, sizeof spi, "0x%08x", s.spi);
    if (params != nullptr && *params != '\0' && std::strtoul(params, nullptr, 0) != s.spi) {
      continue;
    }
    rte_tel_data* x = rte_tel_data_alloc();
    rte_tel_data_start_dict(x);
    rte_tel_data_add_dict_string(x, "transform", crypto::info(s.xf).name.data());
    rte_tel_data_add_dict_u64(x, "tbar_window_ms", s.tbar ? s.tbar_window_ms : 0);
    rte_tel_data_add_dict_u64(x, "pkts_encaps", s.counters.encaps);
    rte_tel_data_add_dict_u64(x, "pkts_encrypt", s.counters.encrypt);
    rte_tel_data_add_dict_u64(x, "pkts_digest", s.counters.digest);
    rte_tel_data_add_dict_u64(x, "pkts_decaps", s.counters.decaps);
    rte_tel_data_add_dict_u64(x, "pkts_decrypt", s.counters.decrypt);
    rte_tel_data_add_dict_u64(x, "pkts_verify", s.counters.verify);
    rte_tel_data_add_dict_u64(x, "bytes_out", s.counters.bytes_out);
    rte_tel_data_add_dict_u64(x, "bytes_in", s.counters.bytes_in);
    add_drops(x, s.counters.drops);
    rte_tel_data_add_dict_container(d, spi, x, 0);
  }
  return 0;
}

int drops(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::array<uint64_t, drop_reason_count> all{};
  for (std::size_t i = 0; i < all.size(); ++i) {
    all[i] = g_total.lan.drops[i] + g_total.wan.drops[i] + g_total.no_sa.drops[i];
    for (const auto& s : g_total.sas) all[i] += s.counters.drops[i];
  }
  rte_tel_data_start_dict(d);
  add_drops(d, all);
  return 0;
}

int replay(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const auto& r = g_total.replay;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "input_packets", r.input_packets);
  rte_tel_data_add_dict_u64(d, "output_packets", r.output_packets);
  rte_tel_data_add_dict_u64(d, "input_error_packets", r.input_error_packets);
  rte_tel_data_add_dict_u64(d, "output_error_packets", r.output_error_packets);
  rte_tel_data_add_dict_u64(d, "time_sync_errors", r.time_sync_errors);
  rte_tel_data_add_dict_u64(d, "max_time_delta_ms", r.max_time_delta_ms);
  return 0;
}

int lcores(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mutex);
  rte_tel_data_start_dict(d);
  for (std::size_t i = 0; i < g_lcores.size(); ++i) {
    const stats_view& v = g_lcores[i];
    rte_tel_data* x = rte_tel_data_alloc();
    rte_tel_data_start_dict(x);
    rte_tel_data_add_dict_u64(x, "lan_rx", v.lan.rx);
    rte_tel_data_add_dict_u64(x, "lan_tx", v.lan.tx);
    rte_tel_data_add_dict_u64(x, "wan_rx", v.wan.rx);
    rte_tel_data_add_dict_u64(x, "wan_tx", v.wan.tx);
    rte_tel_data_add_dict_u64(x, "idle_sleeps", v.idle_sleeps);
    uint64_t enc = 0, dec = 0;
    for (const auto& s : v.sas) {
      enc += s.counters.encaps;
      dec += s.counters.decaps;
    }
    rte_tel_data_add_dict_u64(x, "pkts_encaps", enc);
    rte_tel_data_add_dict_u64(x, "pkts_decaps", dec);
    rte_tel_data_add_dict_container(d, ("worker" + std::to_string(i)).c_str(), x, 0);
  }
  return 0;
}

int crypto(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mutex);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "ipsec_mb_version", g_crypto.ipsec_mb_version.c_str());
  rte_tel_data_add_dict_string(d, "ipsec_mb_arch", g_crypto.arch.c_str());
  rte_tel_data_add_dict_u64(d, "hmac_sha_ni", g_crypto.hmac_sha_ni ? 1 : 0);
  rte_tel_data_add_dict_u64(d, "hmac_sha1_sha_ni_max_len",
                            g_crypto.hmac_sha_ni ? g_crypto.sha1_sha_ni_max_len : 0);
  rte_tel_data_add_dict_string(d, "des3", g_crypto.des3.c_str());
  rte_tel_data_add_dict_string(d, "gcm", g_crypto.gcm.c_str());
  rte_tel_data_add_dict_string(d, "cbc_sha1", g_crypto.cbc_sha1.c_str());
  rte_tel_data_add_dict_string(d, "cbc_sha1_decrypt", g_crypto.cbc_sha1_decrypt.c_str());
  rte_tel_data* off = rte_tel_data_alloc();
  rte_tel_data_start_array(off, RTE_TEL_STRING_VAL);
  for (const auto& name : g_crypto.disabled) {
    rte_tel_data_add_array_string(off, name.c_str());
  }
  rte_tel_data_add_dict_container(d, "disabled_transforms", off, 0);
  rte_tel_data* checked = rte_tel_data_alloc();
  rte_tel_data_start_array(checked, RTE_TEL_STRING_VAL);
  for (const auto& name : g_crypto.engine_checked) {
    rte_tel_data_add_array_string(checked, name.c_str());
  }
  rte_tel_data_add_dict_container(d, "self_test_engine_checks", checked, 0);
  return 0;
}

}  // namespace

void set_crypto_engines(const crypto_engines& e) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_crypto = e;
}

void set_links(const link_state& lan, const link_state& wan) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_lan_link = lan;
  g_wan_link = wan;
}

void set_neighbors(const neighbor_view& lan, const neighbor_view& wan) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_lan_neighbor = lan;
  g_wan_neighbor = wan;
}

void register_endpoints() {
  rte_telemetry_register_cmd("/gm/ports", ports, "LAN/WAN link, rx, tx and drops by reason");
  rte_telemetry_register_cmd("/gm/neighbors", neighbors,
                             "Our address and MAC, the next hop (static or ARP), ARP and ping counters");
  rte_telemetry_register_cmd("/gm/sa", sas, "Per-SA IOS counters and drops. Params: spi");
  rte_telemetry_register_cmd("/gm/drops", drops, "Drops by reason, all ports and SAs");
  rte_telemetry_register_cmd("/gm/replay", replay, "TBAR counters (show crypto gdoi gm replay)");
  rte_telemetry_register_cmd("/gm/lcores", lcores, "Per-worker packet counters");
  rte_telemetry_register_cmd("/gm/crypto", crypto,
                             "ipsec-mb manager, our engines, disabled transforms, engine self-checks");
}

void update(const stats_view& total, const std::vector<stats_view>& per_lcore) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_total = total;
  g_lcores = per_lcore;
}

}  // namespace gm::dataplane::telemetry
