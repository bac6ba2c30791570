// gm-dataplane: the DPDK primary process. EAL arguments, then `--` and our own:
//   gm-dataplane [EAL args] -- --config FILE [--exit-when-idle-ms N] [--stats-json FILE]
// The config is loaded and checked before EAL touches any port.
// First: 22.11's generic rte_vect.h declares its functions without C++ guards, so it must
// be seen inside extern "C" before another DPDK header includes it.
extern "C" {
#include <rte_vect.h>
}

#include <getopt.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include "crypto/self_test.h"
#include "dataplane/config.h"
#include "dataplane/ctrl_ring.h"
#include "dataplane/group_control.h"
#include "dataplane/group_state.h"
#include "dataplane/neighbor.h"
#include "dataplane/pkt_meta.h"
#include "dataplane/port_setup.h"
#include "dataplane/stats.h"
#include "dataplane/telemetry.h"
#include "dataplane/worker.h"

namespace {

using namespace gm;
using namespace gm::dataplane;

std::atomic<bool> g_quit{false};

void on_signal(int) { g_quit = true; }

struct options {
  std::string config;
  long exit_when_idle_ms = 0;
  double duration_s = 0;
  std::string stats_json;
};

bool parse_options(int argc, char** argv, options& o) {
  static const option longopts[] = {{"config", required_argument, nullptr, 'c'},
                                    {"exit-when-idle-ms", required_argument, nullptr, 'i'},
                                    {"stats-json", required_argument, nullptr, 's'},
                                    {"duration-s", required_argument, nullptr, 'd'},
                                    {nullptr, 0, nullptr, 0}};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "c:", longopts, nullptr)) != -1) {
    switch (c) {
      case 'c': o.config = optarg; break;
      case 'i': o.exit_when_idle_ms = std::stol(optarg); break;
      case 's': o.stats_json = optarg; break;
      case 'd': o.duration_s = std::stod(optarg); break;
      default: return false;
    }
  }
  return !o.config.empty();
}

int pool_socket(uint16_t lan, uint16_t wan) {
  for (const uint16_t port : {lan, wan}) {
    const int s = rte_eth_dev_socket_id(port);
    if (s >= 0) return s;
  }
  return static_cast<int>(rte_socket_id());
}

void refresh_telemetry(const std::vector<std::unique_ptr<worker>>& workers,
                       const group_state& gs) {
  std::vector<stats_view> per;
  for (const auto& w : workers) {
    per.push_back(collect_one(*w, gs));
  }
  telemetry::update(collect(workers, gs), per);
}

}  // namespace

