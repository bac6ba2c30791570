// gm-control's configuration: one GDOI group as IOS configures a GM (`crypto gdoi group`,
// `crypto isakmp policy`/`key`, the crypto map's local ACL), plus where the data plane,
// the operator socket, the log collector and the metrics live. Reference:
// docs/gm-control-config.md. Errors: `file:line: field: what`, before anything starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "classifier/policy.h"
#include "control/byte_io.h"
#include "control/phase1_sa.h"
#include "crypto/transform.h"

namespace gm::control::gmd {

struct endpoint {
  uint32_t addr = 0;  ///< host order
  uint16_t port = 0;
};

struct gm_config {
  std::string group_name;
  uint32_t identity = 0;
  std::vector<uint32_t> servers;  ///< KS addresses in failover order (host order)
  uint16_t server_port = 848;
  uint32_t local_address = 0;
  uint16_t local_port = 848;
  std::string psk_file;
  key_bytes psk;
  std::vector<phase1_policy> phase1;
  std::vector<std::string> local_acl_text;
  std::vector<classifier::ace> local_acl;
  std::string migration = "none";  ///< shown only: the data plane's config applies it
  std::string file_prefix;          ///< gm-dataplane's --file-prefix; empty: no data plane
  std::string ring_prefix = "gm";
  std::string socket = "/run/gm/gm-control.sock";
  std::string socket_group;
  std::string log_collector;  ///< "A.B.C.D:port"; empty: stderr only
  bool log_stderr = true;
  std::size_t event_trace_size = 512;
  std::optional<endpoint> prometheus;
  std::vector<crypto::transform_id> allowed_transforms;  ///< default: every transform
  bool request_sender_id = true;
  uint16_t sender_id = 0;  ///< used without a KS-allocated one; 0: low 16 bits of our address
  // Timers (seconds; small values for tests).
  uint32_t retransmit_s = 2;       ///< first retransmission; doubles each time
  uint32_t retransmit_count = 3;   ///< then the next KS
  uint32_t retry_all_s = 10;       ///< after every KS failed, start over after this
  uint32_t reregister_before_s = 60;  ///< re-register this long before TEK/KEK expiry
  uint32_t activation_delay_s = 2;    ///< outbound switch after a rekey without GAP ATD
  uint32_t reject_backoff_s = 300;    ///< after a refused policy, wait before registering again
  std::string interface = "WAN";      ///< shown in show output
};

/// Loads and checks `path`. Empty optional with `error` = "file:line: field: what".
std::optional<gm_config> load_gm_config(const std::string& path, std::string& error);

}  // namespace gm::control::gmd
