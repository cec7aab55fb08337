// A loopback TCP peer that is not Redis: it accepts every connection on a free port of
// 127.0.0.1 and, once the client has sent something, answers it with fixed bytes (or, silent,
// with nothing), then keeps the connection open until the client closes it. For tests of what
// ffpod does with a misbehaving server. Test-only code; the peer runs on a thread of its own,
// the accessors are thread-safe.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace ffpod::testing {

class FakePeer {
 public:
  // `answer` empty: silent (reads and never answers, like a plain port to a TLS client).
  explicit FakePeer(std::string answer);
  ~FakePeer();  // stops the thread, closes every socket
  FakePeer(const FakePeer&) = delete;
  FakePeer& operator=(const FakePeer&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& scheme = "redis") const;
  int connections() const { return connections_.load(); }  // accepted so far

 private:
  void Serve();

  std::string answer_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};  // a pipe: writing to it stops Serve()
  std::atomic<int> connections_{0};
  std::thread thread_;
};

}  // namespace ffpod::testing