int main(int argc, char** argv) {
  // Split at "--": EAL gets what comes before, we get what follows.
  int sep = 1;
  while (sep < argc && std::strcmp(argv[sep], "--") != 0) ++sep;
  options opt;
  std::vector<char*> ours = {argv[0]};
  for (int i = sep + 1; i < argc; ++i) ours.push_back(argv[i]);
  if (!parse_options(static_cast<int>(ours.size()), ours.data(), opt)) {
    std::fprintf(stderr,
                 "usage: gm-dataplane [EAL args] -- --config FILE [--exit-when-idle-ms N] "
                 "[--duration-s S] [--stats-json FILE]\n");
    return 2;
  }
  std::string err;
  auto cfg = load_config(opt.config, err);
  if (!cfg) {
    std::fprintf(stderr, "gm-dataplane: config error: %s\n", err.c_str());
    return 1;
  }

  if (rte_eal_init(sep, argv) < 0) {
    std::fprintf(stderr, "gm-dataplane: EAL init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  // rte_acl picks its classify method, up to this width, when a table is created. DPDK caps
  // it at 256 bits by default for fear of AVX-512 frequency drops, but the ESP stage runs
  // ipsec-mb's AVX-512 code on the same cores anyway, and rte_acl's AVX-512 method takes a
  // 32-packet burst in about a third of the cycles of its AVX2 one (7 against 19 a packet
  // here). An explicit --force-max-simd-bitwidth wins: the call is then refused.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // experimental in 22.11, stable in 23.x
  if (rte_vect_get_max_simd_bitwidth() < RTE_VECT_SIMD_512) {
    rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512);
  }
#pragma GCC diagnostic pop
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  int rc = 1;
  std::vector<uint16_t> started;  // ports to stop at exit
  do {
    if (!pkt_meta_register()) {
      std::fprintf(stderr, "gm-dataplane: cannot register mbuf metadata\n");
      break;
    }
    if (rte_lcore_count() < static_cast<unsigned>(cfg->workers) + 1) {
      std::fprintf(stderr, "gm-dataplane: %u workers need %u lcores (-l), have %u\n",
                   cfg->workers, cfg->workers + 1, rte_lcore_count());
      break;
    }
    uint16_t lan_port = 0, wan_port = 0;
    if (rte_eth_dev_get_port_by_name(cfg->lan.dev.c_str(), &lan_port) != 0 ||
        rte_eth_dev_get_port_by_name(cfg->wan.dev.c_str(), &wan_port) != 0) {
      std::fprintf(stderr, "gm-dataplane: %s: port '%s' or '%s' not found (give --vdev/-a)\n",
                   cfg->file.c_str(), cfg->lan.dev.c_str(), cfg->wan.dev.c_str());
      break;
    }
    const unsigned nb_mbufs = 8191 + cfg->workers * 4096u;
    const uint32_t data_room = mbuf_data_room(cfg->mtu);
    // The packets live where the NIC DMAs them: on the LAN port's NUMA node (vdevs have none).
    const int socket = pool_socket(lan_port, wan_port);
    rte_mempool* pool = rte_pktmbuf_pool_create(
        "gm_pool", nb_mbufs, 256, 0, static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + data_room),
        socket);
    if (pool == nullptr) {
      std::fprintf(stderr,
                   "gm-dataplane: mbuf pool (%u mbufs of %u bytes for mtu %u, NUMA node %d): "
                   "%s\n",
                   nb_mbufs, data_room, cfg->mtu, socket, rte_strerror(rte_errno));
      break;
    }
    const std::vector<port_ref> ports = {{lan_port, cfg->lan.dev, "lan"},
                                         {wan_port, cfg->wan.dev, "wan"}};
    std::vector<std::string> notes;
    err.clear();
    for (const auto& p : ports) {
      if (!setup_port(p, cfg->workers, cfg->mtu, pool, err, notes)) break;
      started.push_back(p.id);
    }
    for (const auto& n : notes) std::fprintf(stderr, "gm-dataplane: %s\n", n.c_str());
    if (!err.empty()) {
      std::fprintf(stderr, "gm-dataplane: %s: %s\n", cfg->file.c_str(), err.c_str());
      break;
    }
    // A memif client, or anything else that waits for this one, may connect from here on.
    std::fprintf(stderr, "gm-dataplane: ports started; waiting up to %u ms for their links\n",
                 cfg->link_wait_ms);
    link_watch links(ports);
    for (const auto& line : links.wait_up(cfg->link_wait_ms, g_quit)) {
      std::fprintf(stderr, "gm-dataplane: %s\n", line.c_str());
    }
    if (!links.all_up() && !g_quit) {
      std::fprintf(stderr, "gm-dataplane: a link is still down after link_wait_ms %u; "
                           "forwarding anyway (what a down port does not take counts as tx_full)\n",
                   cfg->link_wait_ms);
    }
    telemetry::set_links(links.states()[0], links.states()[1]);
    // Each port's link-ups as link_watch counts them, for worker 0's ARP announcements.
    std::array<std::atomic<uint32_t>, 2> link_ups{};
    const auto publish_link_ups = [&] {
      for (std::size_t i = 0; i < link_ups.size(); ++i) link_ups[i] = links.states()[i].ups;
    };
    publish_link_ups();
    // Next hops found by ARP: written by the workers, watched by the loop below.
    std::array<next_hop, 2> hops;
    hops[0].ip = cfg->lan.next_hop_ip;
    hops[1].ip = cfg->wan.next_hop_ip;
    next_hop_watch hop_watch({hops[0].ip != 0 ? &hops[0] : nullptr,
                              hops[1].ip != 0 ? &hops[1] : nullptr},
                             {"lan port " + cfg->lan.dev, "wan port " + cfg->wan.dev});
    // Workers first: each creates its ipsec-mb manager; the first runs the self-test.
    std::vector<std::unique_ptr<worker>> workers;
    snapshot<group_state> state(cfg->workers);
    crypto::self_test_report report;
    bool ok = true;
    for (uint16_t i = 0; i < cfg->workers && ok; ++i) {
      auto w = std::make_unique<worker>();
      w->index = i;
      w->esp = crypto::esp_lcore::create(cfg->sender_id, static_cast<uint8_t>(i));
      if (!w->esp) {
        std::fprintf(stderr, "gm-dataplane: ipsec-mb could not start (no AES-NI?)\n");
        ok = false;
        break;
      }
      if (i == 0) {
        report = crypto::run_self_test(w->esp->crypto());
        for (const auto& f : report.failures) std::fprintf(stderr, "gm-dataplane: %s\n", f.c_str());
      }
      w->esp->enabled = report.enabled;
      auto side = [&](uint16_t port, const port_config& pc, next_hop& nh,
                      const std::atomic<uint32_t>& ups) {
        port_side s{port, i, {}, pc.next_hop_mac, pc.mss_clamp, pc.ip};
        if (pc.next_hop_ip != 0) s.nh = &nh;
        if (pc.ip != 0) s.link_ups = &ups;
        if (pc.mac) {
          s.src_mac = *pc.mac;
        } else {
          rte_ether_addr a{};
          rte_eth_macaddr_get(port, &a);
          std::memcpy(s.src_mac.data(), a.addr_bytes, 6);
        }
        return s;
      };
      w->lan = side(lan_port, cfg->lan, hops[0], link_ups[0]);
      w->wan = side(wan_port, cfg->wan, hops[1], link_ups[1]);
      w->pool = pool;
      w->idle_backoff = cfg->idle_backoff;
      w->wan_mtu = cfg->mtu;
      w->state = &state;
      w->quit = &g_quit;
      w->clock_ns = monotonic_ns;
      workers.push_back(std::move(w));
    }
    if (!ok) break;
    if (cfg->static_group && !report.is_enabled(cfg->static_group->transform)) {
      std::fprintf(stderr, "gm-dataplane: %s: static_group.transform %s failed its self-test\n",
                   cfg->file.c_str(), crypto::info(cfg->static_group->transform).name.data());
      break;
    }
    // The control side's ipsec-mb manager (key expansion only), apart from the workers'.
    auto ctl_crypto = crypto::crypto_ctx::create();
    group_control control(state, ctl_crypto->mgr(), report.enabled, *cfg);
    if (!control.load_static(monotonic_ns(), err)) {
      std::fprintf(stderr, "gm-dataplane: %s: %s\n", cfg->file.c_str(), err.c_str());
      break;
    }
    const ctrl::rings rings = ctrl::rings::create(cfg->ring_prefix, err);
    if (!err.empty()) {
      std::fprintf(stderr, "gm-dataplane: %s\n", err.c_str());
      break;
    }
    for (auto& w : workers) w->events = &rings;
    const crypto::crypto_ctx& cc = workers.front()->esp->crypto();
    telemetry::crypto_engines engines;
    engines.ipsec_mb_version = imb_get_version_str();
    engines.arch = std::string(crypto::arch_name(cc.architecture()));
    engines.hmac_sha_ni = cc.sha_ni_hash();
    engines.sha1_sha_ni_max_len = crypto::crypto_ctx::sha_ni_max_len(IMB_AUTH_HMAC_SHA_1);
    engines.des3 = cc.des_openssl() ? "openssl" : "ipsec-mb";
    engines.gcm = cc.gcm_on_vaes() ? "vaes-avx2" : "ipsec-mb";
    engines.cbc_sha1 = cc.cbc_sha1_stitched() ? "stitched-sha-ni" : "ipsec-mb";
    engines.cbc_sha1_decrypt = cc.cbc_sha1_decrypt_ours() ? "sha-ni+vaes" : "ipsec-mb";
    for (const auto& t : crypto::transform_table) {
      if (!report.is_enabled(t.id)) engines.disabled.emplace_back(t.name);
    }
    for (const crypto::transform_id id : report.engine_checked) {
      engines.engine_checked.emplace_back(crypto::info(id).name);
    }
    telemetry::set_crypto_engines(engines);
    const worker& w0 = *workers.front();
    telemetry::set_neighbors({cfg->lan.ip, cfg->lan.next_hop_ip, cfg->lan.next_hop_mac,
                              w0.lan.src_mac, w0.lan.nh},
                             {cfg->wan.ip, cfg->wan.next_hop_ip, cfg->wan.next_hop_mac,
                              w0.wan.src_mac, w0.wan.nh});
    telemetry::register_endpoints();
    rte_pdump_init();  // lets dpdk-dumpcap / dpdk-pdump capture both ports
    unsigned lcore = rte_get_next_lcore(-1, 1, 0);
    for (auto& w : workers) {
      if (socket != static_cast<int>(rte_lcore_to_socket_id(lcore))) {
        std::fprintf(stderr, "gm-dataplane: worker %u runs on lcore %u on NUMA node %u, the "
                     "ports and packets are on node %d: every packet crosses between nodes "
                     "(choose lcores of node %d with -l)\n",
                     w->index, lcore, rte_lcore_to_socket_id(lcore), socket, socket);
      }
      rte_eal_remote_launch(worker_main, w.get(), lcore);
      lcore = rte_get_next_lcore(lcore, 1, 0);
    }
    std::fprintf(stderr,
                 "gm-dataplane: %u worker(s) forwarding %s <-> %s; ipsec-mb %s%s; 3DES on %s; "
                 "AES-GCM on %s; AES-CBC-SHA1 on %s, its decryption on %s\n",
                 cfg->workers, cfg->lan.dev.c_str(), cfg->wan.dev.c_str(), engines.arch.c_str(),
                 engines.hmac_sha_ni ? ", short HMAC messages on SHA-NI" : "",
                 engines.des3.c_str(), engines.gcm.c_str(), engines.cbc_sha1.c_str(),
                 engines.cbc_sha1_decrypt.c_str());
    const uint64_t started_ns = monotonic_ns();
    uint64_t loops = 0;
    uint64_t last_rx = 0;
    uint64_t last_change_ns = monotonic_ns();
    uint64_t last_link_poll_ns = monotonic_ns();
    while (!g_quit) {
      ctrl::msg req;
      bool busy = false;
      while (rings.recv_at_dp(req)) {
        busy = true;
        const ctrl::msg ack = control.apply(req, monotonic_ns());
        req.wipe();
        if (!rings.send_from_dp(ack)) {
          std::fprintf(stderr, "gm-dataplane: event ring full; ack %u lost\n", ack.seq);
        }
      }
      state.reclaim();
      if (const uint64_t now = monotonic_ns(); now - last_link_poll_ns >= 500'000'000) {
        last_link_poll_ns = now;
        for (const auto& line : links.poll()) {
          std::fprintf(stderr, "gm-dataplane: %s\n", line.c_str());
        }
        telemetry::set_links(links.states()[0], links.states()[1]);
        publish_link_ups();
        for (const auto& line : hop_watch.poll()) {
          std::fprintf(stderr, "gm-dataplane: %s\n", line.c_str());
        }
      }
      if (!busy) usleep(10'000);
      if (++loops % 10 == 0) {
        refresh_telemetry(workers, *state.read());
      }
      if (opt.duration_s > 0 && monotonic_ns() - started_ns >= opt.duration_s * 1e9) {
        g_quit = true;
      }
      if (opt.exit_when_idle_ms > 0) {
        uint64_t rx = 0;
        for (auto& w : workers) rx += w->lan_counters.rx + w->wan_counters.rx;
        const uint64_t now = monotonic_ns();
        if (rx != last_rx || busy) {
          last_rx = rx;
          last_change_ns = now;
        } else if (now - last_change_ns >= static_cast<uint64_t>(opt.exit_when_idle_ms) * 1'000'000) {
          g_quit = true;
        }
      }
    }
    rte_eal_mp_wait_lcore();
    stats_view view = collect(workers, *state.read());
    view.elapsed_s = static_cast<double>(monotonic_ns() - started_ns) / 1e9;
    std::fputs(format_ipsec_sa(view, *cfg).c_str(), stdout);
    if (!opt.stats_json.empty()) {
      std::ofstream(opt.stats_json) << format_json(view);
    }
    rte_pdump_uninit();
    rc = 0;
  } while (false);
  if (!close_ports(started)) {
    std::fflush(nullptr);
    _exit(rc);
  }
  rte_eal_cleanup();
  return rc;
}
