// Runs Main Mode initiator <-> responder in memory for a few suites and prints, one JSON
// object per line, the six datagrams and what an independent dissector should find in them
// (taken from the configuration and the established SA, not from the bytes): the offered
// transform's attributes, both addresses, the lab PSK, and the initiator cookie and
// encryption key that let Wireshark decrypt messages 5 and 6 itself. Also writes each message as
// OUTDIR/mm_<suite>_<n>.bin when OUTDIR is given (fuzz corpus seeds).
//
//   main-mode-sample-tool [OUTDIR]
#include <cstdio>
#include <string>
#include <vector>

#include "control/main_mode.h"
#include "control/phase1_payloads.h"

namespace {

using namespace gm::control;

constexpr uint32_t gm_addr = 0x0a000001;  // 10.0.0.1
constexpr uint32_t ks_addr = 0x0a000002;  // 10.0.0.2

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

std::string n(uint64_t v) { return std::to_string(v); }

struct named_suite {
  const char* name;
  phase1_policy policy;
};

bool run(const named_suite& s, const char* outdir) {
  main_mode_config c;
  c.proposals = {s.policy};
  const std::string psk = "gdoi-lab-psk";
  c.psk.assign(psk.begin(), psk.end());
  c.local_addr = gm_addr;
  c.peer_addr = ks_addr;
  main_mode_initiator gm(std::move(c));
  main_mode_responder ks(
      {s.policy},
      [&psk](uint32_t) { return std::optional<key_bytes>(key_bytes(psk.begin(), psk.end())); },
      ks_addr, gm_addr);
  std::vector<bytes> msgs{gm.start()};
  while (msgs.size() < 6) {
    auto r = msgs.size() % 2 == 1 ? ks.receive(msgs.back()) : gm.receive(msgs.back());
    if (auto* e = std::get_if<ike_error>(&r)) {
      std::fprintf(stderr, "%s: message %zu refused: %s\n", s.name, msgs.size(),
                   describe(*e).c_str());
      return false;
    }
    msgs.push_back(*std::get<0>(r));
  }
  auto last = gm.receive(msgs.back());
  if (std::holds_alternative<ike_error>(last) || !gm.established()) {
    std::fprintf(stderr, "%s: message 6 refused\n", s.name);
    return false;
  }
  const phase1_sa& sa = gm.sa();
  const ike_transform t = transform_for(s.policy, 1);
  std::string line = "{\"suite\": \"" + std::string(s.name) + "\"";
  line += ", \"icookie\": " + hex(sa.icookie) + ", \"rcookie\": " + hex(sa.rcookie);
  line += ", \"enc_key\": " + hex(sa.enc_key);
  line += ", \"psk\": " + hex(psk);  // a lab key, printed so the oracle can check HASH_I/R
  line += ", \"doi\": " + n(doi_gdoi);
  line += ", \"attrs\": {\"encryption\": " + n(*t.encryption) + ", \"hash\": " + n(*t.hash) +
          ", \"auth\": " + n(*t.auth_method) + ", \"group\": " + n(*t.group) +
          ", \"life_type\": " + n(ike_value::life_seconds) +
          ", \"life_duration\": " + n(*t.life_seconds) +
          ", \"key_length\": " + (t.key_length ? n(*t.key_length) : "null") + "}";
  line += ", \"dh_len\": " + n(ike::dh_len(s.policy.group));
  line += ", \"gm_addr\": \"10.0.0.1\", \"ks_addr\": \"10.0.0.2\"";
  line += ", \"msgs\": [";
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    line += (i ? ", " : "") + hex(msgs[i]);
    if (outdir != nullptr) {
      const std::string path =
          std::string(outdir) + "/mm_" + s.name + "_" + std::to_string(i + 1) + ".bin";
      if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(msgs[i].data(), 1, msgs[i].size(), f);
        std::fclose(f);
      }
    }
  }
  line += "]}";
  std::printf("%s\n", line.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using gm::control::ike::cipher;
  using gm::control::ike::dh_group;
  using gm::control::ike::hash_alg;
  const named_suite suites[] = {
      {"aes128_sha1_g2", {cipher::aes_cbc, 128, hash_alg::sha1, dh_group::modp1024, 3600}},
      {"aes256_sha256_g14", {cipher::aes_cbc, 256, hash_alg::sha256, dh_group::modp2048, 86400}},
      {"aes256_sha1_g14", {cipher::aes_cbc, 256, hash_alg::sha1, dh_group::modp2048, 86400}},
      {"3des_sha1_g14", {cipher::des3_cbc, 192, hash_alg::sha1, dh_group::modp2048, 28800}},
      {"3des_sha256_g2", {cipher::des3_cbc, 192, hash_alg::sha256, dh_group::modp1024, 600}},
  };
  const char* outdir = argc > 1 ? argv[1] : nullptr;
  for (const auto& s : suites) {
    if (!run(s, outdir)) {
      return 1;
    }
  }
  return 0;
}
