// A tiny streaming JSON writer for the --json forms of the show commands: objects, arrays,
// strings (RFC 8259 escaping), integers and booleans. No parser here: tests read the
// output back with yaml-cpp. Commas are inserted automatically.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gm::control {

class json_out {
 public:
  json_out& begin_object();
  json_out& end_object();
  json_out& begin_array();
  json_out& end_array();
  /// Key of the next member (inside an object only).
  json_out& key(std::string_view k);
  json_out& value(std::string_view s);
  json_out& value(const char* s) { return value(std::string_view(s)); }
  json_out& value(uint64_t v);
  json_out& value(int64_t v);
  json_out& value(uint32_t v) { return value(static_cast<uint64_t>(v)); }
  json_out& value(int v) { return value(static_cast<int64_t>(v)); }
  json_out& value(bool b);
  json_out& null();

  /// key + value in one call.
  template <typename T>
  json_out& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  /// The document so far (complete once every begin has its end).
  const std::string& str() const { return _out; }

 private:
  void separate();

  std::string _out;
  std::vector<bool> _first;  // one per open container: no member written yet
  bool _after_key = false;
};

/// s as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

}  // namespace gm::control
