// Brings up a DPDK EAL once per test binary: no hugepages, no PCI, in-memory, its own
// file prefix, one lcore; plus a small mbuf pool. Safe to run beside other DPDK processes.
#pragma once

#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/pkt_meta.h"

namespace gm::test {

inline rte_mempool* g_pool = nullptr;

class eal_env : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string prefix = "--file-prefix=gmtest-" + std::to_string(getpid());
    std::vector<std::string> args = {"gm-test", "--no-huge", "-m", "128", "--no-pci",
                                     "--no-shconf", prefix, "-l", "0", "--log-level=lib.eal:error",
                                     "--no-telemetry"};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << "rte_eal_init";
    ASSERT_TRUE(pkt_meta_register());
    g_pool = rte_pktmbuf_pool_create("gm_test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     SOCKET_ID_ANY);
    ASSERT_NE(g_pool, nullptr);
  }
  void TearDown() override {
    rte_mempool_free(g_pool);
    rte_eal_cleanup();
  }
};

}  // namespace gm::test
