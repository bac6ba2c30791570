// The operator's log of gm-control and gm-ks: IOS-mnemonic messages (`%GDOI-5-GM_REGS_COMPL:
// ...`) to stderr and, as RFC 5424 over UDP, to a syslog collector; and IOS-style `debug
// crypto gdoi` output gated by category, level and peer condition.
//
// Named gm_log, not syslog, so it never shadows <syslog.h>.
//
// Keys never reach the log. The only argument types a message accepts are text, integers,
// IPv4 addresses, 32-bit SPIs, fixed-size public identifiers (`hex_id`, e.g. KEK SPI
// cookies) and `redacted` (which prints a byte count and nothing else). Formatting a byte
// buffer (`bytes` / `key_bytes`, a span of bytes) is a compile error: those overloads are
// deleted. Text built by the caller is the caller's responsibility; build it from the same
// argument types.
//
// Not thread-safe, and it needs no lock: used only from the daemon's one Asio thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "control/byte_io.h"
#include "control/ops_clock.h"

namespace gm::control {

// ---- severities --------------------------------------------------------------------------

// Syslog severities (RFC 5424 numbers) with IOS's names for them.
#define GM_LOG_SEVERITIES(X) \
  X(emergencies, 0)          \
  X(alerts, 1)               \
  X(critical, 2)             \
  X(errors, 3)               \
  X(warnings, 4)             \
  X(notifications, 5)        \
  X(informational, 6)        \
  X(debugging, 7)

enum class severity : uint8_t {
#define GM_LOG_SEVERITY_ENUM(name, n) name = n,
  GM_LOG_SEVERITIES(GM_LOG_SEVERITY_ENUM)
#undef GM_LOG_SEVERITY_ENUM
};

/// "notifications".
const char* name(severity s);

// ---- messages ----------------------------------------------------------------------------

// Every message, declared once: id, facility, severity, IOS mnemonic, text. `{}` marks
// where an argument goes; emit<>() checks at compile time that the counts agree. Texts
// follow IOS's where IOS has the message (spec §6, seed 000); ours say so in a comment.
#define GM_LOG_MESSAGES(X)                                                                     \
  /* GM: registration and policy */                                                            \
  X(gm_regs_compl, "GDOI", 5, "GM_REGS_COMPL",                                                 \
    "Registration to KS {} complete for group {} using address {}")                            \
  X(gm_install_policies_success, "GDOI", 5, "GM_INSTALL_POLICIES_SUCCESS",                     \
    "SUCCESS: Installation of Reg/Rekey policies from KS {} for group {} & gm identity {}")    \
  X(gm_install_policies_failed, "GDOI", 3, "GM_FAILED_TO_INSTALL_POLICIES",                    \
    "FAILED: Installation of Reg/Rekey policies from KS {} for group {} & gm identity {}: {}") \
  X(gm_rejecting_sa_payload, "GDOI", 3, "GM_REJECTING_SA_PAYLOAD",                             \
    "Registration to KS {} rejected in group {} because policy in SA payload sent by KS was "  \
    "not accepted: {}")                                                                        \
  X(gm_no_ipsec_flows, "GDOI", 3, "GM_NO_IPSEC_FLOWS",                                         \
    "Group {}: no IPsec flows could be installed: {}")                                         \
  X(gm_re_register, "GDOI", 5, "GM_RE_REGISTER",                                               \
    "The IPSec SA created for group {} may have expired/been cleared, or didn't go through. "  \
    "Re-register to KS.")                                                                      \
  X(gm_clear_register, "GDOI", 5, "GM_CLEAR_REGISTER",                                         \
    "Config: GM cleared gdoi configuration for the group {}.")                                 \
  X(gm_cm_attach, "GDOI", 5, "GM_CM_ATTACH", "Crypto map attached for GM in group {}.")        \
  X(gm_cm_detach, "GDOI", 5, "GM_CM_DETACH", "Crypto map detached for GM in group {}.")        \
  X(gm_ks_unreachable, "GDOI", 4, "GM_KS_UNREACHABLE", /* ours: failover to the next KS */     \
    "No answer from KS {} for group {}; trying KS {}")                                         \
  X(gm_ks_variant, "GDOI", 6, "GM_KS_VARIANT", /* ours: spec §5 interop tolerance */          \
    "KS {} for group {} uses {}")                                                              \
  /* GM: rekey */                                                                              \
  X(sa_kek_updated, "GDOI", 5, "SA_KEK_UPDATED", "SA KEK was updated")                         \
  X(sa_tek_updated, "GDOI", 5, "SA_TEK_UPDATED", "SA TEK was updated")                         \
  X(gm_recv_rekey, "GDOI", 5, "GM_RECV_REKEY",                                                 \
    "Received Rekey for group {} from {} to {} with seq # {}")                                 \
  X(gm_rekey_trans_2_uni, "GDOI", 5, "GM_REKEY_TRANS_2_UNI",                                   \
    "Group {} transitioned to Unicast Rekey.")                                                 \
  X(gm_rekey_trans_2_multi, "GDOI", 5, "GM_REKEY_TRANS_2_MULTI",                               \
    "Group {} transitioned to multicast rekey.")                                               \
  X(gm_recv_delete, "GDOI", 4, "GM_RECV_DELETE",                                               \
    "GM received delete-msg from KS in group {}. TEKs lifetime are reduced and "               \
    "re-registration will start before SA expiry")                                             \
  X(replay_failed, "GDOI", 4, "REPLAY_FAILED",                                                 \
    "An anti replay check has failed in group {}: rekey from {} has seq # {}, last accepted "  \
    "seq # {}")                                                                                \
  X(gm_rekey_verify_failed, "GDOI", 3, "GM_REKEY_VERIFY_FAILED", /* ours */                    \
    "Rekey from {} for group {} dropped: {}")                                                  \
  /* GM: data plane events */                                                                  \
  X(timebased_replay_failed, "GDOI", 4, "TIMEBASED_REPLAY_FAILED",                             \
    "An anti replay check has failed in group {}: my_pseudotime = {} secs, peer_pseudotime = " \
    "{} secs, replay_window = {} (second), src_ip = {}, dst_ip = {}")                          \
  X(pseudo_time_large, "GDOI", 4, "PSEUDO_TIME_LARGE",                                         \
    "Pseudotime difference between my_pseudotime = {} secs and peer_pseudotime = {} secs is "  \
    "larger than expected in group {}")                                                        \
  X(recvd_pkt_inv_spi, "CRYPTO", 4, "RECVD_PKT_INV_SPI",                                       \
    "decaps: rec'd IPSEC packet has invalid spi for destaddr={}, prot=50, spi={}, srcaddr={}") \
  X(recvd_pkt_mac_err, "CRYPTO", 4, "RECVD_PKT_MAC_ERR",                                       \
    "decrypt: mac verify failed for spi={} srcaddr={} destaddr={}")                            \
  X(recvd_pkt_not_ipsec, "CRYPTO", 4, "RECVD_PKT_NOT_IPSEC",                                   \
    "Rec'd packet not an IPSEC packet. (ip) vrf/dest_addr= {}, src_addr= {}, prot= {}")        \
  X(pkt_replay_err, "CRYPTO", 4, "PKT_REPLAY_ERR",                                             \
    "decrypt: replay check failed spi={} srcaddr={} seq={}")                                   \
  /* IKE phase 1 */                                                                            \
  X(ikmp_mode_failure, "CRYPTO", 6, "IKMP_MODE_FAILURE",                                       \
    "Processing of {} mode failed with peer at {}: {}")                                        \
  /* KS */                                                                                     \
  X(ks_regs_compl, "GDOI", 5, "KS_REGS_COMPL",                                                 \
    "KS completed successful registration in group {} with GM {}.")                           \
  X(ks_send_unicast_rekey, "GDOI", 5, "KS_SEND_UNICAST_REKEY",                                 \
    "Sending Unicast Rekey for group {} from address {} with seq # {}")                        \
  X(ks_send_mcast_rekey, "GDOI", 5, "KS_SEND_MCAST_REKEY",                                     \
    "Sending Multicast Rekey for group {} from address {} to {} with seq # {}")                \
  X(ks_gm_revoked, "GDOI", 5, "KS_GM_REVOKED",                                                 \
    "Re-key: GM {} revoked by KS in the group {}.")                                            \
  X(ks_unauthorized, "GDOI", 1, "KS_UNAUTHORIZED",                                             \
    "During GDOI registration protocol, an unauthorized member {} tried to join group {}.")    \
  X(unauthorized_ipaddr, "GDOI", 1, "UNAUTHORIZED_IPADDR",                                     \
    "Group {} received registration from unauthorized ip address: {}")                        \
  X(coop_config_mismatch, "GDOI", 4, "COOP_CONFIG_MISMATCH",                                   \
    "The configuration between the primary KS and secondary KS are mismatched in group {}: {}")\
  X(coop_ks_election, "GDOI", 5, "COOP_KS_ELECTION",                                           \
    "The local server {} in the group {} has initiated the election process.")                 \
  X(coop_ks_reach, "GDOI", 5, "COOP_KS_REACH",                                                 \
    "Reachability restored with Cooperative KS {} in group {}.")                               \
  X(coop_ks_unreach, "GDOI", 3, "COOP_KS_UNREACH",                                             \
    "Cooperative KS {} Unreachable in group {}. IKE SA Status = {}")                           \
  X(coop_ks_trans_to_pri, "GDOI", 5, "COOP_KS_TRANS_TO_PRI",                                   \
    "The local server {} in the group {} has transitioned to a primary role from being a "     \
    "secondary server.")                                                                       \
  X(coop_ks_unauth, "GDOI", 3, "COOP_KS_UNAUTH",                                               \
    "Contact from unauthorized KS {} in group {} at local address {}")

enum class log_msg : uint16_t {
#define GM_LOG_MSG_ENUM(id, fac, sev, mnemonic, format) id,
  GM_LOG_MESSAGES(GM_LOG_MSG_ENUM)
#undef GM_LOG_MSG_ENUM
};

struct log_msg_def {
  std::string_view facility;  ///< "GDOI", "CRYPTO"
  severity sev;
  std::string_view mnemonic;  ///< "GM_REGS_COMPL" (also the RFC 5424 MSGID)
  std::string_view format;    ///< text with `{}` placeholders
};

inline constexpr log_msg_def log_msg_defs[] = {
#define GM_LOG_MSG_DEF(id, fac, sev, mnemonic, format) \
  {fac, static_cast<severity>(sev), mnemonic, format},
    GM_LOG_MESSAGES(GM_LOG_MSG_DEF)
#undef GM_LOG_MSG_DEF
};
inline constexpr std::size_t log_msg_count = std::size(log_msg_defs);

constexpr const log_msg_def& def(log_msg m) { return log_msg_defs[static_cast<std::size_t>(m)]; }

/// Number of `{}` in a format.
constexpr std::size_t placeholders(std::string_view fmt) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < fmt.size(); ++i) {
    if (fmt[i] == '{' && fmt[i + 1] == '}') {
      ++n;
      ++i;
    }
  }
  return n;
}

