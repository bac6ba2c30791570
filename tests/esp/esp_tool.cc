// gm-esp-tool: runs the ESP engine over the Ethernet frames of a pcap file, so that
// independent implementations (scapy, tshark) can check what it writes and feed it what
// they write. One line per input frame on stdout: "<index> ok" or "<index> drop <reason>".
//
//   gm-esp-tool encrypt|decrypt --transform NAME --key HEX [--auth-key HEX] --spi N
//               [--df copy|set|clear] [--ttl N] [--tbar --pseudotime-ms N --sender-id N]
//               IN.pcap OUT.pcap
#include <pcap/pcap.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rte_eal.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "crypto/esp_decrypt.h"
#include "crypto/esp_encrypt.h"
#include "crypto/self_test.h"
#include "dataplane/pkt_meta.h"

namespace {

using namespace gm::crypto;

constexpr uint32_t eth_len = 14;
constexpr uint16_t tool_burst = 32;

struct options {
  bool encrypt = false;
  transform_id xf = transform_id::count;
  std::vector<uint8_t> key;
  std::vector<uint8_t> auth_key;
  uint32_t spi = 0;
  bool have_spi = false;
  df_mode df = df_mode::copy;
  int16_t ttl = -1;
  bool tbar = false;
  uint64_t pseudotime_ms = 0;
  uint32_t sender_id = 0;
  std::string in_path;
  std::string out_path;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "gm-esp-tool: %s\n"
               "usage: gm-esp-tool encrypt|decrypt --transform NAME --key HEX [--auth-key HEX]\n"
               "         --spi N [--df copy|set|clear] [--ttl N]\n"
               "         [--tbar --pseudotime-ms N --sender-id N] IN.pcap OUT.pcap\n"
               "transforms:",
               why);
  for (const auto& t : transform_table) {
    std::fprintf(stderr, " %.*s", static_cast<int>(t.name.size()), t.name.data());
  }
  std::fprintf(stderr, "\n");
  std::exit(2);
}

uint64_t parse_uint(const char* s, uint64_t max, const char* what) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-') {
    usage((std::string("bad ") + what + ": " + s).c_str());
  }
  return v;
}

options parse(int argc, char** argv) {
  options o;
  if (argc < 2) {
    usage("missing command");
  }
  const std::string_view cmd = argv[1];
  if (cmd == "encrypt") {
    o.encrypt = true;
  } else if (cmd != "decrypt") {
    usage("command must be encrypt or decrypt");
  }
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage((std::string("missing value for ") + argv[i]).c_str());
      }
      return argv[++i];
    };
    if (a == "--transform") {
      const auto xf = transform_from_name(value());
      if (!xf) {
        usage((std::string("unknown transform: ") + argv[i]).c_str());
      }
      o.xf = *xf;
    } else if (a == "--key") {
      if (!from_hex(value(), o.key)) {
        usage("--key is not hex");
      }
    } else if (a == "--auth-key") {
      if (!from_hex(value(), o.auth_key)) {
        usage("--auth-key is not hex");
      }
    } else if (a == "--spi") {
      o.spi = static_cast<uint32_t>(parse_uint(value(), UINT32_MAX, "--spi"));
      o.have_spi = true;
    } else if (a == "--df") {
      const std::string_view v = value();
      if (v == "copy") {
        o.df = df_mode::copy;
      } else if (v == "set") {
        o.df = df_mode::set;
      } else if (v == "clear") {
        o.df = df_mode::clear;
      } else {
        usage("--df must be copy, set or clear");
      }
    } else if (a == "--ttl") {
      o.ttl = static_cast<int16_t>(parse_uint(value(), 255, "--ttl"));
    } else if (a == "--tbar") {
      o.tbar = true;
    } else if (a == "--pseudotime-ms") {
      o.pseudotime_ms = parse_uint(value(), UINT64_MAX, "--pseudotime-ms");
    } else if (a == "--sender-id") {
      o.sender_id = static_cast<uint32_t>(parse_uint(value(), UINT32_MAX, "--sender-id"));
    } else if (a.starts_with("--")) {
      usage((std::string("unknown option ") + argv[i]).c_str());
    } else {
      positional.emplace_back(a);
    }
  }
  if (o.xf == transform_id::count) {
    usage("--transform is required");
  }
  if (!o.have_spi) {
    usage("--spi is required");
  }
  if (positional.size() != 2) {
    usage("need IN.pcap and OUT.pcap");
  }
  o.in_path = positional[0];
  o.out_path = positional[1];
  return o;
}

// The frame's input index rides in a dynamic field of our own: the burst functions reorder
// good and bad packets, and the engine's pkt_meta is theirs to write.
int g_index_offset = -1;

uint32_t& frame_index(rte_mbuf* m) { return *RTE_MBUF_DYNFIELD(m, g_index_offset, uint32_t*); }

