#include "control/gdoi_message.h"

namespace gm::control {

namespace {

bool gdoi_exchange(uint8_t exchange_type) {
  return exchange_type == exchange::groupkey_pull || exchange_type == exchange::groupkey_push;
}

template <typename T>
std::optional<codec_error> keep(result<T> r, std::vector<gdoi_payload>& out) {
  if (!r) {
    return r.error();
  }
  out.emplace_back(std::move(*r));
  return std::nullopt;
}

std::optional<codec_error> decode_one(const payload_view& v, uint8_t exchange_type,
                                      std::vector<gdoi_payload>& out, id_forms& forms) {
  const std::size_t at = v.offset + generic_header_len;
  const auto body = [&v] { return bytes(v.body.begin(), v.body.end()); };
  switch (v.type) {
    case payload::sa:
      if (!gdoi_exchange(exchange_type)) {
        out.emplace_back(other_payload{v.type, body()});
        return std::nullopt;
      }
      return keep(decode_sa(v.body, at, &forms), out);
    case payload::kd:
      return keep(decode_kd(v.body, at), out);
    case payload::seq:
      return keep(decode_seq(v.body, at), out);
    case payload::id:
      return keep(decode_id(v.body, at), out);
    case payload::del:
      return keep(decode_delete(v.body, at), out);
    case payload::gap:
      return keep(decode_gap(v.body, at), out);
    case payload::nonce:
    case payload::hash:
    case payload::sig:
      if (v.body.empty()) {
        return make_error(codec_errc::bad_payload_length, v.offset, v.type);
      }
      if (v.type == payload::nonce) {
        out.emplace_back(nonce_payload{body()});
      } else if (v.type == payload::hash) {
        out.emplace_back(hash_payload{body()});
      } else {
        out.emplace_back(sig_payload{body()});
      }
      return std::nullopt;
    case payload::proposal:
    case payload::transform:
    case payload::sa_kek:
    case payload::sa_tek:
      return make_error(codec_errc::unexpected_payload, v.offset, v.type);
    default:
      out.emplace_back(other_payload{v.type, body()});
      return std::nullopt;
  }
}

}  // namespace

result<decoded_payloads> decode_payloads(uint8_t first, std::span<const uint8_t> chain,
                                         std::size_t base, tail t, uint8_t exchange_type) {
  auto views = walk_payloads(first, chain, base, t);
  if (!views) {
    return views.error();
  }
  decoded_payloads d;
  d.payloads.reserve(views->size());
  for (const payload_view& v : *views) {
    if (auto e = decode_one(v, exchange_type, d.payloads, d.info.forms)) {
      return *e;
    }
    d.info.extents.push_back(payload_extent{v.type, v.offset, v.length});
  }
  return d;
}

result<decoded_message> decode_message(std::span<const uint8_t> datagram) {
  auto h = decode_header(datagram);
  if (!h) {
    return h.error();
  }
  if ((h->flags & flag::encryption) != 0) {
    return make_error(codec_errc::encrypted, header_len);
  }
  auto p = decode_payloads(h->next_payload, datagram.subspan(header_len, h->length - header_len),
                           header_len, tail::exact, h->exchange_type);
  if (!p) {
    return p.error();
  }
  decoded_message m;
  m.message.header = *h;
  m.message.payloads = std::move(p->payloads);
  m.info = std::move(p->info);
  return m;
}

result<bytes> encode_payloads(const std::vector<gdoi_payload>& payloads) {
  bytes out;
  byte_writer w(out);
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const uint8_t next = i + 1 < payloads.size() ? payload_type_of(payloads[i + 1]) : payload::none;
    bytes body;
    if (auto e = encode_payload_body(payloads[i], body)) {
      return *e;
    }
    if (auto e = put_payload(w, next, body, payload_type_of(payloads[i]))) {
      return *e;
    }
  }
  return out;
}

result<bytes> encode_message(const gdoi_message& m) {
  auto chain = encode_payloads(m.payloads);
  if (!chain) {
    return chain.error();
  }
  if (chain->size() > 0xffffffffu - header_len) {
    return make_error(codec_errc::value_too_long, 0);
  }
  isakmp_header h = m.header;
  h.next_payload = m.payloads.empty() ? payload::none : payload_type_of(m.payloads.front());
  h.length = static_cast<uint32_t>(header_len + chain->size());
  bytes out;
  out.reserve(h.length);
  byte_writer w(out);
  encode_header(h, w);
  w.put(*chain);
  return out;
}

}  // namespace gm::control
