#include "control/command.h"

#include <arpa/inet.h>

#include <initializer_list>
#include <optional>
#include <regex>
#include <vector>

namespace gm::control {

namespace {

const char* const g_words[] = {
#define GM_X(kind, words) words,
    GM_COMMANDS(GM_X)
#undef GM_X
};

const char* const g_error_text[] = {
#define GM_X(name, text) text,
    GM_COMMAND_ERRORS(GM_X)
#undef GM_X
};

struct token {
  std::string_view text;
  std::size_t column;
};

std::vector<token> tokenize(std::string_view line) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back({line.substr(start, i - start), start});
  }
  return out;
}

// Walks the tokens of one line; every step either consumes a token or yields an error.
class cursor {
 public:
  cursor(std::vector<token> toks, std::size_t end) : _toks(std::move(toks)), _end(end) {}

  bool done() const { return _i == _toks.size(); }

  // Index into opts of the keyword the next token abbreviates (IOS: any unambiguous prefix,
  // an exact match wins), or an error.
  std::variant<std::size_t, command_error> keyword(std::initializer_list<std::string_view> opts) {
    if (done()) return command_error{command_errc::incomplete, _end};
    const token& t = _toks[_i];
    std::size_t found = opts.size();
    std::size_t n = 0;
    std::size_t idx = 0;
    for (std::string_view o : opts) {
      if (o == t.text) {
        found = idx;
        n = 1;
        break;
      }
      if (o.starts_with(t.text)) {
        found = idx;
        ++n;
      }
      ++idx;
    }
    if (n == 0) return command_error{command_errc::invalid_input, t.column};
    if (n > 1) return command_error{command_errc::ambiguous, t.column};
    ++_i;
    return found;
  }

  std::variant<uint32_t, command_error> ipv4() {
    if (done()) return command_error{command_errc::incomplete, _end};
    const token& t = _toks[_i];
    in_addr a{};
    if (inet_pton(AF_INET, std::string(t.text).c_str(), &a) != 1) {
      return command_error{command_errc::invalid_input, t.column};
    }
    ++_i;
    return ntohl(a.s_addr);
  }

  // The command must end here.
  std::optional<command_error> at_end() const {
    if (done()) return std::nullopt;
    return command_error{command_errc::invalid_input, _toks[_i].column};
  }

 private:
  std::vector<token> _toks;
  std::size_t _end;
  std::size_t _i = 0;
};

// Shorthand: take a keyword or return its error from the enclosing function.
#define GM_KEYWORD(var, cur, ...)                                 \
  std::size_t var = 0;                                            \
  {                                                               \
    auto r_ = (cur).keyword({__VA_ARGS__});                       \
    if (auto* e_ = std::get_if<command_error>(&r_)) return *e_;   \
    var = std::get<std::size_t>(r_);                              \
  }

command of(command_kind k) {
  command c;
  c.kind = k;
  return c;
}

parse_result finish(cursor& c, command cmd) {
  if (auto e = c.at_end()) return *e;
  return cmd;
}

parse_result parse_show_gdoi(cursor& c) {
  command cmd;
  if (c.done()) return finish(c, of(command_kind::show_gdoi));
  GM_KEYWORD(w, c, "gm", "ks", "rekey", "debug-condition");
  if (w == 3) return finish(c, of(command_kind::show_debug_condition));
  if (w == 0) {
    if (c.done()) return finish(c, of(command_kind::show_gdoi_gm));
    GM_KEYWORD(g, c, "rekey", "replay");
    cmd.kind = g == 0 ? command_kind::show_gdoi_gm_rekey : command_kind::show_gdoi_gm_replay;
    return finish(c, cmd);
  }
  if (w == 1) {
    GM_KEYWORD(k, c, "members", "rekey", "policy", "coop");
    constexpr command_kind kinds[] = {command_kind::show_gdoi_ks_members,
                                      command_kind::show_gdoi_ks_rekey,
                                      command_kind::show_gdoi_ks_policy,
                                      command_kind::show_gdoi_ks_coop};
    cmd.kind = kinds[k];
    return finish(c, cmd);
  }
  GM_KEYWORD(sa, c, "sa");
  (void)sa;
  cmd.kind = command_kind::show_gdoi_rekey_sa;
  return finish(c, cmd);
}

