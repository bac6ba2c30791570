// A whole data plane for the fuzz targets and the hostile-input tests, built once per
// process: LAN and WAN as net_ring ports, one worker, and the group installed through
// group_control exactly as gm-dataplane does (one SA per transform, the seed KS ACL of
// spec section 3, pseudotime synced). A frame is pushed into a port's RX ring and the
// real worker::poll_once() runs every stage on it; nothing of worker.cc is copied.
//
// Time is injected (worker::clock_ns reads g_now_ns), so TBAR is deterministic.
#pragma once

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "classifier/policy.h"
#include "dataplane/group_control.h"
#include "dataplane/pkt_meta.h"
#include "dataplane/worker.h"

namespace gm::test {

inline uint64_t g_now_ns = 1'000'000'000'000ull;
inline uint64_t fuzz_clock() { return g_now_ns; }

inline constexpr uint32_t pool_size = 1023;
inline constexpr uint16_t wan_mtu = 1400;
inline constexpr uint16_t lan_mss = 1360;
inline constexpr uint32_t spi_base = 0x1000;  ///< SA of transform i has SPI spi_base + i
inline constexpr uint64_t pseudotime0_ms = 5'000'000;
inline constexpr uint32_t tbar_window_ms = 4000;

/// Replay mode per transform, so every mode is reached: counter for one, none for one.
inline ctrl::replay replay_for(std::size_t xf) {
  if (xf == static_cast<std::size_t>(crypto::transform_id::aes_cbc_128_sha256)) {
    return ctrl::replay::counter;
  }
  if (xf == static_cast<std::size_t>(crypto::transform_id::aes_gcm_256)) {
    return ctrl::replay::none;
  }
  return ctrl::replay::time;
}

inline std::vector<uint8_t> cipher_key(std::size_t xf) {
  const crypto::transform_info& t = crypto::transform_table[xf];
  return std::vector<uint8_t>(std::size_t{t.key_len} + t.salt_len, static_cast<uint8_t>(0x10 + xf));
}
inline std::vector<uint8_t> auth_key(std::size_t xf) {
  return std::vector<uint8_t>(crypto::transform_table[xf].auth_key_len,
                              static_cast<uint8_t>(0x60 + xf));
}

/// Everything the worker counts, summed, so a target can check that each packet it sent
/// is accounted for exactly once.
struct totals {
  uint64_t drops = 0;  ///< port drops + per-SA drops + no-SA drops
  uint64_t lan_tx = 0;
  uint64_t wan_tx = 0;
  uint64_t fragmented = 0;
  uint64_t encaps = 0;  ///< packets the ESP stage encrypted, all SAs
  uint64_t decaps = 0;  ///< packets the ESP stage decrypted, all SAs
  uint64_t own = 0;  ///< frames the GM took for itself, both ports: ARP, pings to it
  std::array<uint64_t, drop_reason_count> by_reason{};
};

struct world {
  rte_mempool* pool = nullptr;
  rte_ring* lan_rx = nullptr;
  rte_ring* lan_tx = nullptr;
  rte_ring* wan_rx = nullptr;
  rte_ring* wan_tx = nullptr;
  dataplane::config cfg;
  std::unique_ptr<crypto::crypto_ctx> ctl_crypto;
  /// One published group per outbound transform: every SA inbound, SA `k` active outbound.
  std::array<std::unique_ptr<snapshot<dataplane::group_state>>, crypto::transform_count> states;
  std::array<std::unique_ptr<dataplane::group_control>, crypto::transform_count> controls;
  dataplane::worker w;
  std::atomic<bool> quit{false};

  totals sum() const {
    totals t;
    const auto add = [&t](const std::array<uint64_t, drop_reason_count>& d) {
      for (std::size_t r = 0; r < drop_reason_count; ++r) {
        t.drops += d[r];
        t.by_reason[r] += d[r];
      }
    };
    add(w.lan_counters.drops);
    add(w.wan_counters.drops);
    for (const auto& s : w.esp->sa) {
      add(s.drops);
      t.encaps += s.encaps;
      t.decaps += s.decaps;
    }
    add(w.esp->no_sa.drops);
    t.lan_tx = w.lan_counters.tx;
    t.wan_tx = w.wan_counters.tx;
    t.fragmented = w.lan_counters.fragmented;
    t.own = w.lan_counters.arp_in + w.wan_counters.arp_in + w.lan_counters.echo_requests +
            w.wan_counters.echo_requests;
    return t;
  }

