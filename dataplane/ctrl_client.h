// The control side of the control rings, for a DPDK secondary process (gm-control,
// gm-dpctl): attach to a running gm-dataplane, send a request and wait for its ack, hand
// over an ACL through a memzone, and drain events.
//
// Acks are matched by sequence number. Several secondaries may share the ack ring (an
// operator's gm-dpctl beside gm-control): an ack that is not ours goes back on the ring for
// its owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "classifier/policy.h"
#include "dataplane/ctrl_msg.h"
#include "dataplane/ctrl_ring.h"

namespace gm::ctrl {

struct ack_result {
  int status = 0;  ///< 0 ok; an errno value from the data plane; ETIMEDOUT: no answer
  std::string text;
  bool ok() const { return status == 0; }
};

/// One ACE as the policy memzone carries it.
inline ace_rec ace_record(const classifier::ace& a, bool local) {
  ace_rec r{};
  r.action = static_cast<uint8_t>(a.act);
  r.proto = a.proto;
  r.src = a.src.addr;
  r.src_len = a.src.len;
  r.dst = a.dst.addr;
  r.dst_len = a.dst.len;
  r.sport_lo = a.sport.lo;
  r.sport_hi = a.sport.hi;
  r.dport_lo = a.dport.lo;
  r.dport_hi = a.dport.hi;
  r.sa_index = a.sa_index;
  r.local = local ? 1 : 0;
  return r;
}

class client {
 public:
  /// Initialises EAL as a secondary of the data plane started with `file_prefix` (once per
  /// process) and finds the rings "<ring_prefix>_*". Empty with `error` set on failure.
  static std::optional<client> attach(const std::string& program, const std::string& file_prefix,
                                      const std::string& ring_prefix, std::string& error);
  /// Same, for a process whose EAL is already initialised (tests, gm-dpctl's own EAL args).
  static std::optional<client> from_rings(const std::string& ring_prefix, std::string& error);

  /// Sends `m` (its seq is assigned here) and waits up to `timeout` for the ack. The
  /// caller's copy of `m` is wiped: it may carry keys.
  ack_result request(msg& m, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Copies the ACEs into a memzone, sends policy_replace and frees the memzone once the
  /// data plane has answered (it copies the ACEs before acking).
  ack_result replace_policy(const std::vector<ace_rec>& aces,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// One event (unknown SPI, TBAR failure) if any is waiting.
  bool poll_event(msg& m) const { return _rings.recv_event(m); }

 private:
  explicit client(rings r, std::string ring_prefix);
  rings _rings;
  std::string _ring_prefix;
  uint32_t _next_seq;
};

}  // namespace gm::ctrl
