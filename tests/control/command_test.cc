// The operator command parser: IOS abbreviations, errors with the caret column, filters.
#include <gtest/gtest.h>

#include "control/command.h"
#include "control/gm_log.h"

namespace gm::control {
namespace {

command ok(std::string_view line) {
  parse_result r = parse_command(line);
  if (const auto* e = std::get_if<command_error>(&r)) {
    ADD_FAILURE() << "\"" << line << "\": " << render_error(line, *e);
    return {};
  }
  return std::get<command>(r);
}

command_error bad(std::string_view line) {
  parse_result r = parse_command(line);
  if (!std::holds_alternative<command_error>(r)) {
    ADD_FAILURE() << "\"" << line << "\" parsed";
    return {};
  }
  return std::get<command_error>(r);
}

TEST(Command, FullAndAbbreviatedShowCommands) {
  const std::pair<const char*, command_kind> cases[] = {
      {"show crypto gdoi", command_kind::show_gdoi},
      {"sh cry gdoi", command_kind::show_gdoi},
      {"  sh   cry   gd  ", command_kind::show_gdoi},
      {"show crypto gdoi gm", command_kind::show_gdoi_gm},
      {"sh cry gd gm rek", command_kind::show_gdoi_gm_rekey},
      {"sh cry gd gm repl", command_kind::show_gdoi_gm_replay},
      {"show crypto gdoi rekey sa", command_kind::show_gdoi_rekey_sa},
      {"sh cry gd r s", command_kind::show_gdoi_rekey_sa},
      {"show crypto gdoi ks members", command_kind::show_gdoi_ks_members},
      {"sh cry gd ks mem", command_kind::show_gdoi_ks_members},
      {"sh cry gd ks rek", command_kind::show_gdoi_ks_rekey},
      {"sh cry gd ks pol", command_kind::show_gdoi_ks_policy},
      {"show crypto isakmp sa", command_kind::show_isakmp_sa},
      {"sh cry isa sa", command_kind::show_isakmp_sa},
      {"show crypto ipsec sa", command_kind::show_ipsec_sa},
      {"sh cry ips sa", command_kind::show_ipsec_sa},
      {"clear crypto gdoi", command_kind::clear_gdoi},
      {"cle cry gd", command_kind::clear_gdoi},
      {"clear crypto sa", command_kind::clear_sa},
      {"undebug all", command_kind::undebug_all},
      {"u all", command_kind::undebug_all},
      {"no debug all", command_kind::undebug_all},
  };
  for (const auto& [line, kind] : cases) {
    EXPECT_EQ(ok(line).kind, kind) << line;
  }
}

TEST(Command, EventTrace) {
  command c = ok("show monitor event-trace gdoi rekey all");
  EXPECT_EQ(c.kind, command_kind::show_event_trace);
  EXPECT_EQ(c.trace, trace_kind::rekey);
  EXPECT_EQ(ok("sh mon event gdoi reg").trace, trace_kind::registration);
  EXPECT_EQ(ok("sh mon ev gd ex all").trace, trace_kind::exit);
  EXPECT_EQ(ok("show monitor event-trace gdoi all").trace, trace_kind::all);
  EXPECT_EQ(bad("show monitor event-trace gdoi all all").column, 34u);
}

TEST(Command, Debug) {
  command c = ok("debug crypto gdoi ks registration all-levels");
  EXPECT_EQ(c.kind, command_kind::debug_gdoi);
  EXPECT_EQ(c.role, cmd_debug_role::ks);
  EXPECT_EQ(c.feature, cmd_debug_feature::registration);
  EXPECT_EQ(c.level, cmd_debug_level::all_levels);
  c = ok("deb cry gd gm rep det");
  EXPECT_EQ(c.role, cmd_debug_role::gm);
  EXPECT_EQ(c.feature, cmd_debug_feature::replay);
  EXPECT_EQ(c.level, cmd_debug_level::detail);
  EXPECT_EQ(ok("debug crypto gdoi gm all-features packet").level, cmd_debug_level::packet);
  EXPECT_EQ(ok("debug crypto gdoi gm rekey terse").level, cmd_debug_level::terse);
  EXPECT_EQ(ok("debug crypto gdoi gm rekey error").level, cmd_debug_level::error);
  EXPECT_EQ(ok("debug crypto gdoi gm rekey event").level, cmd_debug_level::event);

  c = ok("debug crypto gdoi condition peer add ipv4 10.1.20.2");
  EXPECT_EQ(c.kind, command_kind::debug_condition_peer);
  EXPECT_EQ(c.peer, 0x0a011402u);
  const command_error e = bad("debug crypto gdoi condition peer add ipv4 10.1.20.256");
  EXPECT_EQ(e.code, command_errc::invalid_input);
  EXPECT_EQ(e.column, 42u);
  EXPECT_EQ(bad("debug crypto gdoi condition peer add ipv4").code, command_errc::incomplete);
}

TEST(Command, Errors) {
  command_error e = bad("show crypto gdoo");
  EXPECT_EQ(e.code, command_errc::invalid_input);
  EXPECT_EQ(e.column, 12u);
  EXPECT_EQ(render_error("show crypto gdoo", e),
            "show crypto gdoo\n"
            "            ^\n"
            "% Invalid input detected at '^' marker.\n");
  e = bad("show crypto gdoi gm rekey extra");
  EXPECT_EQ(e.code, command_errc::invalid_input);
  EXPECT_EQ(e.column, 26u);
  e = bad("show crypto");
  EXPECT_EQ(e.code, command_errc::incomplete);
  EXPECT_EQ(render_error("show crypto", e), "% Incomplete command.\n");
  EXPECT_EQ(bad("debug crypto gdoi gm rekey").code, command_errc::incomplete);
  e = bad("show crypto gdoi gm re");  // rekey or replay
  EXPECT_EQ(e.code, command_errc::ambiguous);
  EXPECT_EQ(render_error("show crypto gdoi gm re", e),
            "% Ambiguous command:  \"show crypto gdoi gm re\"\n");
  EXPECT_EQ(bad("sh cry i sa").code, command_errc::ambiguous);  // isakmp or ipsec
  EXPECT_EQ(bad("").code, command_errc::incomplete);
  EXPECT_EQ(bad("configure terminal").column, 0u);
  EXPECT_EQ(bad(std::string(max_command_line + 1, 'x')).code, command_errc::too_long);
  // An exact keyword wins over a longer one it prefixes: none here, but "no" vs nothing.
  EXPECT_EQ(ok("no debug all").kind, command_kind::undebug_all);
}

TEST(Command, Filters) {
  command c = ok("show crypto ipsec sa | in encrypt|decrypt");
  EXPECT_EQ(c.kind, command_kind::show_ipsec_sa);
  EXPECT_EQ(c.filter.kind, filter_kind::include);
  EXPECT_EQ(c.filter.pattern, "encrypt|decrypt");
  c = ok("sh cry gd | exclude access-list ");
  EXPECT_EQ(c.filter.kind, filter_kind::exclude);
  EXPECT_EQ(c.filter.pattern, "access-list");
  c = ok("sh cry gd|be KEK POLICY");
  EXPECT_EQ(c.filter.kind, filter_kind::begin);
  EXPECT_EQ(c.filter.pattern, "KEK POLICY");
  EXPECT_EQ(bad("sh cry gd |").code, command_errc::incomplete);
  EXPECT_EQ(bad("sh cry gd | include").code, command_errc::incomplete);
  command_error e = bad("sh cry gd | section x");
  EXPECT_EQ(e.code, command_errc::invalid_input);
  EXPECT_EQ(e.column, 12u);
  e = bad("sh cry gd | include (unclosed");
  EXPECT_EQ(e.code, command_errc::bad_regex);
  EXPECT_EQ(e.column, 20u);
  // The command part is checked first.
  EXPECT_EQ(bad("sh cry gdoo | include x").column, 7u);
}

TEST(Command, ApplyFilter) {
  const std::string text = "alpha 1\nbeta 2\ngamma 3\nbeta 4\n";
  EXPECT_EQ(apply_filter({filter_kind::include, "beta"}, text), "beta 2\nbeta 4\n");
  EXPECT_EQ(apply_filter({filter_kind::exclude, "beta"}, text), "alpha 1\ngamma 3\n");
  EXPECT_EQ(apply_filter({filter_kind::begin, "^gamma"}, text), "gamma 3\nbeta 4\n");
  EXPECT_EQ(apply_filter({filter_kind::include, "[0-9]$"}, "no digits\nx9"), "x9\n");
  EXPECT_EQ(apply_filter({filter_kind::include, "nomatch"}, text), "");
  EXPECT_EQ(apply_filter({}, text), text);
}

TEST(Command, KeyServerCommands) {
  command c = ok("rekey");
  EXPECT_EQ(c.kind, command_kind::rekey);
  EXPECT_EQ(c.rekey_target, cmd_rekey_kind::tek);  // IOS's default: the TEK
  EXPECT_EQ(ok("rekey tek").rekey_target, cmd_rekey_kind::tek);
  EXPECT_EQ(ok("rekey kek").rekey_target, cmd_rekey_kind::kek);
  EXPECT_EQ(ok("rek k").rekey_target, cmd_rekey_kind::kek);
  EXPECT_EQ(ok("rek t").kind, command_kind::rekey);
  // `r` is rekey or reload: IOS refuses an ambiguous abbreviation.
  EXPECT_EQ(bad("r t").code, command_errc::ambiguous);
  EXPECT_EQ(ok("reload").kind, command_kind::reload);
  EXPECT_EQ(ok("rel").kind, command_kind::reload);
  command_error e = bad("rekey kek now");
  EXPECT_EQ(e.code, command_errc::invalid_input);
  EXPECT_EQ(e.column, 10u);
  e = bad("rekey gm");
  EXPECT_EQ(e.code, command_errc::invalid_input);
  EXPECT_EQ(e.column, 6u);

  EXPECT_EQ(ok("clear crypto gdoi ks members").kind, command_kind::clear_gdoi_ks_members);
  EXPECT_EQ(ok("cle cry gd ks mem").kind, command_kind::clear_gdoi_ks_members);
  EXPECT_EQ(ok("clear crypto gdoi").kind, command_kind::clear_gdoi);  // unchanged
  EXPECT_EQ(bad("clear crypto gdoi ks").code, command_errc::incomplete);
  e = bad("clear crypto gdoi gm");
  EXPECT_EQ(e.code, command_errc::invalid_input);
  EXPECT_EQ(e.column, 18u);
}

TEST(Command, ShowDebugCondition) {
  EXPECT_EQ(ok("show crypto gdoi debug-condition").kind, command_kind::show_debug_condition);
  EXPECT_EQ(ok("sh cry gd deb").kind, command_kind::show_debug_condition);
  EXPECT_EQ(ok("sh cry gd d | inc Peer").filter.pattern, "Peer");
  EXPECT_EQ(bad("show crypto gdoi debug-condition all").column, 33u);
}

// debug_line gives back words that both our parser and gm_log's debug settings accept, and
// that do what the parsed command said.
TEST(Command, DebugLineRoundTrips) {
  const char* const lines[] = {
      "debug crypto gdoi gm registration error",
      "debug crypto gdoi ks rekey all-levels",
      "debug crypto gdoi gm all-features packet",
      "debug crypto gdoi condition peer add ipv4 10.1.20.2",
      "undebug all",
  };
  for (const char* line : lines) {
    const command c = ok(line);
    EXPECT_EQ(debug_line(c), line);
    debug_settings d;
    EXPECT_TRUE(d.apply(debug_line(c)).ok) << line;
  }
  EXPECT_EQ(debug_line(ok("deb cry gd cond peer add ipv4 192.0.2.255")),
            "debug crypto gdoi condition peer add ipv4 192.0.2.255");
  EXPECT_EQ(debug_line(ok("show crypto gdoi")), "");

  debug_settings d;
  ASSERT_TRUE(d.apply(debug_line(ok("deb cry gd cond peer add ipv4 10.1.20.2"))).ok);
  ASSERT_TRUE(d.apply(debug_line(ok("deb cry gd ks reg ev"))).ok);
  EXPECT_EQ(d.show_conditions(),
            "GDOI Conditional Filters:\n"
            "Peer Address 10.1.20.2\n"
            "Unmatched NOT set\n");
  EXPECT_TRUE(d.wants(debug_role::ks, debug_category::registration, debug_level::event,
                      0x0a011402u));
  EXPECT_FALSE(d.wants(debug_role::ks, debug_category::registration, debug_level::detail,
                       0x0a011402u));
  EXPECT_FALSE(d.wants(debug_role::ks, debug_category::registration, debug_level::event,
                       0x0a011403u));
}

TEST(Command, Words) {
  EXPECT_STREQ(words(command_kind::show_gdoi_gm_replay), "show crypto gdoi gm replay");
  EXPECT_STREQ(words(command_kind::undebug_all), "undebug all");
  EXPECT_STREQ(words(command_kind::clear_gdoi_ks_members), "clear crypto gdoi ks members");
  EXPECT_STREQ(words(command_kind::show_debug_condition), "show crypto gdoi debug-condition");
}

}  // namespace
}  // namespace gm::control
