#include "control/gm_log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <sstream>
#include <vector>

namespace gm::control {

// ---- names -------------------------------------------------------------------------------

const char* name(severity s) {
  switch (s) {
#define GM_SEV_NAME(n, v) \
  case severity::n:       \
    return #n;
    GM_LOG_SEVERITIES(GM_SEV_NAME)
#undef GM_SEV_NAME
  }
  return "?";
}

namespace {

constexpr const char* role_tags[] = {
#define GM_ROLE_TAG(n, tag, text) tag,
    GM_DEBUG_ROLES(GM_ROLE_TAG)
#undef GM_ROLE_TAG
};
constexpr const char* role_texts[] = {
#define GM_ROLE_TEXT(n, tag, text) text,
    GM_DEBUG_ROLES(GM_ROLE_TEXT)
#undef GM_ROLE_TEXT
};
constexpr const char* role_names[] = {
#define GM_ROLE_NAME(n, tag, text) #n,
    GM_DEBUG_ROLES(GM_ROLE_NAME)
#undef GM_ROLE_NAME
};
constexpr const char* category_tags[] = {
#define GM_CAT_TAG(n, tag, text) tag,
    GM_DEBUG_CATEGORIES(GM_CAT_TAG)
#undef GM_CAT_TAG
};
constexpr const char* category_texts[] = {
#define GM_CAT_TEXT(n, tag, text) text,
    GM_DEBUG_CATEGORIES(GM_CAT_TEXT)
#undef GM_CAT_TEXT
};
constexpr const char* category_names[] = {
#define GM_CAT_NAME(n, tag, text) #n,
    GM_DEBUG_CATEGORIES(GM_CAT_NAME)
#undef GM_CAT_NAME
};
constexpr const char* level_names[] = {
#define GM_LEVEL_NAME(n, text) #n,
    GM_DEBUG_LEVELS(GM_LEVEL_NAME)
#undef GM_LEVEL_NAME
};
constexpr const char* level_texts[] = {
#define GM_LEVEL_TEXT(n, text) text,
    GM_DEBUG_LEVELS(GM_LEVEL_TEXT)
#undef GM_LEVEL_TEXT
};
constexpr std::size_t debug_level_count = std::size(level_names);

static_assert(std::size(role_names) == debug_role_count);
static_assert(std::size(category_names) == debug_category_count);

// Every format's placeholders are balanced: a stray '{' or '}' would print literally and
// hint at a typo in the table.
constexpr bool formats_well_formed() {
  for (const log_msg_def& d : log_msg_defs) {
    for (std::size_t i = 0; i < d.format.size(); ++i) {
      if (d.format[i] == '{') {
        if (i + 1 >= d.format.size() || d.format[i + 1] != '}') {
          return false;
        }
        ++i;
      } else if (d.format[i] == '}') {
        return false;
      }
    }
    if (d.mnemonic.size() > 32) {  // RFC 5424 MSGID limit
      return false;
    }
  }
  return true;
}
static_assert(formats_well_formed());

std::string dotted(uint32_t host) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", host >> 24, (host >> 16) & 0xff,
                (host >> 8) & 0xff, host & 0xff);
  return buf;
}

bool parse_dotted(std::string_view s, uint32_t& out) {
  in_addr a{};
  const std::string str(s);
  if (inet_pton(AF_INET, str.c_str(), &a) != 1) {
    return false;
  }
  out = ntohl(a.s_addr);
  return true;
}

// Log text may carry names that came from the network (a KS's group name): nothing in it
// may break the one-line-per-message framing or drive a terminal.
std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      c = '?';
    }
  }
  return out;
}

// RFC 5424 header field: PRINTUSASCII (33..126), at most `max` characters, "-" if empty.
std::string header_field(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 33 && u <= 126) ? c : '_';
  }
  return out.empty() ? "-" : out;
}

}  // namespace

const char* name(debug_role r) { return role_names[static_cast<std::size_t>(r)]; }
const char* name(debug_category c) { return category_names[static_cast<std::size_t>(c)]; }
const char* name(debug_level l) { return level_names[static_cast<std::size_t>(l)]; }

std::string ios_tag(log_msg m) {
  const log_msg_def& d = def(m);
  std::string s = "%";
  s += d.facility;
  s += '-';
  s += std::to_string(static_cast<int>(d.sev));
  s += '-';
  s += d.mnemonic;
  return s;
}

