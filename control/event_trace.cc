#include "control/event_trace.h"

#include <algorithm>

namespace gm::control {

const char* name(trace_subsystem s) {
  switch (s) {
#define GM_TRACE_NAME(n, t) \
  case trace_subsystem::n:  \
    return #n;
    GM_TRACE_SUBSYSTEMS(GM_TRACE_NAME)
#undef GM_TRACE_NAME
  }
  return "?";
}

const char* text(trace_subsystem s) {
  switch (s) {
#define GM_TRACE_TEXT(n, t) \
  case trace_subsystem::n:  \
    return t;
    GM_TRACE_SUBSYSTEMS(GM_TRACE_TEXT)
#undef GM_TRACE_TEXT
  }
  return "?";
}

bool parse_trace_subsystem(const std::string& word, trace_subsystem& out) {
#define GM_TRACE_PARSE(n, t)         \
  if (word == #n) {                  \
    out = trace_subsystem::n;        \
    return true;                     \
  }
  GM_TRACE_SUBSYSTEMS(GM_TRACE_PARSE)
#undef GM_TRACE_PARSE
  return false;
}

event_trace::event_trace(const ops_clock& clock, std::size_t size) : _clock(clock) {
  const std::size_t room = std::clamp<std::size_t>(size, 1, max_size);
  for (ring& r : _rings) {
    r.capacity = room;
  }
}

void event_trace::record(trace_subsystem s, std::string text) {
  ring& r = at(s);
  if (r.entries.size() >= r.capacity) {
    r.entries.pop_front();
  }
  r.entries.push_back(trace_entry{_clock.wall(), _clock.mono(), std::move(text)});
  ++r.recorded;
}

bool event_trace::resize(trace_subsystem s, std::size_t entries) {
  if (entries < 1 || entries > max_size) {
    return false;
  }
  ring& r = at(s);
  r.capacity = entries;
  while (r.entries.size() > entries) {
    r.entries.pop_front();  // keep the newest: they are what an operator is chasing
  }
  r.entries.shrink_to_fit();
  return true;
}

bool event_trace::resize_all(std::size_t entries) {
  if (entries < 1 || entries > max_size) {
    return false;
  }
  for (std::size_t i = 0; i < trace_subsystem_count; ++i) {
    resize(static_cast<trace_subsystem>(i), entries);
  }
  return true;
}

std::size_t event_trace::capacity(trace_subsystem s) const { return at(s).capacity; }
std::size_t event_trace::count(trace_subsystem s) const { return at(s).entries.size(); }
uint64_t event_trace::recorded(trace_subsystem s) const { return at(s).recorded; }

namespace {

trace_line line_of(const trace_entry& e) { return trace_line{ios_timestamp(e.wall) + ":", e}; }

std::string render(const std::vector<trace_line>& lines) {
  std::string out;
  for (const trace_line& l : lines) {
    out += l.stamp;
    out += ' ';
    out += l.entry.text;
    out += '\n';
  }
  return out;
}

}  // namespace

std::vector<trace_line> event_trace::snapshot(trace_subsystem s) const {
  std::vector<trace_line> out;
  out.reserve(at(s).entries.size());
  for (const trace_entry& e : at(s).entries) {
    out.push_back(line_of(e));
  }
  return out;
}

std::vector<trace_line> event_trace::merged() const {
  std::vector<trace_line> out;
  for (const ring& r : _rings) {
    for (const trace_entry& e : r.entries) {
      out.push_back(line_of(e));
    }
  }
  // Stable: events recorded at the same instant keep subsystem order.
  std::stable_sort(out.begin(), out.end(), [](const trace_line& a, const trace_line& b) {
    return a.entry.mono < b.entry.mono;
  });
  return out;
}

std::string event_trace::show(trace_subsystem s) const { return render(snapshot(s)); }

std::string event_trace::show_parameters(trace_subsystem s) const {
  return "Trace has " + std::to_string(capacity(s)) + " entries\nStacktrace is disabled by default\n";
}

void event_trace::clear(trace_subsystem s) { at(s).entries.clear(); }

}  // namespace gm::control