/// "%GDOI-5-GM_REGS_COMPL".
std::string ios_tag(log_msg m);
/// Looks a message up by mnemonic ("GM_REGS_COMPL" or "%GDOI-5-GM_REGS_COMPL").
std::optional<log_msg> find_log_msg(std::string_view mnemonic);

// ---- argument types ----------------------------------------------------------------------

/// An IPv4 address in host byte order, printed dotted.
struct ipv4_addr {
  uint32_t host = 0;
};
/// A 32-bit ESP SPI, printed as IOS does: `0x8BF147EF(2347845615)`.
struct spi32 {
  uint32_t v = 0;
};
/// A byte buffer that must not be shown: prints `<redacted 32 bytes>`. The only way a byte
/// buffer's existence reaches a log line.
struct redacted {
  explicit redacted(const bytes& b) : size(b.size()) {}
  explicit redacted(std::size_t n) : size(n) {}
  std::size_t size;
};

/// Upper-case hex of a fixed-size public identifier (KEK SPI cookies, ISAKMP cookies):
/// `0x18864836BA888BCD1126671EEAFEB4C7`. Key buffers are variable-size `bytes`/`key_bytes`;
/// the deleted overloads below keep them out.
namespace log_detail {
std::string hex_of_id(std::span<const uint8_t> fixed_size_id);  ///< use hex_id
}  // namespace log_detail
template <std::size_t N>
std::string hex_id(const std::array<uint8_t, N>& id) {
  return log_detail::hex_of_id(std::span<const uint8_t>(id));
}
std::string hex_id(const bytes&) = delete;  ///< key_bytes is bytes: never hex a key buffer
std::string hex_id(std::span<const uint8_t>) = delete;

