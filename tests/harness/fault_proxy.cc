#include "tests/harness/fault_proxy.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "parsers/common/text.h"

namespace ffpod::testing {
namespace {

int Listen(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    throw std::runtime_error("fault proxy: cannot listen");
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads one HTTP message (head and a Content-Length body) from `fd` into `buffer`; returns the
// message's length in `buffer`, or 0 when the peer closed first. `cut_after`, when set, stops
// once that many body bytes came (returning 0).
size_t ReadMessage(int fd, std::string& buffer, ProxiedRequest* request,
                   const std::function<size_t(const ProxiedRequest&)>& cut_after) {
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    char chunk[65536];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  std::string head = AsciiLowered(buffer.substr(0, head_end));
  size_t length = 0;
  if (size_t at = head.find("\r\ncontent-length:"); at != std::string::npos) {
    length = std::stoul(head.substr(at + 17));
  }
  if (request) {
    std::string line = buffer.substr(0, buffer.find("\r\n"));
    request->method = line.substr(0, line.find(' '));
    request->target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
    request->body_bytes = length;
  }
  size_t cut = request && cut_after ? cut_after(*request) : 0;
  size_t total = head_end + 4 + length;
  while (buffer.size() < total) {
    if (cut > 0 && buffer.size() >= head_end + 4 + cut) return 0;
    char chunk[65536];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return total;
}

}  // namespace

std::string S3ErrorBody(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
         message + "</Message><RequestId>FAULTPROXY</RequestId></Error>";
}

FaultProxy::FaultProxy(int upstream_port, Rule rule)
    : upstream_port_(upstream_port), rule_(std::move(rule)) {
  listen_fd_ = Listen(&port_);
  acceptor_ = std::thread([this] { Accept(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  for (auto& t : threads_) t.join();
}

std::vector<ProxiedRequest> FaultProxy::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FaultProxy::Accept() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([this, client] { Serve(client); });
  }
}

void FaultProxy::Serve(int client) {
  int upstream = -1;
  std::string in;
  for (;;) {
    ProxiedRequest request;
    ProxyAction action;
    int nth = 0;
    auto decide = [&](const ProxiedRequest& r) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(r);
        nth = static_cast<int>(requests_.size());
      }
      action = rule_(r, nth);
      return action.kind == ProxyAction::Kind::kCut ? std::max<size_t>(action.cut_after, 1) : 0;
    };
    size_t len = ReadMessage(client, in, &request, decide);
    if (len == 0) break;
    std::string message = in.substr(0, len);
    in.erase(0, len);
    if (action.kind == ProxyAction::Kind::kAnswer) {
      std::string answer = "HTTP/1.1 " + std::to_string(action.status) +
                           " Fault\r\nContent-Type: application/xml\r\nContent-Length: " +
                           std::to_string(action.body.size()) + "\r\n\r\n" + action.body;
      if (!WriteAll(client, answer)) break;
      continue;
    }
    if (upstream < 0) upstream = ConnectLoopback(upstream_port_);
    std::string reply;
    if (upstream < 0 || !WriteAll(upstream, message) ||
        ReadMessage(upstream, reply, nullptr, nullptr) == 0 || !WriteAll(client, reply)) {
      break;
    }
  }
  if (upstream >= 0) ::close(upstream);
  ::close(client);
}

}  // namespace ffpod::testing
