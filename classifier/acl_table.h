// A compiled policy: an rte_acl context over the 5-tuple, built off the fast path and
// immutable afterwards, so workers may classify with it while the control side builds the
// next one. Building is not thread-safe; classifying is, for any number of lcores.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <rte_acl.h>
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

  std::size_t rule_count() const { return _rules; }

 private:
  acl_table() = default;
  rte_acl_ctx* _ctx = nullptr;
  std::size_t _rules = 0;
  uint32_t _no_match = 0;
};

}  // namespace gm::classifier
