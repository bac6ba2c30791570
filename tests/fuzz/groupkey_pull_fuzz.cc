// libFuzzer target for the GROUPKEY-PULL state machines: the KS's pull_responder and the
// GM's pull_initiator receiving arbitrary bytes, over a fixed phase-1 SA pair. The first
// input byte picks how the rest is used:
//   0: a datagram to a KS waiting for message 1;
//   1: a datagram to a GM waiting for message 2;
//   2: a payload chain (first type = the next byte) that the target sends to the KS as
//      message 1 with a valid HASH(1), encrypted: the group / nonce / policy logic is fuzzed;
//   3: the same as message 2 to the GM, with a valid HASH(2) over the GM's real nonce.
// Invariant besides ASan/UBSan: whatever a machine refused leaves it usable, so a genuine
// registration between the same two machines then completes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "control/gdoi_message.h"
#include "control/groupkey_pull.h"
#include "control/ike_crypto.h"

namespace {

using namespace gm::control;

constexpr uint32_t group = 1234;

phase1_sa fixed_sa(bool initiator) {
  phase1_sa s;
  s.icookie.fill(0x11);
  s.rcookie.fill(0x22);
  s.policy.cipher = ike::cipher::aes_cbc;
  s.policy.key_bits = 128;
  s.policy.hash = ike::hash_alg::sha256;
  s.initiator = initiator;
  s.skeyid_a = key_bytes(32, 0x33);
  s.enc_key = key_bytes(16, 0x44);
  s.phase1_iv = bytes(16, 0x55);
  return s;
}

const ks_offer& fixed_offer() {
  static const ks_offer o = [] {
    ks_offer x;
    sa_tek t;
    t.src = sa_identity::ipv4_subnet(0x0a010000, 0xffff0000);
    t.dst = sa_identity::ipv4_subnet(0x0a020000, 0xffff0000);
    t.transform_id = esp_transform::aes_cbc;
    t.spi = 0x1234;
    x.sa.teks.push_back(t);
    x.kd.packets.push_back(key_packet::tek(0x1234, key_bytes(16, 1), key_bytes(20, 2)));
    x.seq = 1;
    return x;
  }();
  return o;
}

std::optional<ks_offer> policy(uint32_t g, bool) {
  return g == group ? std::optional(fixed_offer()) : std::nullopt;
}

/// HASH(prf(SKEYID_a, M-ID | prefix | rest)) || rest, encrypted for message id `mid`.
bytes with_hash(const phase1_sa& sender, uint32_t mid, std::span<const uint8_t> prefix,
                std::span<const uint8_t> in) {
  if (in.empty()) {
    return {};
  }
  const std::span<const uint8_t> rest = in.subspan(1);
  bytes data{static_cast<uint8_t>(mid >> 24), static_cast<uint8_t>(mid >> 16),
             static_cast<uint8_t>(mid >> 8), static_cast<uint8_t>(mid)};
  data.insert(data.end(), prefix.begin(), prefix.end());
  data.insert(data.end(), rest.begin(), rest.end());
  const key_bytes h = ike::prf(sender.policy.hash, sender.skeyid_a, data);
  bytes chain;
  byte_writer w(chain);
  if (put_payload(w, rest.empty() ? payload::none : in[0], h, payload::hash)) {
    return {};
  }
  w.put(rest);
  isakmp_header hdr;
  hdr.initiator_cookie = sender.icookie;
  hdr.responder_cookie = sender.rcookie;
  hdr.next_payload = payload::hash;
  hdr.flags = flag::encryption;
  hdr.message_id = mid;
  phase1_sa copy = sender;
  return protect(copy, hdr, chain);
}

bytes reply_of(const pull_step& s) {
  const auto* r = std::get_if<std::optional<bytes>>(&s);
  if (r == nullptr || !r->has_value()) {
    abort();
  }
  return **r;
}

void check_error(const pull_step& s) {
  if (const auto* e = std::get_if<pull_error>(&s);
      e != nullptr && static_cast<int>(e->code) > static_cast<int>(pull_errc::encode_failed)) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size]);
  std::copy(data, data + size, buf.get());
  const std::span<const uint8_t> in(buf.get() + 1, size - 1);
  phase1_sa gm_sa = fixed_sa(true);
  phase1_sa ks_sa = fixed_sa(false);
  pull_initiator gm(gm_sa, group, data[0] & 4);
  pull_responder ks(ks_sa, policy);
  const bytes m1 = gm.start();
  bool refused = true;
  switch (data[0] % 4) {
    case 0:
    case 2: {
      const bytes d =
          data[0] % 4 == 0 ? bytes(in.begin(), in.end()) : with_hash(gm_sa, 0x01020304, {}, in);
      const pull_step s = ks.receive(d);
      check_error(s);
      refused = std::holds_alternative<pull_error>(s);
      break;
    }
    default: {
      bytes d(in.begin(), in.end());
      if (data[0] % 4 == 3) {
        // The GM's nonce, as the KS reads it from message 1; message 2 then continues
        // message 1's IV chain (RFC 2409 App. B).
        phase1_sa chained = ks_sa;
        auto plain = unprotect(chained, m1);
        auto p = decode_payloads(payload::hash, *plain, header_len, tail::padding,
                                 exchange::groupkey_pull);
        const auto& ni = std::get<nonce_payload>(p->payloads[1]).data;
        d = with_hash(chained, gm.message_id(), ni, in);
      }
      const pull_step s = gm.receive(d);
      check_error(s);
      refused = std::holds_alternative<pull_error>(s);
      break;
    }
  }
  if (refused) {
    // Both machines are as they were: a genuine registration completes.
    const bytes m2 = reply_of(ks.receive(m1));
    const bytes m4 = reply_of(ks.receive(reply_of(gm.receive(m2))));
    gm.receive(m4);
    if (!gm.done() || !ks.done()) {
      abort();
    }
  }
  return 0;
}
