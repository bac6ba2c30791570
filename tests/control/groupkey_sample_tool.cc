// Runs a registration (GM and KS state machines in memory over a fabricated phase-1 SA)
// and builds rekeys in several forms, and writes the datagrams as sent (encrypted) plus
// what an independent checker needs to decrypt and verify them itself: the phase-1 keys
// and IV, the KEKs, the KS public key, and the values the structs were built from.
// Test material only: these keys exist for this run.
//
//   groupkey-sample-tool OUTDIR
//
// OUTDIR/pull_1.bin .. pull_4.bin, push_<name>.bin, ack.bin, ks_public.der, expected.json
#include <cstdio>
#include <string>
#include <vector>

#include "control/groupkey_pull.h"
#include "control/groupkey_push.h"
#include "tests/control/groupkey_fixture.h"

namespace {

using namespace gm::control;

template <typename C>
std::string hex(const C& b) {
  static const char* digits = "0123456789abcdef";
  std::string s = "\"";
  for (uint8_t x : b) {
    s += digits[x >> 4];
    s += digits[x & 15];
  }
  return s + "\"";
}

bool write(const std::string& path, const bytes& b) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return false;
  }
  const bool ok = std::fwrite(b.data(), 1, b.size(), f) == b.size();
  return std::fclose(f) == 0 && ok;
}

std::string spis(const std::vector<sa_tek>& teks) {
  std::string s = "[";
  for (const sa_tek& t : teks) {
    s += (s.size() > 1 ? ", " : "") + std::to_string(t.spi);
  }
  return s + "]";
}

bytes step(const pull_step& s) {
  const auto* r = std::get_if<std::optional<bytes>>(&s);
  if (r == nullptr || !r->has_value()) {
    std::fprintf(stderr, "registration step failed\n");
    std::exit(1);
  }
  return **r;
}

struct push_variant {
  const char* name;
  uint16_t alg;
  uint16_t bits;
  uint16_t hash;
  ike::sig_form form;
  bool static_iv;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const ike::rsa_key& signer = test::ks_signing_key();
  bool ok = write(dir + "/ks_public.der", signer.public_der());

  // Registration with a sender-id request, 3 TEKs (one deny) and a KEK.
  auto p1 = test::make_phase1_pair();
  const auto kek =
      test::make_kek(test::spi_filled(0xa0), kek_alg::aes, 128, sig_hash::sha256, signer);
  ks_offer offer = test::make_offer(3, kek, 5);
  offer.sid = make_sid_packet(8, 0x2a);
  const uint32_t group = 1234;
  pull_initiator gm(p1.gm, group, true);
  pull_responder ks(
      p1.ks, [&](uint32_t g, bool) { return g == group ? std::optional(offer) : std::nullopt; });
  const bytes m1 = gm.start();
  const bytes m2 = step(ks.receive(m1));
  const bytes m3 = step(gm.receive(m2));
  const bytes m4 = step(ks.receive(m3));
  gm.receive(m4);
  if (!gm.done()) {
    std::fprintf(stderr, "registration did not complete\n");
    return 1;
  }
  ok = ok && write(dir + "/pull_1.bin", m1) && write(dir + "/pull_2.bin", m2) &&
       write(dir + "/pull_3.bin", m3) && write(dir + "/pull_4.bin", m4);

  std::string js = "{\n  \"pull\": {";
  js += "\"message_id\": " + std::to_string(gm.message_id());
  js += ", \"cipher\": \"aes-256-cbc\", \"hash\": \"sha256\"";
  js += ", \"skeyid_a\": " + hex(p1.gm.skeyid_a);
  js += ", \"enc_key\": " + hex(p1.gm.enc_key);
  js += ", \"phase1_iv\": " + hex(p1.gm.phase1_iv);
  js += ", \"group\": " + std::to_string(group);
  js += ", \"seq\": " + std::to_string(*offer.seq);
  js += ", \"sid\": " + std::to_string(0x2a);
  js += ", \"kek_spi\": " + hex(kek.policy.spi);
  js += ", \"tek_spis\": " + spis(offer.sa.teks) + "},\n  \"push\": [";

  // TEK rekeys (policy and keys, no new KEK) in each form a KS may use.
  const push_variant variants[] = {
      {"aes128_sha256_digestinfo_rfciv", kek_alg::aes, 128, sig_hash::sha256,
       ike::sig_form::digest_info, false},
      {"aes256_sha1_rawhash_staticiv", kek_alg::aes, 256, sig_hash::sha1, ike::sig_form::raw_hash,
       true},
      {"des3_sha256_rawhash_rfciv", kek_alg::des3, 192, sig_hash::sha256, ike::sig_form::raw_hash,
       false},
      {"des3_sha1_digestinfo_staticiv", kek_alg::des3, 192, sig_hash::sha1,
       ike::sig_form::digest_info, true},
  };
  bool first = true;
  uint32_t seq = 6;
  for (const push_variant& v : variants) {
    const auto k = test::make_kek(test::spi_filled(0xc0), v.alg, v.bits, v.hash, signer);
    const kek_state st = test::kek_state_of(k);
    ks_offer o = test::make_offer(10, k, seq);
    delete_payload del;
    del.spis.push_back(bytes{0x10, 0, 0, 0});
    auto r = build_push(st, signer, seq, o.sa, o.kd, del, rekey_build_options{v.form, v.static_iv});
    if (!std::holds_alternative<bytes>(r)) {
      std::fprintf(stderr, "build_push %s: %s\n", v.name,
                   describe(std::get<push_error>(r)).c_str());
      return 1;
    }
    ok = ok && write(dir + "/push_" + v.name + ".bin", std::get<bytes>(r));
    js += first ? "\n    {" : ",\n    {";
    first = false;
    js += "\"name\": \"" + std::string(v.name) + "\"";
    js += ", \"cipher\": \"" + std::string(v.alg == kek_alg::aes ? "aes" : "des3") + "\"";
    js += ", \"key\": " + hex(st.key) + ", \"iv\": " + hex(st.iv);
    js += ", \"static_iv\": " + std::string(v.static_iv ? "true" : "false");
    js += ", \"hash\": \"" + std::string(v.hash == sig_hash::sha1 ? "sha1" : "sha256") + "\"";
    js += ", \"form\": \"" + std::string(ike::name(v.form)) + "\"";
    js += ", \"seq\": " + std::to_string(seq);
    js += ", \"kek_spi\": " + hex(k.policy.spi);
    js += ", \"tek_spis\": " + spis(o.sa.teks) + "}";
    ++seq;
  }
  js += "\n  ],\n";

  // An RFC 8263 acknowledgement of the first push (plaintext).
  auto ack_kek = test::kek_state_of(kek);
  ack_kek.ack_requested = true;
  ack_kek.ack_type = kek_ack_type::kek_sha256;
  id_payload me;
  me.id_type = id_type::ipv4_addr;
  me.data = {10, 0, 0, 2};
  auto ack = build_push_ack(ack_kek, 6, me);
  ok = ok && std::holds_alternative<bytes>(ack) && write(dir + "/ack.bin", std::get<bytes>(ack));
  // The KEK key goes out too: the oracle recomputes the ACK's HASH from it (test keys).
  js += "  \"ack\": {\"seq\": 6, \"member\": \"10.0.0.2\", \"kek_spi\": " + hex(ack_kek.spi) +
        ", \"kek_key\": " + hex(ack_kek.key) + "}\n}\n";
  ok = ok && write(dir + "/expected.json", bytes(js.begin(), js.end()));
  if (!ok) {
    std::fprintf(stderr, "cannot write to %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
