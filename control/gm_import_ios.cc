// gm-import-ios: an IOS GM configuration snippet in, gm-control's YAML out.
//
//   gm-import-ios [--psk-out FILE] [--dataplane-prefix P] [--socket PATH] [CONFIG|-]
//
// Reads CONFIG (or stdin), writes YAML to stdout, reports on stderr: `error: line N: ...`
// for lines it could not translate (left out of the YAML), `warning: line N: ...` for
// unrelated lines it skipped. The ISAKMP key goes only to --psk-out (mode 0600).
// Exit status: 0 translated, 1 some lines not translated (YAML still written: review it),
// 2 bad usage or I/O.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "control/ios_import.h"

namespace {

int usage(const char* why) {
  std::cerr << "gm-import-ios: " << why << "\n"
            << "usage: gm-import-ios [--psk-out FILE] [--dataplane-prefix P] [--socket PATH] "
               "[CONFIG|-]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gm::control;
  std::string input = "-";
  std::string psk_out;
  yaml_defaults d;
  bool have_input = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (a == "--psk-out") {
      if (!value(psk_out)) return usage("--psk-out needs a file");
    } else if (a == "--dataplane-prefix") {
      if (!value(d.dataplane_prefix)) return usage("--dataplane-prefix needs a name");
    } else if (a == "--socket") {
      if (!value(d.socket)) return usage("--socket needs a path");
    } else if (a == "-h" || a == "--help") {
      return usage("translates an IOS GETVPN GM snippet into gm-control YAML");
    } else if (!have_input && (a == "-" || a.rfind("-", 0) != 0)) {
      input = a;
      have_input = true;
    } else {
      return usage(("unexpected argument '" + a + "'").c_str());
    }
  }

  std::string text;
  if (input == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream f(input);
    if (!f) {
      std::cerr << "gm-import-ios: cannot read " << input << "\n";
      return 2;
    }
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }

  ios_import_result r = import_ios(text);
  int status = r.errors.empty() ? 0 : 1;
  if (r.psk) {
    if (psk_out.empty()) {
      std::cerr << "error: the snippet holds an ISAKMP pre-shared key: name a file for it with "
                   "--psk-out (key not written anywhere)\n";
      status = 1;
    } else {
      const std::string why = write_psk_file(psk_out, *r.psk);
      if (!why.empty()) {
        std::cerr << "gm-import-ios: " << why << "\n";
        return 2;
      }
      d.psk_file = psk_out;
    }
  } else {
    if (!psk_out.empty()) {
      d.psk_file = psk_out;
    }
    std::cerr << "warning: no 'crypto isakmp key' in the snippet: put the key in " << d.psk_file
              << " yourself (mode 0600)\n";
  }
  if (r.phase1.empty()) {
    std::cerr << "warning: no usable 'crypto isakmp policy': gm-control's default proposal "
                 "(aes-256, sha256, group 14) applies\n";
  }
  for (const import_note& n : r.warnings) {
    std::cerr << "warning: " << n.text << "\n";
  }
  for (const import_note& n : r.errors) {
    std::cerr << "error: " << n.text << "\n";
  }
  std::cout << to_gm_control_yaml(r, d);
  return status;
}
