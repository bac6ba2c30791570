#include "dataplane/worker.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_pause.h>

#include "crypto/esp_decrypt.h"
#include "crypto/esp_encrypt.h"
#include "dataplane/icmp.h"
#include "dataplane/local.h"
#include "dataplane/mtu.h"
#include "dataplane/pkt_meta.h"

namespace gm::dataplane {

namespace {

constexpr uint16_t rx_burst = 32;
constexpr uint8_t ipproto_esp = 50;

void drop(rte_mbuf* m, drop_reason r, port_counters& c) {
  ++c.drops[static_cast<std::size_t>(r)];
  rte_pktmbuf_free(m);
}

// Strips Ethernet; keeps IPv4 frames at pkts[0..ret). ARP goes to the ARP stage, whose
// replies leave on the port they came in by; the rest is freed.
uint16_t strip_l2(const port_side& side, rte_mbuf** pkts, uint16_t n, port_counters& c) {
  uint16_t good = 0;
  rte_mbuf* replies[rx_burst];
  uint16_t nreplies = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const uint32_t len = rte_pktmbuf_data_len(m);
    const uint16_t type =
        len >= sizeof(rte_ether_hdr) ? rte_pktmbuf_mtod(m, const rte_ether_hdr*)->ether_type : 0;
    if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
        len >= sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) [[likely]] {
      rte_pktmbuf_adj(m, sizeof(rte_ether_hdr));
      pkts[good++] = m;
      continue;
    }
    switch (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) ? arp_input(side, m, c)
                                                         : arp_verdict::not_arp) {
      case arp_verdict::answered:
        replies[nreplies++] = m;
        break;
      case arp_verdict::consumed:
        rte_pktmbuf_free(m);
        break;
      case arp_verdict::not_arp:
        drop(m, drop_reason::not_ipv4, c);
        break;
    }
  }
  if (nreplies > 0) [[unlikely]] c.arp_replies += send_back(side, replies, nreplies);
  return good;
}

// Routers decrement TTL; an expiring packet is dropped, and answered by time_exceeded().
bool decrement_ttl(rte_mbuf* m) {
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  if (ip->time_to_live <= 1) [[unlikely]] {
    return false;
  }
  --ip->time_to_live;
  // RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): TTL is the high byte of its 16-bit word, so
  // ~m + m' = 0xfeff. (The RFC 1141 shortcut HC + 0x0100 turns a 0xfeff checksum into the
  // non-canonical 0xffff instead of 0x0000.)
  uint32_t sum = (~static_cast<uint32_t>(rte_be_to_cpu_16(ip->hdr_checksum)) & 0xffff) + 0xfeff;
  sum = (sum & 0xffff) + (sum >> 16);
  ip->hdr_checksum = rte_cpu_to_be_16(static_cast<uint16_t>(~sum));
  return true;
}

// Packets forwarded in clear pass no ESP stage, which would have checked them: one whose
// header lies about its length is dropped here rather than sent on (spec section 3, step 1).
// strip_l2 guaranteed 20 bytes.
bool well_formed_ipv4(const rte_mbuf* m) {
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
  const uint32_t tl = rte_be_to_cpu_16(ip->total_length);
  return (ip->version_ihl >> 4) == 4 && ihl >= sizeof(rte_ipv4_hdr) && tl >= ihl &&
         tl <= rte_pktmbuf_data_len(m);
}

void send(const port_side& side, rte_mbuf** pkts, uint16_t n, port_counters& c) {
  if (n == 0) return;
  std::array<uint8_t, 6> dst = side.dst_mac;
  if (side.nh != nullptr) {
    const uint64_t v = side.nh->mac.load(std::memory_order_relaxed);
    if ((v & next_hop::resolved) == 0) [[unlikely]] {
      for (uint16_t i = 0; i < n; ++i) drop(pkts[i], drop_reason::no_neighbor, c);
      return;
    }
    dst = next_hop::unpack(v);
  }
  uint16_t ready = 0;
  for (uint16_t i = 0; i < n; ++i) {
    auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(pkts[i], sizeof(rte_ether_hdr)));
    if (eth == nullptr) [[unlikely]] {  // a received frame always had room; be sure anyway
      drop(pkts[i], drop_reason::no_headroom, c);
      continue;
    }
    std::memcpy(&eth->dst_addr, dst.data(), 6);
    std::memcpy(&eth->src_addr, side.src_mac.data(), 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    pkts[ready++] = pkts[i];
  }
  n = ready;
  const uint16_t sent = rte_eth_tx_burst(side.port, side.queue, pkts, n);
  c.tx += sent;
  for (uint16_t i = sent; i < n; ++i) {
    drop(pkts[i], drop_reason::tx_full, c);
  }
}

