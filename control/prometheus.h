// Prometheus text exposition (format 0.0.4) of the daemons' counters, and a tiny HTTP/1.0
// server answering `GET /metrics` on a loopback port.
//
// The server runs on the daemon's one Asio thread and calls the producer there, so the
// producer reads daemon state without locks. Not thread-safe otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace gm::control {

enum class metric_type : uint8_t { counter, gauge };

struct metric_label {
  std::string name;
  std::string value;
};

/// One sample. Samples of one family (same name) share help and type; counters should be
/// named `..._total` by Prometheus convention.
struct metric_sample {
  std::string name;
  std::string help;
  metric_type type = metric_type::counter;
  std::vector<metric_label> labels;
  double value = 0;
};

/// Whether `s` matches [a-zA-Z_:][a-zA-Z0-9_:]* (metric names).
bool valid_metric_name(std::string_view s);
/// Whether `s` matches [a-zA-Z_][a-zA-Z0-9_]* (label names).
bool valid_label_name(std::string_view s);

/// The exposition text: per family (in order of first appearance) `# HELP` and `# TYPE`
/// once, then its samples. Help text escapes `\` and newline, label values `\`, `"` and
/// newline. Characters a name may not hold become '_' (a leading digit gets a '_' before it).
/// If one name comes with different help or type, the first one's are used.
std::string render_prometheus(std::span<const metric_sample> samples);

/// HTTP/1.0 `GET /metrics` -> 200 with render_prometheus(producer()); another path -> 404,
/// another method -> 405, a malformed or oversized (8 KiB) request -> 400. One request per
/// connection; a client that sends nothing for 5 s is dropped.
class metrics_server {
 public:
  using producer = std::function<std::vector<metric_sample>()>;

  /// `io` and everything `make` reads must outlive the server.
  metrics_server(boost::asio::io_context& io, producer make);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Starts listening on "A.B.C.D:port" (port 0: the kernel picks, see port()). Returns
  /// what went wrong, or "".
  std::string listen(const std::string& host_port);
  /// The port listened on (0 before listen()).
  uint16_t port() const;
  /// Stops accepting; connections in flight finish.
  void close();
  /// Requests answered, whatever their status (for the daemon's own metrics).
  uint64_t served() const;

  struct impl;  ///< defined in prometheus.cc (connections hold it while they run)

 private:
  std::shared_ptr<impl> _impl;
};

}  // namespace gm::control
