// gm-dataplane's YAML configuration. Loading validates everything before any port is
// touched; an error names the file, line and field.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "classifier/policy.h"
#include "crypto/esp_sa.h"
#include "crypto/transform.h"

namespace gm::dataplane {

enum class migration_mode : uint8_t { normal, receive_only, passive };
enum class replay_mode : uint8_t { none, time, counter };

struct port_config {
  std::string dev;                        ///< ethdev name as EAL knows it, e.g. net_pcap0
  std::array<uint8_t, 6> next_hop_mac{};  ///< destination MAC of frames we send
  uint32_t next_hop_ip = 0;  ///< network order; nonzero: next_hop_mac is found by ARP
  std::optional<std::array<uint8_t, 6>> mac;  ///< source MAC; default: the port's own
  uint16_t mss_clamp = 0;                 ///< 0 = off; clamps TCP SYNs arriving on this port
  uint32_t ip = 0;  ///< our address on this port (network order): ICMP, ARP answers
};

struct static_sa_config {
  crypto::transform_id transform = crypto::transform_id::aes_gcm_128;
  uint32_t spi = 0;
  std::vector<uint8_t> key;       ///< cipher key (GCM: key||salt)
  int key_line = 0;               ///< line of `key:` in the file, for errors
  std::vector<uint8_t> auth_key;  ///< HMAC key
  replay_mode replay = replay_mode::time;
  uint32_t window = 4;            ///< seconds (time) or packets (counter)
  uint64_t pseudotime_ms = 0;     ///< initial group pseudotime
  std::vector<classifier::ace> acl;  ///< the KS-style ACL this SA protects
};

struct config {
  std::string file;
  port_config lan;
  port_config wan;
  uint16_t mtu = 1500;
  uint16_t workers = 1;
  uint32_t link_wait_ms = 10'000;  ///< how long start-up waits for both links to come up
  bool idle_backoff = true;
  crypto::df_mode df = crypto::df_mode::copy;
  uint32_t sender_id = 1;
  migration_mode migration = migration_mode::normal;
  std::vector<classifier::ace> local_acl;
  std::optional<static_sa_config> static_group;
  std::string ring_prefix = "gm";  ///< names of the control rings
};

/// Loads and validates `path`. On failure returns nullopt and sets `error` to
/// "<file>:<line>: <field>: <what is wrong>".
std::optional<config> load_config(const std::string& path, std::string& error);

/// Same, from YAML text (for tests); `name` stands in for the file name in errors.
std::optional<config> parse_config(const std::string& yaml, const std::string& name,
                                   std::string& error);

}  // namespace gm::dataplane
