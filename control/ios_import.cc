#include "control/ios_import.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "classifier/policy.h"

namespace gm::control {

namespace {

// ---- pass 1: lines into blocks -----------------------------------------------------------

struct src_line {
  int no = 0;
  std::string text;  // without surrounding whitespace
};

enum class block_kind : uint8_t { top_line, isakmp_policy, gdoi_group, crypto_map, acl, interface, other };

struct block {
  block_kind kind = block_kind::top_line;
  src_line head;
  std::vector<std::string> words;  // of the head
  std::vector<src_line> body;
};

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  std::string t;
  while (in >> t) {
    w.push_back(t);
  }
  return w;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) {
    return {};
  }
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// In a snippet pasted without indentation (seed 000) a line belongs to the block above it
// unless it is clearly a global command. These are the global commands a GM configuration
// usually holds; anything else after a block header is taken as part of that block.
bool looks_global(const std::vector<std::string>& w, block_kind in) {
  static const std::set<std::string> global_words = {
      "aaa",      "access-list", "archive", "banner",      "boot",          "class-map",
      "clock",    "control-plane", "enable", "event",      "hostname",      "interface",
      "key",      "license",     "line",    "logging",     "monitor",       "ntp",
      "object-group", "policy-map", "route-map", "router", "service",       "snmp-server",
      "spanning-tree", "track",  "username", "version",    "vlan"};
  static const std::set<std::string> global_ip = {
      "access-list", "as-path", "bgp-community", "cef", "community-list", "dhcp", "domain",
      "domain-name", "domain-lookup", "forward-protocol", "ftp", "host", "http", "multicast-routing",
      "name-server", "prefix-list", "route", "scp", "sla", "ssh", "tftp", "vrf"};
  const std::string& first = w[0];
  if (first == "crypto") {
    // `crypto map NAME` under an interface applies the map; with a sequence number it is a
    // global map entry.
    return !(in == block_kind::interface && w.size() == 3 && w[1] == "map");
  }
  if (first == "ip") {
    return w.size() > 1 && global_ip.count(w[1]) != 0;
  }
  if (first == "redundancy") {
    return in != block_kind::gdoi_group;  // also a KS group sub-command
  }
  return global_words.count(first) != 0;
}

block open_block(const src_line& l) {
  block b;
  b.head = l;
  b.words = split(l.text);
  const auto& w = b.words;
  if (w.size() >= 4 && w[0] == "crypto" && w[1] == "isakmp" && w[2] == "policy") {
    b.kind = block_kind::isakmp_policy;
  } else if (w.size() >= 3 && w[0] == "crypto" && w[1] == "gdoi" && w[2] == "group") {
    b.kind = block_kind::gdoi_group;
  } else if (w.size() == 5 && w[0] == "crypto" && w[1] == "map" && w[4] == "gdoi") {
    b.kind = block_kind::crypto_map;
  } else if (w.size() == 4 && w[0] == "ip" && w[1] == "access-list" && w[2] == "extended") {
    b.kind = block_kind::acl;
  } else if (w.size() >= 2 && w[0] == "interface") {
    b.kind = block_kind::interface;
  } else if ((w.size() >= 3 && w[0] == "crypto" && w[1] == "isakmp" && w[2] == "key") ||
             (w.size() >= 2 && w[0] == "access-list")) {
    b.kind = block_kind::top_line;
  } else {
    b.kind = block_kind::other;
  }
  return b;
}

std::vector<block> read_blocks(std::string_view config) {
  std::vector<block> blocks;
  block* cur = nullptr;  // the block that may take more lines
  int no = 0;
  std::size_t pos = 0;
  while (pos <= config.size()) {
    const std::size_t nl = config.find('\n', pos);
    const std::string_view raw =
        config.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? config.size() + 1 : nl + 1;
    ++no;
    const std::string text = trim(raw);
    if (text.empty()) {
      continue;
    }
    if (text[0] == '!' || text == "exit" || text == "end") {
      cur = nullptr;  // IOS's block terminators
      continue;
    }
    const bool indented = raw[0] == ' ' || raw[0] == '\t';
    const src_line l{no, text};
    if (cur != nullptr && (indented || !looks_global(split(text), cur->kind))) {
      cur->body.push_back(l);
      continue;
    }
    blocks.push_back(open_block(l));
    cur = blocks.back().kind == block_kind::top_line ? nullptr : &blocks.back();
  }
  return blocks;
}

// ---- pass 2: meaning ---------------------------------------------------------------------

bool parse_ipv4(const std::string& s, uint32_t& out) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return false;
  }
  out = ntohl(a.s_addr);
  return true;
}

