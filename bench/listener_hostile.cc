// A hostile HTTP client for bench/listener_starvation.sh: holds many connections to one port
// on 127.0.0.1 and reopens each one the server closes, as an attacker would (the clients are
// tests/harness/hostile_load.h, the same as the listener's tests use).
//
//   listener_hostile PORT IDLE SLOW KEPT SECONDS
//
// IDLE connections never send a byte; SLOW ones (slowloris) send a request head one byte every
// 300 ms and never finish it; KEPT ones make one request, read the answer and then sit idle on
// the kept-alive connection. At the end it prints one line: how many connections it opened,
// how many the server closed, and how many were open at the end.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "tests/harness/hostile_load.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: listener_hostile PORT IDLE SLOW KEPT SECONDS\n");
    return 2;
  }
  int opened = 0, closed = 0, open_now = 0;
  {
    ffpod::testing::HostileLoad load(std::atoi(argv[1]), std::atoi(argv[2]), std::atoi(argv[3]),
                                     std::atoi(argv[4]));
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[5])));
    opened = load.opened();
    closed = load.closed_by_server();
    open_now = load.open_now();
  }
  std::printf("hostile: %d opened, %d closed by the server, %d open at the end\n", opened, closed,
              open_now);
  return 0;
}