namespace log_detail {
inline std::string to_text(std::string_view s) { return std::string(s); }
inline std::string to_text(const char* s) { return s; }
inline std::string to_text(const std::string& s) { return s; }
template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
std::string to_text(T v) {
  return std::to_string(v);
}
std::string to_text(ipv4_addr a);
std::string to_text(spi32 s);
std::string to_text(redacted r);
std::string to_text(const bytes&) = delete;  ///< key buffers never reach the log
std::string to_text(std::span<const uint8_t>) = delete;
}  // namespace log_detail

/// Replaces the `{}` of `fmt` with `args` in order (missing ones print as "?").
std::string format_fields(std::string_view fmt, std::span<const std::string> args);

/// A format checked at compile time against its argument count (debug lines).
template <typename... A>
struct checked_format {
  template <std::size_t N>
  consteval checked_format(const char (&s)[N]) : text(s, N - 1) {  // NOLINT: implicit
    if (placeholders(text) != sizeof...(A)) {
      throw "debug format: number of {} differs from the number of arguments";
    }
  }
  std::string_view text;
};

// ---- debug settings ----------------------------------------------------------------------

#define GM_DEBUG_ROLES(X)         \
  X(gm, "GM", "Group Member")     \
  X(ks, "KS", "Key Server")

#define GM_DEBUG_CATEGORIES(X)                                  \
  X(registration, "REG", "Registration")                        \
  X(rekey, "REKEY", "Rekey")                                    \
  X(replay, "REPLAY", "Anti Replay")                            \
  X(infrastructure, "INFRA", "Infrastructure")

