// libFuzzer target for the GDOI/ISAKMP codec's whole-message parser. The input is a
// datagram as it arrives on UDP 848. Besides "no crash, no out-of-bounds read" (ASan/UBSan),
// it checks the codec's own invariants: a decode either fails with a known error whose
// offset lies inside the input, or returns a message that re-encodes and decodes to itself.
// The same bytes after the header are also walked as a decrypted payload chain (padding
// allowed), which is how the control process will feed decrypted messages.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "control/gdoi_message.h"

namespace {

using namespace gm::control;

void check_error(const codec_error& e, std::size_t size) {
  if (static_cast<int>(e.code) > static_cast<int>(codec_errc::value_too_long) || e.offset > size) {
    abort();
  }
}

void check_stable(const std::vector<gdoi_payload>& payloads, uint8_t exchange_type) {
  auto chain = encode_payloads(payloads);
  if (!chain) {
    // The canonical form can be longer than what was read (a 1-byte SA TEK ID length, a
    // TV pseudotime) and a KEK ID read with a 2-byte length may not fit the RFC's 1 byte:
    // only value_too_long is acceptable.
    if (chain.error().code != codec_errc::value_too_long) {
      abort();
    }
    return;
  }
  const uint8_t first = payloads.empty() ? payload::none : payload_type_of(payloads.front());
  auto again = decode_payloads(first, *chain, header_len, tail::exact, exchange_type);
  if (!again || again->payloads != payloads || again->info.forms.tek_one_byte ||
      again->info.forms.kek_two_byte) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size copy: reads past the end hit the ASan redzone.
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size == 0 ? 1 : size]);
  std::copy(data, data + size, buf.get());
  const std::span<const uint8_t> in(buf.get(), size);

  auto m = decode_message(in);
  if (!m) {
    check_error(m.error(), size);
  } else {
    check_stable(m->message.payloads, m->message.header.exchange_type);
    const sa_payload* sa = nullptr;
    const kd_payload* kd = nullptr;
    for (const gdoi_payload& p : m->message.payloads) {
      sa = sa != nullptr ? sa : std::get_if<sa_payload>(&p);
      kd = kd != nullptr ? kd : std::get_if<kd_payload>(&p);
    }
    if (sa != nullptr && kd != nullptr) {
      (void)check_keys(*sa, *kd);
    }
    auto enc = encode_message(m->message);
    if (!enc && enc.error().code != codec_errc::value_too_long) {
      abort();
    }
  }

  if (size > header_len) {
    const uint8_t exchange_type = in[18];
    auto p =
        decode_payloads(in[16], in.subspan(header_len), header_len, tail::padding, exchange_type);
    if (!p) {
      check_error(p.error(), size);
    } else {
      check_stable(p->payloads, exchange_type);
    }
  }
  return 0;
}
