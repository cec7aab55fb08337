// A real Redis Sentinel for tests (`redis-server CONF --sentinel`, from the same package): on a
// free loopback port, monitoring one primary of tests/harness/redis_server.h under a name, with
// short timings so that a failover happens within seconds (down after 1 s, failover timeout
// 3 s). Test-only code; throws std::runtime_error when it cannot be started.
#pragma once

#include <memory>
#include <string>

#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod::testing {

class RedisSentinel {
 public:
  // Starts a Sentinel that monitors `primary` as `name` with `quorum` and waits until it
  // answers PING (30 s limit).
  RedisSentinel(const RedisServer& primary, const std::string& name = "mymaster", int quorum = 2);
  ~RedisSentinel();
  RedisSentinel(const RedisSentinel&) = delete;
  RedisSentinel& operator=(const RedisSentinel&) = delete;

  int port() const { return port_; }
  std::string HostPort() const { return "127.0.0.1:" + std::to_string(port_); }
  // The primary's port as this Sentinel sees it now (0 when it names none).
  int PrimaryPort() const;
  std::string Log() const;

 private:
  std::string name_;
  int port_ = 0;
  TempDir dir_;
  std::unique_ptr<BackgroundProcess> process_;
};

// redis+sentinel://h:p,h:p,.../name for these Sentinels.
std::string SentinelUrl(const std::vector<const RedisSentinel*>& sentinels,
                        const std::string& name = "mymaster");

}  // namespace ffpod::testing