bool start_eal() {
  rte_openlog_stream(stderr);  // stdout carries the per-frame report
  std::string prefix = "--file-prefix=gm-esp-tool-" + std::to_string(getpid());
  // --no-huge implies --legacy-mem, which EAL refuses beside --in-memory; --no-shconf
  // gives the same "no files left behind" here.
  std::vector<std::string> args = {
      "gm-esp-tool", "--no-huge", "-m", "256", "--no-pci", "--no-shconf", prefix, "-l", "0",
      "--log-level=*:error", "--no-telemetry",
  };
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "gm-esp-tool: rte_eal_init failed\n");
    return false;
  }
  static const rte_mbuf_dynfield desc = {
      .name = "gm_esp_tool_index",
      .size = sizeof(uint32_t),
      .align = alignof(uint32_t),
      .flags = 0,
  };
  g_index_offset = rte_mbuf_dynfield_register(&desc);
  if (!gm::pkt_meta_register() || g_index_offset < 0) {
    std::fprintf(stderr, "gm-esp-tool: cannot register mbuf dynamic fields\n");
    return false;
  }
  return true;
}

struct frame {
  pcap_pkthdr hdr;
  std::vector<uint8_t> eth;  // the Ethernet header, put back on output
};

class runner {
 public:
  runner(const options& o, esp_lcore& lc, const esp_sa& sa, rte_mempool* pool, pcap_dumper_t* out)
      : _o(o), _lc(lc), _sa(sa), _pool(pool), _out(out) {
    _table.sas[0] = &sa;
    _table.count = 1;
  }

  /// Queues one input frame; runs a burst when full. Returns false on a fatal error.
  bool add(const pcap_pkthdr& hdr, const uint8_t* data) {
    if (hdr.caplen < eth_len) {
      return tool_drop("runt_frame");  // no Ethernet header to strip
    }
    const uint32_t ip_len = hdr.caplen - eth_len;
    if (ip_len + RTE_PKTMBUF_HEADROOM > UINT16_MAX) {
      return tool_drop("oversize_frame");
    }
    rte_mbuf* m = rte_pktmbuf_alloc(_pool);
    if (m == nullptr) {
      std::fprintf(stderr, "gm-esp-tool: mbuf pool exhausted\n");
      return false;
    }
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(ip_len));
    if (d == nullptr) {
      rte_pktmbuf_free(m);
      return tool_drop("oversize_frame");
    }
    std::memcpy(d, data + eth_len, ip_len);
    frame_index(m) = _next_index++;
    _frames.push_back({hdr, std::vector<uint8_t>(data, data + eth_len)});
    _pkts[_n++] = m;
    if (_n == tool_burst) {
      return run_burst();
    }
    return true;
  }

  bool finish() { return run_burst(); }

 private:
  // A frame the tool itself refuses, before the engine sees it; earlier frames report first.
  bool tool_drop(const char* why) {
    if (!run_burst()) {
      return false;
    }
    std::printf("%" PRIu32 " drop %s\n", _next_index++, why);
    _first_index = _next_index;
    return true;
  }

  bool run_burst() {
    if (_n == 0) {
      return true;
    }
    const uint16_t good = _o.encrypt ? esp_encrypt_burst(_lc, _sa, _pkts, _n, _o.pseudotime_ms)
                                     : esp_decrypt_burst(_lc, _table.lookup(), _pkts, _n);
    // Back to input order: the burst moved the failures behind the good packets.
    std::vector<rte_mbuf*> by_index(_n, nullptr);
    std::vector<bool> ok(_n, false);
    const uint32_t base = _first_index;
    for (uint16_t i = 0; i < _n; ++i) {
      const uint32_t slot = frame_index(_pkts[i]) - base;
      if (slot >= _n || by_index[slot] != nullptr) {
        std::fprintf(stderr, "gm-esp-tool: burst returned an unknown mbuf\n");
        return false;
      }
      by_index[slot] = _pkts[i];
      ok[slot] = i < good;
    }
    for (uint16_t i = 0; i < _n; ++i) {
      rte_mbuf* m = by_index[i];
      const frame& f = _frames[i];
      if (!ok[i]) {
        const auto& r = gm::info(gm::meta(m)->reason);
        std::printf("%" PRIu32 " drop %.*s\n", base + i, static_cast<int>(r.name.size()),
                    r.name.data());
        rte_pktmbuf_free(m);
        continue;
      }
      const gm::pkt_meta* pm = gm::meta(m);
      if (!_o.encrypt && pm->has_tbar) {
        std::printf("%" PRIu32 " ok pseudotime_ms=%" PRIu64 " sender_id=%" PRIu32 "\n", base + i,
                    pm->pseudotime_ms, pm->sender_id);
      } else {
        std::printf("%" PRIu32 " ok\n", base + i);
      }
      const uint32_t len = rte_pktmbuf_data_len(m);
      std::vector<uint8_t> out(eth_len + len);
      std::memcpy(out.data(), f.eth.data(), eth_len);
      std::memcpy(out.data() + eth_len, rte_pktmbuf_mtod(m, const uint8_t*), len);
      pcap_pkthdr h = f.hdr;
      h.caplen = h.len = static_cast<uint32_t>(out.size());
      pcap_dump(reinterpret_cast<u_char*>(_out), &h, out.data());
      rte_pktmbuf_free(m);
    }
    _n = 0;
    _frames.clear();
    _first_index = _next_index;
    return true;
  }

  const options& _o;
  esp_lcore& _lc;
  const esp_sa& _sa;
  rte_mempool* _pool;
  pcap_dumper_t* _out;
  sa_table _table;
  rte_mbuf* _pkts[tool_burst] = {};
  uint16_t _n = 0;
  std::vector<frame> _frames;
  uint32_t _first_index = 0;
  uint32_t _next_index = 0;
};

