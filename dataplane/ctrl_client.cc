#include "dataplane/ctrl_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <rte_eal.h>
#include <rte_memzone.h>

namespace gm::ctrl {

client::client(rings r, std::string ring_prefix)
    // Sequence numbers start from the pid so that two processes sharing the ack ring do
    // not take each other's acks.
    : _rings(r), _ring_prefix(std::move(ring_prefix)), _next_seq(static_cast<uint32_t>(getpid()) << 12) {}

std::optional<client> client::attach(const std::string& program, const std::string& file_prefix,
                                     const std::string& ring_prefix, std::string& error) {
  std::vector<std::string> args = {program,
                                   "--proc-type=secondary",
                                   "--file-prefix=" + file_prefix,
                                   "--no-pci",
                                   "--no-telemetry",
                                   "--log-level=lib.eal:error",
                                   "-l",
                                   "0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    error = "cannot attach to the data plane with --file-prefix " + file_prefix +
            " (is gm-dataplane running, with hugepages?)";
    return std::nullopt;
  }
  return from_rings(ring_prefix, error);
}

std::optional<client> client::from_rings(const std::string& ring_prefix, std::string& error) {
  const rings r = rings::lookup(ring_prefix, error);
  if (!error.empty()) {
    return std::nullopt;
  }
  return client(r, ring_prefix);
}

ack_result client::request(msg& m, std::chrono::milliseconds timeout) {
  m.version = msg_version;
  m.seq = ++_next_seq;
  const uint32_t seq = m.seq;
  const bool sent = _rings.send_to_dp(m);
  m.wipe();
  if (!sent) {
    return {ENOBUFS, "request ring full"};
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  msg ack{};
  while (std::chrono::steady_clock::now() < deadline) {
    bool requeued = false;
    while (_rings.recv_from_dp(ack)) {
      if (ack.type == msg_type::ack && ack.seq == seq) {
        ack.u.ack.text[sizeof(ack.u.ack.text) - 1] = '\0';
        return {ack.u.ack.status, ack.u.ack.text};
      }
      // Another process's ack: leave it for its owner and give it time to take it.
      _rings.send_from_dp(ack);
      requeued = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(requeued ? 1 : 2));
  }
  return {ETIMEDOUT, "no answer from the data plane"};
}

ack_result client::replace_policy(const std::vector<ace_rec>& aces,
                                  std::chrono::milliseconds timeout) {
  const std::string name = _ring_prefix + "_pol_" + std::to_string(_next_seq + 1);
  const rte_memzone* mz = rte_memzone_reserve(
      name.c_str(), std::max<std::size_t>(1, aces.size()) * sizeof(ace_rec), SOCKET_ID_ANY, 0);
  if (mz == nullptr) {
    return {ENOMEM, "cannot reserve memzone " + name};
  }
  std::memcpy(mz->addr, aces.data(), aces.size() * sizeof(ace_rec));
  msg m{};
  m.type = msg_type::policy_replace;
  std::snprintf(m.u.policy.memzone, sizeof(m.u.policy.memzone), "%s", name.c_str());
  m.u.policy.count = static_cast<uint32_t>(aces.size());
  ack_result r = request(m, timeout);
  // On a timeout the data plane may still read it later: leaking one memzone then is the
  // safe choice.
  if (r.status != ETIMEDOUT) {
    rte_memzone_free(mz);
  }
  return r;
}

}  // namespace gm::ctrl
