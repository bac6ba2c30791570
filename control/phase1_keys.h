// The IKEv1 phase-1 key schedule for pre-shared keys (RFC 2409 5 and Appendix B): SKEYID
// and its three children, the encryption key expansion, the first CBC IV and HASH_I/HASH_R.
// Pure functions of their inputs.
#pragma once

#include <cstddef>

#include "control/byte_io.h"
#include "control/ike_crypto.h"
#include "control/phase1_sa.h"

namespace gm::control {

/// SKEYID = prf(pre-shared-key, Ni_b | Nr_b).
key_bytes skeyid_psk(ike::hash_alg h, ike::cspan psk, ike::cspan ni_b, ike::cspan nr_b);

/// Encryption key of `len` bytes from SKEYID_e: its first bytes when it is long enough,
/// else K1 | K2 | ... with K1 = prf(SKEYID_e, 0x00), Kn = prf(SKEYID_e, Kn-1) (App. B).
key_bytes expand_enc_key(ike::hash_alg h, ike::cspan skeyid_e, std::size_t len);

/// The cipher's key length in bytes for a policy (AES key_bits / 8, 3DES 24).
std::size_t enc_key_len(const phase1_policy& p);

/// From sa.skeyid, sa.policy and the cookies, and g^xy: SKEYID_d = prf(SKEYID, g^xy |
/// CKY-I | CKY-R | 0), SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1),
/// SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2), and enc_key.
void derive_phase1_keys(phase1_sa& sa, ike::cspan gxy);

/// The first IV of phase 1: hash(g^xi | g^xr) truncated to the cipher block.
bytes phase1_first_iv(const phase1_policy& p, ike::cspan gxi, ike::cspan gxr);

/// HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b).
key_bytes hash_i(const phase1_sa& sa, ike::cspan gxi, ike::cspan gxr, ike::cspan sai_b,
                 ike::cspan idii_b);
/// HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b).
key_bytes hash_r(const phase1_sa& sa, ike::cspan gxi, ike::cspan gxr, ike::cspan sai_b,
                 ike::cspan idir_b);

}  // namespace gm::control
