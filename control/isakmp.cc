#include "control/isakmp.h"

#include <string>

namespace gm::control {

namespace {

struct errc_info {
  const char* name;
  const char* text;
};

constexpr errc_info errc_table[] = {
#define GM_CODEC_ERRC_INFO(n, t) {#n, t},
    GM_CODEC_ERRORS(GM_CODEC_ERRC_INFO)
#undef GM_CODEC_ERRC_INFO
};

}  // namespace

const char* name(codec_errc e) { return errc_table[static_cast<std::size_t>(e)].name; }

const char* text(codec_errc e) { return errc_table[static_cast<std::size_t>(e)].text; }

std::string describe(const codec_error& e) {
  std::string s = name(e.code);
  s += " at offset " + std::to_string(e.offset);
  if (e.payload != 0) {
    s += " (payload " + std::to_string(e.payload) + ")";
  }
  s += ": ";
  s += text(e.code);
  return s;
}

bool known_payload_type(uint8_t type) {
  return (type >= payload::sa && type <= payload::vendor_id) ||
         (type >= payload::sa_kek && type <= payload::gap);
}

result<isakmp_header> decode_header(std::span<const uint8_t> datagram) {
  byte_reader r(datagram);
  isakmp_header h;
  std::span<const uint8_t> c;
  if (datagram.size() < header_len) {
    return make_error(codec_errc::truncated_header, 0);
  }
  r.take(8, c);
  std::copy(c.begin(), c.end(), h.initiator_cookie.begin());
  r.take(8, c);
  std::copy(c.begin(), c.end(), h.responder_cookie.begin());
  r.u8(h.next_payload);
  r.u8(h.version);
  r.u8(h.exchange_type);
  r.u8(h.flags);
  r.u32(h.message_id);
  r.u32(h.length);
  if (h.version != version_1_0) {
    return make_error(codec_errc::bad_version, 17);
  }
  if ((h.flags & ~flag::all) != 0) {
    return make_error(codec_errc::bad_flags, 19);
  }
  if (h.length < header_len) {
    return make_error(codec_errc::message_length_too_small, 24);
  }
  if (h.length > datagram.size()) {
    return make_error(codec_errc::message_length_beyond_buffer, 24);
  }
  if (h.length < datagram.size()) {
    return make_error(codec_errc::message_length_short_of_buffer, h.length);
  }
  return h;
}

void encode_header(const isakmp_header& h, byte_writer& w) {
  w.put(h.initiator_cookie);
  w.put(h.responder_cookie);
  w.u8(h.next_payload);
  w.u8(h.version);
  w.u8(h.exchange_type);
  w.u8(h.flags);
  w.u32(h.message_id);
  w.u32(h.length);
}

result<std::vector<payload_view>> walk_payloads(uint8_t first, std::span<const uint8_t> chain,
                                                std::size_t base, tail t) {
  std::vector<payload_view> out;
  byte_reader r(chain, base);
  uint8_t type = first;
  while (type != payload::none) {
    if (out.size() == max_payloads) {
      return make_error(codec_errc::too_many_payloads, r.offset(), type);
    }
    payload_view v;
    v.type = type;
    v.offset = r.offset();
    uint8_t next = 0;
    uint16_t len = 0;
    if (r.remaining() < generic_header_len) {
      return make_error(codec_errc::truncated_payload_header, r.offset(), type);
    }
    r.u8(next);
    r.u8(v.reserved);
    r.u16(len);
    if (len < generic_header_len) {
      return make_error(codec_errc::payload_length_too_small, v.offset + 2, type);
    }
    if (len - generic_header_len > r.remaining()) {
      return make_error(codec_errc::payload_length_beyond_message, v.offset + 2, type);
    }
    if (!known_payload_type(type)) {
      if ((v.reserved & critical_bit) != 0) {
        return make_error(codec_errc::unknown_critical_payload, v.offset, type);
      }
      if (type < payload::private_first) {
        return make_error(codec_errc::unknown_payload_type, v.offset, type);
      }
    }
    r.take(len - generic_header_len, v.body);
    v.length = len;
    out.push_back(v);
    type = next;
  }
  if (t == tail::exact && !r.empty()) {
    return make_error(codec_errc::trailing_data, r.offset());
  }
  return out;
}

std::optional<codec_error> put_payload(byte_writer& w, uint8_t next, std::span<const uint8_t> body,
                                       uint8_t type) {
  if (body.size() > 0xffff - generic_header_len) {
    return make_error(codec_errc::value_too_long, w.size(), type);
  }
  w.u8(next);
  w.u8(0);
  w.u16(static_cast<uint16_t>(body.size() + generic_header_len));
  w.put(body);
  return std::nullopt;
}

}  // namespace gm::control
