// `ffpod worker` against a Redis that misbehaves: a peer that answers garbage, and a real
// redis-server that refuses writes (maxmemory reached under noeviction). The worker keeps
// running, says what is wrong once per episode, counts it, and is not ready while it lasts.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/fake_peer.h"
#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::FfpodWorker;
using testing::RedisServer;
using testing::TempDir;
using testing::WaitFor;

const std::vector<std::string> kFast = {"--heartbeat", "1"};

double RedisErrors(int port) {
  const std::string series = "\nffpod_redis_errors_total ";
  std::string body = testing::HttpGet(port, "/metrics").body;
  size_t at = body.find(series);
  return at == std::string::npos ? 0.0 : std::stod(body.substr(at + series.size()));
}

// The records whose message starts with `prefix`.
std::vector<boost::json::object> RecordsOf(const FfpodWorker& w, const std::string& prefix) {
  std::vector<boost::json::object> out;
  for (const auto& r : w.Records()) {
    if (r.at("msg").as_string().starts_with(prefix)) out.push_back(r);
  }
  return out;
}

std::string ErrorOf(const boost::json::object& record) {
  auto* e = record.if_contains("error");
  return e != nullptr && e->is_string() ? std::string(e->as_string()) : "";
}

TEST(WorkerRedisFaults, GarbledReplyIsLoggedOnceCountedAndTheWorkerKeepsRunning) {
  testing::FakePeer peer("*2147483647\r\n");
  TempDir dir;
  FfpodWorker w(peer.Url(), "w-garbled", dir, kFast);
  int port = w.Port();
  // Both of the worker's connections, each retried a few times.
  ASSERT_TRUE(WaitFor([&] { return peer.connections() >= 6; }, 60s)) << w.Log();
  EXPECT_TRUE(w.process().Running()) << w.Log();
  EXPECT_TRUE(WaitFor([&] { return RedisErrors(port) >= 1; }, 10s));
  auto down = RecordsOf(w, "Redis unavailable");
  ASSERT_EQ(down.size(), 1u) << w.Log();
  EXPECT_EQ(ErrorOf(down[0]), "Redis at 127.0.0.1:" + std::to_string(peer.port()) +
                                  ": protocol error: array of 2147483647 elements exceeds the "
                                  "limit of 1048576");
  auto ready = testing::HttpGet(port, "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("protocol error"), std::string::npos) << ready.body;
  EXPECT_EQ(w.Log().find("fatal"), std::string::npos) << w.Log();
}

TEST(WorkerRedisFaults, RefusedWritesAreLoggedOnceAndMakeTheWorkerUnreadyUntilTheyWorkAgain) {
  RedisServer redis;
  TempDir dir;
  FfpodWorker w(redis.Url(), "w-oom", dir, kFast);
  int port = w.Port();
  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 30s))
      << testing::HttpGet(port, "/readyz").body << w.Log();

  // Some data, then a maxmemory below what Redis already holds: every write is refused.
  for (int i = 0; i < 4; ++i) {
    redis.Command({"SET", "filler:" + std::to_string(i), std::string(1 << 20, 'x')});
  }
  redis.Command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  ASSERT_FALSE(redis.Command({"CONFIG", "SET", "maxmemory", "2mb"}).IsError());
  ASSERT_TRUE(redis.Command({"SET", "probe", "x"}).IsErrorCode("OOM"));

  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 503; }, 20s))
      << w.Log();
  auto body = boost::json::parse(testing::HttpGet(port, "/readyz").body).as_object();
  const auto& failing = body.at("failing").as_array();
  EXPECT_NE(std::find(failing.begin(), failing.end(), boost::json::value("redis_writes")),
            failing.end())
      << body;
  EXPECT_NE(
      std::string(body.at("checks").at("redis_writes").as_string()).find("OOM command not allowed"),
      std::string::npos)
      << body;

  // Many refused attempts (claims, heartbeats), one warning with Redis' own words.
  double before = RedisErrors(port);
  ASSERT_TRUE(WaitFor([&] { return RedisErrors(port) >= before + 4; }, 30s)) << w.Log();
  auto refused = RecordsOf(w, "Redis refuses writes");
  ASSERT_EQ(refused.size(), 1u) << w.Log();
  EXPECT_EQ(refused[0].at("level").as_string(), "warning");
  EXPECT_NE(ErrorOf(refused[0]).find("OOM command not allowed"), std::string::npos) << w.Log();
  EXPECT_TRUE(RecordsOf(w, "Redis takes writes again").empty());
  EXPECT_TRUE(w.process().Running());

  // Lifted: the recovery once, ready again, and a job queued now runs.
  redis.Command({"CONFIG", "SET", "maxmemory", "0"});
  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 20s))
      << testing::HttpGet(port, "/readyz").body << w.Log();
  std::string out = dir / "after.mp4";
  testing::Produce(redis, testing::JobDocument("after-oom", testing::EncodeArgs(out, 0.5), {out}));
  ASSERT_TRUE(
      WaitFor([&] { return testing::JobField(redis, "after-oom", "state") == "succeeded"; }, 60s))
      << w.Log();
  EXPECT_EQ(RecordsOf(w, "Redis takes writes again").size(), 1u) << w.Log();
  EXPECT_EQ(RecordsOf(w, "Redis refuses writes").size(), 1u) << w.Log();
}

// maxmemory refuses SET, so a heartbeat written with SET alone expires: past its TTL every peer
// would take the running jobs of every worker for lost, fence them and run them again.
TEST(WorkerRedisFaults, AnOutOfMemoryRedisDoesNotMakePeersRecoverRunningJobs) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "long.mp4";
  testing::Produce(redis, testing::JobDocument("long", testing::EncodeArgs(out, 12, true), {out}));
  FfpodWorker a(redis.Url(), "w-a", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return testing::JobField(redis, "long", "state") == "running"; }, 30s))
      << a.Log();
  FfpodWorker b(redis.Url(), "w-b", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(b.Port(), "/readyz").status == 200; }, 30s));

  for (int i = 0; i < 4; ++i) {
    redis.Command({"SET", "filler:" + std::to_string(i), std::string(1 << 20, 'x')});
  }
  redis.Command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  ASSERT_FALSE(redis.Command({"CONFIG", "SET", "maxmemory", "2mb"}).IsError());
  ASSERT_TRUE(redis.Command({"SET", "probe", "x"}).IsErrorCode("OOM"));
  std::this_thread::sleep_for(6s);  // twice the heartbeat's TTL (3 s), and scans every second
  redis.Command({"CONFIG", "SET", "maxmemory", "0"});

  ASSERT_TRUE(
      WaitFor([&] { return testing::JobField(redis, "long", "state") == "succeeded"; }, 60s))
      << a.Log() << b.Log();
  auto results = testing::Results(redis);
  ASSERT_EQ(results.size(), 1u) << "the job was recovered while its worker ran it\n" << b.Log();
  EXPECT_EQ(results[0].status, "succeeded");
  EXPECT_TRUE(RecordsOf(b, "recovered the jobs of a worker").empty()) << b.Log();
}

}  // namespace
}  // namespace ffpod
