// The lab KS's show commands: ks_status -> IOS text or JSON. Pure functions.
#pragma once

#include <cstddef>
#include <string>

#include "control/command.h"
#include "control/ks_status.h"

namespace gm::control {

std::string show_ks_members(const ks_status& s);  ///< show crypto gdoi ks members
std::string show_ks_rekey(const ks_status& s);    ///< show crypto gdoi ks rekey
std::string show_ks_coop(const ks_status& s);     ///< show crypto gdoi ks coop
std::string show_ks_coop_json(const ks_status& s);
std::string show_ks_policy(const ks_status& s);   ///< show crypto gdoi ks policy

std::string show_ks_members_json(const ks_status& s);
std::string show_ks_rekey_json(const ks_status& s);
std::string show_ks_policy_json(const ks_status& s);

/// The reply to `rekey [tek|kek]`: `built` = the KS made the rekey message (false when it
/// could not, e.g. signing failed; its debug log says why), `datagrams` = how many went out
/// (one per member for unicast, one for multicast, none with no members).
std::string ks_rekey_reply(cmd_rekey_kind what, bool built, std::size_t datagrams, bool json);

/// Dispatches a show command (the KS ones and show monitor event-trace); anything else
/// gives "% Not supported on a key server.".
std::string render_ks(const command& c, const ks_status& s, bool json);

}  // namespace gm::control
