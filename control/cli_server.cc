#include "control/cli_server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "control/json_out.h"

namespace gm::control {

namespace {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

std::string answer_line(const cli_server::handler& h, std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  bool json = false;
  if (line.starts_with("json ")) {
    json = true;
    line.remove_prefix(5);
  }
  if (line.find_first_not_of(" \t") == std::string_view::npos) return "";
  parse_result r = parse_command(line);
  if (const auto* e = std::get_if<command_error>(&r)) {
    if (!json) return render_error(line, *e);
    // A script asked for JSON: the refusal is JSON too (gmctl still exits 3 on it).
    json_out j;
    j.begin_object()
        .field("error", render_error(line, *e))
        .field("column", static_cast<uint64_t>(e->column))
        .end_object();
    return j.str() + "\n";
  }
  const command& c = std::get<command>(r);
  std::string text = h(c, json);
  // A regex over JSON text would only break the document; filters apply to text output.
  return json ? text : apply_filter(c.filter, text);
}

// One client: read one line (bounded, with a deadline), answer, close.
class session : public std::enable_shared_from_this<session> {
 public:
  session(stream::socket s, std::shared_ptr<const cli_server::handler> h, unsigned timeout_ms)
      : _sock(std::move(s)),
        _handler(std::move(h)),
        _timer(_sock.get_executor()),
        _buf(max_command_line + 8),
        _timeout_ms(timeout_ms) {}

  void start() {
    auto self = shared_from_this();
    _timer.expires_after(std::chrono::milliseconds(_timeout_ms));
    _timer.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->_sock.close(ignored);
      }
    });
    asio::async_read_until(_sock, _buf, '\n',
                           [self](const boost::system::error_code& ec, std::size_t n) {
                             self->on_line(ec, n);
                           });
  }

 private:
  void on_line(const boost::system::error_code& ec, std::size_t n) {
    std::string line;
    if (!ec) {
      line.assign(asio::buffers_begin(_buf.data()), asio::buffers_begin(_buf.data()) + n);
      _reply = answer_line(*_handler, line);
    } else if (ec == asio::error::eof && _buf.size() > 0) {
      // The client shut down its side without a newline: the line is what it sent.
      line.assign(asio::buffers_begin(_buf.data()), asio::buffers_end(_buf.data()));
      _reply = answer_line(*_handler, line);
    } else if (ec == asio::error::not_found) {
      _reply = render_error("", command_error{command_errc::too_long, 0});
    } else {
      _timer.cancel();
      return;
    }
    auto self = shared_from_this();
    asio::async_write(_sock, asio::buffer(_reply),
                      [self](const boost::system::error_code&, std::size_t) {
                        self->_timer.cancel();
                        boost::system::error_code ignored;
                        self->_sock.shutdown(stream::socket::shutdown_both, ignored);
                        self->_sock.close(ignored);
                      });
  }

  stream::socket _sock;
  std::shared_ptr<const cli_server::handler> _handler;
  asio::steady_timer _timer;
  asio::streambuf _buf;
  unsigned _timeout_ms;
  std::string _reply;
};

std::string errno_text(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

// True if something is accepting connections on path (a live daemon, not a stale file).
bool socket_is_live(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  const bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return live;
}

}  // namespace

struct cli_server::impl {
  explicit impl(asio::io_context& io) : retry(io) {}
  std::shared_ptr<const handler> h;
  asio::steady_timer retry;  // paces accept() after an error such as EMFILE
  dev_t dev = 0;
  ino_t ino = 0;
};

cli_server::cli_server(boost::asio::io_context& io, cli_server_options opts, handler h)
    : _io(io),
      _opts(std::move(opts)),
      _impl(std::make_unique<impl>(io)),
      _acceptor(io) {
  _impl->h = std::make_shared<const handler>(std::move(h));
}

cli_server::~cli_server() {
  if (!_bound) return;
  boost::system::error_code ignored;
  _acceptor.close(ignored);
  _impl->retry.cancel();
  // Unlink only our own socket: a successor may already have replaced the file.
  struct stat st {};
  if (::lstat(_opts.path.c_str(), &st) == 0 && st.st_dev == _impl->dev && st.st_ino == _impl->ino) {
    ::unlink(_opts.path.c_str());
  }
}

cli_server_error cli_server::start() {
  const std::string& p = _opts.path;
  if (p.empty() || p.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return {"socket path too long or empty: " + p};
  }
  gid_t gid = static_cast<gid_t>(-1);
  if (!_opts.group.empty()) {
    std::vector<char> buf(16384);
    group gr{};
    group* found = nullptr;
    const int rc = ::getgrnam_r(_opts.group.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc != 0 || found == nullptr) return {"unknown group " + _opts.group};
    gid = gr.gr_gid;
  }
  struct stat st {};
  if (::lstat(p.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return {p + " exists and is not a socket"};
    if (socket_is_live(p)) return {p + " is in use by a running process"};
    if (::unlink(p.c_str()) != 0) return {errno_text("cannot remove stale socket", p, errno)};
  }
  boost::system::error_code ec;
  _acceptor.open(stream(), ec);
  if (ec) return {"socket: " + ec.message()};
  _acceptor.bind(stream::endpoint(p), ec);
  if (ec) return {"bind " + p + ": " + ec.message()};
  _bound = true;
  // Mode and group before listen(): until then every connect() is refused, so no one
  // outside owner and group ever reaches the socket.
  if (::chmod(p.c_str(), _opts.mode) != 0) return {errno_text("chmod", p, errno)};
  if (gid != static_cast<gid_t>(-1) && ::chown(p.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    return {errno_text("chown", p, errno)};
  }
  if (::lstat(p.c_str(), &st) == 0) {
    _impl->dev = st.st_dev;
    _impl->ino = st.st_ino;
  }
  _acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return {"listen " + p + ": " + ec.message()};
  accept();
  return {};
}

std::string cli_server::answer(std::string_view line) const { return answer_line(*_impl->h, line); }

void cli_server::accept() {
  _acceptor.async_accept([this](const boost::system::error_code& ec, stream::socket s) {
    if (ec == asio::error::operation_aborted) return;  // closed by the destructor
    if (!ec) {
      std::make_shared<session>(std::move(s), _impl->h, _opts.timeout_ms)->start();
      accept();
      return;
    }
    // Out of descriptors and the like: try again shortly instead of spinning.
    _impl->retry.expires_after(std::chrono::milliseconds(100));
    _impl->retry.async_wait([this](const boost::system::error_code& e) {
      if (!e) accept();
    });
  });
}

}  // namespace gm::control
