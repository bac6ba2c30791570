#include "dataplane/port_setup.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

namespace gm::dataplane {

namespace {

// What ESP adds in place (outer header in the headroom; pad, trailer, TBAR metadata and ICV
// at the tail) is under 100 bytes; two VLAN tags may come with a frame.
constexpr uint32_t esp_growth = 128;
constexpr uint32_t l2_max = RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN;

std::string at(const port_ref& p) {
  return std::string(p.role) + " port " + p.name;
}

std::string step_failed(const port_ref& p, const char* step, int rc) {
  return at(p) + ": " + step + " failed: " + rte_strerror(rc < 0 ? -rc : rc);
}

bool driver_is(const rte_eth_dev_info& info, const char* name) {
  return info.driver_name != nullptr && std::strcmp(info.driver_name, name) == 0;
}

// A port's link now; a port that cannot say reads as down.
rte_eth_link read(uint16_t port) {
  rte_eth_link l{};
  if (rte_eth_link_get_nowait(port, &l) != 0) l = rte_eth_link{};
  return l;
}

// The largest MTU rte_eth_dev_configure accepts: devices state a frame length, an MTU or
// both, and ethdev derives the L2 overhead from the two (18 bytes when only one is given).
uint32_t max_mtu(const rte_eth_dev_info& info) {
  const uint32_t overhead = info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu
                                ? info.max_rx_pktlen - info.max_mtu
                                : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
  const uint32_t by_frame = info.max_rx_pktlen > overhead ? info.max_rx_pktlen - overhead : 0;
  return std::min<uint32_t>(info.max_mtu, by_frame);
}

}  // namespace

uint32_t mbuf_data_room(uint16_t mtu) {
  const uint32_t need = (mtu + l2_max + esp_growth + 63u) & ~63u;
  return std::max<uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, need);
}

bool setup_port(const port_ref& p, uint16_t queues, uint16_t mtu, rte_mempool* pool,
                std::string& error, std::vector<std::string>& notes) {
  rte_eth_dev_info info{};
  if (const int rc = rte_eth_dev_info_get(p.id, &info); rc != 0) {
    error = step_failed(p, "rte_eth_dev_info_get", rc);
    return false;
  }
  if (queues > info.max_rx_queues || queues > info.max_tx_queues) {
    error = at(p) + ": workers: " + std::to_string(queues) + " needs as many RX and TX queues; " +
            "the device has at most " + std::to_string(info.max_rx_queues) + " RX and " +
            std::to_string(info.max_tx_queues) + " TX" +
            (driver_is(info, "net_pcap") ? " (net_pcap: one rx_pcap/tx_pcap argument per queue)"
                                         : "");
    return false;
  }
  if (const uint32_t most = max_mtu(info); mtu > most || mtu < info.min_mtu) {
    error = at(p) + ": mtu " + std::to_string(mtu) + " is outside the device's range " +
            std::to_string(info.min_mtu) + ".." + std::to_string(most) +
            (driver_is(info, "net_af_packet") ? " (net_af_packet: raise framesz=, e.g. framesz=16384)"
                                              : "");
    return false;
  }
  rte_eth_conf conf{};
  conf.rxmode.mtu = mtu;
  if (queues > 1) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP);
    if (conf.rx_adv_conf.rss_conf.rss_hf == 0) {
      notes.push_back(at(p) + ": no RSS on IP addresses or ports; each RX queue gets what " +
                      "the device puts there, not flows spread by hash");
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
    }
  }
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
    // One pool and reference count 1: every mbuf we send is our own, never a clone.
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  }
  if (const int rc = rte_eth_dev_configure(p.id, queues, queues, &conf); rc != 0) {
    error = step_failed(p, "rte_eth_dev_configure", rc);
    return false;
  }
  uint16_t nrx = 1024, ntx = 1024;
  if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(p.id, &nrx, &ntx); rc != 0) {
    error = step_failed(p, "rte_eth_dev_adjust_nb_rx_tx_desc", rc);
    return false;
  }
  const int socket = rte_eth_dev_socket_id(p.id);
  for (uint16_t q = 0; q < queues; ++q) {
    if (const int rc = rte_eth_rx_queue_setup(p.id, q, nrx, socket, nullptr, pool); rc != 0) {
      error = step_failed(p, ("RX queue " + std::to_string(q) + " setup").c_str(), rc);
      return false;
    }
    if (const int rc = rte_eth_tx_queue_setup(p.id, q, ntx, socket, nullptr); rc != 0) {
      error = step_failed(p, ("TX queue " + std::to_string(q) + " setup").c_str(), rc);
      return false;
    }
  }
  // configure() took the MTU; this also reaches devices that apply it only here (a TAP's
  // kernel interface). Those without an MTU of their own (pcap, ring, null) say ENOTSUP.
  if (const int rc = rte_eth_dev_set_mtu(p.id, mtu); rc != 0 && rc != -ENOTSUP) {
    error = step_failed(p, ("setting mtu " + std::to_string(mtu)).c_str(), rc);
    return false;
  }
  if (const int rc = rte_eth_dev_start(p.id); rc != 0) {
    error = step_failed(p, "rte_eth_dev_start", rc);
    return false;
  }
  if (const int rc = rte_eth_promiscuous_enable(p.id); rc != 0 && rc != -ENOTSUP) {
    notes.push_back(at(p) + ": promiscuous mode refused (" + rte_strerror(-rc) +
                    "); only frames to the port's own MAC arrive");
  }
  return true;
}

