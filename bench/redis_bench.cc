// RedisClient throughput and latency against a local redis-server (started by this program on a
// free port and a unix socket in a temporary directory, no persistence), or against
// $FFPOD_BENCH_REDIS_URL when set.
//
//   build-redis/bench/redis_bench [--benchmark_filter=Pipelined]
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "supervisor/queue/redis_client.h"

namespace ffpod {
namespace {

// A redis-server child for the whole run.
class BenchServer {
 public:
  BenchServer() {
    char tmpl[] = "/tmp/ffpod-redis-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = FreePort();
    std::string port = std::to_string(port_);
    std::string sock = dir_ + "/redis.sock";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
               "--unixsocket", sock.c_str(), "--save", "", "--appendonly", "no", "--dir",
               dir_.c_str(), "--logfile", (dir_ + "/redis.log").c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~BenchServer() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string TcpUrl() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  std::string UnixUrl() const { return "unix://" + dir_ + "/redis.sock"; }

 private:
  static int FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

BenchServer& Server() {
  static BenchServer server;
  return server;
}

std::string UrlFor(bool unix_socket) {
  if (const char* url = std::getenv("FFPOD_BENCH_REDIS_URL")) return url;
  return unix_socket ? Server().UnixUrl() : Server().TcpUrl();
}

// A connected client on its own io_context; throws when it does not come up in 30 s.
struct Connected {
  explicit Connected(bool unix_socket) {
    auto url = ParseRedisUrl(UrlFor(unix_socket));
    if (!url.ok()) throw std::runtime_error(url.error().message);
    client = std::make_unique<RedisClient>(io, url.value());
    client->Start();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!client->up() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
    }
    if (!client->up()) throw std::runtime_error("redis not up: " + client->last_error());
  }
  void RunUntil(const size_t& done, size_t target) {
    while (done < target) {
      io.restart();
      io.run_one();
    }
  }
  boost::asio::io_context io;
  std::unique_ptr<RedisClient> client;
};

// Pipelined INCRs: state.range(0) in flight at once.
void BM_PipelinedIncr(benchmark::State& state, bool unix_socket) {
  Connected c(unix_socket);
  const auto batch = static_cast<size_t>(state.range(0));
  size_t done = 0;
  size_t errors = 0;
  for (auto _ : state) {
    done = 0;
    for (size_t i = 0; i < batch; ++i) {
      c.client->Command({"INCR", "bench:counter"}, [&](std::error_code ec, RedisReply r) {
        if (ec || r.type != RedisReply::Type::kInteger) ++errors;
        ++done;
      });
    }
    c.RunUntil(done, batch);
  }
  if (errors != 0) state.SkipWithError("command errors");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}
BENCHMARK_CAPTURE(BM_PipelinedIncr, tcp, false)
    ->Arg(1)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_PipelinedIncr, unix, true)->Arg(1)->Arg(1000)->Arg(10000)->UseRealTime();

// SET then GET of one value of state.range(0) bytes.
void BM_LargeValue(benchmark::State& state) {
  Connected c(false);
  std::string value(static_cast<size_t>(state.range(0)), 'x');
  size_t done = 0;
  size_t errors = 0;
  for (auto _ : state) {
    done = 0;
    c.client->Command({"SET", "bench:big", value}, [&](std::error_code ec, RedisReply) {
      if (ec) ++errors;
      ++done;
    });
    c.client->Command({"GET", "bench:big"}, [&](std::error_code ec, RedisReply r) {
      if (ec || r.str.size() != value.size()) ++errors;
      ++done;
    });
    c.RunUntil(done, 2);
  }
  if (errors != 0) state.SkipWithError("command errors");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * value.size()));
}
BENCHMARK(BM_LargeValue)
    ->Arg(64 * 1024)
    ->Arg(10 * 1024 * 1024)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ffpod

BENCHMARK_MAIN();
