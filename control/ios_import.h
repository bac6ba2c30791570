// Translates the GM part of an IOS configuration (`crypto isakmp policy/key`, `crypto gdoi
// group`, `crypto map ... gdoi`, the map's `match address` ACL, the interface carrying the
// map) into gm-control's YAML (docs/gm-control-config.md). What it cannot translate it
// reports line by line and leaves out; it never guesses.
//
// The ISAKMP pre-shared key goes to its own file (mode 0600), never into the YAML, and is
// never echoed: error lines show `crypto isakmp key <redacted> ...`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/byte_io.h"

namespace gm::control {

/// One report about an input line: `line N: 'text': what (what we do instead)`.
struct import_note {
  int line = 0;
  std::string text;  ///< the full report line, as above
};

/// `crypto isakmp policy N`, in gm-control's terms.
struct import_phase1 {
  unsigned priority = 0;                ///< N: lower goes first
  std::string encryption = "aes-256";   ///< aes-128 | aes-192 | aes-256 | 3des
  std::string hash = "sha1";            ///< sha1 | sha256 (IOS's default is sha)
  unsigned group = 14;                  ///< 14 | 2
  uint32_t lifetime = 86400;            ///< seconds
};

/// Everything understood, plus the reports.
struct ios_import_result {
  std::string group_name;
  std::optional<uint32_t> identity;
  std::vector<std::string> servers;     ///< dotted, in configuration (failover) order
  std::string local_address;            ///< dotted; empty if not found
  std::vector<import_phase1> phase1;    ///< sorted by priority
  std::vector<std::string> local_acl;   ///< deny ACEs, IOS text (sequence numbers removed)
  std::string migration = "none";       ///< none | passive
  std::optional<key_bytes> psk;         ///< from `crypto isakmp key`
  std::vector<import_note> errors;      ///< lines not understood or not valid, by line
  std::vector<import_note> warnings;    ///< unrelated lines skipped, defaults assumed
};

/// Parses an IOS configuration snippet (indented as `show running-config` prints it, or not
/// indented at all, as in seed 000).
ios_import_result import_ios(std::string_view config);

/// Defaults the importer writes for what IOS does not say.
struct yaml_defaults {
  std::string psk_file = "/etc/gm/psk";
  std::string dataplane_prefix = "gm";
  std::string socket = "/run/gm/gm-control.sock";
};

/// gm-control's YAML for `r` (docs/gm-control-config.md); `psk_file` is where the key is.
std::string to_gm_control_yaml(const ios_import_result& r, const yaml_defaults& d);

/// Writes `key` and a newline to `path`, created or truncated with mode 0600 (also when it
/// existed with another mode), not following a symlink. Returns what went wrong, or "".
std::string write_psk_file(const std::string& path, const key_bytes& key);

}  // namespace gm::control