std::optional<log_msg> find_log_msg(std::string_view mnemonic) {
  for (std::size_t i = 0; i < log_msg_count; ++i) {
    const auto m = static_cast<log_msg>(i);
    if (log_msg_defs[i].mnemonic == mnemonic || ios_tag(m) == mnemonic) {
      return m;
    }
  }
  return std::nullopt;
}

// ---- arguments ---------------------------------------------------------------------------

namespace log_detail {
std::string hex_of_id(std::span<const uint8_t> id) {
  static const char digits[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (uint8_t b : id) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::string to_text(ipv4_addr a) { return dotted(a.host); }
std::string to_text(spi32 s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08X(%u)", s.v, s.v);
  return buf;
}
std::string to_text(redacted r) { return "<redacted " + std::to_string(r.size) + " bytes>"; }
}  // namespace log_detail

std::string format_fields(std::string_view fmt, std::span<const std::string> args) {
  std::string out;
  out.reserve(fmt.size() + 16 * args.size());
  std::size_t next = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '{' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += next < args.size() ? args[next] : std::string("?");
      ++next;
      ++i;
    } else {
      out += fmt[i];
    }
  }
  return out;
}

// ---- debug settings ----------------------------------------------------------------------

void debug_settings::enable(debug_role role, debug_category category, debug_level level) {
  _level[static_cast<std::size_t>(role)][static_cast<std::size_t>(category)] =
      static_cast<uint8_t>(static_cast<uint8_t>(level) + 1);
  refresh_any();
}

void debug_settings::disable(debug_role role, debug_category category) {
  _level[static_cast<std::size_t>(role)][static_cast<std::size_t>(category)] = 0;
  refresh_any();
}

void debug_settings::disable_all() {
  for (auto& row : _level) {
    for (uint8_t& l : row) {
      l = 0;
    }
  }
  refresh_any();
}

void debug_settings::refresh_any() {
  _any = false;
  for (const auto& row : _level) {
    for (uint8_t l : row) {
      _any = _any || l != 0;
    }
  }
}

bool debug_settings::add_peer(uint32_t ipv4) {
  for (uint32_t p : _peers) {
    if (p == ipv4) {
      return false;
    }
  }
  _peers.push_back(ipv4);
  return true;
}

bool debug_settings::remove_peer(uint32_t ipv4) {
  for (auto it = _peers.begin(); it != _peers.end(); ++it) {
    if (*it == ipv4) {
      _peers.erase(it);
      return true;
    }
  }
  return false;
}

void debug_settings::clear_peers() { _peers.clear(); }

bool debug_settings::wants(debug_role role, debug_category category, debug_level level,
                           std::optional<uint32_t> peer) const {
  const uint8_t on = _level[static_cast<std::size_t>(role)][static_cast<std::size_t>(category)];
  if (on <= static_cast<uint8_t>(level)) {
    return false;
  }
  if (_peers.empty()) {
    return true;
  }
  if (!peer) {
    return _unmatched;
  }
  for (uint32_t p : _peers) {
    if (p == *peer) {
      return true;
    }
  }
  return false;
}

std::string debug_settings::show_level(debug_role role, debug_category category) const {
  const uint8_t on = _level[static_cast<std::size_t>(role)][static_cast<std::size_t>(category)];
  std::string s = "GDOI ";
  s += role_texts[static_cast<std::size_t>(role)];
  s += ' ';
  s += category_texts[static_cast<std::size_t>(category)];
  s += " Debug level: (";
  if (on == 0) {
    s += "None";
  }
  for (int l = on - 1; l >= 0; --l) {
    s += level_texts[l];
    if (l > 0) {
      s += ", ";
    }
  }
  s += ")";
  return s;
}

std::string debug_settings::show_conditions() const {
  std::string s = "GDOI Conditional Filters:\n";
  if (_peers.empty()) {
    s += "No conditions set\n";
  }
  for (uint32_t p : _peers) {
    s += "Peer Address " + dotted(p) + "\n";
  }
  s += _unmatched ? "Unmatched set\n" : "Unmatched NOT set\n";
  return s;
}

