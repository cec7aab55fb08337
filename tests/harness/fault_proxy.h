// A loopback HTTP/1.1 proxy for storage tests: it sits between ffpod and the S3 test server and
// does to each request what the test's rule says: pass it on, answer it itself (a 503 SlowDown,
// a 403), or cut the connection after reading part of the body. Every request it saw is
// recorded (method, target without its query's signature, and what was done). Test-only code:
// blocking sockets, a thread per connection; throws std::runtime_error when it cannot listen.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ffpod::testing {

struct ProxiedRequest {
  std::string method;
  std::string target;  // path and query as sent
  size_t body_bytes = 0;
};

struct ProxyAction {
  enum class Kind { kForward, kAnswer, kCut };
  Kind kind = Kind::kForward;
  int status = 0;        // kAnswer
  std::string body;      // kAnswer
  size_t cut_after = 0;  // kCut: close after reading this many body bytes

  static ProxyAction Forward() { return {}; }
  static ProxyAction Answer(int status, std::string body) {
    return {Kind::kAnswer, status, std::move(body), 0};
  }
  static ProxyAction Cut(size_t after) { return {Kind::kCut, 0, {}, after}; }
};

// An S3 error document, as the store sends it.
std::string S3ErrorBody(const std::string& code, const std::string& message);

class FaultProxy {
 public:
  using Rule = std::function<ProxyAction(const ProxiedRequest& request, int nth)>;

  // Listens on a free loopback port and passes requests to 127.0.0.1:`upstream_port`, asking
  // `rule` first (`nth` counts requests from 1). No upstream (0): every forward is refused.
  FaultProxy(int upstream_port, Rule rule);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<ProxiedRequest> requests() const;

 private:
  void Accept();
  void Serve(int client);

  int upstream_port_;
  Rule rule_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<ProxiedRequest> requests_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace ffpod::testing