  /// Copies `frame` into an mbuf on `rx` and runs one worker pass. False if it does not fit.
  bool push(rte_ring* rx, const uint8_t* frame, std::size_t len) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) abort();
    if (len > rte_pktmbuf_tailroom(m)) {
      rte_pktmbuf_free(m);
      return false;
    }
    if (len > 0) std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(len)), frame, len);
    if (rte_ring_enqueue(rx, m) != 0) abort();
    w.poll_once();
    return true;
  }

  /// Takes every frame the worker sent on `tx`, as bytes, and frees the mbufs.
  static std::vector<std::vector<uint8_t>> drain(rte_ring* tx) {
    std::vector<std::vector<uint8_t>> out;
    void* objs[64];
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(tx, objs, 64, nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        if (m->nb_segs != 1) abort();  // the data plane never builds chains
        const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
        out.emplace_back(p, p + rte_pktmbuf_data_len(m));
        rte_pktmbuf_free(m);
      }
    }
    return out;
  }

  /// Every mbuf is back in the pool: nothing leaked, nothing freed twice.
  void check_no_leak() const {
    if (rte_mempool_avail_count(pool) != pool_size) abort();
  }
};

inline uint16_t ring_port(const char* name, rte_ring* rx, rte_ring* tx, rte_mempool* pool) {
  const int port = rte_eth_from_rings(name, &rx, 1, &tx, 1, SOCKET_ID_ANY);
  if (port < 0) abort();
  const auto p = static_cast<uint16_t>(port);
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(p, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(p, 0, 512, SOCKET_ID_ANY, nullptr, pool) != 0 ||
      rte_eth_tx_queue_setup(p, 0, 512, SOCKET_ID_ANY, nullptr) != 0 || rte_eth_dev_start(p) != 0) {
    abort();
  }
  return p;
}

inline void apply_ok(dataplane::group_control& gc, const ctrl::msg& m) {
  const ctrl::msg ack = gc.apply(m, g_now_ns);
  if (ack.u.ack.status != 0) abort();
}

/// The seed KS ACL (spec section 3); `permit` protects with policy index 0.
inline std::vector<classifier::ace> seed_acl() {
  static const char* const lines[] = {
      "deny icmp any any",
      "deny eigrp any any",
      "deny ip any 224.0.0.0 0.255.255.255",
      "deny ip 224.0.0.0 0.255.255.255 any",
      "deny udp any port = 848 any port = 848",
      "permit ip any any",
  };
  std::vector<classifier::ace> acl;
  for (const char* l : lines) {
    classifier::ace a;
    if (!classifier::parse_ace(l, 0, a).empty()) abort();
    acl.push_back(a);
  }
  return acl;
}

/// For the fuzz targets: an EAL without hugepages, PCI or shared config, one lcore.
inline void init_eal() {
  std::string prefix = "--file-prefix=gmfuzz-dp-" + std::to_string(getpid());
  std::vector<std::string> args = {"fuzz", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                                   prefix, "-l", "0", "--log-level=*:crit", "--no-telemetry"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0 || !pkt_meta_register()) {
    abort();
  }
}

