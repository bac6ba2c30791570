#include "control/show_format.h"

#include <cstdio>

namespace gm::control::fmt {

std::string ipv4(uint32_t a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
                a & 0xff);
  return buf;
}

std::string spi(uint32_t spi) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%X(%u)", spi, spi);
  return buf;
}

std::string spi_hex(uint32_t spi) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", spi);
  return buf;
}

std::string secs(uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llu.%02llu", static_cast<unsigned long long>(ms / 1000),
                static_cast<unsigned long long>(ms % 1000 / 10));
  return buf;
}

std::string hhmmss(uint32_t s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

std::string field(std::string_view name, std::size_t width) {
  std::string out(name);
  if (out.size() < width) out.append(width - out.size(), ' ');
  out += ": ";
  return out;
}

const char* registration(registration_state r) {
  switch (r) {
    case registration_state::registered: return "Registered";
    case registration_state::registering: return "Registering";
    default: return "Not registered";
  }
}

const char* registration_id(registration_state r) {
  switch (r) {
    case registration_state::registered: return "registered";
    case registration_state::registering: return "registering";
    default: return "not_registered";
  }
}

const char* transport(rekey_transport t) {
  return t == rekey_transport::multicast ? "Multicast" : "Unicast";
}

const char* transport_id(rekey_transport t) {
  return t == rekey_transport::multicast ? "multicast" : "unicast";
}

const char* isakmp_state(isakmp_sa_state s) {
  return s == isakmp_sa_state::gdoi_rekey ? "GDOI_REKEY" : "GDOI_IDLE";
}

const char* isakmp_state_id(isakmp_sa_state s) {
  return s == isakmp_sa_state::gdoi_rekey ? "gdoi_rekey" : "gdoi_idle";
}

const char* status(sa_status s) {
  switch (s) {
    case sa_status::active: return "ACTIVE";
    case sa_status::standby: return "STANDBY";
    default: return "EXPIRED";
  }
}

const char* status_id(sa_status s) {
  switch (s) {
    case sa_status::active: return "active";
    case sa_status::standby: return "standby";
    default: return "expired";
  }
}

const char* member(member_state s) {
  switch (s) {
    case member_state::registered: return "Registered";
    case member_state::rekey_pending: return "Rekey ACK pending";
    default: return "Removed";
  }
}

const char* member_id(member_state s) {
  switch (s) {
    case member_state::registered: return "registered";
    case member_state::rekey_pending: return "rekey_pending";
    default: return "removed";
  }
}

}  // namespace gm::control::fmt
