// A hostile HTTP client for bench/listener_starvation.sh: holds many connections to one port
// on 127.0.0.1 and reopens each one the server closes, as an attacker would.
//
//   listener_hostile PORT IDLE SLOW KEPT SECONDS
//
// IDLE connections never send a byte; SLOW ones (slowloris) send a request head one byte every
// 300 ms and never finish it; KEPT ones make one request, read the answer and then sit idle on
// the kept-alive connection. At the end it prints one line: how many connections it opened,
// how many the server closed, and how many were open at the end.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

enum Kind { kIdle, kSlow, kKept };

struct Conn {
  Kind kind;
  int fd = -1;
};

void Send(int fd, const std::string& bytes) {
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

bool Open(Conn& c, const sockaddr_in& addr) {
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c.fd < 0) return false;
  int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(c.fd);
    c.fd = -1;
    return false;
  }
  pollfd p{c.fd, POLLOUT, 0};
  ::poll(&p, 1, 100);  // loopback: the handshake completes at once, even while unaccepted
  if (c.kind == kSlow) Send(c.fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  if (c.kind == kKept) Send(c.fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: listener_hostile PORT IDLE SLOW KEPT SECONDS\n");
    return 2;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  int idle = std::atoi(argv[2]);
  int slow = std::atoi(argv[3]);
  int kept = std::atoi(argv[4]);
  auto end = Clock::now() + std::chrono::seconds(std::atoi(argv[5]));

  std::vector<Conn> conns;
  for (int i = 0; i < idle + slow + kept; ++i) {
    conns.push_back({.kind = i < idle ? kIdle : i < idle + slow ? kSlow : kKept});
  }
  long opened = 0;
  long closed = 0;
  auto next_trickle = Clock::now();
  std::vector<pollfd> fds;
  while (Clock::now() < end) {
    for (Conn& c : conns) {
      if (c.fd < 0 && Open(c, addr)) ++opened;
    }
    if (Clock::now() >= next_trickle) {
      for (Conn& c : conns) {
        if (c.kind == kSlow && c.fd >= 0) Send(c.fd, "a");
      }
      next_trickle = Clock::now() + std::chrono::milliseconds(300);
    }
    fds.clear();
    for (Conn& c : conns) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(conns[i].fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0 || (n < 0 && errno == EAGAIN)) continue;  // the answer to a kept one
      ::close(conns[i].fd);
      conns[i].fd = -1;
      ++closed;
    }
  }
  long open_now = 0;
  for (Conn& c : conns) open_now += c.fd >= 0 ? 1 : 0;
  std::printf("hostile: %ld opened, %ld closed by the server, %ld open at the end\n", opened,
              closed, open_now);
  return 0;
}
