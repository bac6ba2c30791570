// main() for the GoogleTest binaries that need a DPDK EAL (see test_eal.h).
#include <gtest/gtest.h>

#include "tests/test_eal.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new gm::test::eal_env);
  return RUN_ALL_TESTS();
}
