// Key-state sharing between the key servers of one group (a lab form of Cisco's COOP).
//
// GMs list several KSs; when the one they registered with dies, the group must keep its
// keys, or every GM re-registers onto different TEKs at a different moment and traffic
// between GMs on old and new keys is lost. Cisco's KSs agree on the keys over COOP
// (IKE-protected announcements between KSs). gm-ks does the same job through a shared
// state file instead: the active KS writes its key state (KEK, TEKs, rekey SEQ,
// pseudotime, sender ids, members) whenever it changes and as a heartbeat every second;
// a passive KS adopts each new version, answers registrations with the same keys, and
// takes over (COOP_KS_TRANS_TO_PRI) when the heartbeat is older than `takeover_after`.
// The new primary's rekeys continue the SEQ and are signed with the same RSA key, so GMs
// accept them without re-registering. Both KSs must therefore run on one host (the
// heartbeat is CLOCK_MONOTONIC) and share the RSA key file; the file is written 0600 and
// atomically (rename), since it holds the group's keys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/byte_io.h"
#include "control/groupkey_push.h"

namespace gm::control::ks {

struct synced_tek {
  uint32_t spi = 0;
  key_bytes alg_key;
  key_bytes integrity_key;
  uint64_t remaining_ms = 0;  ///< at the heartbeat
};

struct synced_kek {
  kek_spi spi{};
  uint16_t alg = kek_alg::aes;
  key_bytes key;
  bytes iv;
  ike::hash_alg sig_hash = ike::hash_alg::sha256;
  uint16_t ack_type = 0;  ///< KEK_ACK_REQUESTED value, 0: none
  uint64_t remaining_ms = 0;  ///< at the heartbeat
};

struct synced_member {
  uint32_t addr = 0;  ///< host order
  uint16_t port = 0;
};

/// What a KS needs to carry on for another.
struct ks_shared_state {
  uint32_t writer_addr = 0;       ///< the writer's listen address (for the logs)
  uint64_t version = 0;           ///< bumped by the writer on every change of keys/members
  uint64_t heartbeat_mono_ms = 0; ///< CLOCK_MONOTONIC when written
  uint32_t group_id = 0;
  bytes public_key_hash;          ///< SHA-256 of the KS RSA public key (DER)
  std::optional<uint64_t> pseudotime_ms;  ///< at the heartbeat; empty before any registration
  uint32_t seq = 0;
  synced_kek kek;
  std::vector<synced_tek> teks;   ///< oldest first
  std::map<uint32_t, uint32_t> sids;
  uint32_t next_sid = 1;
  std::vector<synced_member> members;
};

/// CLOCK_MONOTONIC in ms: the heartbeat's clock (one host, every process the same).
uint64_t mono_now_ms();
/// Whether `s`'s writer was alive `takeover_after_s` ago or later, seen at `now_ms`.
bool heartbeat_fresh(const ks_shared_state& s, uint32_t takeover_after_s, uint64_t now_ms);

/// The file's text (hex keys). The caller wipes it (it holds keys): see write_state_file.
std::string format_state(const ks_shared_state& s);
/// Parses format_state's text; nullopt with `error` naming the line when it does not fit.
std::optional<ks_shared_state> parse_state(std::string_view text, std::string& error);

/// Writes `s` to `path` atomically (a 0600 temporary file, then rename).
bool write_state_file(const std::string& path, const ks_shared_state& s, std::string& error);
/// Reads `path`; nullopt with `error` when it is missing, others may read it, or it does not
/// parse.
std::optional<ks_shared_state> read_state_file(const std::string& path, std::string& error);

}  // namespace gm::control::ks
