// The `phase1:` list of gm-control's and gm-ks's configs (the IOS `crypto isakmp policy`
// blocks, in priority order), read with the shared yaml_field error conventions.
#pragma once

#include <string>
#include <vector>

#include "control/phase1_sa.h"
#include "dataplane/yaml_field.h"

namespace gm::control {

inline std::vector<phase1_policy> parse_phase1_list(const YAML::Node& n, const std::string& where) {
  using namespace gm::yaml_field;
  if (!n.IsSequence() || n.size() == 0) fail(n, where, "must be a non-empty list of proposals");
  std::vector<phase1_policy> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    check_keys(n[i], at, {"encryption", "hash", "group", "lifetime"});
    phase1_policy p;
    if (n[i]["encryption"]) {
      const std::string e = get_string(n[i]["encryption"], at + ".encryption");
      if (e == "aes-128" || e == "aes-192" || e == "aes-256") {
        p.cipher = ike::cipher::aes_cbc;
        p.key_bits = static_cast<uint16_t>(std::stoi(e.substr(4)));
      } else if (e == "3des") {
        p.cipher = ike::cipher::des3_cbc;
        p.key_bits = 192;
      } else {
        fail(n[i]["encryption"], at + ".encryption",
             "must be aes-128, aes-192, aes-256 or 3des, got '" + e + "'");
      }
    }
    if (n[i]["hash"]) {
      const std::string h = get_string(n[i]["hash"], at + ".hash");
      if (h == "sha1") {
        p.hash = ike::hash_alg::sha1;
      } else if (h == "sha256") {
        p.hash = ike::hash_alg::sha256;
      } else {
        fail(n[i]["hash"], at + ".hash", "must be sha1 or sha256, got '" + h + "'");
      }
    }
    if (n[i]["group"]) {
      const uint64_t g = get_uint(n[i]["group"], at + ".group", 65535);
      if (g != 2 && g != 14) fail(n[i]["group"], at + ".group", "DH group must be 2 or 14");
      p.group = static_cast<ike::dh_group>(g);
    }
    if (n[i]["lifetime"]) {
      const uint64_t l = get_uint(n[i]["lifetime"], at + ".lifetime", 86400 * 7);
      if (l < 60) fail(n[i]["lifetime"], at + ".lifetime", "must be at least 60 seconds");
      p.lifetime_s = static_cast<uint32_t>(l);
    }
    out.push_back(p);
  }
  return out;
}

}  // namespace gm::control