bool from_us(const worker& w, const rte_mbuf* m) {
  return is_ours(rte_pktmbuf_mtod(m, const rte_ipv4_hdr*)->src_addr, w.lan, w.wan);
}

// "Time exceeded in transit" about `m` (its TTL ran out here) from our address `from`
// (0: none, so no answer), within the worker's ICMP limit; traceroute then shows the GM.
rte_mbuf* time_exceeded(worker& w, const rte_mbuf* m, uint32_t from, uint64_t now) {
  // Not to a source claiming to be us: the answer would come back to us as for_us.
  if (from == 0 || from_us(w, m) || !icmp_error_allowed(m) || !w.icmp_errors.take(now)) {
    return nullptr;
  }
  return icmp_error(m, 11, 0, 0, from, m->pool);
}

// Packets that would exceed the WAN MTU once encrypted leave `run`: DF ones are dropped
// with an ICMP "fragmentation needed" to their source (unless the SA clears DF); the rest
// are fragmented before encryption, and the fragments encrypted and sent from here.
uint16_t fit_mtu(worker& w, const crypto::esp_sa& sa, rte_mbuf** run, uint16_t n, uint64_t pt) {
  port_counters& c = w.lan_counters;
  const uint32_t fits = crypto::esp_max_inner_len(sa, w.wan_mtu);
  uint16_t keep = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = run[i];
    // The IP total length, not the frame's: Ethernet padding or a trailer is not sent (the
    // ESP stage trims it). A length that lies goes on to the ESP stage, which drops it.
    const uint32_t len =
        rte_be_to_cpu_16(rte_pktmbuf_mtod(m, const rte_ipv4_hdr*)->total_length);
    if (len <= fits || len > rte_pktmbuf_data_len(m)) [[likely]] {
      run[keep++] = m;
      continue;
    }
    // Largest inner length whose encrypted size fits, whatever its padding.
    const uint32_t room = w.wan_mtu - crypto::esp_overhead(sa, w.wan_mtu) -
                          crypto::info(sa.keys.xf).block;
    const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
    const bool df = (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0;
    if (df && sa.df != crypto::df_mode::clear) {
      if (w.lan.ip != 0) {
        rte_mbuf* icmp = icmp_frag_needed(m, static_cast<uint16_t>(room), w.lan.ip, m->pool);
        if (icmp != nullptr) send(w.lan, &icmp, 1, c);
      }
      drop(m, drop_reason::too_big, c);
      continue;
    }
    if (df) {
      // DF clear on this SA: the inner DF is overridden, as IOS does with df-bit clear.
      auto* wip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
      wip->fragment_offset &= rte_cpu_to_be_16(static_cast<uint16_t>(~RTE_IPV4_HDR_DF_FLAG));
      wip->hdr_checksum = 0;
      wip->hdr_checksum = rte_ipv4_cksum(wip);
    }
    rte_mbuf* frags[rx_burst];
    const uint16_t nf = fragment_ipv4(m, static_cast<uint16_t>(room), m->pool, frags, rx_burst);
    if (nf == 0) [[unlikely]] {
      drop(m, drop_reason::frag_failed, c);
      continue;
    }
    rte_pktmbuf_free(m);
    ++c.fragmented;
    const uint16_t good = crypto::esp_encrypt_burst(*w.esp, sa, frags, nf, pt);
    if (sa.tbar) w.tbar.stats.output_packets += good;
    for (uint16_t k = good; k < nf; ++k) rte_pktmbuf_free(frags[k]);
    send(w.wan, frags, good, w.wan_counters);
  }
  return keep;
}

