// Reading YAML config fields with errors that name the file line and the field
// (`file:line: field: what`): shared by gm-dataplane's, gm-control's and gm-ks's config
// loaders. Errors are thrown as yaml_field_error only while loading (control path); the
// loader catches it and turns it into its error string.
#pragma once

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace gm::yaml_field {

// A config error with the place it was found; thrown only while loading (control path).
struct config_error {
  int line;
  std::string field;
  std::string what;
};

[[noreturn]] inline void fail(const YAML::Node& n, const std::string& field, const std::string& what) {
  throw config_error{n.Mark().line + 1, field, what};
}

template <typename T>
T get(const YAML::Node& n, const std::string& field) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    fail(n, field, "has the wrong type");
  }
}

inline uint64_t get_uint(const YAML::Node& n, const std::string& field, uint64_t max) {
  if (!n.IsScalar()) fail(n, field, "must be a number");
  const std::string s = n.Scalar();
  uint64_t v = 0;
  try {
    std::size_t used = 0;
    v = std::stoull(s, &used, 0);
    if (used != s.size() || s[0] == '-') throw std::invalid_argument(s);
  } catch (const std::exception&) {
    fail(n, field, "must be a non-negative number, got '" + s + "'");
  }
  if (v > max) fail(n, field, "must be at most " + std::to_string(max) + ", got " + s);
  return v;
}

inline std::vector<uint8_t> get_hex(const YAML::Node& n, const std::string& field) {
  std::string s = get<std::string>(n, field);
  if (s.rfind("0x", 0) == 0) s = s.substr(2);
  std::vector<uint8_t> out;
  if (s.size() % 2 != 0) fail(n, field, "hex string has an odd number of digits");
  for (std::size_t i = 0; i < s.size(); i += 2) {
    try {
      std::size_t used = 0;
      out.push_back(static_cast<uint8_t>(std::stoul(s.substr(i, 2), &used, 16)));
      if (used != 2) throw std::invalid_argument(s);
    } catch (const std::exception&) {
      fail(n, field, "is not a hex string");
    }
  }
  return out;
}

inline std::array<uint8_t, 6> get_mac(const YAML::Node& n, const std::string& field) {
  const std::string s = get<std::string>(n, field);
  std::array<uint8_t, 6> mac{};
  unsigned b[6];
  char tail;
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                  &tail) != 6) {
    fail(n, field, "is not a MAC address like 02:00:00:00:00:01");
  }
  for (int i = 0; i < 6; ++i) {
    if (b[i] > 255) fail(n, field, "is not a MAC address");
    mac[i] = static_cast<uint8_t>(b[i]);
  }
  return mac;
}

inline void check_keys(const YAML::Node& map, const std::string& where,
                std::initializer_list<const char*> allowed) {
  if (!map.IsMap()) fail(map, where, "must be a mapping");
  std::set<std::string> seen;  // yaml-cpp keeps duplicate keys; YAML forbids them
  for (const auto& kv : map) {
    const std::string k = kv.first.as<std::string>();
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) fail(kv.first, where.empty() ? k : where + "." + k, "unknown field");
    if (!seen.insert(k).second) {
      fail(kv.first, where.empty() ? k : where + "." + k, "duplicate field");
    }
  }
}

inline std::string join(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

inline std::string get_string(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) fail(n, field, "must be a string");
  return n.Scalar();
}

inline bool get_bool(const YAML::Node& n, const std::string& field) {
  const std::string s = get_string(n, field);
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  fail(n, field, "must be true or false, got '" + s + "'");
}

/// An IPv4 address in host order.
inline uint32_t get_ipv4(const YAML::Node& n, const std::string& field) {
  const std::string s = get_string(n, field);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) fail(n, field, "is not an IPv4 address, got '" + s + "'");
  return ntohl(a.s_addr);
}

inline YAML::Node require(const YAML::Node& map, const char* key, const std::string& where,
                          const std::string& hint = {}) {
  YAML::Node n = map[key];
  if (!n) fail(map, join(where, key), hint.empty() ? "is required" : "is required (" + hint + ")");
  return n;
}

/// Key material is refused from a file others may read or write (key hygiene). Empty when
/// the file is private, else why not.
inline std::string key_file_problem(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) return "cannot read " + path + ": " + std::strerror(errno);
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return path + " is readable or writable by others; chmod 600 " + path;
  }
  return {};
}

/// Reads a private key file (a pre-shared key: the whole file, trailing newlines cut) into
/// `out`; the intermediate copy is wiped.
template <typename Bytes>
void read_key_file(const YAML::Node& n, const std::string& field, Bytes& out) {
  const std::string path = get_string(n, field);
  const std::string why = key_file_problem(path);
  if (!why.empty()) fail(n, field, why);
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) fail(n, field, path + " holds no key");
  out.assign(text.begin(), text.end());
  std::fill(text.begin(), text.end(), '\0');
}

/// "file:line: field: what", the one error format of every config loader.
inline std::string describe(const std::string& path, const config_error& e) {
  return path + ":" + std::to_string(e.line) + ": " + e.field + ": " + e.what;
}

}  // namespace gm::yaml_field