bool close_ports(const std::vector<uint16_t>& started) {
  // A closed memif port's control channel is unregistered on EAL's interrupt thread only
  // when its socket next has an event, e.g. the peer's exit, at any time later. In 22.11
  // nothing stops that thread first: neither rte_eal_cleanup(), which frees the heaps, nor
  // the libraries' exit destructors. Two memif peers stopping together crashed (SIGSEGV in
  // that thread) in ~1 exit of 4 with rte_eal_cleanup(), ~1 of 16 with only the destructors,
  // and in none of 60 with _exit(). So with a memif port the process leaves with _exit()
  // once its output is flushed: the kernel frees the memory and closes the sockets anyway.
  bool memif = false;
  uint16_t port = 0;
  RTE_ETH_FOREACH_DEV(port) {
    rte_eth_dev_info info{};
    memif = memif || (rte_eth_dev_info_get(port, &info) == 0 && driver_is(info, "net_memif"));
    if (std::find(started.begin(), started.end(), port) != started.end()) {
      rte_eth_dev_stop(port);
    }
    rte_eth_dev_close(port);
  }
  return !memif;
}

link_watch::link_watch(std::vector<port_ref> ports)
    : _ports(std::move(ports)), _states(_ports.size()) {
  for (std::size_t i = 0; i < _ports.size(); ++i) {
    _states[i].up = read(_ports[i].id).link_status == RTE_ETH_LINK_UP;
    _states[i].ups = _states[i].up ? 1 : 0;
  }
}

bool link_watch::all_up() const {
  return std::all_of(_states.begin(), _states.end(), [](const link_state& s) { return s.up; });
}

std::vector<std::string> link_watch::wait_up(unsigned timeout_ms, const std::atomic<bool>& quit) {
  constexpr unsigned step_ms = 20;
  std::vector<rte_eth_link> links(_ports.size());
  for (unsigned waited = 0;; waited += step_ms) {
    for (std::size_t i = 0; i < _ports.size(); ++i) {
      links[i] = read(_ports[i].id);
      const bool up = links[i].link_status == RTE_ETH_LINK_UP;
      _states[i].ups += up && !_states[i].up ? 1 : 0;
      _states[i].up = up;
    }
    if (all_up() || waited >= timeout_ms || quit) break;
    usleep(step_ms * 1000);
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < _ports.size(); ++i) {
    const rte_eth_link& l = links[i];
    std::string text = "link down";
    if (l.link_status == RTE_ETH_LINK_UP) {
      text = "link up";
      if (l.link_speed != RTE_ETH_SPEED_NUM_NONE && l.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN) {
        text += ", " + std::to_string(l.link_speed) + " Mb/s";
      }
      text += l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? ", full duplex" : ", half duplex";
    }
    lines.push_back(at(_ports[i]) + ": " + text);
  }
  return lines;
}

std::vector<std::string> link_watch::poll() {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < _ports.size(); ++i) {
    const bool up = read(_ports[i].id).link_status == RTE_ETH_LINK_UP;
    if (up == _states[i].up) continue;
    _states[i].up = up;
    ++_states[i].changes;
    _states[i].ups += up ? 1 : 0;
    lines.push_back("%LINK-3-UPDOWN: " + at(_ports[i]) + ", changed state to " +
                    (up ? "up" : "down"));
  }
  return lines;
}

}  // namespace gm::dataplane