// The control process re-registers when it sees ESP for an SPI of its group that it does
// not have (IOS "GM error detection"); it learns of these from here.
void report_unknown_spis(worker& w, rte_mbuf* const* bad, uint16_t n, uint64_t now) {
  for (uint16_t i = 0; i < n; ++i) {
    if (meta(bad[i])->reason != drop_reason::unknown_spi) continue;
    const auto* ip = rte_pktmbuf_mtod(bad[i], const rte_ipv4_hdr*);
    const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
    uint32_t spi = 0;
    std::memcpy(&spi, rte_pktmbuf_mtod_offset(bad[i], const uint8_t*, ihl), 4);
    ctrl::msg m{};
    m.type = ctrl::msg_type::event_unknown_spi;
    m.version = ctrl::msg_version;
    m.u.unknown_spi = {rte_be_to_cpu_32(spi), ip->src_addr, ip->dst_addr};
    w.send_event(m, now);
  }
}

void report_tbar_sample(worker& w, uint64_t now) {
  const tbar::error_history& h = w.tbar.history;
  if (h.size() == 0) return;
  const tbar::error_sample& s = h.at(h.size() - 1);
  if (s.when_ns != now) return;  // this burst's failure was suppressed by the rate limit
  ctrl::msg m{};
  m.type = ctrl::msg_type::event_tbar_fail;
  m.version = ctrl::msg_version;
  m.u.tbar_fail = {s.my_pt_ms, s.peer_pt_ms, s.window_ms, s.src};
  w.send_event(m, now);
}

void protect_and_send(worker& w, const group_state& gs, rte_mbuf** pkts, uint16_t n,
                      uint64_t now);

void lan_to_wan(worker& w, const group_state& gs, rte_mbuf** pkts, uint16_t n, uint64_t now) {
  port_counters& c = w.lan_counters;
  uint64_t t = w.stamp();
  n = strip_l2(w.lan, pkts, n, c);
  n = take_local(w.lan, w.lan, w.wan, pkts, n, c, false);
  if (w.lan.mss_clamp != 0) {
    for (uint16_t i = 0; i < n; ++i) c.mss_clamped += clamp_mss(pkts[i], w.lan.mss_clamp);
  }
  w.charge(stage::parse, t);
  protect_and_send(w, gs, pkts, n, now);
}

// IPv4 packets bound for the WAN (from the LAN, or the GM's own answers to decrypted
// packets): TTL, policy, encryption per SA or bypass, then out of the WAN.
void protect_and_send(worker& w, const group_state& gs, rte_mbuf** pkts, uint16_t n,
                      uint64_t now) {
  port_counters& c = w.lan_counters;
  uint64_t t = w.stamp();
  uint32_t results[rx_burst];
  gs.acl->classify(pkts, n, results, false);
  w.charge(stage::classify, t);
  rte_mbuf* out[rx_burst];
  uint16_t nout = 0;
  // Per policy index, the packets to protect; GETVPN groups usually have one TEK.
  rte_mbuf* prot[rx_burst];
  uint32_t prot_idx[rx_burst];
  uint16_t nprot = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (!decrement_ttl(m)) [[unlikely]] {
      if (rte_mbuf* icmp = time_exceeded(w, m, w.lan.ip, now)) send(w.lan, &icmp, 1, c);
      drop(m, drop_reason::ttl_expired, c);
      continue;
    }
    const auto act = classifier::result::act(results[i]);
    const bool clear = act == classifier::action::bypass ||
                       (act == classifier::action::protect &&
                        gs.migration == migration_mode::receive_only);  // decrypt, send clear
    if (clear && !well_formed_ipv4(m)) [[unlikely]] {
      drop(m, drop_reason::bad_inner_ip, c);
      continue;
    }
    switch (act) {
      case classifier::action::bypass:
        out[nout++] = m;
        break;
      case classifier::action::protect:
        if (clear) {
          out[nout++] = m;
        } else {
          prot[nprot] = m;
          prot_idx[nprot++] = classifier::result::sa(results[i]);
        }
        break;
      default:
        drop(m, drop_reason::policy_discard, c);
        break;
    }
  }
  const uint64_t pt = gs.pseudotime.now_ms(now);
  // Encrypt runs of the same policy index together.
  uint16_t i = 0;
  while (i < nprot) {
    const uint32_t idx = prot_idx[i];
    uint16_t j = i;
    rte_mbuf* run[rx_burst];
    uint16_t nrun = 0;
    for (; j < nprot; ++j) {
      if (prot_idx[j] == idx) {
        run[nrun++] = prot[j];
        prot_idx[j] = UINT32_MAX;  // taken
      }
    }
    const crypto::esp_sa* sa = idx < max_policy_index ? gs.outbound[idx] : nullptr;
    if (sa == nullptr) [[unlikely]] {
      for (uint16_t k = 0; k < nrun; ++k) drop(run[k], drop_reason::no_outbound_sa, c);
    } else {
      const uint64_t te = w.stamp();
      nrun = fit_mtu(w, *sa, run, nrun, pt);
      const uint16_t good = crypto::esp_encrypt_burst(*w.esp, *sa, run, nrun, pt);
      w.charge(stage::encrypt, te);
      if (sa->tbar) w.tbar.stats.output_packets += good;
      for (uint16_t k = 0; k < good; ++k) out[nout++] = run[k];
      for (uint16_t k = good; k < nrun; ++k) {
        rte_pktmbuf_free(run[k]);  // already counted per SA by the ESP stage
      }
    }
    while (i < nprot && prot_idx[i] == UINT32_MAX) ++i;
  }
  t = w.stamp();
  send(w.wan, out, nout, w.wan_counters);
  w.charge(stage::tx, t);
}

