#include "control/prometheus.h"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

namespace gm::control {

// ---- exposition text ---------------------------------------------------------------------

namespace {

bool name_char(char c, bool first, bool colon_ok) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (alpha || (colon_ok && c == ':')) {
    return true;
  }
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view s, bool colon_ok) {
  if (s.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!name_char(s[i], i == 0, colon_ok)) {
      return false;
    }
  }
  return true;
}

std::string clean_name(std::string_view s, bool colon_ok) {
  std::string out;
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) {
    out += '_';
  }
  for (char c : s) {
    out += name_char(c, false, colon_ok) ? c : '_';
  }
  return out;
}

std::string escape(std::string_view s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[40];
  // Counters are integers: print them exactly, without an exponent, up to 2^53.
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

}  // namespace

bool valid_metric_name(std::string_view s) { return valid_name(s, true); }
bool valid_label_name(std::string_view s) { return valid_name(s, false); }

std::string render_prometheus(std::span<const metric_sample> samples) {
  // Families in order of first appearance; each family's samples together, in input order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const metric_sample*>> families;
  for (const metric_sample& s : samples) {
    const std::string n = clean_name(s.name, true);
    auto [it, fresh] = families.try_emplace(n);
    if (fresh) {
      order.push_back(n);
    }
    it->second.push_back(&s);
  }
  std::string out;
  for (const std::string& n : order) {
    const auto& members = families[n];
    const metric_sample& first = *members.front();
    out += "# HELP " + n + " " + escape(first.help, false) + "\n";
    out += "# TYPE " + n + (first.type == metric_type::counter ? " counter\n" : " gauge\n");
    for (const metric_sample* s : members) {
      out += n;
      if (!s->labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s->labels.size(); ++i) {
          out += (i > 0 ? "," : "") + clean_name(s->labels[i].name, false) + "=\"" +
                 escape(s->labels[i].value, true) + "\"";
        }
        out += '}';
      }
      out += " " + number(s->value) + "\n";
    }
  }
  return out;
}

// ---- HTTP server -------------------------------------------------------------------------

namespace asio = boost::asio;
using asio::ip::tcp;

struct metrics_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, producer make) : io(io), acceptor(io), make(std::move(make)) {}

  void accept();

  asio::io_context& io;
  tcp::acceptor acceptor;
  producer make;  // emptied when the server goes away: late requests get 503
  uint64_t served = 0;
};

namespace {

constexpr std::size_t max_request = 8192;
constexpr auto idle_limit = std::chrono::seconds(5);

std::string response(const char* status, const std::string& type, const std::string& body) {
  return std::string("HTTP/1.0 ") + status + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket s, std::shared_ptr<metrics_server::impl> server)
      : _sock(std::move(s)), _timer(_sock.get_executor()), _buf(max_request),
        _server(std::move(server)) {}

  void start() {
    auto self = shared_from_this();
    _timer.expires_after(idle_limit);
    _timer.async_wait([self](boost::system::error_code ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->_sock.close(ignored);  // a client that never finishes its request
      }
    });
    asio::async_read_until(_sock, _buf, "\r\n\r\n",
                           [self](boost::system::error_code ec, std::size_t) {
                             self->on_request(ec);
                           });
  }

 private:
  void on_request(boost::system::error_code ec) {
    if (ec && ec != asio::error::not_found) {
      _timer.cancel();
      return;  // closed or timed out
    }
    if (ec == asio::error::not_found) {
      reply(response("400 Bad Request", "text/plain", "request too large\n"));
      return;
    }
    std::istream in(&_buf);
    std::string method, target, version;
    in >> method >> target >> version;
    if (method.empty() || target.empty() || (!version.empty() && version.rfind("HTTP/", 0) != 0)) {
      reply(response("400 Bad Request", "text/plain", "bad request\n"));
    } else if (method != "GET") {
      reply(response("405 Method Not Allowed", "text/plain", "only GET\n"));
    } else if (target != "/metrics" && target.rfind("/metrics?", 0) != 0) {
      reply(response("404 Not Found", "text/plain", "try /metrics\n"));
    } else if (!_server->make) {
      reply(response("503 Service Unavailable", "text/plain", "shutting down\n"));
    } else {
      const std::vector<metric_sample> samples = _server->make();
      reply(response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                     render_prometheus(samples)));
    }
  }

  void reply(std::string text) {
    ++_server->served;
    _out = std::move(text);
    auto self = shared_from_this();
    asio::async_write(_sock, asio::buffer(_out),
                      [self](boost::system::error_code ec, std::size_t) {
                        if (ec) {
                          self->finish();
                          return;
                        }
                        // Closing with unread request bytes would send a RST that can
                        // destroy the reply in flight: half-close, then read until the
                        // client closes (the idle timer bounds this).
                        boost::system::error_code ignored;
                        self->_sock.shutdown(tcp::socket::shutdown_send, ignored);
                        self->drain();
                      });
  }

  void drain() {
    auto self = shared_from_this();
    _sock.async_read_some(asio::buffer(_scratch), [self](boost::system::error_code ec,
                                                         std::size_t) {
      if (ec) {
        self->finish();
      } else {
        self->drain();
      }
    });
  }

  void finish() {
    boost::system::error_code ignored;
    _sock.close(ignored);
    _timer.cancel();
  }

  tcp::socket _sock;
  asio::steady_timer _timer;
  asio::streambuf _buf;
  std::string _out;
  char _scratch[512];
  std::shared_ptr<metrics_server::impl> _server;
};

}  // namespace

void metrics_server::impl::accept() {
  auto self = shared_from_this();
  acceptor.async_accept([self](boost::system::error_code ec, tcp::socket s) {
    if (!self->acceptor.is_open()) {
      return;
    }
    if (!ec) {
      std::make_shared<connection>(std::move(s), self)->start();
    }
    self->accept();
  });
}

metrics_server::metrics_server(asio::io_context& io, producer make)
    : _impl(std::make_shared<impl>(io, std::move(make))) {}

metrics_server::~metrics_server() {
  close();
  _impl->make = nullptr;
}

std::string metrics_server::listen(const std::string& host_port) {
  const std::size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return "prometheus '" + host_port + "': expected A.B.C.D:port";
  }
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address_v4(host_port.substr(0, colon), ec);
  if (ec) {
    return "prometheus '" + host_port + "': '" + host_port.substr(0, colon) +
           "' is not an IPv4 address";
  }
  const std::string p = host_port.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(p) > 65535) {
    return "prometheus '" + host_port + "': port must be 0..65535";
  }
  const tcp::endpoint ep(addr, static_cast<uint16_t>(std::stoul(p)));
  tcp::acceptor& a = _impl->acceptor;
  if (a.open(ep.protocol(), ec) || a.set_option(tcp::acceptor::reuse_address(true), ec) ||
      a.bind(ep, ec) || a.listen(asio::socket_base::max_listen_connections, ec)) {
    const std::string why = ec.message();
    boost::system::error_code ignored;
    a.close(ignored);
    return "prometheus '" + host_port + "': " + why;
  }
  _impl->accept();
  return {};
}

uint16_t metrics_server::port() const {
  boost::system::error_code ec;
  if (!_impl->acceptor.is_open()) {
    return 0;
  }
  const auto ep = _impl->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void metrics_server::close() {
  boost::system::error_code ignored;
  _impl->acceptor.close(ignored);
}

uint64_t metrics_server::served() const { return _impl->served; }

}  // namespace gm::control
