// Drain latencies, measured on real processes (docs/benchmarks.md):
//   signal -> /readyz 503      how long a worker keeps telling Kubernetes it is ready
//   signal -> job requeued     until the preempted job is back at the head of Redis' pending
//   signal -> exit             until the worker process is gone
// Each round: a real redis-server, a real `ffpod worker` encoding a long `-re` job, SIGTERM.
//
//   build/bench/drain_latency [rounds]     (default 10)
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using namespace ffpod::testing;

namespace {

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void Report(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  std::printf("| %s | %.2f | %.2f | %.2f | %.2f |\n", what, v.front(), at(0.5), at(0.9), v.back());
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 10;
  std::vector<double> ready, requeued, exited;
  for (int r = 0; r < rounds; ++r) {
    RedisServer redis;
    TempDir dir;
    std::string out = dir / "long.mp4";
    Produce(redis, JobDocument("long", EncodeArgs(out, 120, true), {out}));
    FfpodWorker w(redis.Url(), "bench", dir,
                  {"--heartbeat", "1", "--grace-period", "30", "--drain-margin", "5"});
    int port = w.Port();
    if (!WaitFor([&] { return JobField(redis, "long", "state") == "running"; }, 30s)) {
      std::fprintf(stderr, "the job did not start\n%s", w.Log().c_str());
      return 1;
    }
    std::this_thread::sleep_for(1500ms);
    auto t0 = Clock::now();
    w.process().Signal(SIGTERM);
    while (HttpGet(port, "/readyz").status != 503) {
    }
    ready.push_back(Ms(Clock::now() - t0));
    while (ListLength(redis, "ffpod:pending") != 1) {
    }
    requeued.push_back(Ms(Clock::now() - t0));
    w.process().Wait(30s);
    exited.push_back(Ms(Clock::now() - t0));
  }
  std::printf("%d rounds; milliseconds after SIGTERM\n\n", rounds);
  std::printf("| from SIGTERM to | min | median | p90 | max |\n|---|---|---|---|---|\n");
  Report("/readyz answers 503", ready);
  Report("the job is back in pending", requeued);
  Report("the worker has exited", exited);
  return 0;
}