bool parse_u32(const std::string& s, uint64_t max, uint64_t& out) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::stoull(s);
  return out <= max;
}

// Never echo a pre-shared key: the key word of `crypto isakmp key` becomes <redacted>.
std::string echo(const std::string& text) {
  const auto w = split(text);
  if (w.size() >= 4 && w[0] == "crypto" && w[1] == "isakmp" && w[2] == "key") {
    std::string out = "crypto isakmp key";
    std::size_t i = 3;
    if (w.size() >= 5 && (w[3] == "0" || w[3] == "6" || w[3] == "7") && w[4] != "address" &&
        w[4] != "hostname") {
      out += " " + w[3];
      i = 4;
    }
    out += " <redacted>";
    for (++i; i < w.size(); ++i) {
      out += " " + w[i];
    }
    return out;
  }
  return text;
}

class importer {
 public:
  ios_import_result run(std::string_view config) {
    for (block& b : read_blocks(config)) {
      dispatch(b);
    }
    finish();
    const auto by_line = [](const import_note& a, const import_note& b) { return a.line < b.line; };
    std::stable_sort(_r.errors.begin(), _r.errors.end(), by_line);
    std::stable_sort(_r.warnings.begin(), _r.warnings.end(), by_line);
    return std::move(_r);
  }

 private:
  void error(const src_line& l, const std::string& what, const std::string& instead) {
    _r.errors.push_back(
        {l.no, "line " + std::to_string(l.no) + ": '" + echo(l.text) + "': " + what + " (" +
                   instead + ")"});
  }
  void not_understood(const src_line& l, const std::string& instead) {
    error(l, "not understood", instead);
  }
  void warning(const src_line& l, const std::string& what) {
    _r.warnings.push_back(
        {l.no, "line " + std::to_string(l.no) + ": '" + echo(l.text) + "': " + what});
  }

  void dispatch(block& b) {
    switch (b.kind) {
      case block_kind::top_line:
        top_line(b);
        break;
      case block_kind::isakmp_policy:
        isakmp_policy(b);
        break;
      case block_kind::gdoi_group:
        _group_blocks.push_back(b);
        break;
      case block_kind::crypto_map:
        crypto_map(b);
        break;
      case block_kind::acl:
        for (const src_line& l : b.body) {
          _acls[b.words[3]].push_back(l);
        }
        _acl_heads[b.words[3]] = b.head;
        break;
      case block_kind::interface:
        _interfaces.push_back(b);
        break;
      case block_kind::other:
        // Its sub-commands go with it, unreported.
        warning(b.head, "skipped (not part of a GETVPN GM configuration)");
        break;
    }
  }

  void top_line(const block& b) {
    const auto& w = b.words;
    if (w[0] == "access-list") {
      if (w.size() >= 3 && w[2] == "remark") {
        return;
      }
      // Numbered ACL: the ACE follows the number.
      std::string ace;
      for (std::size_t i = 2; i < w.size(); ++i) {
        ace += (i > 2 ? " " : "") + w[i];
      }
      _acls[w[1]].push_back(src_line{b.head.no, ace});
      if (_acl_heads.count(w[1]) == 0) {
        _acl_heads[w[1]] = b.head;
      }
      return;
    }
    isakmp_key(b.head, w);
  }

