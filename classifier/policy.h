// A group policy as the classifier sees it: ordered ACEs (the GM's local deny ACL first,
// then the KS-downloaded ACL), first match wins. Control-plane types; built off the fast
// path and compiled into an acl_table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gm::classifier {

enum class action : uint8_t {
  bypass = 1,   ///< forward in clear (IOS `deny` in a crypto ACL)
  protect = 2,  ///< encrypt with the ACE's SA (IOS `permit`)
  discard = 3,  ///< drop
};

struct prefix {
  uint32_t addr = 0;  ///< host order
  uint8_t len = 0;    ///< 0 = any
};

struct port_range {
  uint16_t lo = 0;
  uint16_t hi = 65535;
};

struct ace {
  action act = action::bypass;
  uint8_t proto = 0;  ///< 0 = any IP protocol
  prefix src;
  prefix dst;
  port_range sport;  ///< only meaningful for TCP/UDP
  port_range dport;
  uint32_t sa_index = 0;  ///< protect: which SA (group TEK) carries the traffic
  std::string text;       ///< the ACE as configured, for show output and errors
};

/// The local deny ACL applies before the KS ACL: a GM can always exclude its own traffic
/// (IOS `match address` on the GM crypto map). Deny always wins over a later permit.
struct policy {
  std::vector<ace> local;
  std::vector<ace> ks;
};

/// Parses one ACE in IOS extended-ACL syntax, e.g. `deny udp any port = 848 any port = 848`,
/// `permit ip 10.1.0.0 0.0.255.255 any`, `deny ip any 224.0.0.0 0.255.255.255`,
/// `permit tcp host 10.0.0.1 any eq 80`. `permit` becomes protect with `sa_index`,
/// `deny` bypass. Returns an empty string on success, else what is wrong.
std::string parse_ace(const std::string& line, uint32_t sa_index, ace& out);

}  // namespace gm::classifier
