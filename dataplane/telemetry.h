// DPDK telemetry endpoints under /gm/ (read them with dpdk-telemetry.py): every counter
// per port, per SA, per lcore and per drop reason. The control loop refreshes a summed
// copy of the counters; telemetry callbacks only read that copy, never worker state.
#pragma once

#include <string>
#include <vector>

#include "dataplane/neighbor.h"
#include "dataplane/port_setup.h"
#include "dataplane/stats.h"

namespace gm::dataplane::telemetry {

/// Which code runs the crypto on this CPU (the same for every worker), for /gm/crypto.
struct crypto_engines {
  std::string ipsec_mb_version;
  std::string arch;            ///< ipsec-mb manager: SSE, AVX, AVX2, AVX512
  bool hmac_sha_ni = false;    ///< short HMAC messages on the SHA-NI (SSE) manager
  /// HMAC-SHA1 jobs up to this length go to ipsec-mb's SHA-NI manager. Where our CBC-SHA1
  /// engines run (cbc_sha1 below), these are null-sha1's and 3des-sha1's jobs only.
  uint32_t sha1_sha_ni_max_len = 0;
  std::string des3;            ///< "openssl" or "ipsec-mb"
  std::string gcm;             ///< "vaes-avx2" (crypto/gcm_vaes) or "ipsec-mb"
  std::string cbc_sha1;        ///< "stitched-sha-ni" (crypto/cbc_sha1_shani) or "ipsec-mb"
  /// "sha-ni+vaes" (cbc_sha1::decrypt) or "ipsec-mb"
  std::string cbc_sha1_decrypt;
  std::vector<std::string> disabled;  ///< transforms the start-up self-test disabled
  /// Transforms whose own engine the start-up self-test checked against ipsec-mb on ESP
  /// packets, and which passed (crypto::self_test_report::engine_checked)
  std::vector<std::string> engine_checked;
};

/// Registers /gm/ports, /gm/neighbors, /gm/sa, /gm/drops, /gm/replay, /gm/lcores,
/// /gm/crypto. Call once after EAL init.
void register_endpoints();

/// Publishes what /gm/crypto answers (once, at start-up).
void set_crypto_engines(const crypto_engines& e);

/// The LAN and WAN links as the main loop last saw them (link_watch), for /gm/ports.
void set_links(const link_state& lan, const link_state& wan);

/// A port's addresses and next hop, for /gm/neighbors.
struct neighbor_view {
  uint32_t ip = 0;           ///< ours (network order), 0 = none
  uint32_t next_hop_ip = 0;  ///< 0: the next hop's MAC is static
  std::array<uint8_t, 6> static_mac{};
  std::array<uint8_t, 6> mac{};  ///< the MAC we send from and answer ARP with
  const next_hop* nh = nullptr;  ///< where ARP resolves it (next_hop_ip set)
};

/// Sets what /gm/neighbors reports besides the counters (once, at start-up).
void set_neighbors(const neighbor_view& lan, const neighbor_view& wan);

/// Publishes a fresh view (called from the control loop, e.g. every 100 ms).
void update(const stats_view& total, const std::vector<stats_view>& per_lcore);

}  // namespace gm::dataplane::telemetry
