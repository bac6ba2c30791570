#include "control/ike_error.h"

namespace gm::control {

namespace {

struct errc_info {
  const char* name;
  const char* text;
};

constexpr errc_info errc_table[] = {
#define GM_IKE_ERRC_INFO(n, t) {#n, t},
    GM_IKE_ERRORS(GM_IKE_ERRC_INFO)
#undef GM_IKE_ERRC_INFO
};

}  // namespace

const char* name(ike_errc e) { return errc_table[static_cast<std::size_t>(e)].name; }

const char* text(ike_errc e) { return errc_table[static_cast<std::size_t>(e)].text; }

std::string describe(const ike_error& e) {
  std::string s = name(e.code);
  s += ": ";
  s += e.code == ike_errc::codec ? describe(e.codec) : text(e.code);
  return s;
}

}  // namespace gm::control