/// Builds the world in an initialised EAL; once per process (the names are fixed).
inline world* make_world() {
  auto* wd = new world();
  // Room for a 4 KB frame plus the ESP overhead: jumbo-ish LAN frames reach the fragmenter.
  wd->pool = rte_pktmbuf_pool_create("fuzz_dp", pool_size, 0, 0,
                                     RTE_PKTMBUF_HEADROOM + 4096 + 256, SOCKET_ID_ANY);
  wd->lan_rx = rte_ring_create("f_lan_rx", 1024, SOCKET_ID_ANY, 0);
  wd->lan_tx = rte_ring_create("f_lan_tx", 1024, SOCKET_ID_ANY, 0);
  wd->wan_rx = rte_ring_create("f_wan_rx", 1024, SOCKET_ID_ANY, 0);
  wd->wan_tx = rte_ring_create("f_wan_tx", 1024, SOCKET_ID_ANY, 0);
  if (wd->pool == nullptr || !wd->lan_rx || !wd->lan_tx || !wd->wan_rx || !wd->wan_tx) abort();
  const uint16_t lan = ring_port("f_lan", wd->lan_rx, wd->lan_tx, wd->pool);
  const uint16_t wan = ring_port("f_wan", wd->wan_rx, wd->wan_tx, wd->pool);

  dataplane::config& c = wd->cfg;
  c.sender_id = 7;
  c.workers = 1;
  c.idle_backoff = false;
  c.mtu = wan_mtu;
  wd->ctl_crypto = crypto::crypto_ctx::create();
  std::array<bool, crypto::transform_count> enabled;
  enabled.fill(true);

  for (std::size_t k = 0; k < crypto::transform_count; ++k) {
    wd->states[k] = std::make_unique<snapshot<dataplane::group_state>>(1);
    auto& gc = wd->controls[k];
    gc = std::make_unique<dataplane::group_control>(*wd->states[k], wd->ctl_crypto->mgr(),
                                                    enabled, c);
    std::string err;
    if (!gc->load_static(g_now_ns, err)) abort();
    for (std::size_t xf = 0; xf < crypto::transform_count; ++xf) {
      ctrl::msg m{};
      m.type = ctrl::msg_type::sa_add;
      m.version = ctrl::msg_version;
      auto& b = m.u.sa_add;
      b.spi = spi_base + static_cast<uint32_t>(xf);
      b.transform = static_cast<uint8_t>(xf);
      b.replay_mode = static_cast<uint8_t>(replay_for(xf));
      b.window = replay_for(xf) == ctrl::replay::counter ? 64 : tbar_window_ms;
      b.df = static_cast<uint8_t>(xf % 3);  // copy, set, clear
      const auto ck = cipher_key(xf);
      const auto ak = auth_key(xf);
      b.key_len = static_cast<uint8_t>(ck.size());
      b.auth_key_len = static_cast<uint8_t>(ak.size());
      std::copy(ck.begin(), ck.end(), b.key);
      std::copy(ak.begin(), ak.end(), b.auth_key);
      apply_ok(*gc, m);
    }
    ctrl::msg act{};
    act.type = ctrl::msg_type::sa_activate_outbound;
    act.version = ctrl::msg_version;
    act.u.spi.spi = spi_base + static_cast<uint32_t>(k);
    apply_ok(*gc, act);
    ctrl::msg pt{};
    pt.type = ctrl::msg_type::pseudotime_sync;
    pt.version = ctrl::msg_version;
    pt.u.pt = {pseudotime0_ms, tbar_window_ms};
    apply_ok(*gc, pt);
    // The policy travels in a memzone, as from gm-control.
    const std::vector<classifier::ace> acl = seed_acl();
    const std::string mz_name = "f_pol_" + std::to_string(k);
    const rte_memzone* mz =
        rte_memzone_reserve(mz_name.c_str(), acl.size() * sizeof(ctrl::ace_rec), SOCKET_ID_ANY, 0);
    if (mz == nullptr) abort();
    auto* recs = static_cast<ctrl::ace_rec*>(mz->addr);
    for (std::size_t i = 0; i < acl.size(); ++i) {
      const classifier::ace& a = acl[i];
      recs[i] = {};
      recs[i].action = static_cast<uint8_t>(a.act);
      recs[i].proto = a.proto;
      recs[i].src = a.src.addr;
      recs[i].src_len = a.src.len;
      recs[i].dst = a.dst.addr;
      recs[i].dst_len = a.dst.len;
      recs[i].sport_lo = a.sport.lo;
      recs[i].sport_hi = a.sport.hi;
      recs[i].dport_lo = a.dport.lo;
      recs[i].dport_hi = a.dport.hi;
      recs[i].sa_index = a.sa_index;
    }
    ctrl::msg pol{};
    pol.type = ctrl::msg_type::policy_replace;
    pol.version = ctrl::msg_version;
    std::snprintf(pol.u.policy.memzone, sizeof(pol.u.policy.memzone), "%s", mz_name.c_str());
    pol.u.policy.count = static_cast<uint32_t>(acl.size());
    apply_ok(*gc, pol);
    wd->states[k]->worker_online(0);
  }

  dataplane::worker& w = wd->w;
  w.index = 0;
  w.esp = crypto::esp_lcore::create(c.sender_id, 0);
  if (!w.esp) abort();
  w.lan = {lan, 0, {2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, lan_mss, rte_cpu_to_be_32(0x0a000001)};
  w.wan = {wan, 0, {2, 0, 0, 0, 1, 1}, {2, 0, 0, 0, 1, 2}, 0, rte_cpu_to_be_32(0xc0000201)};
  w.idle_backoff = false;
  w.wan_mtu = wan_mtu;
  w.quit = &wd->quit;
  w.clock_ns = fuzz_clock;
  w.state = wd->states[0].get();
  return wd;
}

/// IPv4 header checksum over `ihl` bytes is valid.
inline bool ipv4_cksum_ok(const uint8_t* ip, uint32_t ihl) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i + 1 < ihl; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

/// A frame the data plane sent: Ethernet with the port's MACs, IPv4, a true total length
/// (the frame may not be shorter). One the GM `built` (ESP, ICMP) has exactly that length
/// and a valid header checksum; a forwarded one keeps whatever checksum it came with.
inline void check_sent_frame(const std::vector<uint8_t>& f, const dataplane::port_side& side,
                             uint32_t max_ip_len, bool built) {
  if (f.size() < 14 + 20) abort();
  if (std::memcmp(f.data(), side.dst_mac.data(), 6) != 0 ||
      std::memcmp(f.data() + 6, side.src_mac.data(), 6) != 0 || f[12] != 0x08 || f[13] != 0) {
    abort();
  }
  const uint8_t* ip = f.data() + 14;
  const uint32_t ihl = (ip[0] & 0xf) * 4u;
  const uint32_t tot = static_cast<uint32_t>(ip[2] << 8 | ip[3]);
  if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > f.size() - 14 || tot > max_ip_len) {
    abort();
  }
  if (built && (tot != f.size() - 14 || !ipv4_cksum_ok(ip, ihl))) abort();
}

