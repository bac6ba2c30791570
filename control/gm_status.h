// What the GM's operator commands print, as plain data. gm-control fills a gm_status from
// its group state (and the data plane's telemetry, see dp_telemetry.h); show_gm.h renders
// it as IOS text or JSON. No methods, no behaviour: the renderers are the only readers.
//
// Conventions: IPv4 addresses are uint32_t in host order (as in phase1_sa), durations are
// whole seconds unless the name says _ms, pseudotimes are milliseconds (IOS prints them as
// "621388.66 secs"), and an empty string means "not known" (printed as IOS does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gm::control {

/// One line of an event trace as shown: timestamp ("*Nov 6 15:55:16.117", a trailing colon
/// is optional) and text ("GDOI_REKEY_EVENT: ACK_SENT: ..."). Named apart from
/// event_trace.h's trace_entry so both headers can be included together.
struct trace_row {
  std::string timestamp;
  std::string text;
};

/// The always-on event trace rings (`show monitor event-trace gdoi ...`), oldest first.
struct event_trace_status {
  std::vector<trace_row> registration;
  std::vector<trace_row> rekey;
  std::vector<trace_row> exit;
};

enum class registration_state : uint8_t { not_registered, registering, registered };
enum class rekey_transport : uint8_t { unicast, multicast };

/// KEK POLICY block of `show crypto gdoi`.
struct kek_policy_status {
  rekey_transport transport = rekey_transport::unicast;
  uint32_t lifetime_remaining_s = 0;
  std::string encrypt_alg;      ///< "AES", "3DES"
  uint32_t key_size_bits = 0;   ///< IOS prints the KEK key size in bits (3DES: 192)
  std::string sig_hash_alg;     ///< "HMAC_AUTH_SHA", "HMAC_AUTH_SHA256"
  uint32_t sig_key_length_bits = 0;
};

/// One TEK of `show crypto gdoi` ("IPsec SA:" block).
struct tek_policy_status {
  uint32_t spi = 0;
  std::string transform;               ///< IOS spelling, "esp-gcm 128"
  uint32_t remaining_lifetime_s = 0;
  uint32_t tbar_window_s = 0;          ///< time-based anti-replay window; 0 = off
  uint32_t counter_window = 0;         ///< counter-based anti-replay window; 0 = off
  uint32_t alg_key_size_bytes = 0;
  uint32_t sig_key_size_bytes = 0;
};

/// One group the GM is a member of: everything `show crypto gdoi` / `gm` / `gm rekey` print.
struct gm_group_status {
  std::string name;
  uint32_t identity = 0;
  std::vector<uint32_t> servers;        ///< configured KS addresses, in order
  uint32_t member_addr = 0;             ///< our address towards the KS
  std::string version = "1.0.4";        ///< GDOI version we announce (IOS prints it)
  registration_state registration = registration_state::not_registered;
  uint32_t registered_with = 0;         ///< KS we registered with; 0 = none
  std::optional<uint32_t> reregister_in_s;
  uint32_t succeeded_registrations = 0;
  uint32_t attempted_registrations = 0;
  uint32_t last_rekey_from = 0;         ///< 0 = no rekey yet
  uint32_t last_rekey_seq = 0;
  std::optional<uint32_t> last_rekey_age_s;  ///< "Rekey Rcvd(hh:mm:ss)"
  uint64_t unicast_rekeys_received = 0;
  uint64_t multicast_rekeys_received = 0;
  uint64_t rekeys_total = 0;            ///< cumulative, over all registrations
  uint64_t rekeys_after_register = 0;   ///< since the latest registration
  uint64_t rekey_acks_sent = 0;
  uint32_t acl_from = 0;                ///< KS the ACL came from
  std::vector<std::string> ks_acl;      ///< "access-list permit ip any any" lines, in order
  std::vector<std::string> local_deny_acl;  ///< local deny ACEs, IOS ACE text
  std::optional<kek_policy_status> kek;
  std::string tek_interface;            ///< interface the group's crypto map is on
  std::vector<tek_policy_status> teks;
};

/// One TBAR error sample (`TBAR Error History (sampled at 10pak/min)`).
struct tbar_error_entry {
  std::string timestamp;  ///< "19:29:32.081 EST Wed Nov 13 2013"
  uint32_t src = 0;
  uint64_t my_pst_ms = 0;
  uint64_t peer_pst_ms = 0;
  uint32_t window_s = 0;
};

/// `show crypto gdoi gm replay` for one group.
struct replay_status {
  std::string group;
  bool time_based = true;
  uint64_t replay_value_ms = 0;  ///< current pseudotime
  uint64_t input_packets = 0;
  uint64_t output_packets = 0;
  uint64_t input_error_packets = 0;
  uint64_t output_error_packets = 0;
  uint64_t time_sync_errors = 0;
  uint64_t max_time_delta_ms = 0;
  std::vector<tbar_error_entry> history;  ///< oldest first
};

enum class isakmp_sa_state : uint8_t { gdoi_idle, gdoi_rekey };
enum class sa_status : uint8_t { active, standby, expired };

/// A row of `show crypto isakmp sa`.
struct isakmp_sa_status {
  uint32_t dst = 0;
  uint32_t src = 0;
  isakmp_sa_state state = isakmp_sa_state::gdoi_idle;
  uint32_t conn_id = 0;
  sa_status status = sa_status::active;
};

/// A row of `show crypto gdoi rekey sa` (the KEK SA rekeys arrive under).
struct rekey_sa_status {
  uint32_t dst = 0;
  uint32_t src = 0;
  uint32_t conn_id = 0;
  sa_status status = sa_status::active;
};

/// One ESP SA of `show crypto ipsec sa` (GETVPN: inbound and outbound share the SPI).
struct esp_sa_status {
  uint32_t spi = 0;
  std::string transform;          ///< IOS spelling
  uint32_t conn_id = 0;
  uint32_t remaining_lifetime_s = 0;
  uint32_t iv_size = 0;
  uint32_t replay_window = 0;     ///< TBAR seconds or counter window; 0 = no replay check
  bool time_based = true;
  sa_status status = sa_status::active;
};

/// Counters the data plane keeps per SA, summed per interface.
struct ipsec_counters {
  uint64_t encaps = 0;
  uint64_t encrypt = 0;
  uint64_t digest = 0;
  uint64_t decaps = 0;
  uint64_t decrypt = 0;
  uint64_t verify = 0;
  uint64_t send_errors = 0;
  uint64_t recv_errors = 0;
};

/// One interface block of `show crypto ipsec sa`.
struct ipsec_interface_status {
  std::string interface;
  std::string crypto_map;
  uint32_t local_addr = 0;
  uint32_t path_mtu = 1500;
  ipsec_counters counters;
  uint32_t current_outbound_spi = 0;  ///< 0 = none active
  std::vector<esp_sa_status> inbound;
  std::vector<esp_sa_status> outbound;
};

/// Everything the GM answers from; one snapshot per command.
struct gm_status {
  std::vector<gm_group_status> groups;
  std::vector<replay_status> replay;
  std::vector<isakmp_sa_status> isakmp_sas;
  std::vector<rekey_sa_status> rekey_sas;
  std::vector<ipsec_interface_status> ipsec;
  event_trace_status trace;
};

}  // namespace gm::control
