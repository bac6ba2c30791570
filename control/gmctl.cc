// gmctl: the operator's client for the gm-control / gm-ks command socket (cli_server.h).
//   gmctl [-s|--socket PATH] [--ks] [--json] <command words...>
// With no command words it reads commands from stdin, one per line (a mini shell).
// Exit status: 0 answered, 1 cannot reach the daemon, 2 usage, 3 the daemon refused the
// command (an IOS "% ..." error line).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

namespace {

constexpr const char* default_gm_socket = "/run/gm/gm-control.sock";
constexpr const char* default_ks_socket = "/run/gm/gm-ks.sock";

void usage() {
  std::cerr << "usage: gmctl [-s|--socket PATH] [--ks] [--json] [command words...]\n"
               "  e.g. gmctl show crypto gdoi | gmctl --json sh cry ipsec sa\n"
               "  no command words: read commands from stdin, one per line\n"
               "  default socket " << default_gm_socket << " (--ks: " << default_ks_socket
            << ")\n";
}

struct reply {
  std::string text;
  std::string error;  // non-empty: could not talk to the daemon
};

reply ask(const std::string& path, const std::string& line) {
  reply r;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  if (path.size() >= sizeof a.sun_path) {
    r.error = "socket path too long";
    return r;
  }
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    r.error = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return r;
  }
  const std::string msg = line + "\n";
  std::size_t off = 0;
  while (off < msg.size()) {
    const ssize_t n = ::send(fd, msg.data() + off, msg.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      r.error = std::strerror(errno);
      ::close(fd);
      return r;
    }
    off += static_cast<std::size_t>(n);
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      r.error = std::strerror(errno);
      break;
    }
    r.text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return r;
}

// IOS marks a refused command with a line that starts with "% "; in JSON mode the daemon
// answers {"error": ...}.
bool refused(const std::string& text) {
  return text.starts_with("% ") || text.find("\n% ") != std::string::npos ||
         text.starts_with("{\"error\":");
}

int run_one(const std::string& path, const char* daemon, bool json, const std::string& line) {
  const reply r = ask(path, (json ? "json " : "") + line);
  if (!r.error.empty()) {
    std::cerr << "gmctl: cannot reach " << daemon << " at " << path << ": " << r.error << "\n";
    return 1;
  }
  std::cout << r.text << std::flush;
  return refused(r.text) ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> socket;
  bool ks = false;
  bool json = false;
  std::string words;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "-s" || a == "--socket") && i + 1 < argc) {
      socket = argv[++i];
    } else if (a.starts_with("--socket=")) {
      socket = a.substr(9);
    } else if (a == "--ks") {
      ks = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (a == "--") {
      ++i;
      break;
    } else if (a.starts_with("-")) {
      usage();
      return 2;
    } else {
      break;
    }
  }
  for (; i < argc; ++i) words += (words.empty() ? "" : " ") + std::string(argv[i]);
  const std::string path = socket.value_or(ks ? default_ks_socket : default_gm_socket);
  const char* daemon = ks ? "gm-ks" : "gm-control";

  if (!words.empty()) return run_one(path, daemon, json, words);

  // Mini shell: one command per line; a prompt only when a person is typing.
  const bool tty = ::isatty(STDIN_FILENO) != 0;
  int status = 0;
  std::string line;
  for (;;) {
    if (tty) std::cout << daemon << "# " << std::flush;
    if (!std::getline(std::cin, line)) break;
    if (line == "exit" || line == "quit" || line == "end") break;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const int rc = run_one(path, daemon, json, line);
    if (rc == 1) return 1;  // the daemon went away: no point reading more commands
    if (rc != 0) status = rc;
  }
  if (tty) std::cout << "\n";
  return status;
}
