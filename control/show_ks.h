// The lab KS's show commands: ks_status -> IOS text or JSON. Pure functions.
#pragma once

#include <string>

#include "control/command.h"
#include "control/ks_status.h"

namespace gm::control {

std::string show_ks_members(const ks_status& s);  ///< show crypto gdoi ks members
std::string show_ks_rekey(const ks_status& s);    ///< show crypto gdoi ks rekey
std::string show_ks_policy(const ks_status& s);   ///< show crypto gdoi ks policy

std::string show_ks_members_json(const ks_status& s);
std::string show_ks_rekey_json(const ks_status& s);
std::string show_ks_policy_json(const ks_status& s);

/// Dispatches a show command (the KS ones and show monitor event-trace); anything else
/// gives "% Not supported on a key server.".
std::string render_ks(const command& c, const ks_status& s, bool json);

}  // namespace gm::control
