// Always-on event trace (IOS `show monitor event-trace gdoi registration|rekey|exit`): one
// ring per subsystem holding the newest N events, cheap enough to record every protocol
// event whether or not any debug is enabled, so the history is there after the fact.
//
// Not thread-safe, and it needs no lock: gm-control and gm-ks record and read it only on
// their one Asio thread. Another thread must post to that thread instead of calling here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "control/ops_clock.h"

namespace gm::control {

// Each subsystem declared once: name (the `show monitor event-trace gdoi <name>` keyword)
// and IOS's description of it.
#define GM_TRACE_SUBSYSTEMS(X)                          \
  X(registration, "GDOI Registration event Traces")     \
  X(rekey, "GDOI Rekey event Traces")                   \
  X(exit, "GDOI Exit Traces")

enum class trace_subsystem : uint8_t {
#define GM_TRACE_SUBSYSTEM_ENUM(name, text) name,
  GM_TRACE_SUBSYSTEMS(GM_TRACE_SUBSYSTEM_ENUM)
#undef GM_TRACE_SUBSYSTEM_ENUM
};

inline constexpr std::size_t trace_subsystem_count = 3;

/// "registration", "rekey", "exit".
const char* name(trace_subsystem s);
/// "GDOI Rekey event Traces".
const char* text(trace_subsystem s);
/// Parses a subsystem keyword; false if it is none of them.
bool parse_trace_subsystem(const std::string& word, trace_subsystem& out);

/// One recorded event.
struct trace_entry {
  wall_time wall;    ///< when, for people (IOS timestamp)
  mono_time mono;    ///< when, for ordering (immune to wall-clock steps)
  std::string text;  ///< e.g. "GDOI_REKEY_EVENT: REKEY_RCVD: From 10.1.12.2 to 10.1.13.2 ..."
};

/// An entry as `snapshot` hands it out: the entry plus its IOS timestamp string.
struct trace_line {
  std::string stamp;  ///< "*Nov 25 07:40:01.123:" (with the colon, as IOS prints it)
  trace_entry entry;
};

class event_trace {
 public:
  static constexpr std::size_t default_size = 512;  ///< IOS's default
  static constexpr std::size_t max_size = 1000000;  ///< IOS's `size <1-1000000>`

  /// Every ring starts with `size` entries of room. `clock` must outlive the trace.
  explicit event_trace(const ops_clock& clock, std::size_t size = default_size);

  /// Appends an event stamped now; the oldest entry goes when the ring is full.
  void record(trace_subsystem s, std::string text);

  /// Changes one ring's room (`monitor event-trace gdoi <s> size N`), keeping the newest
  /// entries that fit. Returns false, changing nothing, unless 1 <= entries <= max_size.
  bool resize(trace_subsystem s, std::size_t entries);
  /// Changes every ring's room; same rule as resize.
  bool resize_all(std::size_t entries);

  /// Room in the ring (`Trace has N entries`).
  std::size_t capacity(trace_subsystem s) const;
  /// Entries held now.
  std::size_t count(trace_subsystem s) const;
  /// Events recorded since start, including those the ring has since dropped.
  uint64_t recorded(trace_subsystem s) const;

  /// The ring's entries, oldest first.
  std::vector<trace_line> snapshot(trace_subsystem s) const;
  /// Every ring's entries merged in monotonic order (`show monitor event-trace gdoi merged`).
  std::vector<trace_line> merged() const;

  /// `show monitor event-trace gdoi <s> all`: one "<stamp> <text>" line per entry.
  std::string show(trace_subsystem s) const;
  /// `show monitor event-trace gdoi <s> parameters`.
  std::string show_parameters(trace_subsystem s) const;

  /// `clear monitor event-trace gdoi <s>`.
  void clear(trace_subsystem s);

 private:
  struct ring {
    std::deque<trace_entry> entries;
    std::size_t capacity = default_size;
    uint64_t recorded = 0;
  };
  ring& at(trace_subsystem s) { return _rings[static_cast<std::size_t>(s)]; }
  const ring& at(trace_subsystem s) const { return _rings[static_cast<std::size_t>(s)]; }

  const ops_clock& _clock;
  ring _rings[trace_subsystem_count];
};

}  // namespace gm::control
