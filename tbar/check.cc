#include "tbar/check.h"

#include <rte_ip.h>

#include "dataplane/burst.h"
#include "dataplane/pkt_meta.h"

namespace gm::tbar {

void error_history::record(const error_sample& s) {
  constexpr uint64_t minute_ns = 60'000'000'000ull;
  if (_count == 0 && _in_minute == 0 && _minute_start_ns == 0) {
    _minute_start_ns = s.when_ns;
  }
  if (s.when_ns - _minute_start_ns >= minute_ns) {
    _minute_start_ns = s.when_ns;
    _in_minute = 0;
  }
  if (_in_minute >= per_minute) {
    ++_suppressed;
    return;
  }
  ++_in_minute;
  _ring[_count % capacity] = s;
  ++_count;
}

const error_sample& error_history::at(uint32_t i) const {
  const uint64_t first = _count < capacity ? 0 : _count - capacity;
  return _ring[(first + i) % capacity];
}

replay_stats& replay_stats::operator+=(const replay_stats& o) {
  input_packets += o.input_packets;
  output_packets += o.output_packets;
  input_error_packets += o.input_error_packets;
  output_error_packets += o.output_error_packets;
  time_sync_errors += o.time_sync_errors;
  if (o.max_time_delta_ms > max_time_delta_ms) {
    max_time_delta_ms = o.max_time_delta_ms;
  }
  return *this;
}

namespace {

uint16_t check_chunk(check_lcore& st, const pseudotime& pt, const check_policy* by_slot,
                     rte_mbuf** pkts, uint16_t n, uint64_t mono_ns) {
  rte_mbuf* bad[max_burst];
  uint16_t nbad = 0;
  uint16_t ngood = 0;
  const uint64_t local = pt.now_ms(mono_ns);
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    pkt_meta* pm = meta(m);
    const check_policy& pol = by_slot[pm->sa_slot];
    if (!pol.time_based) {
      pkts[ngood++] = m;
      continue;
    }
    drop_reason r = drop_reason::count;
    uint64_t delta = 0;
    if (!pm->has_tbar) [[unlikely]] {
      r = drop_reason::tbar_missing;
      ++st.stats.input_error_packets;
    } else if (!pt.synced()) [[unlikely]] {
      r = drop_reason::tbar_not_synced;
      ++st.stats.time_sync_errors;
    } else {
      delta = pm->pseudotime_ms > local ? pm->pseudotime_ms - local : local - pm->pseudotime_ms;
      if (delta > st.stats.max_time_delta_ms) {
        st.stats.max_time_delta_ms = delta;
      }
      if (delta > pol.window_ms) [[unlikely]] {
        r = drop_reason::tbar_replay;
        ++st.stats.input_error_packets;
        const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
        st.history.record({mono_ns, ip->src_addr, local, pm->pseudotime_ms, pol.window_ms});
      }
    }
    if (r != drop_reason::count) [[unlikely]] {
      pm->reason = r;
      bad[nbad++] = m;
      continue;
    }
    ++st.stats.input_packets;
    pkts[ngood++] = m;
  }
  for (uint16_t i = 0; i < nbad; ++i) {
    pkts[ngood + i] = bad[i];
  }
  return ngood;
}

}  // namespace

uint16_t check_burst(check_lcore& st, const pseudotime& pt, const check_policy* by_slot,
                     rte_mbuf** pkts, uint16_t n, uint64_t mono_ns) {
  return in_chunks(pkts, n, [&](rte_mbuf** p, uint16_t k) {
    return check_chunk(st, pt, by_slot, p, k, mono_ns);
  });
}

}  // namespace gm::tbar
