// The operator socket of gm-control and gm-ks: a UNIX stream socket on which a client
// (gmctl) sends one line, "[json ]<command text>\n", and reads the whole reply until the
// server closes. The server parses the line (command.h), calls the daemon's handler on
// its io_context thread, applies any `| include` filter to the text and replies; parse
// errors are answered without calling the handler.
//
// Key hygiene: the socket is created 0660 (owner = the daemon's user, normally root),
// group optionally set to a configured operator group, before it starts listening, so no
// one else can connect in between.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "control/command.h"

namespace gm::control {

struct cli_server_options {
  std::string path = "/run/gm/gm-control.sock";
  mode_t mode = 0660;
  std::string group;           ///< group name given access; empty = the daemon's own group
  unsigned timeout_ms = 5000;  ///< a client that sends no full line by then is dropped
};

/// Start-up result: empty error = listening.
struct cli_server_error {
  std::string what;  ///< "bind /run/gm/gm-control.sock: Permission denied"
  explicit operator bool() const { return !what.empty(); }
};

class cli_server {
 public:
  /// Renders the reply to a command; json = the client asked for the --json form.
  using handler = std::function<std::string(const command&, bool json)>;

  cli_server(boost::asio::io_context& io, cli_server_options opts, handler h);
  ~cli_server();  ///< closes and unlinks the socket file
  cli_server(const cli_server&) = delete;
  cli_server& operator=(const cli_server&) = delete;

  /// Removes a stale socket file, binds, sets mode and group, listens, starts accepting.
  [[nodiscard]] cli_server_error start();

  /// Answers one request line as the server would (parse, handler, filter); for tests.
  std::string answer(std::string_view line) const;

  const std::string& path() const { return _opts.path; }

 private:
  void accept();

  struct impl;

  boost::asio::io_context& _io;
  cli_server_options _opts;
  std::unique_ptr<impl> _impl;
  boost::asio::local::stream_protocol::acceptor _acceptor;
  bool _bound = false;
};

}  // namespace gm::control
