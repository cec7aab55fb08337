#include "tests/harness/hostile_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ffpod::testing {

namespace {

using Clock = std::chrono::steady_clock;

void SendBytes(int fd, const std::string& bytes) {
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

HostileLoad::HostileLoad(int port, int idle, int slow, int kept, std::chrono::milliseconds trickle)
    : port_(port), trickle_(trickle) {
  for (int i = 0; i < idle + slow + kept; ++i) {
    conns_.push_back({.kind = i < idle ? kIdle : i < idle + slow ? kSlow : kKept});
  }
  thread_ = std::thread([this] { Run(); });
}

HostileLoad::~HostileLoad() {
  stop_ = true;
  thread_.join();
  for (Conn& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
  }
}

void HostileLoad::Open(Conn& c) {
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c.fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(c.fd);
    c.fd = -1;
    return;
  }
  opened_.fetch_add(1);
  pollfd p{c.fd, POLLOUT, 0};
  ::poll(&p, 1, 100);  // loopback: the handshake completes at once, even while unaccepted
  if (c.kind == kSlow) SendBytes(c.fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  if (c.kind == kKept) SendBytes(c.fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
}

void HostileLoad::Run() {
  auto next_trickle = Clock::now();
  std::vector<pollfd> fds;
  while (!stop_) {
    for (Conn& c : conns_) {
      if (c.fd < 0) Open(c);
    }
    if (Clock::now() >= next_trickle) {
      for (Conn& c : conns_) {
        if (c.kind == kSlow && c.fd >= 0) SendBytes(c.fd, "a");
      }
      next_trickle = Clock::now() + trickle_;
    }
    fds.clear();
    int open = 0;
    for (Conn& c : conns_) {
      fds.push_back({c.fd, POLLIN, 0});
      open += c.fd >= 0 ? 1 : 0;
    }
    open_now_ = open;
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(conns_[i].fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0 || (n < 0 && errno == EAGAIN)) continue;  // an answer to a kept one
      ::close(conns_[i].fd);
      conns_[i].fd = -1;
      closed_.fetch_add(1);
    }
  }
}

}  // namespace ffpod::testing