// In increasing detail; enabling a level enables every level before it too.
#define GM_DEBUG_LEVELS(X)        \
  X(error, "Error")               \
  X(terse, "Terse")               \
  X(event, "Event")               \
  X(detail, "Detail")             \
  X(packet, "Packet")

enum class debug_role : uint8_t {
#define GM_DEBUG_ENUM(name, tag, text) name,
  GM_DEBUG_ROLES(GM_DEBUG_ENUM)
};
enum class debug_category : uint8_t { GM_DEBUG_CATEGORIES(GM_DEBUG_ENUM) };
#undef GM_DEBUG_ENUM
enum class debug_level : uint8_t {
#define GM_DEBUG_LEVEL_ENUM(name, text) name,
  GM_DEBUG_LEVELS(GM_DEBUG_LEVEL_ENUM)
#undef GM_DEBUG_LEVEL_ENUM
};

inline constexpr std::size_t debug_role_count = 2;
inline constexpr std::size_t debug_category_count = 4;

const char* name(debug_role r);
const char* name(debug_category c);
const char* name(debug_level l);

/// What an operator command did: ok, and IOS's reply or what was wrong.
struct debug_reply {
  bool ok = false;
  std::string text;
};

/// The text an operator sees for a debug command. IOS prints some confirmations with a
/// leading "% " too; gmctl reads a leading "% " as a refusal, so an accepted command's
/// text goes without it.
inline std::string operator_reply(const debug_reply& r) {
  const bool strip = r.ok && r.text.rfind("% ", 0) == 0;
  return (strip ? r.text.substr(2) : r.text) + "\n";
}

/// Which debug lines are wanted (`debug crypto gdoi ...`) and for which peers
/// (`debug crypto gdoi condition peer ...`).
class debug_settings {
 public:
  /// Enables `category` (all of them for `all-features`) of `role` up to `level`.
  void enable(debug_role role, debug_category category, debug_level level);
  void disable(debug_role role, debug_category category);
  /// `undebug all`.
  void disable_all();

  /// `condition peer add ipv4 A.B.C.D` (host order). False if already there.
  bool add_peer(uint32_t ipv4);
  /// False if it was not there.
  bool remove_peer(uint32_t ipv4);
  void clear_peers();
  /// With peer conditions set, lines that name no peer appear only with `unmatched`.
  void set_unmatched(bool on) { _unmatched = on; }

  /// Whether a debug line of this kind, about `peer` (none: the line names no peer), is wanted.
  bool wants(debug_role role, debug_category category, debug_level level,
             std::optional<uint32_t> peer) const;
  /// Cheap test before building a line: is anything enabled at all?
  bool any() const { return _any; }

  /// Applies one operator command, with or without the leading `debug crypto gdoi`:
  ///   [no] debug crypto gdoi {gm|ks} {registration|rekey|replay|infrastructure|all-features}
  ///        {error|terse|event|detail|packet|all-levels}
  ///   [no] debug crypto gdoi condition peer [add|delete] ipv4 A.B.C.D
  ///   [no] debug crypto gdoi condition unmatched
  ///   no debug crypto gdoi condition all | undebug all
  debug_reply apply(std::string_view command);