/// `f`, sent on `side`, is ICMP time exceeded (11/0) from one of our addresses, built by
/// the GM (exact length, checksums right). Aborts otherwise.
inline void check_time_exceeded(const std::vector<uint8_t>& f, const dataplane::port_side& side,
                                const dataplane::port_side& lan,
                                const dataplane::port_side& wan) {
  check_sent_frame(f, side, 576, true);
  const uint8_t* ip = f.data() + 14;
  if (ip[0] != 0x45 || ip[9] != 1 || f.size() < 14 + 28 || ip[20] != 11 || ip[21] != 0 ||
      (std::memcmp(ip + 12, &lan.ip, 4) != 0 && std::memcmp(ip + 12, &wan.ip, 4) != 0)) {
    abort();
  }
}

/// Whether the frame pushed between `before` and `after` was one the GM took for itself
/// (ARP, or an echo request to one of its addresses, in clear or through the tunnel); if
/// so, aborts unless that is all that happened: nothing dropped or forwarded, and at most
/// its answer sent, back on the port it came in by (`back`; `other` is the other port's
/// output).
inline bool took_own(const totals& before, const totals& after,
                     const std::vector<std::vector<uint8_t>>& back,
                     const std::vector<std::vector<uint8_t>>& other,
                     const dataplane::port_side& side, const dataplane::port_side& lan,
                     const dataplane::port_side& wan) {
  if (after.own == before.own) return false;
  // A reply to a ping that came through the tunnel leaves by the outbound path, which
  // counts it as sent; the others are sent as they are, uncounted.
  const uint64_t counted = (after.lan_tx - before.lan_tx) + (after.wan_tx - before.wan_tx);
  if (after.own - before.own != 1 || after.drops != before.drops || !other.empty() ||
      back.size() > 1 || counted > back.size()) {
    abort();
  }
  for (const auto& f : back) {
    if (f.size() < 42 || std::memcmp(f.data() + 6, side.src_mac.data(), 6) != 0) abort();
    if (f[12] == 0x08 && f[13] == 0x06) {
      // An ARP reply from this port's MAC and address (RFC 826 layout, Ethernet/IPv4).
      static const uint8_t head[] = {0, 1, 0x08, 0, 6, 4, 0, 2};
      if (std::memcmp(f.data() + 14, head, sizeof head) != 0 ||
          std::memcmp(f.data() + 22, side.src_mac.data(), 6) != 0 ||
          std::memcmp(f.data() + 28, &side.ip, 4) != 0 ||
          std::memcmp(f.data(), f.data() + 32, 6) != 0) {
        abort();
      }
      continue;
    }
    // An echo reply from one of our addresses, exactly its length, both checksums right.
    const uint8_t* ip = f.data() + 14;
    const uint32_t tot = static_cast<uint32_t>(ip[2] << 8 | ip[3]);
    if (f[12] != 0x08 || f[13] != 0 || ip[0] != 0x45 || ip[9] != 1 || tot != f.size() - 14 ||
        !ipv4_cksum_ok(ip, 20) || ip[20] != 0 || ip[21] != 0 ||
        (std::memcmp(ip + 12, &lan.ip, 4) != 0 && std::memcmp(ip + 12, &wan.ip, 4) != 0)) {
      abort();
    }
    uint32_t sum = 0;
    for (uint32_t i = 20; i + 1 < tot; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    if (tot % 2) sum += static_cast<uint32_t>(ip[tot - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    if (sum != 0xffff) abort();
  }
  return true;
}

}  // namespace gm::test
