#include "dataplane/ctrl_ring.h"

#include <string.h>  // explicit_bzero (glibc)

#include <cstring>

#include <rte_errno.h>
#include <rte_ring_peek_zc.h>

namespace gm::ctrl {

namespace {
constexpr unsigned ring_size = 1024;
}

rings rings::create(const std::string& prefix, std::string& error) {
  rings r;
  r.to_dp = rte_ring_create_elem((prefix + "_to_dp").c_str(), sizeof(msg), ring_size,
                                 SOCKET_ID_ANY, RING_F_SC_DEQ);
  r.from_dp = rte_ring_create_elem((prefix + "_from_dp").c_str(), sizeof(msg), ring_size,
                                   SOCKET_ID_ANY, RING_F_SC_DEQ);
  r.events = rte_ring_create_elem((prefix + "_events").c_str(), sizeof(msg), ring_size,
                                  SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (r.to_dp == nullptr || r.from_dp == nullptr || r.events == nullptr) {
    error = "cannot create control rings '" + prefix + "_*': " + rte_strerror(rte_errno);
  }
  return r;
}

rings rings::lookup(const std::string& prefix, std::string& error) {
  rings r;
  r.to_dp = rte_ring_lookup((prefix + "_to_dp").c_str());
  r.from_dp = rte_ring_lookup((prefix + "_from_dp").c_str());
  r.events = rte_ring_lookup((prefix + "_events").c_str());
  if (r.to_dp == nullptr || r.from_dp == nullptr || r.events == nullptr) {
    error = "control rings '" + prefix + "_*' not found: is gm-dataplane running with the same "
            "--file-prefix?";
  }
  return r;
}

bool rings::send_to_dp(const msg& m) const {
  return rte_ring_mp_enqueue_elem(to_dp, const_cast<msg*>(&m), sizeof(msg)) == 0;
}
bool rings::recv_at_dp(msg& m) const {
  // Zero-copy dequeue, so the slot is wiped before the ring hands it back: an sa_add's keys
  // would otherwise stay in shared memory (which every secondary process maps, and which a
  // hugepage file keeps) until a later message happened to overwrite that slot.
  rte_ring_zc_data zc{};
  if (rte_ring_dequeue_zc_burst_elem_start(to_dp, sizeof(msg), 1, &zc, nullptr) != 1) {
    return false;
  }
  std::memcpy(&m, zc.ptr1, sizeof(msg));  // one element never wraps: it is all in ptr1
  explicit_bzero(zc.ptr1, sizeof(msg));
  rte_ring_dequeue_zc_finish(to_dp, 1);
  return true;
}
bool rings::send_from_dp(const msg& m) const {
  return rte_ring_mp_enqueue_elem(from_dp, const_cast<msg*>(&m), sizeof(msg)) == 0;
}
bool rings::recv_from_dp(msg& m) const {
  return rte_ring_sc_dequeue_elem(from_dp, &m, sizeof(msg)) == 0;
}

bool rings::send_event(const msg& m) const {
  return rte_ring_mp_enqueue_elem(events, const_cast<msg*>(&m), sizeof(msg)) == 0;
}
bool rings::recv_event(msg& m) const {
  return rte_ring_sc_dequeue_elem(events, &m, sizeof(msg)) == 0;
}

}  // namespace gm::ctrl