int run_with_eal(const options& o, rte_mempool* pool) {
  auto lc = esp_lcore::create(o.sender_id, 0);
  if (!lc) {
    std::fprintf(stderr, "gm-esp-tool: cannot start the crypto context\n");
    return 1;
  }
  const self_test_report st = run_self_test(lc->crypto());
  lc->enabled = st.enabled;
  if (!st.failures.empty()) {
    for (const auto& f : st.failures) {
      std::fprintf(stderr, "gm-esp-tool: self-test: %s\n", f.c_str());
    }
    return 1;
  }

  auto sa = std::make_unique<esp_sa>();
  const key_error ke = sa->keys.init(lc->crypto().mgr(), o.xf, o.key, o.auth_key);
  if (ke != key_error::none) {
    const transform_info& t = info(o.xf);
    std::fprintf(stderr, "gm-esp-tool: %s: --key must be %u bytes%s, --auth-key %u bytes\n",
                 std::string(t.name).c_str(), t.key_len + t.salt_len,
                 t.salt_len != 0 ? " (key||salt)" : "", t.auth_key_len);
    return 2;
  }
  sa->spi = o.spi;
  sa->slot = 0;
  sa->df = o.df;
  sa->ttl = o.ttl;
  sa->tbar = o.tbar;

  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* in = pcap_open_offline(o.in_path.c_str(), err);
  if (in == nullptr) {
    std::fprintf(stderr, "gm-esp-tool: %s: %s\n", o.in_path.c_str(), err);
    return 1;
  }
  if (pcap_datalink(in) != DLT_EN10MB) {
    std::fprintf(stderr, "gm-esp-tool: %s: not an Ethernet capture\n", o.in_path.c_str());
    pcap_close(in);
    return 1;
  }
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* out = dead != nullptr ? pcap_dump_open(dead, o.out_path.c_str()) : nullptr;
  if (out == nullptr) {
    std::fprintf(stderr, "gm-esp-tool: %s: %s\n", o.out_path.c_str(),
                 dead != nullptr ? pcap_geterr(dead) : "pcap_open_dead failed");
    pcap_close(in);
    if (dead != nullptr) {
      pcap_close(dead);
    }
    return 1;
  }

  runner r(o, *lc, *sa, pool, out);
  bool fine = true;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while (fine && (rc = pcap_next_ex(in, &hdr, &data)) == 1) {
    fine = r.add(*hdr, data);
  }
  if (fine) {
    fine = r.finish();
  }
  if (rc == PCAP_ERROR) {
    std::fprintf(stderr, "gm-esp-tool: %s: %s\n", o.in_path.c_str(), pcap_geterr(in));
    fine = false;
  }
  pcap_dump_close(out);
  pcap_close(dead);
  pcap_close(in);
  std::fflush(stdout);
  return fine ? 0 : 1;
}

int run(const options& o) {
  if (!start_eal()) {
    return 1;
  }
  // Data room for the largest IPv4 packet plus the ESP overhead and headroom.
  rte_mempool* pool =
      rte_pktmbuf_pool_create("gm_esp_tool", 2 * tool_burst - 1, 0, 0, UINT16_MAX, SOCKET_ID_ANY);
  int rc = 1;
  if (pool == nullptr) {
    std::fprintf(stderr, "gm-esp-tool: cannot create the mbuf pool\n");
  } else {
    rc = run_with_eal(o, pool);  // the SA's keys are wiped when its esp_sa dies in there
    rte_mempool_free(pool);
  }
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(runtime_dir.c_str());  // empty with --no-shconf; one per pid otherwise piles up
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  options o = parse(argc, argv);
  const int rc = run(o);
  for (auto* v : {&o.key, &o.auth_key}) {
    if (!v->empty()) {
      explicit_bzero(v->data(), v->size());
    }
  }
  return rc;
}