namespace {

std::vector<std::string> words(std::string_view s) {
  std::istringstream in{std::string(s)};
  std::vector<std::string> w;
  std::string t;
  while (in >> t) {
    w.push_back(t);
  }
  return w;
}

template <std::size_t N>
int index_of(const char* const (&names)[N], const std::string& w) {
  for (std::size_t i = 0; i < N; ++i) {
    if (w == names[i]) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

debug_reply fail(std::string why) { return debug_reply{false, "% " + std::move(why)}; }

}  // namespace

debug_reply debug_settings::apply(std::string_view command) {
  std::vector<std::string> w = words(command);
  std::size_t i = 0;
  bool negate = false;
  if (i < w.size() && w[i] == "undebug") {
    negate = true;
    ++i;
  } else {
    if (i < w.size() && w[i] == "no") {
      negate = true;
      ++i;
    }
    if (i < w.size() && w[i] == "debug") {
      ++i;
    }
  }
  if (i < w.size() && w[i] == "all") {
    if (!negate || i + 1 != w.size()) {
      return fail("only 'undebug all' or 'no debug all' is understood with 'all'");
    }
    disable_all();
    return debug_reply{true, "All possible debugging has been turned off"};
  }
  if (i < w.size() && w[i] == "crypto") {
    ++i;
    if (i >= w.size() || w[i] != "gdoi") {
      return fail("expected 'gdoi' after 'crypto'");
    }
    ++i;
  }
  if (i >= w.size()) {
    return fail("incomplete command: expected gm, ks, all-features or condition");
  }

  if (w[i] == "condition") {
    ++i;
    if (i < w.size() && w[i] == "unmatched" && i + 1 == w.size()) {
      set_unmatched(!negate);
      return debug_reply{true, negate ? "% GDOI Debug Condition deleted." : "% GDOI Debug Condition added."};
    }
    if (i < w.size() && w[i] == "all" && i + 1 == w.size() && negate) {
      clear_peers();
      set_unmatched(false);
      return debug_reply{true, "% GDOI Debug Conditions cleared."};
    }
    if (i >= w.size() || w[i] != "peer") {
      return fail("expected 'peer', 'unmatched' or (with 'no') 'all' after 'condition'");
    }
    ++i;
    bool remove = negate;
    if (i < w.size() && (w[i] == "add" || w[i] == "delete" || w[i] == "remove")) {
      remove = remove || w[i] != "add";
      ++i;
    }
    if (i + 2 != w.size() || w[i] != "ipv4") {
      return fail("expected 'ipv4 A.B.C.D' after 'condition peer'");
    }
    uint32_t addr = 0;
    if (!parse_dotted(w[i + 1], addr)) {
      return fail("'" + w[i + 1] + "' is not an IPv4 address");
    }
    if (remove) {
      return remove_peer(addr) ? debug_reply{true, "% GDOI Debug Condition deleted."}
                               : fail("no such GDOI debug condition");
    }
    return add_peer(addr) ? debug_reply{true, "% GDOI Debug Condition added."}
                          : fail("GDOI debug condition already exists");
  }

  // {gm|ks|all-features} [{category|all-features}] {level|all-levels}
  std::vector<std::size_t> roles;
  std::vector<std::size_t> cats;
  if (w[i] == "all-features") {
    roles = {0, 1};
    cats = {0, 1, 2, 3};
    ++i;
  } else {
    const int r = index_of(role_names, w[i]);
    if (r < 0) {
      return fail("'" + w[i] + "': expected gm, ks, all-features or condition");
    }
    roles = {static_cast<std::size_t>(r)};
    ++i;
    if (i >= w.size()) {
      return fail("incomplete command: expected a feature after '" + w[i - 1] + "'");
    }
    if (w[i] == "all-features") {
      cats = {0, 1, 2, 3};
    } else {
      const int c = index_of(category_names, w[i]);
      if (c < 0) {
        return fail("'" + w[i] +
                    "': expected registration, rekey, replay, infrastructure or all-features");
      }
      cats = {static_cast<std::size_t>(c)};
    }
    ++i;
  }
  int level = -1;
  if (i < w.size()) {
    if (w[i] == "all-levels" || w[i] == "all-level") {  // IOS accepts the abbreviation
      level = static_cast<int>(debug_level_count) - 1;
    } else {
      level = index_of(level_names, w[i]);
      if (level < 0) {
        return fail("'" + w[i] + "': expected error, terse, event, detail, packet or all-levels");
      }
    }
    ++i;
  }
  if (i != w.size()) {
    return fail("'" + w[i] + "': unexpected after the level");
  }
  if (level < 0 && !negate) {
    return fail("incomplete command: expected a level (error, terse, event, detail, packet, "
                "all-levels)");
  }
  std::string reply;
  for (std::size_t r : roles) {
    for (std::size_t c : cats) {
      const auto role = static_cast<debug_role>(r);
      const auto cat = static_cast<debug_category>(c);
      if (negate) {
        disable(role, cat);
      } else {
        enable(role, cat, static_cast<debug_level>(level));
      }
      reply += show_level(role, cat) + "\n";
    }
  }
  return debug_reply{true, reply};
}

// ---- lines -------------------------------------------------------------------------------

std::string stderr_line(wall_time t, log_msg m, std::string_view text) {
  return ios_timestamp(t) + ": " + ios_tag(m) + ": " + one_line(text);
}

std::string rfc5424_line(uint8_t facility, severity sev, wall_time t, std::string_view hostname,
                         std::string_view app_name, long procid, std::string_view msgid,
                         std::string_view msg) {
  const unsigned pri = static_cast<unsigned>(facility) * 8 + static_cast<unsigned>(sev);
  std::string s = "<" + std::to_string(pri) + ">1 " + rfc5424_timestamp(t) + " ";
  s += header_field(hostname, 255) + " ";
  s += header_field(app_name, 48) + " ";
  s += (procid > 0 ? std::to_string(procid) : std::string("-")) + " ";
  s += header_field(msgid, 32) + " - ";  // "-": no structured data
  s += one_line(msg);
  return s;
}

// ---- the logger --------------------------------------------------------------------------

gm_log::gm_log(const ops_clock& clock, log_options opts, std::ostream& err)
    : _clock(clock), _opts(std::move(opts)), _err(err), _pid(static_cast<long>(getpid())) {
  if (_opts.hostname.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) {
      _opts.hostname = host;
    }
  }
  if (_opts.facility > 23) {
    _opts.facility = 23;
  }
}

gm_log::~gm_log() {
  if (_fd >= 0) {
    close(_fd);
  }
}

std::string gm_log::set_collector(const std::string& host_port) {
  if (_fd >= 0) {
    close(_fd);
    _fd = -1;
  }
  if (host_port.empty()) {
    return {};
  }
  const std::size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return "collector '" + host_port + "': expected A.B.C.D:port";
  }
  uint32_t addr = 0;
  if (!parse_dotted(std::string_view(host_port).substr(0, colon), addr)) {
    return "collector '" + host_port + "': '" + host_port.substr(0, colon) +
           "' is not an IPv4 address";
  }
  const std::string port_text = host_port.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port_text) == 0 || std::stoul(port_text) > 65535) {
    return "collector '" + host_port + "': port must be 1..65535";
  }
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return std::string("collector socket: ") + std::strerror(errno);
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoul(port_text)));
  sa.sin_addr.s_addr = htonl(addr);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    return "collector '" + host_port + "': " + why;
  }
  _fd = fd;
  return {};
}

