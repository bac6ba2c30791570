// libFuzzer target for the GM's GROUPKEY-PUSH opening (open_push, rekey_receiver) and the
// KS's RFC 8263 ACK opening, under a fixed KEK. Random datagrams rarely get past the
// decryption, so the first input byte picks how the rest is used:
//   0: the whole datagram as it arrives;
//   1: a plaintext payload chain (first payload type = the next byte), which the target
//      encrypts under the KEK in RFC IV mode behind a valid header, so the chain decoding
//      and structure checks after decryption are what get fuzzed (the signature fails);
//   2: the same, Cisco static-IV mode;
//   3: a datagram for open_push_ack.
// Invariants besides ASan/UBSan: an error carries a known code; an accepted push (only
// possible by forging RSA) would abort.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "control/groupkey_push.h"
#include "control/ike_crypto.h"
#include "control/isakmp.h"

namespace {

using namespace gm::control;

const kek_state& fixed_kek() {
  static const kek_state k = [] {
    kek_state s;
    for (std::size_t i = 0; i < s.spi.size(); ++i) {
      s.spi[i] = static_cast<uint8_t>(0xa0 + i);
    }
    s.alg = kek_alg::aes;
    s.key = key_bytes(16, 0x42);
    s.iv = bytes(16, 0x24);
    s.sig_hash = ike::hash_alg::sha256;
    s.ks_public_der = ike::rsa_key::generate(1024)->public_der();
    s.ack_requested = true;
    s.ack_type = kek_ack_type::kek_sha256;
    return s;
  }();
  return k;
}

bytes wrap(std::span<const uint8_t> chain, bool static_iv) {
  const kek_state& k = fixed_kek();
  if (chain.empty()) {
    return {};
  }
  bytes plain(chain.begin() + 1, chain.end());
  plain.resize((plain.size() + 15) / 16 * 16, 0);
  if (plain.empty()) {
    plain.resize(16, 0);
  }
  const bytes iv = static_iv ? k.iv : bytes(16, 0x5a);
  auto ct = ike::cbc_encrypt(ike::cipher::aes_cbc, k.key, iv, plain);
  isakmp_header h;
  std::copy_n(k.spi.begin(), 8, h.initiator_cookie.begin());
  std::copy_n(k.spi.begin() + 8, 8, h.responder_cookie.begin());
  h.next_payload = chain[0];
  h.exchange_type = exchange::groupkey_push;
  h.flags = flag::encryption;
  h.length = static_cast<uint32_t>(header_len + (static_iv ? 0 : 16) + ct->size());
  bytes out;
  byte_writer w(out);
  encode_header(h, w);
  if (!static_iv) {
    w.put(iv);
  }
  w.put(*ct);
  return out;
}

void check(const std::variant<opened_push, push_error>& r) {
  if (std::holds_alternative<opened_push>(r)) {
    abort();  // no input can carry a valid signature of the fixed key's private half
  }
  if (static_cast<int>(std::get<push_error>(r).code) > static_cast<int>(push_errc::encode_failed)) {
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
  switch (data[0] % 4) {
    case 0: {
      check(open_push(in, fixed_kek(), 0));
      rekey_receiver gm{fixed_kek(), 0};
      check(gm.receive(in));
      break;
    }
    case 1:
    case 2: {
      const bytes d = wrap(in, data[0] % 4 == 2);
      if (!d.empty()) {
        check(open_push(d, fixed_kek(), 0));
      }
      break;
    }
    default: {
      auto r = open_push_ack(in, fixed_kek());
      if (const auto* e = std::get_if<push_error>(&r);
          e != nullptr && static_cast<int>(e->code) > static_cast<int>(push_errc::encode_failed)) {
        abort();
      }
      break;
    }
  }
  return 0;
}
