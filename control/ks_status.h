// What the lab KS's operator commands print, as plain data. gm-ks fills a ks_status;
// show_ks.h renders it as IOS text or JSON. Same conventions as gm_status.h: IPv4 in host
// order, whole seconds, pseudotime in milliseconds, no behaviour.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/gm_status.h"

namespace gm::control {

enum class member_state : uint8_t { registered, rekey_pending, removed };

/// One GM the KS knows (`show crypto gdoi ks members`).
struct ks_member_status {
  uint32_t addr = 0;
  std::string version = "1.0.4";
  uint32_t group_id = 0;
  std::string group_name;
  uint32_t ks_addr = 0;               ///< the KS the GM registered with
  std::string registered_at;          ///< wall-clock time of the registration, IOS style
  uint64_t rekeys_sent = 0;
  uint64_t rekey_retries = 0;
  uint64_t acks_received = 0;
  uint64_t acks_missed = 0;
  std::vector<uint32_t> sent_seqs;    ///< latest first, IOS shows up to 4
  std::vector<uint32_t> acked_seqs;   ///< latest first; acked_seqs[0] = last ACKed seq
  member_state status = member_state::registered;
};

/// TEK lifetimes the rekey block lists ("IPSec SA 1 lifetime (sec)").
struct ks_tek_lifetime {
  uint32_t lifetime_s = 0;
  uint32_t remaining_s = 0;
};

/// `show crypto gdoi ks rekey` for one group.
struct ks_rekey_status {
  rekey_transport transport = rekey_transport::unicast;
  uint32_t seq = 0;                   ///< current rekey sequence number
  uint64_t rekeys_sent = 0;
  uint64_t rekeys_retransmitted = 0;
  uint32_t kek_lifetime_s = 0;
  uint32_t kek_remaining_s = 0;
  uint32_t retransmit_period_s = 10;
  uint32_t retransmit_count = 2;
  std::string last_rekey_time;        ///< empty = none sent yet
  std::vector<ks_tek_lifetime> teks;
};

/// KEK POLICY block of `show crypto gdoi ks policy`.
struct ks_kek_policy {
  rekey_transport transport = rekey_transport::unicast;
  std::array<uint8_t, 16> spi{};      ///< the rekey cookies (SA KEK SPI)
  std::string encrypt_alg;            ///< "AES", "3DES"
  uint32_t iv_length = 0;
  uint32_t key_size_bytes = 0;
  uint32_t orig_life_s = 0;
  uint32_t remaining_life_s = 0;
  bool sig_hash_enabled = true;
  uint32_t sig_key_length = 0;        ///< DER public key length in bytes (IOS: 162 for 1024)
  uint32_t sig_size = 0;              ///< signature bytes
  std::string sig_key_name;
};

/// One TEK POLICY block of `show crypto gdoi ks policy`.
struct ks_tek_policy {
  uint32_t spi = 0;
  std::string access_list;            ///< ACL name
  std::string transform;              ///< IOS spelling
  uint32_t alg_key_size_bytes = 0;
  uint32_t sig_key_size_bytes = 0;
  uint32_t orig_life_s = 0;
  uint32_t remaining_life_s = 0;
  uint32_t tek_life_s = 0;
  uint32_t elapsed_s = 0;
  uint32_t override_life_s = 0;
  uint32_t antireplay_window = 0;     ///< TBAR seconds; 0 = off
  uint64_t replay_value_ms = 0;       ///< KS pseudotime
};

/// `show crypto gdoi ks coop`: this KS's part in sharing the group's keys with the other
/// KSs (control/ks/ks_state_sync.h; a lab form of COOP through a state file).
struct ks_coop_status {
  bool enabled = false;               ///< redundancy.state_file is set
  bool primary = true;                ///< active: publishes the keys and rekeys
  std::string state_file;
  uint32_t takeover_after_s = 0;
  uint64_t version = 0;               ///< key-state version published (primary) or followed
  uint64_t adoptions = 0;             ///< new versions taken from the file (as secondary)
  uint64_t takeovers = 0;
  std::string primary_since;          ///< IOS time of the takeover; empty: never took over
  uint32_t peer_addr = 0;             ///< the writer of the file (secondary), 0 = none seen
  int64_t peer_heartbeat_age_ms = -1; ///< age of its last heartbeat; -1 = none seen
};

/// One group the KS serves.
struct ks_group_status {
  std::string name;
  uint32_t identity = 0;
  uint32_t server = 0;                ///< this KS's address
  std::vector<std::string> acl;       ///< the group ACL as "access-list ..." lines
  std::optional<ks_kek_policy> kek;
  std::vector<ks_tek_policy> teks;
  ks_rekey_status rekey;
  std::vector<ks_member_status> members;
  ks_coop_status coop;
};

/// Everything the KS answers from.
struct ks_status {
  std::vector<ks_group_status> groups;
  event_trace_status trace;
};

}  // namespace gm::control
