// gm-dpctl: drives a running gm-dataplane through its control rings, as the GDOI control
// process will: a DPDK secondary process that sends one request and waits for its ack.
//
//   gm-dpctl --file-prefix P [EAL args] -- [--ring-prefix gm] COMMAND [options]
//     sa-add --spi N --transform T --key HEX [--auth-key HEX] [--policy-index I]
//            [--replay time|counter|none] [--window N] [--df copy|set|clear]
//     activate --spi N          outbound traffic of the SA's policy index uses it now
//     sa-del --spi N
//     policy --file F           one IOS ACE per line; "local " before an ACE marks the
//                               GM's local deny ACL; "permit" protects with SA index 0
//                               ("permit@2 ..." for index 2)
//     pseudotime --ms N [--window-ms W]
//     flush
//     events --seconds S        print unknown-SPI and TBAR-failure events as they come
#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rte_eal.h>

#include "classifier/policy.h"
#include "crypto/self_test.h"
#include "crypto/transform.h"
#include "dataplane/ctrl_client.h"

namespace {

using namespace gm;

int usage() {
  std::fprintf(stderr,
               "usage: gm-dpctl --file-prefix P [EAL args] -- [--ring-prefix gm] COMMAND ...\n"
               "  sa-add --spi N --transform T --key HEX [--auth-key HEX] [--policy-index I]\n"
               "         [--replay time|counter|none] [--window N] [--df copy|set|clear]\n"
               "  activate --spi N | sa-del --spi N | policy --file F |\n"
               "  pseudotime --ms N [--window-ms W] | flush | events --seconds S\n");
  return 2;
}

bool hex(const std::string& s, uint8_t* out, std::size_t cap, uint8_t& len) {
  std::vector<uint8_t> v;
  if (!crypto::from_hex(s, v) || v.size() > cap) return false;
  std::memcpy(out, v.data(), v.size());
  len = static_cast<uint8_t>(v.size());
  return true;
}

bool read_policy(const std::string& path, std::vector<ctrl::ace_rec>& out, std::string& err) {
  std::ifstream in(path);
  if (!in) {
    err = path + ": cannot open";
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool local = false;
    uint32_t sa_index = 0;
    std::size_t start = line.find_first_not_of(" \t");
    if (line.compare(start, 6, "local ") == 0) {
      local = true;
      start += 6;
    }
    std::string ace_text = line.substr(start);
    if (ace_text.rfind("permit@", 0) == 0) {
      const auto sp = ace_text.find(' ');
      sa_index = static_cast<uint32_t>(std::stoul(ace_text.substr(7, sp - 7)));
      ace_text = "permit" + ace_text.substr(sp);
    }
    classifier::ace a;
    const std::string e = classifier::parse_ace(ace_text, sa_index, a);
    if (!e.empty()) {
      err = path + ":" + std::to_string(lineno) + ": " + e;
      return false;
    }
    out.push_back(ctrl::ace_record(a, local));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int sep = 1;
  while (sep < argc && std::strcmp(argv[sep], "--") != 0) ++sep;
  std::vector<std::string> args(argv + std::min(sep + 1, argc), argv + argc);
  std::string ring_prefix = "gm";
  if (args.size() >= 2 && args[0] == "--ring-prefix") {
    ring_prefix = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) return usage();
  const std::string cmd = args[0];
  std::map<std::string, std::string> opt;
  for (std::size_t i = 1; i + 1 < args.size(); i += 2) {
    if (args[i].rfind("--", 0) != 0) return usage();
    opt[args[i].substr(2)] = args[i + 1];
  }
  if ((args.size() - 1) % 2 != 0) return usage();

  // A secondary process: it maps the primary's memory, touches no port.
  std::vector<char*> eal(argv, argv + sep);
  std::string sec = "--proc-type=secondary", nopci = "--no-pci", log = "--log-level=lib.eal:error";
  eal.push_back(sec.data());
  eal.push_back(nopci.data());
  eal.push_back(log.data());
  if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
    std::fprintf(stderr, "gm-dpctl: cannot attach to the data plane (is gm-dataplane running "
                         "with the same --file-prefix?)\n");
    return 1;
  }
  std::string err;
  std::optional<ctrl::client> dp = ctrl::client::from_rings(ring_prefix, err);
  if (!dp) {
    std::fprintf(stderr, "gm-dpctl: %s\n", err.c_str());
    rte_eal_cleanup();
    return 1;
  }
  if (cmd == "events") {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<long>(
                           1000 * std::stod(opt.count("seconds") ? opt["seconds"] : "5")));
    unsigned count = 0;
    while (std::chrono::steady_clock::now() < until) {
      ctrl::msg ev{};
      if (!dp->poll_event(ev)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      ++count;
      char src[INET_ADDRSTRLEN] = "?", dst[INET_ADDRSTRLEN] = "?";
      if (ev.type == ctrl::msg_type::event_unknown_spi) {
        inet_ntop(AF_INET, &ev.u.unknown_spi.src, src, sizeof src);
        inet_ntop(AF_INET, &ev.u.unknown_spi.dst, dst, sizeof dst);
        std::printf("%%CRYPTO-4-RECVD_PKT_INV_SPI: spi 0x%X src %s dst %s\n",
                    ev.u.unknown_spi.spi, src, dst);
      } else if (ev.type == ctrl::msg_type::event_tbar_fail) {
        inet_ntop(AF_INET, &ev.u.tbar_fail.src, src, sizeof src);
        std::printf("%%GDOI-4-TIMEBASED_REPLAY_FAILED: src %s my_pseudotime %.2f secs, "
                    "peer_pseudotime %.2f secs, replay_window %u secs\n",
                    src, ev.u.tbar_fail.my_pt_ms / 1000.0, ev.u.tbar_fail.peer_pt_ms / 1000.0,
                    ev.u.tbar_fail.window_ms / 1000);
      }
      std::fflush(stdout);
    }
    std::printf("%u events\n", count);
    rte_eal_cleanup();
    return 0;
  }
  ctrl::msg m{};
  std::vector<ctrl::ace_rec> recs;
  auto num = [&](const char* k, uint64_t dflt) -> uint64_t {
    return opt.count(k) ? std::stoull(opt[k], nullptr, 0) : dflt;
  };
  try {
    if (cmd == "sa-add") {
      m.type = ctrl::msg_type::sa_add;
      auto& b = m.u.sa_add;
      const auto xf = crypto::transform_from_name(opt["transform"]);
      if (!xf || !opt.count("spi") || !opt.count("key")) return usage();
      b.spi = static_cast<uint32_t>(num("spi", 0));
      b.transform = static_cast<uint8_t>(*xf);
      b.policy_index = static_cast<uint32_t>(num("policy-index", 0));
      const std::string replay = opt.count("replay") ? opt["replay"] : "time";
      b.replay_mode = static_cast<uint8_t>(replay == "time"      ? ctrl::replay::time
                                           : replay == "counter" ? ctrl::replay::counter
                                                                 : ctrl::replay::none);
      b.window = static_cast<uint32_t>(num("window", replay == "time" ? 4000 : 64));
      const std::string df = opt.count("df") ? opt["df"] : "copy";
      b.df = df == "set" ? 1 : df == "clear" ? 2 : 0;
      if (!hex(opt["key"], b.key, sizeof(b.key), b.key_len) ||
          (opt.count("auth-key") &&
           !hex(opt["auth-key"], b.auth_key, sizeof(b.auth_key), b.auth_key_len))) {
        std::fprintf(stderr, "gm-dpctl: keys must be hex\n");
        return 2;
      }
    } else if (cmd == "activate" || cmd == "sa-del") {
      m.type = cmd == "activate" ? ctrl::msg_type::sa_activate_outbound : ctrl::msg_type::sa_del;
      if (!opt.count("spi")) return usage();
      m.u.spi.spi = static_cast<uint32_t>(num("spi", 0));
    } else if (cmd == "pseudotime") {
      m.type = ctrl::msg_type::pseudotime_sync;
      m.u.pt = {num("ms", 0), static_cast<uint32_t>(num("window-ms", 4000))};
    } else if (cmd == "flush") {
      m.type = ctrl::msg_type::flush;
    } else if (cmd == "policy") {
      if (!read_policy(opt["file"], recs, err)) {
        std::fprintf(stderr, "gm-dpctl: %s\n", err.c_str());
        return 1;
      }
      m.type = ctrl::msg_type::policy_replace;
    } else {
      return usage();
    }
  } catch (const std::exception&) {
    std::fprintf(stderr, "gm-dpctl: bad number\n");
    return 2;
  }
  const ctrl::ack_result r = m.type == ctrl::msg_type::policy_replace
                                ? dp->replace_policy(recs, std::chrono::seconds(10))
                                : dp->request(m, std::chrono::seconds(10));
  int rc = 1;
  if (r.status == ETIMEDOUT) {
    std::fprintf(stderr, "gm-dpctl: no answer from the data plane within 10 s\n");
  } else if (!r.ok()) {
    std::fprintf(stderr, "gm-dpctl: %s refused: %s (%s)\n", cmd.c_str(), r.text.c_str(),
                 std::strerror(r.status));
  } else {
    std::printf("%s: ok%s%s\n", cmd.c_str(), r.text.empty() ? "" : ": ", r.text.c_str());
    rc = 0;
  }
  rte_eal_cleanup();
  return rc;
}
