// IOS text forms of the GM show commands. Field names, order, indentation and units follow
// the IOS 15.x GETVPN GM output (Cisco's GETVPN troubleshooting guide); lines IOS prints
// for features we do not have (compression, AH, PCP) are kept where IOS always prints them.
#include "control/show_gm.h"

#include <sstream>

#include "control/show_format.h"

namespace gm::control {

namespace {

using fmt::field;

constexpr std::size_t w_group = 25;   // "    Group Name               : G1"
constexpr std::size_t w_member = 22;  // "       Registration status   : Registered"

void member_block(std::ostream& o, const gm_group_status& g) {
  o << "    " << field("Group member", w_group) << fmt::ipv4(g.member_addr)
    << "       vrf: None\n";
  auto line = [&](std::string_view name, const std::string& v) {
    o << "       " << field(name, w_member) << v << "\n";
  };
  line("Version", g.version);
  line("Registration status", fmt::registration(g.registration));
  if (g.registered_with != 0) line("Registered with", fmt::ipv4(g.registered_with));
  if (g.reregister_in_s) line("Re-registers in", std::to_string(*g.reregister_in_s) + " sec");
  line("Succeeded registration", std::to_string(g.succeeded_registrations));
  line("Attempted registration", std::to_string(g.attempted_registrations));
  line("Last rekey from", fmt::ipv4(g.last_rekey_from));
  line("Last rekey seq num", std::to_string(g.last_rekey_seq));
  line("Unicast rekey received", std::to_string(g.unicast_rekeys_received));
  if (g.multicast_rekeys_received != 0) {
    line("Multicast rekey rcvd", std::to_string(g.multicast_rekeys_received));
  }
  line("Rekey ACKs sent", std::to_string(g.rekey_acks_sent));
  line("Rekey Rcvd(hh:mm:ss)", g.last_rekey_age_s ? fmt::hhmmss(*g.last_rekey_age_s) : "never");
  o << "\n";
  line("allowable rekey cipher", "any");
  line("allowable rekey hash", "any");
  line("allowable transformtag", "any ESP");
  o << "\n    Rekeys cumulative\n";
  line("Total received", std::to_string(g.rekeys_total));
  line("After latest register", std::to_string(g.rekeys_after_register));
  line("Rekey Acks sents", std::to_string(g.rekey_acks_sent));  // sic: IOS spelling
  o << "\n";
  if (g.acl_from != 0 || !g.ks_acl.empty()) {
    o << " ACL Downloaded From KS " << fmt::ipv4(g.acl_from) << ":\n";
    for (const auto& a : g.ks_acl) o << "   " << a << "\n";
    o << "\n";
  }
  if (!g.local_deny_acl.empty()) {
    o << " ACL Configured Locally:\n";
    for (const auto& a : g.local_deny_acl) o << "   " << a << "\n";
    o << "\n";
  }
}

void policy_block(std::ostream& o, const gm_group_status& g) {
  if (g.kek) {
    const kek_policy_status& k = *g.kek;
    o << "KEK POLICY:\n";
    auto line = [&](std::string_view name, const std::string& v) {
      o << "    " << field(name, w_group) << v << "\n";
    };
    line("Rekey Transport Type", fmt::transport(k.transport));
    line("Lifetime (secs)", std::to_string(k.lifetime_remaining_s));
    line("Encrypt Algorithm", k.encrypt_alg);
    line("Key Size", std::to_string(k.key_size_bits));
    line("Sig Hash Algorithm", k.sig_hash_alg);
    line("Sig Key Length (bits)", std::to_string(k.sig_key_length_bits));
    o << "\n";
  }
  o << "TEK POLICY for the current KS-Policy ACEs Downloaded:\n";
  if (g.teks.empty()) return;
  o << "  " << g.tek_interface << ":\n";
  for (const auto& t : g.teks) {
    o << "    IPsec SA:\n"
      << "        spi: " << fmt::spi(t.spi) << "\n"
      << "        transform: " << t.transform << "\n"
      << "        sa timing:remaining key lifetime (sec): (" << t.remaining_lifetime_s << ")\n";
    if (t.tbar_window_s != 0) {
      o << "        Anti-Replay(Time Based) : " << t.tbar_window_s << " sec interval\n";
    }
    if (t.counter_window != 0) {
      o << "        Anti-Replay(Counter Based) : " << t.counter_window << "\n";
    }
    o << "        tag method : disabled\n"
      << "        alg key size: " << t.alg_key_size_bytes << " (bytes)\n"
      << "        sig key size: " << t.sig_key_size_bytes << " (bytes)\n"
      << "        encaps: ENCAPS_TUNNEL\n\n";
  }
}

void sa_block(std::ostream& o, const esp_sa_status& sa, const std::string& map) {
  o << "      spi: " << fmt::spi(sa.spi) << "\n"
    << "        transform: " << sa.transform << " ,\n"
    << "        in use settings ={Tunnel, }\n"
    << "        conn id: " << sa.conn_id << ", flow_id: SW:" << sa.conn_id
    << ", crypto map: " << map << "\n"
    << "        sa timing: remaining key lifetime (sec): (" << sa.remaining_lifetime_s << ")\n"
    << "        Kilobyte Volume Rekey has been disabled\n"
    << "        IV size: " << sa.iv_size << " bytes\n"
    << "        replay detection support: " << (sa.replay_window != 0 ? "Y" : "N");
  if (sa.replay_window != 0) o << "  replay window size: " << sa.replay_window;
  o << "\n";
  if (sa.replay_window != 0 && sa.time_based) {
    o << "        Anti-Replay(Time Based) : " << sa.replay_window << " sec interval\n";
  }
  o << "        Status: " << fmt::status(sa.status) << "(" << fmt::status(sa.status) << ")\n\n";
}

}  // namespace

std::string show_gdoi(const gm_status& s) {
  std::ostringstream o;
  o << "GROUP INFORMATION\n\n";
  for (const auto& g : s.groups) {
    auto line = [&](std::string_view name, const std::string& v) {
      o << "    " << field(name, w_group) << v << "\n";
    };
    line("Group Name", g.name);
    line("Group Identity", std::to_string(g.identity));
    line("Crypto Path", "ipv4");
    line("Key Management Path", "ipv4");
    line("Rekeys received", std::to_string(g.rekeys_total));
    line("IPSec SA Direction", "Both");
    o << "\n";
    for (std::size_t i = 0; i < g.servers.size(); ++i) {
      o << (i == 0 ? "     " + field("Group Server list", w_group - 1) : std::string(31, ' '))
        << fmt::ipv4(g.servers[i]) << "\n";
    }
    o << "\n";
    member_block(o, g);
    policy_block(o, g);
  }
  return o.str();
}

std::string show_gdoi_gm(const gm_status& s) {
  std::ostringstream o;
  for (const auto& g : s.groups) {
    o << "Group Member Information For Group " << g.name << ":\n"
      << "    " << field("IPSec SA Direction", w_group) << "Both\n\n";
    member_block(o, g);
  }
  return o.str();
}

std::string show_gdoi_gm_rekey(const gm_status& s) {
  std::ostringstream o;
  for (const auto& g : s.groups) {
    const auto t = g.kek ? g.kek->transport : rekey_transport::unicast;
    constexpr std::size_t w = 45;
    o << "Group " << g.name << " (" << fmt::transport(t) << ")\n"
      << "    " << field("Number of Rekeys received (cumulative)", w) << g.rekeys_total << "\n"
      << "    " << field("Number of Rekeys received after registration", w)
      << g.rekeys_after_register << "\n"
      << "    " << field("Number of Rekey Acks sent", w) << g.rekey_acks_sent << "\n\n";
  }
  return o.str();
}

std::string show_gdoi_gm_replay(const gm_status& s) {
  std::ostringstream o;
  constexpr std::size_t w = 33;
  constexpr std::size_t w2 = 22;
  auto pair = [&](std::string_view a, uint64_t av, std::string_view b, const std::string& bv) {
    std::string left = std::to_string(av);
    left.append(left.size() < 11 ? 11 - left.size() : 1, ' ');
    o << "     " << field(a, w) << left << field(b, w2) << bv << "\n";
  };
  for (const auto& r : s.replay) {
    o << "Anti-replay Information For Group " << r.group << ":\n"
      << (r.time_based ? "   Timebased Replay:\n" : "   Counter Based Replay:\n");
    if (r.time_based) o << "     " << field("Replay Value", w) << fmt::secs(r.replay_value_ms) << " secs\n";
    pair("Input Packets", r.input_packets, "Output Packets", std::to_string(r.output_packets));
    pair("Input Error Packets", r.input_error_packets, "Output Error Packets",
         std::to_string(r.output_error_packets));
    pair("Time Sync Error", r.time_sync_errors, "Max time delta",
         fmt::secs(r.max_time_delta_ms) + " secs");
    if (!r.history.empty()) {
      o << "\n   TBAR Error History (sampled at 10pak/min):\n";
      for (const auto& h : r.history) {
        o << "       " << h.timestamp << ": src=" << fmt::ipv4(h.src)
          << "; my_pst=" << fmt::secs(h.my_pst_ms) << " secs; peer_pst=" << fmt::secs(h.peer_pst_ms)
          << " secs; win=" << h.window_s << "\n";
      }
    }
    o << "\n";
  }
  return o.str();
}

std::string show_rekey_sa(const gm_status& s) {
  std::ostringstream o;
  char row[96];
  o << "GETVPN REKEY SA\n";
  std::snprintf(row, sizeof row, "%-15s %-15s %7s %s\n", "dst", "src", "conn-id", "status");
  o << row;
  for (const auto& r : s.rekey_sas) {
    std::snprintf(row, sizeof row, "%-15s %-15s %7u %s\n", fmt::ipv4(r.dst).c_str(),
                  fmt::ipv4(r.src).c_str(), r.conn_id, fmt::status(r.status));
    o << row;
  }
  o << "\n";
  return o.str();
}

std::string show_isakmp_sa(const gm_status& s) {
  std::ostringstream o;
  char row[128];
  o << "IPv4 Crypto ISAKMP SA\n";
  std::snprintf(row, sizeof row, "%-15s %-15s %-14s %7s %s\n", "dst", "src", "state", "conn-id",
                "status");
  o << row;
  for (const auto& r : s.isakmp_sas) {
    std::snprintf(row, sizeof row, "%-15s %-15s %-14s %7u %s\n", fmt::ipv4(r.dst).c_str(),
                  fmt::ipv4(r.src).c_str(), fmt::isakmp_state(r.state), r.conn_id,
                  fmt::status(r.status));
    o << row;
  }
  o << "\nIPv6 Crypto ISAKMP SA\n\n";
  return o.str();
}

std::string show_ipsec_sa(const gm_status& s) {
  std::ostringstream o;
  for (const auto& i : s.ipsec) {
    const ipsec_counters& c = i.counters;
    o << "interface: " << i.interface << "\n"
      << "    Crypto map tag: " << i.crypto_map << ", local addr " << fmt::ipv4(i.local_addr)
      << "\n\n"
      << "   protected vrf: (none)\n"
      << "   current_peer 0.0.0.0 port 848\n"
      << "     PERMIT, flags={}\n"
      << "    #pkts encaps: " << c.encaps << ", #pkts encrypt: " << c.encrypt
      << ", #pkts digest: " << c.digest << "\n"
      << "    #pkts decaps: " << c.decaps << ", #pkts decrypt: " << c.decrypt
      << ", #pkts verify: " << c.verify << "\n"
      << "    #pkts compressed: 0, #pkts decompressed: 0\n"
      << "    #pkts not compressed: 0, #pkts compr. failed: 0\n"
      << "    #pkts not decompressed: 0, #pkts decompress failed: 0\n"
      << "    #send errors " << c.send_errors << ", #recv errors " << c.recv_errors << "\n\n"
      << "     local crypto endpt.: " << fmt::ipv4(i.local_addr)
      << ", remote crypto endpt.: 0.0.0.0\n"
      << "     path mtu " << i.path_mtu << ", ip mtu " << i.path_mtu << ", ip mtu idb "
      << i.interface << "\n"
      << "     current outbound spi: " << fmt::spi(i.current_outbound_spi) << "\n"
      << "     PFS (Y/N): N, DH group: none\n\n"
      << "     inbound esp sas:\n";
    for (const auto& sa : i.inbound) sa_block(o, sa, i.crypto_map);
    if (i.inbound.empty()) o << "\n";
    o << "     inbound ah sas:\n\n"
      << "     inbound pcp sas:\n\n"
      << "     outbound esp sas:\n";
    for (const auto& sa : i.outbound) sa_block(o, sa, i.crypto_map);
    if (i.outbound.empty()) o << "\n";
    o << "     outbound ah sas:\n\n"
      << "     outbound pcp sas:\n\n";
  }
  return o.str();
}

std::string show_event_trace(const event_trace_status& t, trace_kind k) {
  std::ostringstream o;
  auto ring = [&](const std::vector<trace_row>& v) {
    for (const auto& e : v) {
      // event_trace.h stamps carry IOS's trailing colon already; plain ones get it here.
      o << e.timestamp << (e.timestamp.ends_with(':') ? " " : ": ") << e.text << "\n";
    }
  };
  if (k == trace_kind::registration || k == trace_kind::all) ring(t.registration);
  if (k == trace_kind::rekey || k == trace_kind::all) ring(t.rekey);
  if (k == trace_kind::exit || k == trace_kind::all) ring(t.exit);
  return o.str();
}

std::string render_gm(const command& c, const gm_status& s, bool json) {
  switch (c.kind) {
    case command_kind::show_gdoi: return json ? show_gdoi_json(s) : show_gdoi(s);
    case command_kind::show_gdoi_gm: return json ? show_gdoi_gm_json(s) : show_gdoi_gm(s);
    case command_kind::show_gdoi_gm_rekey:
      return json ? show_gdoi_gm_rekey_json(s) : show_gdoi_gm_rekey(s);
    case command_kind::show_gdoi_gm_replay:
      return json ? show_gdoi_gm_replay_json(s) : show_gdoi_gm_replay(s);
    case command_kind::show_gdoi_rekey_sa: return json ? show_rekey_sa_json(s) : show_rekey_sa(s);
    case command_kind::show_isakmp_sa: return json ? show_isakmp_sa_json(s) : show_isakmp_sa(s);
    case command_kind::show_ipsec_sa: return json ? show_ipsec_sa_json(s) : show_ipsec_sa(s);
    case command_kind::show_event_trace:
      return json ? show_event_trace_json(s.trace, c.trace) : show_event_trace(s.trace, c.trace);
    default: return "% Not supported on a group member.\n";
  }
}

}  // namespace gm::control
