#include "control/json_out.h"

#include <cstdio>

namespace gm::control {

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          // Other control characters have no short form (RFC 8259 section 7). Bytes >= 0x80
          // pass through: our strings are UTF-8 (names, ACL text).
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

void json_out::separate() {
  if (_after_key) {
    _after_key = false;
    return;
  }
  if (!_first.empty()) {
    if (!_first.back()) {
      _out += ',';
    }
    _first.back() = false;
  }
}

json_out& json_out::begin_object() {
  separate();
  _out += '{';
  _first.push_back(true);
  return *this;
}

json_out& json_out::end_object() {
  _out += '}';
  _first.pop_back();
  return *this;
}

json_out& json_out::begin_array() {
  separate();
  _out += '[';
  _first.push_back(true);
  return *this;
}

json_out& json_out::end_array() {
  _out += ']';
  _first.pop_back();
  return *this;
}

json_out& json_out::key(std::string_view k) {
  separate();
  _out += json_quote(k);
  _out += ':';
  _after_key = true;
  return *this;
}

json_out& json_out::value(std::string_view s) {
  separate();
  _out += json_quote(s);
  return *this;
}

json_out& json_out::value(uint64_t v) {
  separate();
  _out += std::to_string(v);
  return *this;
}

json_out& json_out::value(int64_t v) {
  separate();
  _out += std::to_string(v);
  return *this;
}

json_out& json_out::value(bool b) {
  separate();
  _out += b ? "true" : "false";
  return *this;
}

json_out& json_out::null() {
  separate();
  _out += "null";
  return *this;
}

}  // namespace gm::control
