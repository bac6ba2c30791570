// libFuzzer target for gm-dataplane's YAML configuration (dataplane/config.cc, with the
// ACE parser under it). Any bytes must give a config or a "<file>:<line>: ..." error:
// never a crash, an uncaught exception or a hang. A config it accepts must satisfy what
// the rest of the data plane assumes without checking again.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dataplane/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gm;
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto c = dataplane::parse_config(yaml, "fuzz.yaml", error);
  if (!c) {
    const std::string head = "fuzz.yaml:";
    if (error.compare(0, head.size(), head) != 0 || error.size() <= head.size() ||
        !std::isdigit(static_cast<unsigned char>(error[head.size()]))) {
      abort();
    }
    return 0;
  }
  if (!error.empty() || c->file != "fuzz.yaml") abort();
  if (c->lan.dev == c->wan.dev || c->mtu < 576 || c->mtu > 9216 || c->workers == 0 ||
      c->workers > 64 || c->sender_id > 0xffff) {
    abort();
  }
  for (const auto& a : c->local_acl) {
    if (a.act != classifier::action::bypass) abort();
  }
  if (c->static_group) {
    const auto& s = *c->static_group;
    const crypto::transform_info& t = crypto::info(s.transform);
    if (s.spi == 0 || s.key.size() != std::size_t{t.key_len} + t.salt_len ||
        s.auth_key.size() != t.auth_key_len || s.key_line < 1) {
      abort();
    }
    if (s.replay == dataplane::replay_mode::counter &&
        (s.window < 64 || s.window > 1024 || c->workers != 1)) {
      abort();
    }
    if (s.replay == dataplane::replay_mode::time && s.window < 1) abort();
  }
  return 0;
}
