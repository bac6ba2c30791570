#include "control/group_keys.h"

#include <utility>

#include "control/isakmp.h"

namespace gm::control {

std::optional<uint64_t> group_keys::sender_id() const {
  if (!sid) {
    return std::nullopt;
  }
  for (const attribute& a : sid->other) {
    uint64_t v = 0;
    if (a.type == sid_attr::sid_value && !attribute_uint(a, 0, payload::kd, ~uint64_t{0}, v)) {
      return v;
    }
  }
  return std::nullopt;
}

key_packet make_sid_packet(uint16_t sid_bits, uint32_t sid) {
  key_packet k;
  k.type = key_packet_type::sid;
  k.other.push_back(attribute::basic(sid_attr::number_of_sid_bits, sid_bits));
  // SID_VALUE is variable length (RFC 6407 5.5.3): 4 bytes here.
  k.other.push_back(attribute::fixed(sid_attr::sid_value, sid, 4));
  return k;
}

void add_keys(group_keys& out, const sa_payload& sa, const kd_payload& kd) {
  if (sa.kek) {
    out.kek = sa.kek;
  }
  if (!sa.teks.empty()) {
    out.teks = sa.teks;
  }
  if (sa.gap) {
    out.gap = sa.gap;
  }
  for (const key_packet& k : kd.packets) {
    switch (k.type) {
      case key_packet_type::tek:
        out.tek_keys[k.tek_spi()] = k;
        break;
      case key_packet_type::kek:
        out.kek_keys = k;
        break;
      case key_packet_type::sid:
        out.sid = k;
        break;
      default:
        break;  // LKH arrays: not used by GETVPN
    }
  }
}

}  // namespace gm::control
