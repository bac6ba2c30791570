// libFuzzer target for the IOS ACE parser (classifier/parse_ace.cc), which reads the config
// file's ACLs and gm-dpctl's policy files. Any text must give an ACE or an error, never a
// crash or an exception; an ACE it accepts must be one the classifier can compile as is.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "classifier/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gm::classifier;
  const std::string line(reinterpret_cast<const char*>(data), size);
  ace a;
  const std::string err = parse_ace(line, 5, a);
  if (!err.empty()) return 0;
  if (a.text != line) abort();
  if (a.act == action::protect ? a.sa_index != 5 : a.act != action::bypass) abort();
  for (const prefix& p : {a.src, a.dst}) {
    if (p.len > 32) abort();
    const uint32_t host_bits = p.len == 0 ? ~0u : p.len == 32 ? 0u : ~0u >> p.len;
    if ((p.addr & host_bits) != 0) abort();  // 10.0.0.1 0.0.0.255 is refused, not masked
  }
  if (a.sport.lo > a.sport.hi || a.dport.lo > a.dport.hi) abort();
  const bool l4 = a.proto == 6 || a.proto == 17;
  if (!l4 && (a.sport.lo != 0 || a.sport.hi != 65535 || a.dport.lo != 0 || a.dport.hi != 65535)) {
    abort();  // ports on a protocol without ports would never match
  }
  // The same text parses to the same ACE.
  ace b;
  if (!parse_ace(a.text, 5, b).empty() || b.proto != a.proto || b.src.addr != a.src.addr ||
      b.dst.len != a.dst.len || b.dport.hi != a.dport.hi) {
    abort();
  }
  return 0;
}
