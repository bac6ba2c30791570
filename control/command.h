// The operator command language: one line of IOS-style text ("sh cry gdoi gm | inc Rekey")
// parsed into a typed command, IOS errors with a caret position, and the output filters.
// Keywords may be abbreviated to any unambiguous prefix, as on IOS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace gm::control {

// X(kind, canonical words). The table the parser walks and the help text come from here.
#define GM_COMMANDS(X)                                                      \
  X(show_gdoi, "show crypto gdoi")                                          \
  X(show_gdoi_gm, "show crypto gdoi gm")                                    \
  X(show_gdoi_gm_rekey, "show crypto gdoi gm rekey")                        \
  X(show_gdoi_gm_replay, "show crypto gdoi gm replay")                      \
  X(show_gdoi_rekey_sa, "show crypto gdoi rekey sa")                        \
  X(show_gdoi_ks_members, "show crypto gdoi ks members")                    \
  X(show_gdoi_ks_rekey, "show crypto gdoi ks rekey")                        \
  X(show_gdoi_ks_policy, "show crypto gdoi ks policy")                      \
  X(show_gdoi_ks_coop, "show crypto gdoi ks coop")                          \
  X(show_isakmp_sa, "show crypto isakmp sa")                                \
  X(show_ipsec_sa, "show crypto ipsec sa")                                  \
  X(show_event_trace, "show monitor event-trace gdoi <trace>")              \
  X(show_debug_condition, "show crypto gdoi debug-condition")               \
  X(clear_gdoi, "clear crypto gdoi")                                        \
  X(clear_gdoi_ks_members, "clear crypto gdoi ks members")                  \
  X(clear_sa, "clear crypto sa")                                            \
  X(debug_gdoi, "debug crypto gdoi <gm|ks> <feature> <level>")              \
  X(debug_condition_peer, "debug crypto gdoi condition peer add ipv4 <A.B.C.D>") \
  X(undebug_all, "undebug all")                                             \
  X(rekey, "rekey [tek|kek]")                                               \
  X(reload, "reload")

enum class command_kind : uint8_t {
#define GM_X(kind, words) kind,
  GM_COMMANDS(GM_X)
#undef GM_X
};

/// The canonical spelling of a command kind ("show crypto gdoi gm rekey").
const char* words(command_kind k);

enum class trace_kind : uint8_t { registration, rekey, exit, all };
enum class cmd_debug_role : uint8_t { gm, ks };
enum class cmd_debug_feature : uint8_t { registration, rekey, replay, all_features };
enum class cmd_debug_level : uint8_t { error, terse, event, detail, packet, all_levels };
/// What `rekey [tek|kek]` on a key server sends now (the KS's SIGUSR1 / SIGUSR2).
enum class cmd_rekey_kind : uint8_t { tek, kek };
enum class filter_kind : uint8_t { none, include, exclude, begin };

/// `| include REGEX` and friends; the pattern is an ECMAScript regex (std::regex).
struct output_filter {
  filter_kind kind = filter_kind::none;
  std::string pattern;
};

/// A parsed command. Only the fields its kind uses are meaningful.
struct command {
  command_kind kind = command_kind::show_gdoi;
  trace_kind trace = trace_kind::all;                 ///< show_event_trace
  cmd_debug_role role = cmd_debug_role::gm;                   ///< debug_gdoi
  cmd_debug_feature feature = cmd_debug_feature::all_features;
  cmd_debug_level level = cmd_debug_level::all_levels;
  uint32_t peer = 0;                                  ///< debug_condition_peer, host order
  cmd_rekey_kind rekey_target = cmd_rekey_kind::tek;  ///< rekey
  output_filter filter;
};

// X(name, IOS message). What is wrong with a line, IOS wording.
#define GM_COMMAND_ERRORS(X)                                    \
  X(invalid_input, "% Invalid input detected at '^' marker.")   \
  X(incomplete, "% Incomplete command.")                        \
  X(ambiguous, "% Ambiguous command")                           \
  X(bad_regex, "% Invalid regular expression")                  \
  X(too_long, "% Command line too long")

enum class command_errc : uint8_t {
#define GM_X(name, text) name,
  GM_COMMAND_ERRORS(GM_X)
#undef GM_X
};

/// column: 0-based offset in the line of the word that is wrong (where IOS puts the '^').
struct command_error {
  command_errc code = command_errc::invalid_input;
  std::size_t column = 0;
};

using parse_result = std::variant<command, command_error>;

/// Longest line the parser and the CLI socket accept.
inline constexpr std::size_t max_command_line = 1024;

/// Parses one line (no trailing newline needed). Leading/trailing blanks are ignored.
parse_result parse_command(std::string_view line);

/// The IOS error text for a failed line: the caret line (for invalid_input) then the
/// message, e.g. "        ^\n% Invalid input detected at '^' marker.\n".
std::string render_error(std::string_view line, const command_error& e);

/// A debug command (debug_gdoi, debug_condition_peer, undebug_all) spelled out in full, in
/// the words gm_log's debug_settings::apply() takes; empty for any other kind.
std::string debug_line(const command& c);

/// Applies `| include/exclude/begin` line by line to a command's text output.
std::string apply_filter(const output_filter& f, std::string_view text);

}  // namespace gm::control
