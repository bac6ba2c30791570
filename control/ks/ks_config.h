// gm-ks's YAML configuration: the group policy the lab key server hands to GMs (ACL,
// transform, lifetimes, replay mode), how it rekeys, and who may register (PSKs). Loading
// validates everything before a socket is opened; an error reads
// "<file>:<line>: <field>: <what is wrong>". docs/gm-ks-config.md describes every field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "classifier/policy.h"
#include "control/byte_io.h"
#include "control/ike_crypto.h"
#include "control/phase1_sa.h"
#include "crypto/transform.h"

namespace gm::control::ks {

/// A pre-shared key for one GM address, or for any GM (`peer: any`).
struct psk_entry {
  std::optional<uint32_t> peer;  ///< IPv4, host order; empty = any
  std::string key_file;
  key_bytes key;                 ///< the file's text without its trailing newline
};

enum class replay_mode : uint8_t { time, counter };

struct tek_config {
  crypto::transform_id transform = crypto::transform_id::aes_gcm_128;
  uint32_t lifetime_s = 3600;
  replay_mode replay = replay_mode::time;
  uint32_t window = 5;  ///< seconds (time) or packets (counter)
};

struct kek_config {
  ike::cipher cipher = ike::cipher::aes_cbc;
  uint16_t key_bits = 128;
  uint32_t lifetime_s = 86400;
  ike::hash_alg sig_hash = ike::hash_alg::sha256;
  std::string rsa_key;     ///< PEM path; generated (mode 0600) on first start when absent
  unsigned rsa_bits = 2048;
};

enum class rekey_transport : uint8_t { unicast, multicast };

struct rekey_config {
  rekey_transport transport = rekey_transport::unicast;
  uint32_t retransmit_period_s = 10;
  uint32_t retransmit_count = 2;   ///< resends after the first send, per rekey and GM
  uint32_t ack_missed_limit = 3;   ///< consecutive unACKed rekeys before a GM is dropped
  uint32_t before_expiry_s = 60;   ///< a TEK/KEK rekey goes out this long before expiry
  uint32_t multicast_addr = 0;     ///< IPv4, host order (multicast only)
  uint8_t multicast_ttl = 16;
};

enum class id_length : uint8_t { rfc, one_byte };

/// Knobs that make gm-ks behave like Cisco's 2011 reference KS, to test GM tolerance.
struct interop_config {
  ike::sig_form sig_form = ike::sig_form::digest_info;
  bool static_kek_iv = false;
  id_length id_len = id_length::rfc;
};

/// Key-state sharing with the other KSs of the group (ks_state_sync.h). Off when
/// `state_file` is empty.
struct redundancy_config {
  std::string state_file;
  uint32_t takeover_after_s = 3;  ///< a heartbeat older than this: the writer is gone
};

/// One ACE of the downloaded policy: the parsed form and the config line it came from.
struct policy_ace {
  classifier::ace ace;
  int line = 0;
};

struct ks_config {
  std::string file;
  uint32_t listen = 0;  ///< IPv4, host order
  uint16_t port = 848;
  std::string group_name;
  uint32_t group_id = 0;
  std::vector<psk_entry> psks;
  std::vector<phase1_policy> phase1;
  std::vector<policy_ace> acl;
  tek_config tek;
  kek_config kek;
  rekey_config rekey;
  bool sender_ids = false;
  interop_config interop;
  redundancy_config redundancy;
  std::string socket = "/run/gm/gm-ks.sock";

  /// The PSK for `peer` (host order): an exact entry wins over `any`; nullptr when none.
  const key_bytes* psk_for(uint32_t peer) const;
};

/// Loads and validates `path`, reading the PSK files it names. On failure returns nullopt
/// and sets `error` to "<file>:<line>: <field>: <what is wrong>".
std::optional<ks_config> load_ks_config(const std::string& path, std::string& error);

/// Same from YAML text (tests); `name` stands in for the file name, relative key_file paths
/// are taken as they are.
std::optional<ks_config> parse_ks_config(const std::string& yaml, const std::string& name,
                                         std::string& error);

/// The KS signing key: loaded from `kek.rsa_key`, or generated with `kek.rsa_bits` and saved
/// there (0600) when the file does not exist. Refuses a key file others may read.
std::optional<ike::rsa_key> load_or_create_signing_key(const kek_config& kek, std::string& error);

/// "aes-256" / "3des" ... for show output.
std::string kek_cipher_name(const kek_config& k);

}  // namespace gm::control::ks