  void isakmp_key(const src_line& l, const std::vector<std::string>& w) {
    // crypto isakmp key [0|6|7] KEY address A.B.C.D [MASK] [no-xauth]
    std::size_t i = 3;
    std::string type = "0";
    if (w.size() >= 6 && (w[3] == "0" || w[3] == "6" || w[3] == "7") && w[5] == "address") {
      type = w[3];
      i = 4;
    }
    if (w.size() < i + 3 || w[i + 1] != "address") {
      not_understood(l, "gm-control takes one key for every KS, by address; key left out");
      return;
    }
    if (type != "0") {
      error(l, "the key is stored encrypted (type " + type + ")",
            "write the clear key into the PSK file yourself; key left out");
      return;
    }
    uint32_t addr = 0;
    if (!parse_ipv4(w[i + 2], addr)) {
      error(l, "'" + w[i + 2] + "' is not an IPv4 address", "key left out");
      return;
    }
    for (std::size_t j = i + 3; j < w.size(); ++j) {
      uint32_t mask = 0;
      if (j == i + 3 && parse_ipv4(w[j], mask)) {
        continue;
      }
      if (w[j] != "no-xauth") {
        not_understood(l, "'" + w[j] + "' ignored");
      }
    }
    key_bytes key(w[i].begin(), w[i].end());
    if (_r.psk) {
      if (*_r.psk != key) {
        error(l, "a second, different pre-shared key",
              "gm-control uses one key for every KS: kept the key from line " +
                  std::to_string(_psk_line));
      }
      return;
    }
    _r.psk = std::move(key);
    _psk_line = l.no;
  }

  void isakmp_policy(const block& b) {
    const src_line& h = b.head;
    uint64_t prio = 0;
    if (b.words.size() != 4 || !parse_u32(b.words[3], 10000, prio) || prio == 0) {
      error(h, "policy number must be 1..10000", "policy left out");
      return;
    }
    const std::string left_out = "policy " + b.words[3] + " left out";
    import_phase1 p;
    p.priority = static_cast<unsigned>(prio);
    bool ok = true;
    bool have_enc = false, have_auth = false, have_group = false;
    for (const src_line& l : b.body) {
      const auto w = split(l.text);
      if ((w[0] == "encryption" || w[0] == "encr") && w.size() >= 2) {
        have_enc = true;
        if (w[1] == "aes" && w.size() == 2) {
          p.encryption = "aes-128";  // IOS: `aes` alone is 128-bit
        } else if (w[1] == "aes" && w.size() == 3 &&
                   (w[2] == "128" || w[2] == "192" || w[2] == "256")) {
          p.encryption = "aes-" + w[2];
        } else if (w[1] == "3des" && w.size() == 2) {
          p.encryption = "3des";
        } else {
          error(l, "encryption not supported (aes 128/192/256 or 3des)", left_out);
          ok = false;
        }
      } else if (w[0] == "hash" && w.size() == 2) {
        if (w[1] == "sha") {
          p.hash = "sha1";
        } else if (w[1] == "sha256") {
          p.hash = "sha256";
        } else {
          error(l, "hash not supported (sha or sha256)", left_out);
          ok = false;
        }
      } else if (w[0] == "authentication" && w.size() == 2) {
        have_auth = true;
        if (w[1] != "pre-share") {
          error(l, "only pre-shared keys are supported (RSA signatures come later)", left_out);
          ok = false;
        }
      } else if (w[0] == "group" && w.size() == 2) {
        have_group = true;
        if (w[1] == "14" || w[1] == "2") {
          p.group = static_cast<unsigned>(std::stoul(w[1]));
        } else {
          error(l, "DH group not supported (14, or 2 for legacy peers)", left_out);
          ok = false;
        }
      } else if (w[0] == "lifetime" && w.size() == 2) {
        uint64_t s = 0;
        if (!parse_u32(w[1], 86400, s) || s < 60) {
          error(l, "lifetime must be 60..86400 seconds", left_out);
          ok = false;
        } else {
          p.lifetime = static_cast<uint32_t>(s);
        }
      } else {
        not_understood(l, left_out);
        ok = false;
      }
    }
    // `show running-config` leaves IOS defaults out; those defaults are not ours.
    if (!have_enc) {
      error(h, "no 'encryption': IOS's default DES is not supported", left_out);
      ok = false;
    }
    if (!have_auth) {
      error(h, "no 'authentication pre-share': IOS's default rsa-sig is not supported yet",
            left_out);
      ok = false;
    }
    if (!have_group) {
      error(h, "no 'group': IOS's default DH group 1 is not supported", left_out);
      ok = false;
    }
    for (const import_phase1& q : _r.phase1) {
      if (q.priority == p.priority) {
        error(h, "policy number configured twice", "the first one is kept");
        ok = false;
      }
    }
    if (ok) {
      _r.phase1.push_back(p);
    }
  }

