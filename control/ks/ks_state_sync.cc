#include "control/ks/ks_state_sync.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace gm::control::ks {

namespace {

constexpr std::string_view magic = "gm-ks-state 1";

template <typename Bytes>
std::string hex(const Bytes& b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t v : b) {
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <typename Bytes>
bool unhex(std::string_view s, Bytes& out) {
  if (s.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < s.size(); i += 2) {
    const int hi = nibble(s[i]);
    const int lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

template <typename T>
bool number(std::string_view s, T& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> w;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) w.push_back(line.substr(start, i - start));
  }
  return w;
}

}  // namespace

uint64_t mono_now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

bool heartbeat_fresh(const ks_shared_state& s, uint32_t takeover_after_s, uint64_t now_ms) {
  return now_ms <= s.heartbeat_mono_ms + uint64_t{takeover_after_s} * 1000;
}

std::string format_state(const ks_shared_state& s) {
  // Built in one buffer reserved up front: a reallocation would leave a copy of the keys
  // in freed memory (the caller wipes the result).
  std::string o;
  o.reserve(1024 + 256 * s.teks.size() + 40 * (s.sids.size() + s.members.size()));
  const auto line = [&o](std::initializer_list<std::string_view> parts) {
    bool first = true;
    for (std::string_view p : parts) {
      if (!first) o += ' ';
      o += p;
      first = false;
    }
    o += '\n';
  };
  using std::to_string;
  o += magic;
  o += '\n';
  line({"writer", to_string(s.writer_addr)});
  line({"version", to_string(s.version)});
  line({"heartbeat_mono_ms", to_string(s.heartbeat_mono_ms)});
  line({"group", to_string(s.group_id)});
  line({"public_key_sha256", hex(s.public_key_hash)});
  if (s.pseudotime_ms) line({"pseudotime_ms", to_string(*s.pseudotime_ms)});
  line({"seq", to_string(s.seq)});
  {
    std::string key = hex(s.kek.key);
    line({"kek", hex(s.kek.spi), to_string(s.kek.alg), key, hex(s.kek.iv),
          to_string(static_cast<int>(s.kek.sig_hash)), to_string(s.kek.ack_type),
          to_string(s.kek.remaining_ms)});
    explicit_bzero(key.data(), key.size());
  }
  for (const synced_tek& t : s.teks) {
    std::string k = hex(t.alg_key);
    std::string a = t.integrity_key.empty() ? std::string("-") : hex(t.integrity_key);
    line({"tek", to_string(t.spi), k, a, to_string(t.remaining_ms)});
    explicit_bzero(k.data(), k.size());
    explicit_bzero(a.data(), a.size());
  }
  for (const auto& [addr, sid] : s.sids) line({"sid", to_string(addr), to_string(sid)});
  line({"next_sid", to_string(s.next_sid)});
  for (const synced_member& m : s.members) line({"member", to_string(m.addr), to_string(m.port)});
  o += "end\n";
  return o;
}

std::optional<ks_shared_state> parse_state(std::string_view text, std::string& error) {
  ks_shared_state s;
  bool have_kek = false;
  bool ended = false;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size() && !ended) {
    const std::size_t nl = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    const auto bad = [&](const char* what) {
      error = "line " + std::to_string(line_no) + ": " + what;
      return std::nullopt;
    };
    if (line_no == 1) {
      if (line != magic) return bad("not a gm-ks state file (or another version)");
      continue;
    }
    const auto w = words(line);
    if (w.empty()) continue;
    const std::string_view key = w[0];
    const auto n = w.size();
    if (key == "end" && n == 1) {
      ended = true;
    } else if (key == "writer" && n == 2) {
      if (!number(w[1], s.writer_addr)) return bad("writer");
    } else if (key == "version" && n == 2) {
      if (!number(w[1], s.version)) return bad("version");
    } else if (key == "heartbeat_mono_ms" && n == 2) {
      if (!number(w[1], s.heartbeat_mono_ms)) return bad("heartbeat_mono_ms");
    } else if (key == "group" && n == 2) {
      if (!number(w[1], s.group_id)) return bad("group");
    } else if (key == "public_key_sha256" && n == 2) {
      if (!unhex(w[1], s.public_key_hash) || s.public_key_hash.size() != 32) {
        return bad("public_key_sha256");
      }
    } else if (key == "pseudotime_ms" && n == 2) {
      uint64_t v = 0;
      if (!number(w[1], v)) return bad("pseudotime_ms");
      s.pseudotime_ms = v;
    } else if (key == "seq" && n == 2) {
      if (!number(w[1], s.seq)) return bad("seq");
    } else if (key == "kek" && n == 8) {
      bytes spi;
      int hash = 0;
      int ack = 0;
      if (!unhex(w[1], spi) || spi.size() != s.kek.spi.size() || !number(w[2], s.kek.alg) ||
          !unhex(w[3], s.kek.key) || s.kek.key.empty() || !unhex(w[4], s.kek.iv) ||
          !number(w[5], hash) || hash < 0 || hash > 1 || !number(w[6], ack) || ack < 0 ||
          ack > 255 || !number(w[7], s.kek.remaining_ms)) {
        return bad("kek");
      }
      std::copy(spi.begin(), spi.end(), s.kek.spi.begin());
      s.kek.sig_hash = static_cast<ike::hash_alg>(hash);
      s.kek.ack_type = static_cast<uint16_t>(ack);
      have_kek = true;
    } else if (key == "tek" && n == 5) {
      synced_tek t;
      if (!number(w[1], t.spi) || !unhex(w[2], t.alg_key) || t.alg_key.empty() ||
          (w[3] != "-" && !unhex(w[3], t.integrity_key)) || !number(w[4], t.remaining_ms)) {
        return bad("tek");
      }
      s.teks.push_back(std::move(t));
    } else if (key == "sid" && n == 3) {
      uint32_t addr = 0;
      uint32_t sid = 0;
      if (!number(w[1], addr) || !number(w[2], sid)) return bad("sid");
      s.sids[addr] = sid;
    } else if (key == "next_sid" && n == 2) {
      if (!number(w[1], s.next_sid)) return bad("next_sid");
    } else if (key == "member" && n == 3) {
      synced_member m;
      if (!number(w[1], m.addr) || !number(w[2], m.port)) return bad("member");
      s.members.push_back(m);
    } else {
      return bad("unknown line");
    }
  }
  if (!ended) {
    error = "truncated (no end line)";
    return std::nullopt;
  }
  if (!have_kek || s.teks.empty()) {
    error = "no KEK or no TEK";
    return std::nullopt;
  }
  return s;
}

bool write_state_file(const std::string& path, const ks_shared_state& s, std::string& error) {
  std::string text = format_state(s);
  const std::string tmp = path + ".tmp";
  bool ok = false;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = tmp + ": " + std::strerror(errno);
  } else {
    ok = ::fchmod(fd, 0600) == 0 &&
         ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (!ok) error = tmp + ": " + std::strerror(errno);
    ::close(fd);
    if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
      error = path + ": " + std::strerror(errno);
      ok = false;
    }
    if (!ok) ::unlink(tmp.c_str());
  }
  explicit_bzero(text.data(), text.size());
  return ok;
}

std::optional<ks_shared_state> read_state_file(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    error = path + ": holds keys, must not be readable by group or others (chmod 600)";
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  ssize_t got = 0;
  while ((got = ::read(fd, buf, sizeof buf)) > 0 && text.size() < (1u << 20)) {
    text.append(buf, static_cast<std::size_t>(got));
  }
  explicit_bzero(buf, sizeof buf);
  ::close(fd);
  auto s = parse_state(text, error);
  explicit_bzero(text.data(), text.size());
  if (!s) error = path + ": " + error;
  return s;
}

}  // namespace gm::control::ks