  /// `show crypto gdoi debug-condition`.
  std::string show_conditions() const;
  /// "GDOI Key Server Registration Debug level: (Packet, Detail, Event, Terse, Error)".
  std::string show_level(debug_role role, debug_category category) const;

 private:
  void refresh_any();
  // 0 = off, else 1 + the highest enabled debug_level.
  uint8_t _level[debug_role_count][debug_category_count] = {};
  std::vector<uint32_t> _peers;
  bool _unmatched = false;
  bool _any = false;
};

// ---- the logger --------------------------------------------------------------------------

struct log_options {
  std::string hostname;                    ///< RFC 5424 HOSTNAME; empty: gethostname()
  std::string app_name = "gm-control";     ///< RFC 5424 APP-NAME
  bool to_stderr = true;                   ///< one line per message to `err`
  uint8_t facility = 23;                   ///< syslog facility: local7, IOS's default
  severity threshold = severity::debugging;  ///< `logging trap`: higher numbers are dropped
};

/// `<timestamp>: %FAC-SEV-MNEMONIC: text` with the IOS timestamp (`*Nov 25 07:40:01.123`).
std::string stderr_line(wall_time t, log_msg m, std::string_view text);

/// RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`. Header fields are
/// cut to their RFC lengths, non-printing characters and spaces become '_', empty ones '-'.
std::string rfc5424_line(uint8_t facility, severity sev, wall_time t, std::string_view hostname,
                         std::string_view app_name, long procid, std::string_view msgid,
                         std::string_view msg);

class gm_log {
 public:
  /// `clock` and `err` must outlive the logger.
  gm_log(const ops_clock& clock, log_options opts, std::ostream& err);
  ~gm_log();
  gm_log(const gm_log&) = delete;
  gm_log& operator=(const gm_log&) = delete;

  /// Sends every message also to a collector, "A.B.C.D:port" (UDP). Returns what is wrong
  /// with `host_port` or the socket, empty on success. Empty `host_port` stops sending.
  std::string set_collector(const std::string& host_port);

  /// Logs message `M`; the argument count is checked against its format at compile time.
  template <log_msg M, typename... A>
  void emit(const A&... args) {
    static_assert(placeholders(def(M).format) == sizeof...(A),
                  "argument count differs from the message's {} count");
    const std::array<std::string, sizeof...(A)> fields{log_detail::to_text(args)...};
    write(M, format_fields(def(M).format, fields));
  }

  /// A `debug crypto gdoi` line, written only if `debug()` wants it. `peer` (host order) is
  /// the address the line is about, for `condition peer`; none if it names no peer.
  template <typename... A>
  void debug(debug_role role, debug_category category, debug_level level,
             std::optional<uint32_t> peer, std::type_identity_t<checked_format<A...>> fmt,
             const A&... args) {
    if (!_debug.any() || !_debug.wants(role, category, level, peer)) {
      return;
    }
    const std::array<std::string, sizeof...(A)> fields{log_detail::to_text(args)...};
    write_debug(role, category, level, peer, format_fields(fmt.text, fields));
  }

  debug_settings& debug_config() { return _debug; }
  const debug_settings& debug_config() const { return _debug; }

  /// Called with every line written (the stderr form), e.g. for `show logging` or tests.
  void set_observer(std::function<void(std::string_view line)> f) { _observer = std::move(f); }

  /// Messages emitted per mnemonic since start (before the threshold drops any).
  uint64_t count(log_msg m) const { return _counts[static_cast<std::size_t>(m)]; }
  /// Datagrams the collector socket refused.
  uint64_t send_errors() const { return _send_errors; }

 private:
  void write(log_msg m, const std::string& text);
  void write_debug(debug_role role, debug_category category, debug_level level,
                   std::optional<uint32_t> peer, const std::string& text);
  void output(severity sev, std::string_view msgid, const std::string& stderr_form,
              std::string_view msg);

  const ops_clock& _clock;
  log_options _opts;
  std::ostream& _err;
  long _pid;
  int _fd = -1;  // UDP socket connected to the collector
  debug_settings _debug;
  std::function<void(std::string_view)> _observer;
  uint64_t _counts[log_msg_count] = {};
  uint64_t _send_errors = 0;
};

}  // namespace gm::control
