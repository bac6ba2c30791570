// Shared by the GROUPKEY-PULL/PUSH tests and groupkey-sample-tool: a phase-1 SA pair
// fabricated directly (same random keys on both sides), a KS offer of n SA TEKs with a KEK
// and real keys, and the KEK state that goes with it.
#pragma once

#include <cstdint>
#include <optional>

#include "control/group_keys.h"
#include "control/groupkey_push.h"
#include "control/ike_crypto.h"
#include "control/phase1_sa.h"
#include "tests/control/sample_messages.h"

namespace gm::control::test {

struct phase1_pair {
  phase1_sa gm;
  phase1_sa ks;
};

/// Both ends of one established phase-1 SA: the GM initiated it.
inline phase1_pair make_phase1_pair(ike::cipher c = ike::cipher::aes_cbc,
                                    ike::hash_alg h = ike::hash_alg::sha256) {
  phase1_sa s;
  const bytes ic = ike::random_bytes(8);
  const bytes rc = ike::random_bytes(8);
  std::copy(ic.begin(), ic.end(), s.icookie.begin());
  std::copy(rc.begin(), rc.end(), s.rcookie.begin());
  s.policy.cipher = c;
  s.policy.key_bits = c == ike::cipher::aes_cbc ? 256 : 192;
  s.policy.hash = h;
  const bytes a = ike::random_bytes(ike::hash_len(h));
  const bytes e = ike::random_bytes(s.policy.key_bits / 8);
  s.skeyid_a.assign(a.begin(), a.end());
  s.enc_key.assign(e.begin(), e.end());
  s.phase1_iv = ike::random_bytes(ike::block_len(c));
  phase1_pair p{s, s};
  p.ks.initiator = false;
  return p;
}

/// The KS's rekey signing key (2048 bits), generated once per process.
inline const ike::rsa_key& ks_signing_key() {
  static const ike::rsa_key k = *ike::rsa_key::generate(2048);
  return k;
}

inline key_bytes random_key(std::size_t n) {
  const bytes b = ike::random_bytes(n);
  return key_bytes(b.begin(), b.end());
}

/// SA KEK of `alg` (kek_alg::aes with `key_bits`, or des3) signed with `hash`, and its KEK
/// key packet (IV || key, the KS public key).
struct kek_material {
  sa_kek policy;
  key_packet keys;
};

inline kek_material make_kek(const kek_spi& spi, uint16_t alg, uint16_t key_bits, uint16_t hash,
                             const ike::rsa_key& signer) {
  kek_material m;
  m.policy = samples::kek();
  m.policy.spi = spi;
  m.policy.attrs.algorithm = alg;
  m.policy.attrs.key_length = key_bits;
  m.policy.attrs.sig_hash_algorithm = hash;
  m.policy.attrs.sig_key_length = static_cast<uint16_t>(signer.bits());
  const std::size_t block = alg == kek_alg::aes ? 16 : 8;
  const bytes pub = signer.public_der();
  m.keys =
      key_packet::kek(spi, random_key(block + key_bits / 8u), key_bytes(pub.begin(), pub.end()));
  return m;
}

inline kek_spi spi_filled(uint8_t first) {
  kek_spi s{};
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<uint8_t>(first + i);
  }
  return s;
}

/// A KS offer: a KEK and `n_teks` SA TEKs (every third one a deny ACE), keys for the permit
/// ones, SEQ `seq`.
inline ks_offer make_offer(std::size_t n_teks, const kek_material& kek, uint32_t seq = 5) {
  ks_offer o;
  o.sa.kek = kek.policy;
  for (std::size_t i = 0; i < n_teks; ++i) {
    sa_tek t = i % 3 == 2 ? samples::deny_tek() : samples::permit_tek();
    if (!t.deny()) {
      t.spi = 0x10000000u + static_cast<uint32_t>(i);
      t.src = sa_identity::ipv4_subnet(0x0a000000u | static_cast<uint32_t>(i) << 8, 0xffffff00u);
      o.kd.packets.push_back(key_packet::tek(t.spi, random_key(20), {}));
    }
    o.sa.teks.push_back(t);
  }
  o.kd.packets.push_back(kek.keys);
  o.seq = seq;
  return o;
}

/// The GM's KEK state for `kek` as make_kek_state builds it (tests assert it succeeds).
inline kek_state kek_state_of(const kek_material& kek) {
  return std::get<kek_state>(make_kek_state(kek.policy, kek.keys));
}

}  // namespace gm::control::test