parse_result parse_show(cursor& c) {
  command cmd;
  GM_KEYWORD(w, c, "crypto", "monitor");
  if (w == 1) {
    GM_KEYWORD(et, c, "event-trace");
    GM_KEYWORD(g, c, "gdoi");
    (void)et;
    (void)g;
    GM_KEYWORD(t, c, "registration", "rekey", "exit", "all");
    cmd.kind = command_kind::show_event_trace;
    cmd.trace = static_cast<trace_kind>(t);
    // IOS: `show monitor event-trace gdoi rekey all` (all = every entry in the buffer).
    if (t != 3 && !c.done()) {
      GM_KEYWORD(all, c, "all");
      (void)all;
    }
    return finish(c, cmd);
  }
  GM_KEYWORD(p, c, "gdoi", "isakmp", "ipsec");
  if (p == 0) return parse_show_gdoi(c);
  GM_KEYWORD(sa, c, "sa");
  (void)sa;
  cmd.kind = p == 1 ? command_kind::show_isakmp_sa : command_kind::show_ipsec_sa;
  return finish(c, cmd);
}

parse_result parse_debug(cursor& c) {
  command cmd;
  GM_KEYWORD(cr, c, "crypto");
  GM_KEYWORD(g, c, "gdoi");
  (void)cr;
  (void)g;
  GM_KEYWORD(r, c, "gm", "ks", "condition");
  if (r == 2) {
    GM_KEYWORD(peer, c, "peer");
    GM_KEYWORD(add, c, "add");
    GM_KEYWORD(v4, c, "ipv4");
    (void)peer;
    (void)add;
    (void)v4;
    auto a = c.ipv4();
    if (auto* e = std::get_if<command_error>(&a)) return *e;
    cmd.kind = command_kind::debug_condition_peer;
    cmd.peer = std::get<uint32_t>(a);
    return finish(c, cmd);
  }
  cmd.kind = command_kind::debug_gdoi;
  cmd.role = static_cast<cmd_debug_role>(r);
  GM_KEYWORD(f, c, "registration", "rekey", "replay", "all-features");
  cmd.feature = static_cast<cmd_debug_feature>(f);
  GM_KEYWORD(l, c, "error", "terse", "event", "detail", "packet", "all-levels");
  cmd.level = static_cast<cmd_debug_level>(l);
  return finish(c, cmd);
}

parse_result parse_clear(cursor& c) {
  GM_KEYWORD(cr, c, "crypto");
  (void)cr;
  GM_KEYWORD(what, c, "gdoi", "sa");
  if (what == 1) return finish(c, of(command_kind::clear_sa));
  if (c.done()) return finish(c, of(command_kind::clear_gdoi));
  GM_KEYWORD(ks, c, "ks");
  GM_KEYWORD(members, c, "members");
  (void)ks;
  (void)members;
  return finish(c, of(command_kind::clear_gdoi_ks_members));
}

// `rekey [tek|kek]`: a key server sends a rekey now; TEK when no word follows.
parse_result parse_rekey(cursor& c) {
  command cmd = of(command_kind::rekey);
  if (c.done()) return finish(c, cmd);
  GM_KEYWORD(k, c, "tek", "kek");
  cmd.rekey_target = static_cast<cmd_rekey_kind>(k);
  return finish(c, cmd);
}

parse_result parse_words(cursor& c) {
  GM_KEYWORD(w, c, "show", "clear", "debug", "undebug", "no", "rekey", "reload");
  switch (w) {
    case 6:
      // A key server re-reads its config file (as SIGHUP does).
      return finish(c, of(command_kind::reload));
    case 0:
      return parse_show(c);
    case 1:
      return parse_clear(c);
    case 5:
      return parse_rekey(c);
    case 2:
      return parse_debug(c);
    case 3: {
      GM_KEYWORD(all, c, "all");
      (void)all;
      return finish(c, of(command_kind::undebug_all));
    }
    default: {
      GM_KEYWORD(d, c, "debug");
      GM_KEYWORD(all, c, "all");
      (void)d;
      (void)all;
      return finish(c, of(command_kind::undebug_all));
    }
  }
}

