// Build off the fast path, publish whole (STYLE rule 4): workers read an immutable
// snapshot through one pointer load per burst and report a quiescent state after each
// burst; the control side swaps the pointer and frees the old object only once every
// registered worker has passed a quiescent state since (rte_rcu_qsbr).
//
// Thread safety: read()/quiescent() from registered workers; publish()/reclaim() from one
// control thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace gm {

template <typename T>
class snapshot {
 public:
  /// `max_workers`: worker ids are 0..max_workers-1 (e.g. a worker index, not lcore id).
  explicit snapshot(uint32_t max_workers) {
    const std::size_t sz = rte_rcu_qsbr_get_memsize(max_workers);
    _qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("gm_snapshot_qsbr", sz, RTE_CACHE_LINE_SIZE));
    if (_qsbr != nullptr) {
      rte_rcu_qsbr_init(_qsbr, max_workers);
    }
  }
  ~snapshot() {
    delete _current.load();
    for (auto& r : _retired) delete r.second;
    rte_free(_qsbr);
  }
  snapshot(const snapshot&) = delete;
  snapshot& operator=(const snapshot&) = delete;

  bool ok() const { return _qsbr != nullptr; }

  // --- worker side -----------------------------------------------------------------
  void worker_online(uint32_t id) {
    rte_rcu_qsbr_thread_register(_qsbr, id);
    rte_rcu_qsbr_thread_online(_qsbr, id);
  }
  /// Before blocking or sleeping (idle back-off), so publishers need not wait for us.
  void worker_offline(uint32_t id) {
    rte_rcu_qsbr_thread_offline(_qsbr, id);
    rte_rcu_qsbr_thread_unregister(_qsbr, id);
  }
  /// The current snapshot; valid until this worker's next quiescent().
  const T* read() const { return _current.load(std::memory_order_acquire); }
  /// Call between bursts: no pointer obtained from read() is held past here.
  void quiescent(uint32_t id) { rte_rcu_qsbr_quiescent(_qsbr, id); }

  // --- control side ----------------------------------------------------------------
  /// Makes `next` current at once; the previous one is freed by a later reclaim().
  void publish(std::unique_ptr<T> next) {
    T* old = _current.exchange(next.release(), std::memory_order_acq_rel);
    if (old != nullptr) {
      _retired.emplace_back(rte_rcu_qsbr_start(_qsbr), old);
    }
    reclaim();
  }
  /// Frees retired snapshots no worker can still see. Returns how many remain.
  std::size_t reclaim() {
    while (!_retired.empty() && rte_rcu_qsbr_check(_qsbr, _retired.front().first, false) == 1) {
      delete _retired.front().second;
      _retired.pop_front();
    }
    return _retired.size();
  }

 private:
  rte_rcu_qsbr* _qsbr = nullptr;
  std::atomic<T*> _current{nullptr};
  std::deque<std::pair<uint64_t, T*>> _retired;
};

}  // namespace gm
