// Value formats shared by the GM and KS show renderers, IOS spelling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "control/gm_status.h"
#include "control/ks_status.h"

namespace gm::control::fmt {

std::string ipv4(uint32_t host_order);                  ///< "10.1.13.2"
std::string spi(uint32_t spi);                          ///< "0x8BF147EF(2347845615)"
std::string spi_hex(uint32_t spi);                      ///< "0x8BF147EF"
std::string secs(uint64_t ms);                          ///< "621388.66" (truncated to 1/100 s)
std::string hhmmss(uint32_t s);                         ///< "00:05:20"
/// "name" padded with blanks to width, then ": ", as IOS aligns its fields.
std::string field(std::string_view name, std::size_t width);

const char* registration(registration_state r);  ///< "Registered"
const char* transport(rekey_transport t);        ///< "Unicast"
const char* isakmp_state(isakmp_sa_state s);     ///< "GDOI_REKEY"
const char* status(sa_status s);                 ///< "ACTIVE"
const char* member(member_state s);              ///< "Registered"

// Lower-case identifiers for JSON values.
const char* registration_id(registration_state r);
const char* transport_id(rekey_transport t);
const char* isakmp_state_id(isakmp_sa_state s);
const char* status_id(sa_status s);
const char* member_id(member_state s);

}  // namespace gm::control::fmt