// `| include REGEX`: the filter keyword, then everything after it is the pattern.
std::variant<output_filter, command_error> parse_filter(std::string_view line, std::size_t bar) {
  std::string_view rest = line.substr(bar + 1);
  std::vector<token> toks = tokenize(rest);
  for (auto& t : toks) t.column += bar + 1;
  if (toks.empty()) return command_error{command_errc::incomplete, line.size()};
  cursor c({toks.front()}, line.size());
  auto k = c.keyword({"include", "exclude", "begin"});
  if (auto* e = std::get_if<command_error>(&k)) return *e;
  output_filter f;
  f.kind = static_cast<filter_kind>(std::get<std::size_t>(k) + 1);
  if (toks.size() < 2) return command_error{command_errc::incomplete, line.size()};
  const std::size_t start = toks[1].column;
  std::size_t stop = line.size();
  while (stop > start && (line[stop - 1] == ' ' || line[stop - 1] == '\t')) --stop;
  f.pattern = std::string(line.substr(start, stop - start));
  try {
    std::regex re(f.pattern);
  } catch (const std::regex_error&) {
    // std::regex reports a bad pattern only by throwing; turn it into our typed error.
    return command_error{command_errc::bad_regex, start};
  }
  return f;
}

}  // namespace

const char* words(command_kind k) { return g_words[static_cast<std::size_t>(k)]; }

parse_result parse_command(std::string_view line) {
  if (line.size() > max_command_line) return command_error{command_errc::too_long, 0};
  const std::size_t bar = line.find('|');
  std::string_view head = bar == std::string_view::npos ? line : line.substr(0, bar);
  std::size_t end = head.size();
  while (end > 0 && (head[end - 1] == ' ' || head[end - 1] == '\t')) --end;
  cursor c(tokenize(head), end);
  parse_result r = parse_words(c);
  if (bar == std::string_view::npos || std::holds_alternative<command_error>(r)) return r;
  auto f = parse_filter(line, bar);
  if (auto* e = std::get_if<command_error>(&f)) return *e;
  std::get<command>(r).filter = std::move(std::get<output_filter>(f));
  return r;
}

std::string render_error(std::string_view line, const command_error& e) {
  const std::string text = g_error_text[static_cast<std::size_t>(e.code)];
  switch (e.code) {
    case command_errc::invalid_input:
    case command_errc::bad_regex:
      // The line echoed with the caret under the offending word, as IOS does after the prompt.
      return std::string(line) + "\n" + std::string(e.column, ' ') + "^\n" + text + "\n";
    case command_errc::ambiguous:
      return text + ":  \"" + std::string(line) + "\"\n";
    default:
      return text + "\n";
  }
}

std::string debug_line(const command& c) {
  static constexpr const char* roles[] = {"gm", "ks"};
  static constexpr const char* features[] = {"registration", "rekey", "replay", "all-features"};
  static constexpr const char* levels[] = {"error",  "terse",  "event",
                                           "detail", "packet", "all-levels"};
  switch (c.kind) {
    case command_kind::debug_gdoi:
      return std::string("debug crypto gdoi ") + roles[static_cast<int>(c.role)] + " " +
             features[static_cast<int>(c.feature)] + " " + levels[static_cast<int>(c.level)];
    case command_kind::debug_condition_peer: {
      in_addr a{};
      a.s_addr = htonl(c.peer);
      char text[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &a, text, sizeof text);
      return std::string("debug crypto gdoi condition peer add ipv4 ") + text;
    }
    case command_kind::undebug_all:
      return "undebug all";
    default:
      return {};
  }
}

std::string apply_filter(const output_filter& f, std::string_view text) {
  if (f.kind == filter_kind::none) return std::string(text);
  std::regex re;
  try {
    re = std::regex(f.pattern);
  } catch (const std::regex_error&) {
    return std::string(text);  // parse_command already refused such a pattern
  }
  std::string out;
  bool begun = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    const std::size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    const std::string_view line = text.substr(pos, (nl == std::string_view::npos ? next : nl) - pos);
    const bool match = std::regex_search(line.begin(), line.end(), re);
    bool keep = false;
    switch (f.kind) {
      case filter_kind::include: keep = match; break;
      case filter_kind::exclude: keep = !match; break;
      default: begun = begun || match; keep = begun; break;
    }
    if (keep) {
      out.append(line);
      out += '\n';
    }
    pos = next;
  }
  return out;
}

}  // namespace gm::control
