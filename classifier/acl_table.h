// A compiled policy: an rte_acl context over the 5-tuple, built off the fast path and
// immutable afterwards, so workers may classify with it while the control side builds the
// next one. Building is not thread-safe; classifying is, for any number of lcores.
#pragma once

#include <cstdint>
#include <cstring>
#include <utility>
#include <memory>
#include <string>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "classifier/policy.h"

namespace gm::classifier {

/// One 32-bit result per packet: action in the top byte, SA index below.
struct result {
  static constexpr uint32_t make(action a, uint32_t sa) {
    return static_cast<uint32_t>(a) << 24 | (sa & 0xffffff);
  }
  static constexpr action act(uint32_t r) { return static_cast<action>(r >> 24); }
  static constexpr uint32_t sa(uint32_t r) { return r & 0xffffff; }
};

/// The lookup key built from each packet: every field at a fixed place whatever the IP
/// header length, in network order, laid out in the 4-byte groups rte_acl reads.
struct flow_key {
  uint8_t proto;
  uint8_t pad[3];
  uint32_t src;
  uint32_t dst;
  uint16_t sport;
  uint16_t dport;
};
static_assert(sizeof(flow_key) == 16);

/// Builds the key of the IPv4 packet at `ip`, `len` bytes from its header on. False for a
/// non-IPv4 or truncated header (such a packet is classified discard). Ports only for the
/// first fragment of TCP/UDP with the ports present; later fragments match port-less (port
/// 0), as a router without reassembly would. `mirror` swaps source and destination.
/// Inline: the worker builds keys in the same pass that strips Ethernet and decrements TTL.
inline bool make_key(const uint8_t* ip, uint32_t len, flow_key& k, bool mirror) {
  if (len < 20) [[unlikely]] {
    return false;
  }
  const uint8_t vihl = ip[0];
  const uint32_t ihl = (vihl & 0xf) * 4u;
  if ((vihl >> 4) != 4 || ihl < 20 || ihl > len) [[unlikely]] {
    return false;
  }
  k = {};
  k.proto = ip[9];
  std::memcpy(&k.src, ip + 12, 4);
  std::memcpy(&k.dst, ip + 16, 4);
  uint16_t frag;
  std::memcpy(&frag, ip + 6, 2);
  const bool first_frag = (frag & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) == 0;
  if ((k.proto == 6 || k.proto == 17) && first_frag && ihl + 4 <= len) {
    std::memcpy(&k.sport, ip + ihl, 2);
    std::memcpy(&k.dport, ip + ihl + 2, 2);
  }
  if (mirror) {
    std::swap(k.src, k.dst);
    std::swap(k.sport, k.dport);
  }
  return true;
}

class acl_table {
 public:
  /// Compiles local ACEs then KS ACEs (first match wins). Packets matching nothing get
  /// `no_match` (GETVPN: traffic outside the ACL is forwarded in clear).
  static std::unique_ptr<acl_table> build(const policy& p, std::string& error,
                                          action no_match = action::bypass);
  ~acl_table();
  acl_table(const acl_table&) = delete;
  acl_table& operator=(const acl_table&) = delete;

  /// Classifies `n` packets whose data starts at an IPv4 header. `mirror` swaps source and
  /// destination (addresses and ports): the inbound check of a decrypted packet against
  /// the ACL written for the sending side. Non-IPv4 or truncated packets get discard.
  void classify(rte_mbuf* const* pkts, uint16_t n, uint32_t* results, bool mirror) const;

  /// The same for keys the caller built: `valid[i]` false (make_key() refused the packet)
  /// gives discard. n <= max_burst.
  void classify_keys(const flow_key* keys, const bool* valid, uint16_t n, uint32_t* results) const;

  std::size_t rule_count() const { return _rules; }

 private:
  acl_table() = default;
  rte_acl_ctx* _ctx = nullptr;
  std::size_t _rules = 0;
  uint32_t _no_match = 0;
};

}  // namespace gm::classifier
