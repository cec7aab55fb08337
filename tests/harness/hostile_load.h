// Hostile HTTP clients for the listener's tests and bench/listener_starvation.sh: many
// connections to one port on 127.0.0.1, each reopened as soon as the server closes it.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ffpod::testing {

// Driven by a thread until destroyed: `idle` connections that never send a byte, `slow` ones
// that trickle a request head one byte per `trickle` and never finish it (slowloris), and `kept`
// ones that make one request, read the answer and then sit idle on the kept-alive connection.
// Each one the server closes is opened again at once, as an attacker would.
class HostileLoad {
 public:
  HostileLoad(int port, int idle, int slow, int kept,
              std::chrono::milliseconds trickle = std::chrono::milliseconds(300));
  ~HostileLoad();
  HostileLoad(const HostileLoad&) = delete;
  HostileLoad& operator=(const HostileLoad&) = delete;

  int opened() const { return opened_.load(); }
  // How many times the server closed one of them.
  int closed_by_server() const { return closed_.load(); }
  int open_now() const { return open_now_.load(); }

 private:
  enum Kind { kIdle, kSlow, kKept };
  struct Conn {
    Kind kind;
    int fd = -1;
  };

  void Open(Conn& c);
  void Run();

  int port_;
  std::chrono::milliseconds trickle_;
  std::vector<Conn> conns_;
  std::atomic<bool> stop_{false};
  std::atomic<int> opened_{0};
  std::atomic<int> closed_{0};
  std::atomic<int> open_now_{0};
  std::thread thread_;
};

}  // namespace ffpod::testing
