#include "tests/harness/redis_sentinel.h"

#include <stdexcept>

namespace ffpod::testing {

RedisSentinel::RedisSentinel(const RedisServer& primary, const std::string& name, int quorum)
    : name_(name), port_(FreePort()) {
  WriteFile(dir_ / "sentinel.conf",
            "port " + std::to_string(port_) + "\nbind 127.0.0.1\ndir " + dir_.path().string() +
                "\nlogfile " + (dir_ / "sentinel.log") + "\nsentinel monitor " + name +
                " 127.0.0.1 " + std::to_string(primary.port()) + " " + std::to_string(quorum) +
                "\nsentinel down-after-milliseconds " + name + " 1000\nsentinel failover-timeout " +
                name + " 3000\nsentinel parallel-syncs " + name + " 1\n");
  ProcessOptions o;
  o.argv = {"redis-server", dir_ / "sentinel.conf", "--sentinel"};
  process_ = std::make_unique<BackgroundProcess>(o);
  bool up = WaitFor(
      [&] {
        return RunCommand({"redis-cli", "-p", std::to_string(port_), "PING"},
                          std::chrono::seconds(5))
            .out.starts_with("PONG");
      },
      std::chrono::seconds(30));
  if (!up) throw std::runtime_error("redis sentinel did not start: " + Log());
}

RedisSentinel::~RedisSentinel() = default;

int RedisSentinel::PrimaryPort() const {
  CommandResult r = RunCommand(
      {"redis-cli", "-p", std::to_string(port_), "SENTINEL", "get-master-addr-by-name", name_},
      std::chrono::seconds(5));
  size_t newline = r.out.find('\n');
  if (r.status != 0 || newline == std::string::npos) return 0;
  try {
    return std::stoi(r.out.substr(newline + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

std::string RedisSentinel::Log() const {
  try {
    return ReadFile(dir_ / "sentinel.log");
  } catch (const std::exception&) {
    return "";
  }
}

std::string SentinelUrl(const std::vector<const RedisSentinel*>& sentinels,
                        const std::string& name) {
  std::string url = "redis+sentinel://";
  for (size_t i = 0; i < sentinels.size(); ++i) {
    url += (i ? "," : "") + sentinels[i]->HostPort();
  }
  return url + "/" + name;
}

}  // namespace ffpod::testing
