// libFuzzer target for the IKEv1 phase-1 parsers: the SA/proposal/transform codec and a
// Main Mode responder and initiator fed the datagram. Besides "no crash, no out-of-bounds
// read" (ASan/UBSan) it checks the codec's invariants: an error has a known code and an
// offset inside the input; a decoded SA re-encodes and decodes to itself; a transform that
// maps to a policy maps back from that policy's own transform to the same policy.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "control/isakmp.h"
#include "control/main_mode.h"
#include "control/phase1_payloads.h"

namespace {

using namespace gm::control;

void check_error(const codec_error& e, std::size_t size) {
  if (static_cast<int>(e.code) > static_cast<int>(codec_errc::transform_count_mismatch) ||
      e.offset > size) {
    abort();
  }
}

void check_sa(std::span<const uint8_t> body, std::size_t base, std::size_t size) {
  auto sa = decode_phase1_sa(body, base);
  if (!sa) {
    check_error(sa.error(), size);
    return;
  }
  for (const ike_proposal& p : sa->proposals) {
    for (const ike_transform& t : p.transforms) {
      if (auto pol = policy_of(t)) {
        if (policy_of(transform_for(*pol, t.number)) != pol) {
          abort();
        }
      }
    }
  }
  bytes again;
  if (auto e = encode_phase1_sa(*sa, again)) {
    if (e->code != codec_errc::value_too_long) {
      abort();
    }
    return;
  }
  auto back = decode_phase1_sa(again, 0);
  if (!back || *back != *sa) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size copy: reads past the end hit the ASan redzone.
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size == 0 ? 1 : size]);
  std::copy(data, data + size, buf.get());
  const std::span<const uint8_t> in(buf.get(), size);

  // The input as a bare SA payload body.
  check_sa(in, 0, size);

  // The input as a datagram: every SA payload in its chain.
  if (size > header_len) {
    auto ps = walk_payloads(in[16], in.subspan(header_len), header_len, tail::padding);
    if (!ps) {
      check_error(ps.error(), size);
    } else {
      for (const payload_view& p : *ps) {
        if (p.type == payload::sa) {
          check_sa(p.body, p.offset + generic_header_len, size);
        }
      }
    }
  }

  // A responder waiting for message 1, and an initiator waiting for message 2 whose cookie
  // the input borrows (so the SA choice is parsed, not refused at the cookie).
  const std::vector<phase1_policy> policies = {
      {},
      {ike::cipher::des3_cbc, 192, ike::hash_alg::sha1, ike::dh_group::modp1024, 3600},
  };
  main_mode_responder ks(
      policies,
      [](uint32_t) {
        return std::optional<key_bytes>(key_bytes{1, 2, 3});
      },
      0x0a000002, 0x0a000001);
  (void)ks.receive(in, {});
  main_mode_config c;
  c.proposals = policies;
  c.psk = {1, 2, 3};
  main_mode_initiator gm(std::move(c));
  const bytes m1 = gm.start();
  bytes m2(in.begin(), in.end());
  if (m2.size() >= 8) {
    std::copy(m1.begin(), m1.begin() + 8, m2.begin());
  }
  (void)gm.receive(m2, {});
  return 0;
}