  void crypto_map(const block& b) {
    if (_map_name) {
      error(b.head, "a second GDOI crypto map entry",
            "gm-control joins one group through one map: line " + std::to_string(_map_line) +
                " is used, this entry is left out");
      return;
    }
    _map_name = b.words[2];
    _map_line = b.head.no;
    _map_head = b.head;
    for (const src_line& l : b.body) {
      const auto w = split(l.text);
      if (w.size() == 3 && w[0] == "set" && w[1] == "group") {
        _map_group = l;
        _map_group_name = w[2];
      } else if (w.size() == 3 && w[0] == "match" && w[1] == "address") {
        _map_acl = l;
        _map_acl_name = w[2];
      } else if (w[0] == "description") {
        // a comment
      } else if (w[0] == "set") {
        not_understood(l, "a GDOI map takes its SAs and peers from the KS; left out");
      } else {
        not_understood(l, "left out");
      }
    }
  }

  void gdoi_group(const block& b) {
    const src_line& h = b.head;
    if (b.words.size() != 4) {
      not_understood(h, "only IPv4 groups: 'crypto gdoi group NAME'; group left out");
      return;
    }
    _r.group_name = b.words[3];
    for (const src_line& l : b.body) {
      const auto w = split(l.text);
      if (w.size() == 3 && w[0] == "identity" && w[1] == "number") {
        uint64_t id = 0;
        if (!parse_u32(w[2], 0xffffffffULL, id)) {
          error(l, "identity number must be 0..4294967295", "identity left out");
        } else {
          _r.identity = static_cast<uint32_t>(id);
        }
      } else if (w.size() == 4 && w[0] == "server" && w[1] == "address" && w[2] == "ipv4") {
        uint32_t a = 0;
        if (!parse_ipv4(w[3], a)) {
          error(l, "'" + w[3] + "' is not an IPv4 address", "server left out");
        } else if (std::find(_r.servers.begin(), _r.servers.end(), w[3]) != _r.servers.end()) {
          error(l, "server listed twice", "the first place in the order is kept");
        } else {
          _r.servers.push_back(w[3]);
        }
      } else if (w.size() == 4 && w[0] == "client" && w[1] == "registration" &&
                 w[2] == "interface") {
        _reg_interface = w[3];
        _reg_interface_line = l;
      } else if (w.size() == 1 && w[0] == "passive") {
        _r.migration = "passive";
      } else if (w[0] == "client" && w.size() >= 2 && w[1] == "transform-sets") {
        not_understood(l, "list the accepted TEK transforms in rekey.allowed_transforms");
      } else if (w[0] == "client" && w.size() >= 2 && w[1] == "rekey") {
        not_understood(l, "every rekey cipher and hash the GM implements is accepted");
      } else if (w[0] == "server" && w.size() >= 2 && w[1] == "local") {
        not_understood(l, "this is key-server configuration: gm-ks has its own YAML");
      } else if (w[0] == "rekey" || w[0] == "sa" || w[0] == "redundancy" || w[0] == "local" ||
                 w[0] == "peer" || w[0] == "address") {
        not_understood(l, "key-server configuration: gm-ks has its own YAML; left out");
      } else if (w[0] == "identity") {
        not_understood(l, "only 'identity number N'; left out");
      } else if (w[0] == "server") {
        not_understood(l, "only 'server address ipv4 A.B.C.D'; left out");
      } else {
        not_understood(l, "left out");
      }
    }
    if (!_r.identity) {
      error(h, "no 'identity number'", "group.identity left out: add it by hand");
    }
    if (_r.servers.empty()) {
      error(h, "no 'server address ipv4'", "group.servers left empty: add them by hand");
    }
  }

  void local_acl(const std::string& name) {
    const auto it = _acls.find(name);
    if (it == _acls.end()) {
      error(*_map_acl, "no ACL '" + name + "' in the snippet", "local_acl left empty");
      return;
    }
    for (const src_line& l : it->second) {
      auto w = split(l.text);
      if (!w.empty() && w[0].find_first_not_of("0123456789") == std::string::npos) {
        w.erase(w.begin());  // sequence number
      }
      if (w.empty() || w[0] == "remark") {
        continue;
      }
      std::string text;
      for (const std::string& t : w) {
        text += (text.empty() ? "" : " ") + t;
      }
      classifier::ace a;
      const std::string why = classifier::parse_ace(text, 0, a);
      if (!why.empty()) {
        error(l, why, "ACE left out");
      } else if (a.act != classifier::action::bypass) {
        error(l, "a GM's local ACL can only deny (exclude traffic from encryption)",
              "what to encrypt comes from the KS's ACL; ACE left out");
      } else {
        _r.local_acl.push_back(text);
      }
    }
  }