void wan_to_lan(worker& w, const group_state& gs, rte_mbuf** pkts, uint16_t n, uint64_t now) {
  port_counters& c = w.wan_counters;
  uint64_t t = w.stamp();
  n = strip_l2(w.wan, pkts, n, c);
  n = take_local(w.wan, w.lan, w.wan, pkts, n, c, true);
  rte_mbuf* esp[rx_burst];
  rte_mbuf* clear[rx_burst];
  uint16_t nesp = 0, nclear = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const auto* ip = rte_pktmbuf_mtod(pkts[i], const rte_ipv4_hdr*);
    if (ip->next_proto_id == ipproto_esp) {
      // Kept for counter-based replay: the decrypt stage rewrites the packet.
      const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
      uint32_t seq = 0;
      if (rte_pktmbuf_data_len(pkts[i]) >= ihl + 8) {
        std::memcpy(&seq, rte_pktmbuf_mtod_offset(pkts[i], const uint8_t*, ihl + 4), 4);
      }
      meta(pkts[i])->esp_seq = rte_be_to_cpu_32(seq);
      esp[nesp++] = pkts[i];
    } else {
      clear[nclear++] = pkts[i];
    }
  }
  w.charge(stage::parse, t);
  rte_mbuf* out[rx_burst];
  uint16_t nout = 0;
  // Answers about or to decrypted packets (time exceeded, echo replies), for the outbound
  // path.
  rte_mbuf* back[rx_burst];
  uint16_t nback = 0;
  if (nesp > 0) {
    t = w.stamp();
    uint16_t good = crypto::esp_decrypt_burst(*w.esp, gs.inbound.lookup(), esp, nesp);
    w.charge(stage::decrypt, t);
    if (w.events != nullptr) [[unlikely]] {
      report_unknown_spis(w, esp + good, static_cast<uint16_t>(nesp - good), now);
    }
    t = w.stamp();
    for (uint16_t k = good; k < nesp; ++k) rte_pktmbuf_free(esp[k]);  // counted per SA
    const uint64_t sampled_before = w.tbar.history.size() + w.tbar.history.suppressed();
    const uint16_t fresh =
        tbar::check_burst(w.tbar, gs.pseudotime, gs.tbar_by_slot.data(), esp, good, now);
    if (w.events != nullptr &&
        w.tbar.history.size() + w.tbar.history.suppressed() != sampled_before) [[unlikely]] {
      report_tbar_sample(w, now);
    }
    for (uint16_t k = fresh; k < good; ++k) {
      ++w.esp->sa[meta(esp[k])->sa_slot].drops[static_cast<std::size_t>(meta(esp[k])->reason)];
      rte_pktmbuf_free(esp[k]);
    }
    uint32_t results[rx_burst];
    gs.acl->classify(esp, fresh, results, true);
    for (uint16_t k = 0; k < fresh; ++k) {
      rte_mbuf* m = esp[k];
      const uint16_t slot = meta(m)->sa_slot;
      if (const uint32_t win = gs.counter_window_by_slot[slot]; win != 0) [[unlikely]] {
        if (w.window_spi[slot] != gs.spi_by_slot[slot]) {
          w.windows[slot] = tbar::replay_window(win);
          w.window_spi[slot] = gs.spi_by_slot[slot];
        }
        // After the ICV verified (the decrypt stage), so forged numbers cannot move it.
        if (!w.windows[slot].check(meta(m)->esp_seq)) {
          ++w.esp->sa[slot].drops[static_cast<std::size_t>(drop_reason::counter_replay)];
          rte_pktmbuf_free(m);
          continue;
        }
        w.windows[slot].update(meta(m)->esp_seq);
      }
      if (classifier::result::act(results[k]) != classifier::action::protect ||
          classifier::result::sa(results[k]) != gs.policy_index_by_slot[slot]) [[unlikely]] {
        ++w.esp->sa[slot].drops[static_cast<std::size_t>(drop_reason::inner_policy_mismatch)];
        rte_pktmbuf_free(m);
        continue;
      }
      if (for_gm(m, w.lan, w.wan)) [[unlikely]] {
        // Through the tunnel to the GM itself (a peer's host pings our LAN address): the
        // reply goes back through the outbound path below, encrypted as the request was.
        if (nback < rx_burst && !from_us(w, m) && echo_reply(m)) {
          ++c.echo_requests;
          back[nback++] = m;
        } else {
          drop(m, drop_reason::for_us, c);
        }
        continue;
      }
      if (!decrement_ttl(m)) [[unlikely]] {
        // From our LAN address, back through the outbound path below: the group's policy
        // that protected the probe protects the answer (the WAN address is rarely in it).
        if (rte_mbuf* icmp = time_exceeded(w, m, w.lan.ip, now)) back[nback++] = icmp;
        drop(m, drop_reason::ttl_expired, c);
        continue;
      }
      if (w.wan.mss_clamp != 0) c.mss_clamped += clamp_mss(m, w.wan.mss_clamp);
      out[nout++] = m;
    }
    w.charge(stage::replay_policy, t);
  }
  if (nclear > 0) {
    uint32_t results[rx_burst];
    gs.acl->classify(clear, nclear, results, true);
    for (uint16_t k = 0; k < nclear; ++k) {
      rte_mbuf* m = clear[k];
      const auto act = classifier::result::act(results[k]);
      if (act == classifier::action::protect && gs.migration == migration_mode::normal)
          [[unlikely]] {
        drop(m, drop_reason::clear_protected, c);  // fail-close
      } else if (act == classifier::action::discard) [[unlikely]] {
        drop(m, drop_reason::policy_discard, c);
      } else if (!well_formed_ipv4(m)) [[unlikely]] {
        drop(m, drop_reason::bad_outer_ip, c);
      } else if (!decrement_ttl(m)) [[unlikely]] {
        if (rte_mbuf* icmp = time_exceeded(w, m, w.wan.ip, now)) send(w.wan, &icmp, 1, c);
        drop(m, drop_reason::ttl_expired, c);
      } else {
        out[nout++] = m;
      }
    }
  }
  t = w.stamp();
  send(w.lan, out, nout, w.lan_counters);
  w.charge(stage::tx, t);
  if (nback > 0) [[unlikely]] protect_and_send(w, gs, back, nback, now);
}

}  // namespace