void gm_log::output(severity sev, std::string_view msgid, const std::string& stderr_form,
                    std::string_view msg) {
  if (static_cast<uint8_t>(sev) > static_cast<uint8_t>(_opts.threshold)) {
    return;
  }
  if (_opts.to_stderr) {
    _err << stderr_form << '\n' << std::flush;
  }
  if (_fd >= 0) {
    const std::string dgram = rfc5424_line(_opts.facility, sev, _clock.wall(), _opts.hostname,
                                           _opts.app_name, _pid, msgid, msg);
    // Never block the Asio thread on a collector: a datagram that cannot go now is counted
    // and dropped (syslog over UDP is lossy by design).
    if (send(_fd, dgram.data(), dgram.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      ++_send_errors;
    }
  }
  if (_observer) {
    _observer(stderr_form);
  }
}

void gm_log::write(log_msg m, const std::string& text) {
  ++_counts[static_cast<std::size_t>(m)];
  const log_msg_def& d = def(m);
  const std::string line = stderr_line(_clock.wall(), m, text);
  output(d.sev, d.mnemonic, line, ios_tag(m) + ": " + text);
}

void gm_log::write_debug(debug_role role, debug_category category, debug_level level,
                         std::optional<uint32_t> peer, const std::string& text) {
  // IOS-like debug prefix: GDOI:GM:REG:EVENT: then the peer the line is about, if any.
  std::string msg = "GDOI:";
  msg += role_tags[static_cast<std::size_t>(role)];
  msg += ':';
  msg += category_tags[static_cast<std::size_t>(category)];
  msg += ':';
  for (const char* c = level_texts[static_cast<std::size_t>(level)]; *c != 0; ++c) {
    msg += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
  }
  msg += ": ";
  if (peer) {
    msg += "(peer " + dotted(*peer) + ") ";
  }
  msg += text;
  output(severity::debugging, "GDOI_DEBUG", ios_timestamp(_clock.wall()) + ": " + one_line(msg),
         msg);
}

}  // namespace gm::control
