#include "control/phase1_keys.h"

#include <algorithm>

namespace gm::control {

key_bytes skeyid_psk(ike::hash_alg h, ike::cspan psk, ike::cspan ni_b, ike::cspan nr_b) {
  return ike::prf(h, psk, {ni_b, nr_b});
}

key_bytes expand_enc_key(ike::hash_alg h, ike::cspan skeyid_e, std::size_t len) {
  key_bytes out;
  if (skeyid_e.size() >= len) {
    out.assign(skeyid_e.begin(), skeyid_e.begin() + static_cast<std::ptrdiff_t>(len));
    return out;
  }
  const uint8_t zero = 0;
  key_bytes k = ike::prf(h, skeyid_e, ike::cspan(&zero, 1));
  while (true) {
    out.insert(out.end(), k.begin(), k.end());
    if (out.size() >= len) {
      break;
    }
    k = ike::prf(h, skeyid_e, k);
  }
  out.resize(len);
  return out;
}

std::size_t enc_key_len(const phase1_policy& p) {
  return p.cipher == ike::cipher::aes_cbc ? p.key_bits / 8u : 24u;
}

void derive_phase1_keys(phase1_sa& sa, ike::cspan gxy) {
  const ike::hash_alg h = sa.policy.hash;
  const uint8_t n0 = 0;
  const uint8_t n1 = 1;
  const uint8_t n2 = 2;
  sa.skeyid_d = ike::prf(h, sa.skeyid, {gxy, sa.icookie, sa.rcookie, ike::cspan(&n0, 1)});
  sa.skeyid_a =
      ike::prf(h, sa.skeyid, {sa.skeyid_d, gxy, sa.icookie, sa.rcookie, ike::cspan(&n1, 1)});
  sa.skeyid_e =
      ike::prf(h, sa.skeyid, {sa.skeyid_a, gxy, sa.icookie, sa.rcookie, ike::cspan(&n2, 1)});
  sa.enc_key = expand_enc_key(h, sa.skeyid_e, enc_key_len(sa.policy));
}

bytes phase1_first_iv(const phase1_policy& p, ike::cspan gxi, ike::cspan gxr) {
  bytes iv = ike::digest(p.hash, {gxi, gxr});
  iv.resize(std::min(iv.size(), ike::block_len(p.cipher)));
  return iv;
}

key_bytes hash_i(const phase1_sa& sa, ike::cspan gxi, ike::cspan gxr, ike::cspan sai_b,
                 ike::cspan idii_b) {
  return ike::prf(sa.policy.hash, sa.skeyid, {gxi, gxr, sa.icookie, sa.rcookie, sai_b, idii_b});
}

key_bytes hash_r(const phase1_sa& sa, ike::cspan gxi, ike::cspan gxr, ike::cspan sai_b,
                 ike::cspan idir_b) {
  return ike::prf(sa.policy.hash, sa.skeyid, {gxr, gxi, sa.rcookie, sa.icookie, sai_b, idir_b});
}

}  // namespace gm::control
