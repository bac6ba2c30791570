// The lab key server's engine: group state, member table and the per-peer exchanges, with
// no sockets and no timers of its own. The daemon (gm_ks_main.cc) feeds datagrams in,
// sends what comes back, and calls on_timer() at next_deadline(); tests do the same with
// a manual clock.
//
// Group state: the live TEK generations (oldest first; one SPI and one set of keys per
// generation, carried by one SA TEK per permit ACE), the KEK (rekey cookies, key, IV),
// the rekey SEQ, the pseudotime (ms since the first registration) and the sender-id
// allocator. A TEK rekey adds a generation: GMs install it inbound at once and outbound
// after the GAP activation delay; the old generation stays in the policy until it expires.
// A KEK rekey is sent under the old KEK with the next SEQ; the SEQ then restarts, so the
// next push (under the new KEK) carries SEQ 1 (groupkey_push.h replay rule).
//
// Unicast rekeys are ACKed (RFC 8263). A rekey not ACKed after retransmit_count resends,
// retransmit_period apart, counts as missed; a GM that misses ack_missed_limit rekeys in a
// row is removed (%GDOI-5-KS_GM_REVOKED). A newer rekey supersedes an unACKed older one,
// which then counts as missed if one of its resends already went unanswered (else its ACK
// still counts when it comes).
//
// Not thread-safe: one Asio thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/byte_io.h"
#include "control/event_trace.h"
#include "control/gdoi_sa.h"
#include "control/gm_log.h"
#include "control/group_keys.h"
#include "control/groupkey_push.h"
#include "control/ike_crypto.h"
#include "control/ks/ks_config.h"
#include "control/ks/ks_state_sync.h"
#include "control/ks_status.h"
#include "control/ops_clock.h"

namespace gm::control::ks {

enum class rekey_kind : uint8_t { tek, kek };

/// An IPv4 UDP endpoint, host order.
struct endpoint {
  uint32_t addr = 0;
  uint16_t port = 0;
  bool operator==(const endpoint&) const = default;
};

/// A datagram to send.
struct outgoing {
  endpoint to;
  bytes data;
};

/// Why a datagram got no reply (counted; also in the debug log).
#define GM_KS_DROPS(X)                                                            \
  X(malformed, "not an ISAKMP message (header does not decode)")                 \
  X(unknown_exchange, "exchange type the KS does not serve")                      \
  X(no_session, "no phase-1 SA with these cookies")                               \
  X(phase1_failed, "Main Mode message refused")                                   \
  X(pull_failed, "GROUPKEY-PULL message refused")                                 \
  X(bad_ack, "GROUPKEY-PUSH ACK refused (cookies, HASH or member)")               \
  X(unexpected_ack, "ACK for a SEQ this member has no pending rekey for")

enum class ks_drop : uint8_t {
#define GM_KS_DROP_ENUM(name, text) name,
  GM_KS_DROPS(GM_KS_DROP_ENUM)
#undef GM_KS_DROP_ENUM
};
inline constexpr std::size_t ks_drop_count = 7;
const char* name(ks_drop d);

/// One TEK generation: what every permit ACE is encrypted with.
struct tek_generation {
  uint32_t spi = 0;
  key_bytes alg_key;        ///< cipher key (GCM: key || 4-byte salt)
  key_bytes integrity_key;  ///< HMAC key (empty for GCM)
  mono_time created{};
  mono_time expires{};
};

struct kek_generation {
  kek_state state;
  mono_time created{};
  mono_time expires{};
};

/// A registered GM.
struct member {
  endpoint peer;
  wall_time registered_wall{};
  mono_time registered{};
  std::optional<uint32_t> sender_id;
  uint64_t rekeys_sent = 0;
  uint64_t retries = 0;
  uint64_t acks_received = 0;
  uint64_t acks_missed = 0;
  uint32_t missed_in_row = 0;
  std::deque<uint32_t> sent_seqs;   ///< latest first (at most 4 kept)
  std::deque<uint32_t> acked_seqs;  ///< latest first (at most 4 kept)

  /// The unicast rekey waiting for this GM's ACK.
  struct pending_rekey {
    uint32_t seq = 0;
    kek_spi kek{};          ///< the KEK the rekey was sent under (ACKs name it)
    std::shared_ptr<const bytes> datagram;
    uint32_t resends_left = 0;
    mono_time next{};       ///< next resend, or when it counts as missed
  };
  std::optional<pending_rekey> pending;
  /// The rekey `pending` replaced before its first resend: its ACK still counts.
  std::optional<pending_rekey> superseded;
};

/// Counters of the whole server.
struct ks_counters {
  uint64_t registrations = 0;
  uint64_t rekeys = 0;          ///< rekey messages built (TEK and KEK)
  uint64_t rekeys_sent = 0;     ///< datagrams sent, first sends
  uint64_t retransmits = 0;
  uint64_t acks = 0;
  uint64_t members_removed = 0;
  uint64_t drops[ks_drop_count] = {};
};

class key_server {
 public:
  /// `cfg`, `clock`, `log` and `trace` must outlive the server. `signer` holds the private
  /// key (load_or_create_signing_key). The first TEK and KEK are made here.
  key_server(const ks_config& cfg, ike::rsa_key signer, const ops_clock& clock, gm_log& log,
             event_trace& trace);
  ~key_server();
  key_server(const key_server&) = delete;
  key_server& operator=(const key_server&) = delete;

