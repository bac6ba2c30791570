// The two clocks the operator surface reads: wall-clock time for the timestamps people read
// (IOS `*Nov 25 07:40:01.123`, RFC 5424), monotonic time for ordering and ages that must
// not jump when NTP steps the wall clock. Injected so tests are deterministic.
#pragma once

#include <chrono>
#include <string>

namespace gm::control {

using wall_time = std::chrono::system_clock::time_point;
using mono_time = std::chrono::steady_clock::time_point;

class ops_clock {
 public:
  virtual ~ops_clock() = default;
  virtual wall_time wall() const = 0;
  virtual mono_time mono() const = 0;
};

/// The real clocks.
class system_ops_clock final : public ops_clock {
 public:
  wall_time wall() const override { return std::chrono::system_clock::now(); }
  mono_time mono() const override { return std::chrono::steady_clock::now(); }
};

/// A clock tests set and advance by hand; both clocks move together.
class manual_ops_clock final : public ops_clock {
 public:
  explicit manual_ops_clock(wall_time w = wall_time{}, mono_time m = mono_time{})
      : _wall(w), _mono(m) {}
  wall_time wall() const override { return _wall; }
  mono_time mono() const override { return _mono; }
  void advance(std::chrono::nanoseconds d) {
    _wall += std::chrono::duration_cast<wall_time::duration>(d);
    _mono += std::chrono::duration_cast<mono_time::duration>(d);
  }
  /// Steps only the wall clock (what NTP does); monotonic time is unaffected.
  void step_wall(wall_time w) { _wall = w; }

 private:
  wall_time _wall;
  mono_time _mono;
};

/// IOS timestamp as `service timestamps log datetime msec` prints it, in UTC and marked
/// not-authoritative: `*Nov 25 07:40:01.123` (no trailing colon).
std::string ios_timestamp(wall_time t);

/// RFC 5424 TIMESTAMP (RFC 3339, UTC, milliseconds): `2026-11-25T07:40:01.123Z`.
std::string rfc5424_timestamp(wall_time t);

}  // namespace gm::control