port_counters& port_counters::operator+=(const port_counters& o) {
  rx += o.rx;
  tx += o.tx;
  fragmented += o.fragmented;
  mss_clamped += o.mss_clamped;
  arp_in += o.arp_in;
  arp_replies += o.arp_replies;
  arp_requests += o.arp_requests;
  arp_learned += o.arp_learned;
  arp_announcements += o.arp_announcements;
  echo_requests += o.echo_requests;
  for (std::size_t i = 0; i < drops.size(); ++i) drops[i] += o.drops[i];
  return *this;
}

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void worker::send_event(const ctrl::msg& m, uint64_t now_ns) {
  // Separate budgets, so a flood of one kind cannot hide the other.
  const std::size_t k = m.type == ctrl::msg_type::event_unknown_spi ? 0 : 1;
  if (now_ns - event_window_start_ns[k] >= 1'000'000'000ull) {
    event_window_start_ns[k] = now_ns;
    events_in_window[k] = 0;
  }
  if (events_in_window[k] >= max_events_per_s || !events->send_event(m)) {
    ++events_suppressed;
    return;
  }
  ++events_in_window[k];
  ++events_sent;
}

uint16_t worker::poll_once() {
  const group_state* gs = state->read();
  // A KS-allocated sender id replaces the configured one: IVs stay unique across GMs.
  if (gs != nullptr && gs->sender_id != 0 && gs->sender_id != esp->sender_id) [[unlikely]] {
    esp->sender_id = gs->sender_id;
  }
  rte_mbuf* pkts[rx_burst];
  uint16_t total = 0;
  const uint64_t now = clock_ns();
  timing = (++polls & (stage_sample_every - 1)) == 0;
  uint64_t t = stamp();
  uint16_t n = rte_eth_rx_burst(lan.port, lan.queue, pkts, rx_burst);
  if (n > 0) {
    charge(stage::rx, t);
    lan_counters.rx += n;
    total += n;
    if (gs == nullptr) {
      for (uint16_t i = 0; i < n; ++i) drop(pkts[i], drop_reason::no_outbound_sa, lan_counters);
    } else {
      lan_to_wan(*this, *gs, pkts, n, now);
    }
  }
  t = stamp();
  n = rte_eth_rx_burst(wan.port, wan.queue, pkts, rx_burst);
  if (n > 0) {
    charge(stage::rx, t);
    wan_counters.rx += n;
    total += n;
    if (gs == nullptr) {
      for (uint16_t i = 0; i < n; ++i) drop(pkts[i], drop_reason::unknown_spi, wan_counters);
    } else {
      wan_to_lan(*this, *gs, pkts, n, now);
    }
  }
  // One worker asks for the next hops and announces the ports; whichever gets an answer
  // learns it.
  if (index == 0 && pool != nullptr &&
      (lan.nh != nullptr || wan.nh != nullptr || lan.link_ups != nullptr ||
       wan.link_ups != nullptr)) [[unlikely]] {
    arp_tick(lan, pool, now, arp_timers[0], lan_counters);
    arp_tick(wan, pool, now, arp_timers[1], wan_counters);
  }
  state->quiescent(index);
  return total;
}

