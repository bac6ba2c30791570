// The GM's show commands: gm_status -> IOS text (laid out like the IOS GETVPN GM output in
// Cisco's troubleshooting guide) or JSON (same data, field names as in gm_status.h).
// Pure functions: no I/O, no clock; the caller passes a snapshot.
#pragma once

#include <string>

#include "control/command.h"
#include "control/gm_status.h"

namespace gm::control {

std::string show_gdoi(const gm_status& s);           ///< show crypto gdoi
std::string show_gdoi_gm(const gm_status& s);        ///< show crypto gdoi gm
std::string show_gdoi_gm_rekey(const gm_status& s);  ///< show crypto gdoi gm rekey
std::string show_gdoi_gm_replay(const gm_status& s); ///< show crypto gdoi gm replay
std::string show_rekey_sa(const gm_status& s);       ///< show crypto gdoi rekey sa
std::string show_isakmp_sa(const gm_status& s);      ///< show crypto isakmp sa
std::string show_ipsec_sa(const gm_status& s);       ///< show crypto ipsec sa
/// show monitor event-trace gdoi registration|rekey|exit|all
std::string show_event_trace(const event_trace_status& t, trace_kind k);

std::string show_gdoi_json(const gm_status& s);
std::string show_gdoi_gm_json(const gm_status& s);
std::string show_gdoi_gm_rekey_json(const gm_status& s);
std::string show_gdoi_gm_replay_json(const gm_status& s);
std::string show_rekey_sa_json(const gm_status& s);
std::string show_isakmp_sa_json(const gm_status& s);
std::string show_ipsec_sa_json(const gm_status& s);
std::string show_event_trace_json(const event_trace_status& t, trace_kind k);

/// Dispatches a show command to the renderer above (text or JSON). Commands the GM does
/// not answer (KS show commands, clear, debug) give "% Not supported on a group member.".
std::string render_gm(const command& c, const gm_status& s, bool json);

}  // namespace gm::control
