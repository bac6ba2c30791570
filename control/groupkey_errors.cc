#include "control/groupkey_errors.h"

namespace gm::control {

namespace {

struct errc_info {
  const char* name;
  const char* text;
};

#define GM_GROUPKEY_ERRC_INFO(n, t) {#n, t},
constexpr errc_info pull_table[] = {GM_PULL_ERRORS(GM_GROUPKEY_ERRC_INFO)};
constexpr errc_info push_table[] = {GM_PUSH_ERRORS(GM_GROUPKEY_ERRC_INFO)};
#undef GM_GROUPKEY_ERRC_INFO

std::string describe_error(const char* n, const char* t, const std::optional<codec_error>& d) {
  std::string s = n;
  s += ": ";
  s += t;
  if (d) {
    s += " (" + describe(*d) + ")";
  }
  return s;
}

}  // namespace

const char* name(pull_errc e) { return pull_table[static_cast<std::size_t>(e)].name; }
const char* text(pull_errc e) { return pull_table[static_cast<std::size_t>(e)].text; }
const char* name(push_errc e) { return push_table[static_cast<std::size_t>(e)].name; }
const char* text(push_errc e) { return push_table[static_cast<std::size_t>(e)].text; }

std::string describe(const pull_error& e) {
  return describe_error(name(e.code), text(e.code), e.detail);
}

std::string describe(const push_error& e) {
  return describe_error(name(e.code), text(e.code), e.detail);
}

}  // namespace gm::control
