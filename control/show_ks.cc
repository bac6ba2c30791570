// IOS text forms of the KS show commands (layout of IOS 15.x `show crypto gdoi ks ...`).
// Lines marked "ours" are not in IOS: registration time and status per member, the rekey
// sequence number and time, and the group ACL text.
#include "control/show_ks.h"

#include <cstdio>
#include <sstream>

#include "control/json_out.h"
#include "control/show_format.h"
#include "control/show_gm.h"

namespace gm::control {

namespace {

using fmt::field;

std::string seqs(const std::vector<uint32_t>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < 4; ++i) {
    std::string n = std::to_string(v[i]);
    if (i + 1 < v.size() && i < 3) n.append(n.size() < 8 ? 8 - n.size() : 1, ' ');
    out += n;
  }
  return out;
}

// Two fields on one line, "management alg     : disabled      encrypt alg       : 3DES".
// lw/rw: the name widths; IOS is not consistent (KEK "orig life(sec): 1200" has no blank
// before the colon, TEK "remaining life(sec) : 796" has one), so callers pass them.
std::string two(std::string_view a, const std::string& av, std::string_view b,
                const std::string& bv, std::size_t lw = 19, std::size_t rw = 18) {
  std::string left = field(a, lw) + av;
  left.append(left.size() < 35 ? 35 - left.size() : 1, ' ');
  return "     " + left + field(b, rw) + bv + "\n";
}

std::string kek_spi(const std::array<uint8_t, 16>& spi) {
  std::string out = "0x";
  char buf[3];
  for (uint8_t b : spi) {
    std::snprintf(buf, sizeof buf, "%02X", b);
    out += buf;
  }
  return out;
}

}  // namespace

std::string show_ks_members(const ks_status& s) {
  std::ostringstream o;
  o << "Group Member Information :\n\n";
  for (const auto& g : s.groups) {
    o << "Number of rekeys sent for group " << g.name << " : " << g.rekey.rekeys_sent << "\n\n";
    for (const auto& m : g.members) {
      auto line = [&](std::string_view name, const std::string& v) {
        o << " " << field(name, 18) << v << "\n";
      };
      o << field("Group Member ID", 19) << fmt::ipv4(m.addr) << "      GM Version: " << m.version
        << "\n";
      line("Group ID", std::to_string(m.group_id));
      line("Group Name", m.group_name);
      line("Key Server ID", fmt::ipv4(m.ks_addr));
      line("Rekeys sent", std::to_string(m.rekeys_sent));
      line("Rekeys retries", std::to_string(m.rekey_retries));
      line("Rekey Acks Rcvd", std::to_string(m.acks_received));
      line("Rekey Acks missed", std::to_string(m.acks_missed));
      line("Registered at", m.registered_at);    // ours
      line("Status", fmt::member(m.status));     // ours
      o << "\n Sent seq num : " << seqs(m.sent_seqs) << "\n"
        << " Rcvd seq num : " << seqs(m.acked_seqs) << "\n\n";
    }
  }
  return o.str();
}

std::string show_ks_rekey(const ks_status& s) {
  std::ostringstream o;
  constexpr std::size_t w = 36;
  for (const auto& g : s.groups) {
    const ks_rekey_status& r = g.rekey;
    auto line = [&](std::string_view name, const std::string& v, int indent = 4) {
      o << std::string(indent, ' ') << field(name, w + 4 - indent) << v << "\n";
    };
    o << "Group " << g.name << " (" << fmt::transport(r.transport) << ")\n";
    line("Number of Rekeys sent", std::to_string(r.rekeys_sent));
    line("Number of Rekeys retransmitted", std::to_string(r.rekeys_retransmitted));
    line("KEK rekey lifetime (sec)", std::to_string(r.kek_lifetime_s));
    line("Remaining lifetime (sec)", std::to_string(r.kek_remaining_s), 8);
    line("Retransmit period", std::to_string(r.retransmit_period_s));
    line("Number of retransmissions", std::to_string(r.retransmit_count));
    for (std::size_t i = 0; i < r.teks.size(); ++i) {
      line("IPSec SA " + std::to_string(i + 1) + " lifetime (sec)",
           std::to_string(r.teks[i].lifetime_s));
      line("Remaining lifetime (sec)", std::to_string(r.teks[i].remaining_s), 8);
    }
    line("Rekey seq num", std::to_string(r.seq));                                     // ours
    line("Last rekey sent", r.last_rekey_time.empty() ? "never" : r.last_rekey_time);  // ours
    o << "\n";
  }
  return o.str();
}