  void interface_block(const block& b, bool relevant) {
    if (!relevant) {
      warning(b.head, "skipped (carries no GDOI crypto map and is not the registration interface)");
      return;
    }
    for (const src_line& l : b.body) {
      const auto w = split(l.text);
      if (w.size() >= 2 && w[0] == "ip" && w[1] == "address") {
        uint32_t a = 0, m = 0;
        if (w.size() == 4 && parse_ipv4(w[2], a) && parse_ipv4(w[3], m)) {
          if (_iface_addr.count(b.words[1]) == 0) {
            _iface_addr[b.words[1]] = w[2];
          }
        } else if (w.size() == 5 && w[4] == "secondary") {
          // the primary address is the source IOS registers from
        } else {
          error(l, "only 'ip address A.B.C.D M.M.M.M'", "set local_address by hand");
        }
      } else if (w.size() == 3 && w[0] == "crypto" && w[1] == "map") {
        // handled when deciding relevance
      } else if (w[0] == "description" || l.text == "no shutdown") {
        // a comment; the port's state is the host's business
      } else if (w.size() >= 3 && w[0] == "ip" && w[1] == "tcp" && w[2] == "adjust-mss") {
        not_understood(l, "set the port's mss_clamp in gm-dataplane's YAML");
      } else if (w.size() >= 2 && (w[0] == "mtu" || (w[0] == "ip" && w[1] == "mtu"))) {
        not_understood(l, "set mtu in gm-dataplane's YAML");
      } else {
        not_understood(l, "interface settings belong to the host and gm-dataplane; left out");
      }
    }
  }

  static std::optional<std::string> applied_map(const block& b) {
    for (const src_line& l : b.body) {
      const auto w = split(l.text);
      if (w.size() == 3 && w[0] == "crypto" && w[1] == "map") {
        return w[2];
      }
    }
    return std::nullopt;
  }

  void finish() {
    // The group: the one the map sets, else the only one.
    const block* group = nullptr;
    for (const block& g : _group_blocks) {
      const std::string gname = g.words.size() == 4 ? g.words[3] : std::string();
      if (!_map_group_name.empty() && gname != _map_group_name) {
        error(g.head, "not the group the GDOI crypto map sets",
              "gm-control joins one group; group left out");
      } else if (group != nullptr) {
        error(g.head, "a second GDOI group", "gm-control joins one group; group left out");
      } else {
        group = &g;
      }
    }
    if (group != nullptr) {
      gdoi_group(*group);
    } else if (!_map_group_name.empty()) {
      error(*_map_group, "no 'crypto gdoi group " + _map_group_name + "' in the snippet",
            "group left out: add it by hand");
    } else {
      _r.errors.push_back({0, "no 'crypto gdoi group' in the snippet: nothing to join"});
    }
    if (_map_name && !_map_group) {
      error(_map_head, "no 'set group'",
            "the only group is used");
    }

    // The local ACL, and the ACLs nobody asked for.
    if (_map_acl) {
      local_acl(_map_acl_name);
    }
    for (const auto& [name, head] : _acl_heads) {
      if (!_map_acl || name != _map_acl_name) {
        warning(head, "skipped (ACL " + name + " is not the GDOI crypto map's match address)");
      }
    }

    // Interfaces: the map's and the registration interface matter.
    std::vector<std::string> map_ifaces;
    std::optional<src_line> first_map_iface;
    for (const block& b : _interfaces) {
      const auto m = applied_map(b);
      const bool carries = m && _map_name && *m == *_map_name;
      const bool is_reg = b.words[1] == _reg_interface;
      if (m && !carries) {
        warning(b.head, "its crypto map '" + *m + "' is not the GDOI map");
      }
      if (carries) {
        map_ifaces.push_back(b.words[1]);
        if (!first_map_iface) {
          first_map_iface = b.head;
        } else {
          warning(b.head, "the GDOI map is applied here too; local_address comes from " +
                              map_ifaces.front());
        }
      }
      interface_block(b, carries || is_reg);
    }
    if (_map_name && map_ifaces.empty()) {
      error(_map_head, "applied to no interface", "local_address left out: add it by hand");
    }
    const std::string source = !_reg_interface.empty()
                                   ? _reg_interface
                                   : (map_ifaces.empty() ? std::string() : map_ifaces.front());
    if (!source.empty()) {
      const auto it = _iface_addr.find(source);
      if (it != _iface_addr.end()) {
        _r.local_address = it->second;
      } else if (!_reg_interface.empty() && _reg_interface_line) {
        error(*_reg_interface_line, "no 'ip address' for interface " + source + " in the snippet",
              "local_address left out: add it by hand");
      } else if (first_map_iface) {
        error(*first_map_iface, "no 'ip address' on the interface carrying the GDOI map",
              "local_address left out: add it by hand");
      }
    }
    std::stable_sort(_r.phase1.begin(), _r.phase1.end(),
                     [](const import_phase1& a, const import_phase1& b) {
                       return a.priority < b.priority;
                     });
  }

