#include "dataplane/stats.h"

#include <sstream>

#include <rte_cycles.h>

namespace gm::dataplane {

namespace {

void drops_json(std::ostringstream& o, const std::array<uint64_t, drop_reason_count>& d) {
  o << "{";
  bool first = true;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == 0) continue;
    o << (first ? "" : ",") << "\"" << drop_reason_table[i].name << "\":" << d[i];
    first = false;
  }
  o << "}";
}

uint64_t sum(const std::array<uint64_t, drop_reason_count>& d) {
  uint64_t s = 0;
  for (uint64_t x : d) s += x;
  return s;
}

}  // namespace

stats_view collect_one(const worker& w, const group_state& gs) {
  stats_view v;
  for (const auto& sa : gs.sas) {
    v.sas.push_back({sa->spi, sa->keys.xf, sa->tbar, gs.tbar_by_slot[sa->slot].window_ms,
                     w.esp->sa[sa->slot]});
  }
  v.lan = w.lan_counters;
  v.wan = w.wan_counters;
  v.no_sa = w.esp->no_sa;
  v.replay = w.tbar.stats;
  v.idle_sleeps = w.idle_sleeps;
  v.worker_cpu_ns = w.cpu_ns;
  v.cycles = w.cycles;
  return v;
}

stats_view collect(const std::vector<std::unique_ptr<worker>>& workers, const group_state& gs) {
  stats_view total;
  for (const auto& w : workers) {
    const stats_view v = collect_one(*w, gs);
    if (total.sas.empty()) {
      total.sas = v.sas;
    } else {
      for (std::size_t i = 0; i < v.sas.size(); ++i) total.sas[i].counters += v.sas[i].counters;
    }
    total.lan += v.lan;
    total.wan += v.wan;
    total.no_sa += v.no_sa;
    total.replay += v.replay;
    total.idle_sleeps += v.idle_sleeps;
    total.worker_cpu_ns += v.worker_cpu_ns;
    for (std::size_t i = 0; i < v.cycles.size(); ++i) total.cycles[i] += v.cycles[i];
  }
  return total;
}

std::string format_ipsec_sa(const stats_view& v, const config& cfg) {
  std::ostringstream o;
  crypto::sa_counters all;
  for (const auto& s : v.sas) all += s.counters;
  // Outbound failures are charged to the LAN side (plus WAN transmit), inbound ones to the
  // WAN side and the SAs.
  const auto sending = [](const port_counters& p) {
    uint64_t n = 0;
    for (const drop_reason r : at_send) n += p.drops[static_cast<std::size_t>(r)];
    return n;
  };
  const uint64_t send_err = sum(v.lan.drops) - sending(v.lan) + sending(v.wan);
  const uint64_t recv_err = sum(v.wan.drops) - sending(v.wan) + sending(v.lan) +
                            sum(all.drops) + sum(v.no_sa.drops);
  o << "interface: " << cfg.wan.dev << "\n"
    << "    #pkts encaps: " << all.encaps << ", #pkts encrypt: " << all.encrypt
    << ", #pkts digest: " << all.digest << "\n"
    << "    #pkts decaps: " << all.decaps << ", #pkts decrypt: " << all.decrypt
    << ", #pkts verify: " << all.verify << "\n"
    << "    #send errors " << send_err << ", #recv errors " << recv_err << "\n\n";
  for (const char* dir : {"inbound", "outbound"}) {
    o << "     " << dir << " esp sas:\n";
    for (const auto& s : v.sas) {
      char spi[32];
      std::snprintf(spi, sizeof spi, "0x%X(%u)", s.spi, s.spi);
      o << "      spi: " << spi << "\n"
        << "        transform: " << crypto::info(s.xf).ios_name << " ,\n"
        << "        in use settings ={Tunnel, }\n";
      if (s.tbar) {
        o << "        Anti-Replay(Time Based) : " << s.tbar_window_ms / 1000 << " sec interval\n";
      }
      o << "        status: ACTIVE\n";
    }
  }
  return o.str();
}

std::string format_json(const stats_view& v) {
  std::ostringstream o;
  auto port = [&](const char* name, const port_counters& p) {
    o << "\"" << name << "\":{\"rx\":" << p.rx << ",\"tx\":" << p.tx
      << ",\"fragmented\":" << p.fragmented << ",\"mss_clamped\":" << p.mss_clamped
      << ",\"arp_in\":" << p.arp_in << ",\"arp_replies\":" << p.arp_replies
      << ",\"arp_requests\":" << p.arp_requests << ",\"arp_learned\":" << p.arp_learned
      << ",\"arp_announcements\":" << p.arp_announcements
      << ",\"echo_requests\":" << p.echo_requests
      << ",\"drops\":";
    drops_json(o, p.drops);
    o << "}";
  };
  o << "{";
  port("lan", v.lan);
  o << ",";
  port("wan", v.wan);
  o << ",\"no_sa_drops\":";
  drops_json(o, v.no_sa.drops);
  o << ",\"replay\":{\"input_packets\":" << v.replay.input_packets
    << ",\"output_packets\":" << v.replay.output_packets
    << ",\"input_error_packets\":" << v.replay.input_error_packets
    << ",\"time_sync_errors\":" << v.replay.time_sync_errors
    << ",\"max_time_delta_ms\":" << v.replay.max_time_delta_ms << "}";
  o << ",\"idle_sleeps\":" << v.idle_sleeps << ",\"elapsed_s\":" << v.elapsed_s
    << ",\"worker_cpu_s\":" << static_cast<double>(v.worker_cpu_ns) / 1e9
    << ",\"tsc_hz\":" << rte_get_tsc_hz() << ",\"cycles\":{";
  for (std::size_t i = 0; i < v.cycles.size(); ++i) {
    o << (i ? "," : "") << "\"" << stage_names[i] << "\":" << v.cycles[i];
  }
  o << "},\"sas\":[";
  for (std::size_t i = 0; i < v.sas.size(); ++i) {
    const auto& s = v.sas[i];
    const auto& c = s.counters;
    o << (i ? "," : "") << "{\"spi\":" << s.spi << ",\"transform\":\""
      << crypto::info(s.xf).name << "\",\"encaps\":" << c.encaps << ",\"encrypt\":" << c.encrypt
      << ",\"digest\":" << c.digest << ",\"decaps\":" << c.decaps << ",\"decrypt\":" << c.decrypt
      << ",\"verify\":" << c.verify << ",\"drops\":";
    drops_json(o, c.drops);
    o << "}";
  }
  o << "]}\n";
  return o.str();
}

}  // namespace gm::dataplane
