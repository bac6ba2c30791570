#include <arpa/inet.h>

#include <map>
#include <sstream>

#include "classifier/policy.h"

namespace gm::classifier {

namespace {

bool parse_addr(const std::string& s, uint32_t& out) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return false;
  }
  out = ntohl(a.s_addr);
  return true;
}

// A wildcard mask must be contiguous low bits (0.0.255.255); returns the prefix length.
bool wildcard_to_len(uint32_t wc, uint8_t& len) {
  if ((wc & (wc + 1)) != 0) {
    return false;
  }
  len = static_cast<uint8_t>(32 - __builtin_popcount(wc));
  return true;
}

bool parse_port(const std::string& s, uint16_t& out) {
  static const std::map<std::string, uint16_t> names = {
      {"gdoi", 848}, {"isakmp", 500}, {"www", 80}, {"telnet", 23}, {"ssh", 22},
      {"domain", 53}, {"ntp", 123}, {"snmp", 161}, {"bgp", 179}};
  if (auto it = names.find(s); it != names.end()) {
    out = it->second;
    return true;
  }
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const unsigned long v = std::stoul(s);
  if (v > 65535) {
    return false;
  }
  out = static_cast<uint16_t>(v);
  return true;
}

class tokens {
 public:
  explicit tokens(const std::string& line) {
    std::istringstream in(line);
    std::string t;
    while (in >> t) _t.push_back(t);
  }
  bool done() const { return _i >= _t.size(); }
  const std::string& peek() const {
    static const std::string empty;
    return done() ? empty : _t[_i];
  }
  std::string next() { return done() ? std::string() : _t[_i++]; }

 private:
  std::vector<std::string> _t;
  std::size_t _i = 0;
};

std::string parse_endpoint(tokens& tk, prefix& p) {
  const std::string t = tk.next();
  if (t == "any") {
    p = {};
    return {};
  }
  if (t == "host") {
    if (!parse_addr(tk.next(), p.addr)) return "bad host address";
    p.len = 32;
    return {};
  }
  uint32_t wc = 0;
  if (!parse_addr(t, p.addr)) return "expected any, host or an address, got '" + t + "'";
  if (!parse_addr(tk.next(), wc) || !wildcard_to_len(wc, p.len)) {
    return "bad wildcard mask after " + t;
  }
  if ((p.addr & wc) != 0) return "address " + t + " has bits set under its wildcard";
  return {};
}

std::string parse_ports(tokens& tk, port_range& r, bool l4) {
  std::string op = tk.peek();
  if (op != "eq" && op != "port" && op != "range" && op != "gt" && op != "lt") {
    return {};
  }
  if (!l4) return "port match needs tcp or udp";
  tk.next();
  if (op == "port") {  // the seed's `port = 848` form
    if (tk.next() != "=") return "expected '=' after port";
    op = "eq";
  }
  uint16_t a = 0, b = 0;
  if (!parse_port(tk.next(), a)) return "bad port";
  if (op == "eq") {
    r = {a, a};
  } else if (op == "gt") {
    if (a == 65535) return "gt 65535 matches nothing";
    r = {static_cast<uint16_t>(a + 1), 65535};
  } else if (op == "lt") {
    if (a == 0) return "lt 0 matches nothing";
    r = {0, static_cast<uint16_t>(a - 1)};
  } else {
    if (!parse_port(tk.next(), b) || b < a) return "bad port range";
    r = {a, b};
  }
  return {};
}

}  // namespace

std::string parse_ace(const std::string& line, uint32_t sa_index, ace& out) {
  static const std::map<std::string, uint8_t> protos = {
      {"ip", 0}, {"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47},
      {"esp", 50}, {"ahp", 51}, {"eigrp", 88}, {"ospf", 89}, {"pim", 103}};
  tokens tk(line);
  out = ace{};
  out.text = line;
  const std::string verb = tk.next();
  if (verb == "permit") {
    out.act = action::protect;
    out.sa_index = sa_index;
  } else if (verb == "deny") {
    out.act = action::bypass;
  } else {
    return "expected permit or deny, got '" + verb + "'";
  }
  const std::string p = tk.next();
  if (auto it = protos.find(p); it != protos.end()) {
    out.proto = it->second;
  } else if (!p.empty() && p.size() <= 3 &&  // longer digit strings make stoul throw
             p.find_first_not_of("0123456789") == std::string::npos && std::stoul(p) <= 255) {
    out.proto = static_cast<uint8_t>(std::stoul(p));
  } else {
    return "unknown protocol '" + p + "'";
  }
  const bool l4 = out.proto == 6 || out.proto == 17;
  if (auto e = parse_endpoint(tk, out.src); !e.empty()) return "source: " + e;
  if (auto e = parse_ports(tk, out.sport, l4); !e.empty()) return "source port: " + e;
  if (auto e = parse_endpoint(tk, out.dst); !e.empty()) return "destination: " + e;
  if (auto e = parse_ports(tk, out.dport, l4); !e.empty()) return "destination port: " + e;
  if (!tk.done()) return "unexpected '" + tk.peek() + "'";
  return {};
}

}  // namespace gm::classifier