  ios_import_result _r;
  std::vector<block> _group_blocks;
  std::vector<block> _interfaces;
  std::map<std::string, std::vector<src_line>> _acls;
  std::map<std::string, src_line> _acl_heads;
  std::map<std::string, std::string> _iface_addr;
  std::optional<std::string> _map_name;
  int _map_line = 0;
  src_line _map_head;
  std::optional<src_line> _map_group;
  std::string _map_group_name;
  std::optional<src_line> _map_acl;
  std::string _map_acl_name;
  std::string _reg_interface;
  std::optional<src_line> _reg_interface_line;
  int _psk_line = 0;
};

}  // namespace

ios_import_result import_ios(std::string_view config) { return importer().run(config); }

std::string to_gm_control_yaml(const ios_import_result& r, const yaml_defaults& d) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "group" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << r.group_name;
  if (r.identity) {
    e << YAML::Key << "identity" << YAML::Value << *r.identity;
  }
  e << YAML::Key << "servers" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& s : r.servers) {
    e << s;
  }
  e << YAML::EndSeq << YAML::EndMap;
  if (!r.local_address.empty()) {
    e << YAML::Key << "local_address" << YAML::Value << r.local_address;
  }
  e << YAML::Key << "psk_file" << YAML::Value << d.psk_file;
  if (!r.phase1.empty()) {
    e << YAML::Key << "phase1" << YAML::Value << YAML::BeginSeq;
    for (const import_phase1& p : r.phase1) {
      e << YAML::Flow << YAML::BeginMap;
      e << YAML::Key << "encryption" << YAML::Value << p.encryption;
      e << YAML::Key << "hash" << YAML::Value << p.hash;
      e << YAML::Key << "group" << YAML::Value << p.group;
      e << YAML::Key << "lifetime" << YAML::Value << p.lifetime;
      e << YAML::EndMap;
    }
    e << YAML::EndSeq;
  }
  if (!r.local_acl.empty()) {
    e << YAML::Key << "local_acl" << YAML::Value << YAML::BeginSeq;
    for (const std::string& a : r.local_acl) {
      e << a;
    }
    e << YAML::EndSeq;
  }
  e << YAML::Key << "migration" << YAML::Value << r.migration;
  e << YAML::Key << "dataplane" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "file_prefix" << YAML::Value << d.dataplane_prefix << YAML::EndMap;
  e << YAML::Key << "socket" << YAML::Value << d.socket;
  e << YAML::Key << "log" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "stderr" << YAML::Value << true << YAML::EndMap;
  e << YAML::Key << "event_trace_size" << YAML::Value << 512;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string write_psk_file(const std::string& path, const key_bytes& key) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return path + ": " + std::strerror(errno);
  }
  std::string why;
  // An existing file keeps its mode through O_CREAT; the key must not be readable by others.
  if (fchmod(fd, 0600) != 0) {
    why = path + ": chmod 0600: " + std::strerror(errno);
  }
  key_bytes data = key;
  data.push_back('\n');
  std::size_t done = 0;
  while (why.empty() && done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      why = path + ": " + std::strerror(errno);
    } else {
      done += static_cast<std::size_t>(n);
    }
  }
  if (close(fd) != 0 && why.empty()) {
    why = path + ": " + std::strerror(errno);
  }
  return why;
}

}  // namespace gm::control