namespace {
// CPU accounting for the stats only (never a time source: packets are timed by
// monotonic_ns()), read twice per run().
uint64_t thread_cpu_ns() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  const auto us = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1'000'000ull + static_cast<uint64_t>(tv.tv_usec);
  };
  return (us(ru.ru_utime) + us(ru.ru_stime)) * 1'000ull;
}
}  // namespace

void worker::run() {
  const uint64_t cpu_start = thread_cpu_ns();
  state->worker_online(index);
  uint32_t idle = 0;
  while (!quit->load(std::memory_order_relaxed)) {
    if (poll_once() > 0) {
      idle = 0;
      continue;
    }
    if (!idle_backoff) {
      continue;
    }
    // Idle back-off: spin briefly, then pause, then sleep, so a lab of several GMs on
    // two cores stays usable. Off for benchmarks.
    if (++idle < 64) {
      continue;
    }
    if (idle < 1024) {
      rte_pause();
      continue;
    }
    ++idle_sleeps;
    usleep(idle < 4096 ? 50 : 500);
  }
  state->worker_offline(index);
  cpu_ns = thread_cpu_ns() - cpu_start;
}

int worker_main(void* arg) {
  static_cast<worker*>(arg)->run();
  return 0;
}

}  // namespace gm::dataplane