std::string show_ks_coop(const ks_status& s) {
  std::ostringstream o;
  for (const auto& g : s.groups) {
    const ks_coop_status& c = g.coop;
    if (!c.enabled) {
      o << "% Key sharing is not configured for group " << g.name
        << " (redundancy.state_file)\n";
      continue;
    }
    const std::string role = c.primary ? "Primary" : "Secondary";
    o << "Crypto Gdoi Group Name :" << g.name << "\n\n"
      << "        Local Address: " << fmt::ipv4(g.server) << "\n"
      << "        Local KS Role: " << role << " , Local KS Status: Alive\n"
      << "        Key state file: " << c.state_file << "\n"                          // ours
      << "        Key state version: " << c.version << "\n"                          // ours
      << "        Takeover after (sec): " << c.takeover_after_s << "\n"              // ours
      << "        Versions adopted: " << c.adoptions << ", takeovers: " << c.takeovers  // ours
      << "\n";
    if (!c.primary_since.empty()) {
      o << "        Primary since: " << c.primary_since << "\n";  // ours
    }
    o << "\n        Peer Sessions:\n";
    if (c.peer_addr == 0) {
      o << "        (none followed: a primary only writes the key state)\n\n";
      continue;
    }
    const bool alive = c.peer_heartbeat_age_ms >= 0 &&
                       c.peer_heartbeat_age_ms <= int64_t{c.takeover_after_s} * 1000;
    // The peer is the KS whose heartbeat we followed: the primary, or the former primary
    // once we took over from it.
    o << "        Session 1:\n"
      << "        Peer Address: " << fmt::ipv4(c.peer_addr) << "\n"
      << "        Peer KS Role: " << (c.primary ? "Former primary" : "Primary")
      << " , Peer KS Status: " << (alive ? "Alive" : "Dead") << "\n"
      << "        Last heartbeat (msec ago): "
      << (c.peer_heartbeat_age_ms < 0 ? std::string("none")
                                      : std::to_string(c.peer_heartbeat_age_ms))
      << "\n\n";
  }
  return o.str();
}

std::string show_ks_policy(const ks_status& s) {
  std::ostringstream o;
  o << "Key Server Policy:\n";
  for (const auto& g : s.groups) {
    o << "For group " << g.name << " (identity: " << g.identity << ") server "
      << fmt::ipv4(g.server) << ":\n"
      << "   # of teks : " << g.teks.size() << "  Seq num : " << g.rekey.seq << "\n";
    if (g.kek) {
      const ks_kek_policy& k = *g.kek;
      o << "   KEK POLICY (transport type : " << fmt::transport(k.transport) << ")\n"
        << "     " << field("spi", 19) << kek_spi(k.spi) << "\n"
        << two("management alg", "disabled", "encrypt alg", k.encrypt_alg)
        << two("crypto iv length", std::to_string(k.iv_length), "key size",
               std::to_string(k.key_size_bytes))
        << two("orig life(sec)", std::to_string(k.orig_life_s), "remaining life(sec)",
               std::to_string(k.remaining_life_s), 0)
        << two("sig hash algorithm", k.sig_hash_enabled ? "enabled" : "disabled",
               "sig key length", std::to_string(k.sig_key_length))
        << "     " << field("sig size", 19) << k.sig_size << "\n"
        << "     " << field("sig key name", 19) << k.sig_key_name << "\n\n";
    }
    for (const auto& t : g.teks) {
      o << "   TEK POLICY (encaps : ENCAPS_TUNNEL)\n"
        << "     " << field("spi", 19) << fmt::spi_hex(t.spi) << "\n"
        << "     " << field("access-list", 19) << t.access_list << "\n"
        << "     " << field("transform", 19) << t.transform << "\n"
        << two("alg key size", std::to_string(t.alg_key_size_bytes), "sig key size",
               std::to_string(t.sig_key_size_bytes), 19, 20)
        << two("orig life(sec)", std::to_string(t.orig_life_s), "remaining life(sec)",
               std::to_string(t.remaining_life_s), 19, 20)
        << two("tek life(sec)", std::to_string(t.tek_life_s), "elapsed time(sec)",
               std::to_string(t.elapsed_s), 19, 20)
        << two("override life (sec)", std::to_string(t.override_life_s),
               "antireplay window size", std::to_string(t.antireplay_window), 19, 20)
        << "\n";
      if (t.antireplay_window != 0) {
        o << "     Replay Value " << fmt::secs(t.replay_value_ms) << " secs\n\n";
      }
    }
    if (!g.acl.empty()) {  // ours
      o << "   Group ACL:\n";
      for (const auto& a : g.acl) o << "     " << a << "\n";
      o << "\n";
    }
  }
  return o.str();
}

std::string ks_rekey_reply(cmd_rekey_kind what, bool built, std::size_t datagrams, bool json) {
  const char* const name = what == cmd_rekey_kind::kek ? "KEK" : "TEK";
  if (json) {
    json_out j;
    j.begin_object()
        .field("rekey", name)
        .field("built", built)
        .field("datagrams", static_cast<uint64_t>(datagrams))
        .end_object();
    return j.str() + "\n";
  }
  if (!built) {
    // "% " marks a refused command for gmctl (exit status 3).
    return std::string("% ") + name + " rekey not built; see the ks rekey debug log\n";
  }
  return std::string(name) + " rekey sent: " + std::to_string(datagrams) +
         (datagrams == 1 ? " datagram\n" : " datagrams\n");
}

std::string render_ks(const command& c, const ks_status& s, bool json) {
  switch (c.kind) {
    case command_kind::show_gdoi_ks_members:
      return json ? show_ks_members_json(s) : show_ks_members(s);
    case command_kind::show_gdoi_ks_rekey: return json ? show_ks_rekey_json(s) : show_ks_rekey(s);
    case command_kind::show_gdoi_ks_coop: return json ? show_ks_coop_json(s) : show_ks_coop(s);
    case command_kind::show_gdoi_ks_policy:
      return json ? show_ks_policy_json(s) : show_ks_policy(s);
    case command_kind::show_event_trace:
      return json ? show_event_trace_json(s.trace, c.trace) : show_event_trace(s.trace, c.trace);
    default: return "% Not supported on a key server.\n";
  }
}

}  // namespace gm::control