  /// One datagram from `peer`: Main Mode, GROUPKEY-PULL or a GROUPKEY-PUSH ACK. Returns the
  /// replies to send (usually 0 or 1).
  std::vector<outgoing> on_datagram(endpoint peer, std::span<const uint8_t> data);

  /// Builds a TEK or KEK rekey now and returns the datagrams for every member (unicast) or
  /// the one for the multicast group.
  std::vector<outgoing> rekey(rekey_kind kind);

  /// Time-driven work: resends and missed ACKs (dropping GMs), rekeys due before a TEK/KEK
  /// expires, expired TEK generations, idle exchanges. Call at next_deadline() or later.
  std::vector<outgoing> on_timer();
  /// When on_timer() has work next.
  mono_time next_deadline() const;

  /// Policy reload (SIGHUP, `reload` on the command socket): `next` replaces the config
  /// when it differs only in what can change live (ACL, PSKs, phase-1 policies, lifetimes,
  /// rekey timers); otherwise returns what must not change, and nothing changes. A changed
  /// ACL goes out at once as a TEK rekey, whose datagrams land in `out`. The caller keeps
  /// `next` alive while the server uses it (the old config may go once this returns).
  std::string reload(const ks_config& next, std::vector<outgoing>& out);

  /// Key-state sharing with the group's other KSs (ks_state_sync.h). The state to publish;
  /// state_version() moves whenever keys, SEQ, sender ids or members change.
  ks_shared_state export_state() const;
  uint64_t state_version() const { return _state_version; }
  /// Takes over the keys, SEQ, pseudotime, sender ids and members another KS published.
  /// Refused (false, `why`) when its group or RSA key differ from ours (GMs would reject our
  /// rekeys), or when its TEKs or KEK have expired by now.
  bool adopt_state(const ks_shared_state& s, std::string& why);
  /// A passive KS answers registrations with the keys it adopted but sends no rekeys and no
  /// resends: the active one does. Active by default.
  void set_active(bool active) { _active = active; }
  bool active() const { return _active; }

  /// `clear crypto gdoi ks members`: forgets every member (they re-register).
  void clear_members();

  /// Pseudotime now, ms since the first registration (0 before any).
  uint64_t pseudotime_ms() const;

  ks_status status() const;
  const std::map<uint32_t, member>& members() const { return _members; }
  const std::deque<tek_generation>& teks() const { return _teks; }
  const kek_generation& kek() const { return _kek; }
  uint32_t seq() const { return _seq; }
  const ks_counters& counters() const { return _counters; }
  /// The KS RSA public key (DER SPKI), as GMs get it in the KD.
  const bytes& public_der() const { return _public_der; }

 private:
  struct session;

  std::vector<outgoing> on_main_mode(endpoint peer, const isakmp_header& h,
                                     std::span<const uint8_t> data);
  std::vector<outgoing> on_pull(endpoint peer, const isakmp_header& h,
                                std::span<const uint8_t> data);
  std::vector<outgoing> on_ack(endpoint peer, const isakmp_header& h,
                               std::span<const uint8_t> data);
  std::optional<ks_offer> offer(endpoint peer, uint32_t group, bool sid_requested);
  void registered(endpoint peer, const session& s);
  void drop(ks_drop why, endpoint peer, const std::string& detail);

  tek_generation new_tek() const;
  kek_generation new_kek() const;
  sa_kek make_sa_kek(const kek_generation& k) const;
  key_packet make_kek_packet(const kek_generation& k) const;
  std::vector<sa_tek> make_sa_teks(const tek_generation& t) const;
  key_packet make_tek_packet(const tek_generation& t) const;
  uint32_t allocate_sid(uint32_t addr);
  /// Counts m's pending rekey as missed; true when m is to be removed.
  bool missed(member& m);

  const ks_config* _cfg;  ///< replaced by reload()
  ike::rsa_key _signer;
  bytes _public_der;
  const ops_clock& _clock;
  gm_log& _log;
  event_trace& _trace;

  std::deque<tek_generation> _teks;  ///< oldest first; never empty
  kek_generation _kek;
  std::optional<kek_generation> _prev_kek;  ///< until it expires: late ACKs of a KEK rekey
  uint32_t _seq = 0;                 ///< last SEQ used under the current KEK
  std::optional<mono_time> _pseudotime_origin;
  std::optional<wall_time> _last_rekey_wall;
  uint64_t _rekeys_retransmitted = 0;

  std::map<uint32_t, member> _members;       ///< by GM address
  std::map<uint32_t, uint32_t> _sids;        ///< GM address -> sender id
  uint32_t _next_sid = 1;
  std::map<cookie, std::unique_ptr<session>> _sessions;  ///< by initiator cookie
  ks_counters _counters;
  uint64_t _state_version = 1;
  bool _active = true;
};

}  // namespace gm::control::ks
