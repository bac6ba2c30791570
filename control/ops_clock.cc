#include "control/ops_clock.h"

#include <time.h>

#include <cstdio>

namespace gm::control {

namespace {

// Splits a wall time into UTC calendar fields and milliseconds (floor, also before 1970).
struct utc_parts {
  struct tm tm {};
  int ms = 0;
};

utc_parts split(wall_time t) {
  using namespace std::chrono;
  const auto since = t.time_since_epoch();
  auto secs = duration_cast<seconds>(since);
  auto ms = duration_cast<milliseconds>(since - secs).count();
  if (ms < 0) {
    ms += 1000;
    secs -= seconds(1);
  }
  utc_parts p;
  const time_t tt = static_cast<time_t>(secs.count());
  gmtime_r(&tt, &p.tm);
  p.ms = static_cast<int>(ms);
  return p;
}

}  // namespace

std::string ios_timestamp(wall_time t) {
  static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const utc_parts p = split(t);
  char buf[96];
  // '*': IOS marks a clock that is not authoritative (no NTP peer of its own); we never
  // claim to be one. Day without padding, as in seed 000 (`*Nov 6 15:55:16.117`).
  std::snprintf(buf, sizeof buf, "*%s %d %02d:%02d:%02d.%03d", months[p.tm.tm_mon], p.tm.tm_mday,
                p.tm.tm_hour, p.tm.tm_min, p.tm.tm_sec, p.ms);
  return buf;
}

std::string rfc5424_timestamp(wall_time t) {
  const utc_parts p = split(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", p.tm.tm_year + 1900,
                p.tm.tm_mon + 1, p.tm.tm_mday, p.tm.tm_hour, p.tm.tm_min, p.tm.tm_sec, p.ms);
  return buf;
}

}  // namespace gm::control
