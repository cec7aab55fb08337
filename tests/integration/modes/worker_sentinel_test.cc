// `ffpod worker --redis redis+sentinel://...` against real Sentinels on loopback
// (tests/harness/redis_sentinel.h: three Sentinels, quorum 2, watching a primary with one
// replica): the worker finds the primary through them, skips one that cannot answer, names
// them all when none can, and follows a failover when the primary is killed mid-flow, after which
// every job has exactly one succeeded result and nothing is left in an active list.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_sentinel.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::FfpodWorker;
using testing::RedisSentinel;
using testing::RedisServer;
using testing::TempDir;
using testing::WaitFor;

const std::vector<std::string> kFast = {"--heartbeat", "1"};

std::string RedisCheck(int port) {
  auto ready = testing::HttpGet(port, "/readyz");
  auto body = boost::json::parse(ready.body).as_object();
  auto* check = body.at("checks").as_object().if_contains("redis");
  return check != nullptr && check->is_string() ? std::string(check->as_string()) : "";
}

TEST(WorkerSentinel, FindsThePrimaryAndFollowsAFailoverWithNothingLost) {
  RedisServer a;
  RedisServer b;
  b.ReplicaOf(a);
  RedisSentinel s1(a), s2(a), s3(a);
  TempDir dir;
  constexpr int kJobs = 8;
  for (int i = 0; i < kJobs; ++i) {
    std::string out = dir / ("j" + std::to_string(i) + ".mp4");
    testing::Produce(
        a, testing::JobDocument("j" + std::to_string(i), testing::EncodeArgs(out, 1, true), {out}));
  }
  FfpodWorker w(testing::SentinelUrl({&s1, &s2, &s3}), "w-sentinel", dir, kFast);
  int port = w.Port();
  ASSERT_TRUE(WaitFor([&] { return testing::JobField(a, "j1", "state") == "succeeded"; }, 60s))
      << w.Log();

  // The primary dies mid-flow: the Sentinels promote b, and the worker finds it through them.
  a.Kill();
  ASSERT_TRUE(WaitFor([&] { return s1.PrimaryPort() == b.port(); }, 60s)) << s1.Log();
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < kJobs; ++i) {
          std::string state = testing::JobField(b, "j" + std::to_string(i), "state");
          if (state != "succeeded" && state != "dead") return false;
        }
        return true;
      },
      120s))
      << w.Log();
  EXPECT_EQ(testing::HttpGet(port, "/readyz").status, 200) << RedisCheck(port);

  // Every job has exactly one succeeded result on the new primary; nothing is held.
  std::map<std::string, int> succeeded;
  for (const auto& r : testing::Results(b)) {
    if (r.status == "succeeded") ++succeeded[r.id];
  }
  for (int i = 0; i < kJobs; ++i) {
    std::string id = "j" + std::to_string(i);
    EXPECT_EQ(testing::JobField(b, id, "state"), "succeeded") << id << "\n" << w.Log();
    EXPECT_EQ(succeeded[id], 1) << id;
  }
  EXPECT_EQ(testing::ListLength(b, "ffpod:active:w-sentinel"), 0);
  EXPECT_EQ(testing::ListLength(b, "ffpod:pending"), 0);
  // The worker said where it connected, both times.
  int connected = 0;
  for (const auto& r : w.Records()) connected += r.at("msg").as_string() == "Redis connected";
  EXPECT_GE(connected, 2) << w.Log();
}

TEST(WorkerSentinel, ANodeThatIsNoSentinelIsSkippedForTheNext) {
  RedisServer a;
  RedisSentinel s1(a);
  RedisServer not_a_sentinel;
  TempDir dir;
  std::string url = "redis+sentinel://127.0.0.1:" + std::to_string(not_a_sentinel.port()) + "," +
                    s1.HostPort() + "/mymaster";
  FfpodWorker w(url, "w-skip", dir, kFast);
  std::string out = dir / "skip.mp4";
  testing::Produce(a, testing::JobDocument("skip", testing::EncodeArgs(out, 0.5), {out}));
  ASSERT_TRUE(WaitFor([&] { return testing::JobField(a, "skip", "state") == "succeeded"; }, 60s))
      << w.Log();
  EXPECT_EQ(testing::ListLength(not_a_sentinel, "ffpod:pending"), 0);
}

TEST(WorkerSentinel, NoSentinelAnsweringIsUnreadyNamingEachOne) {
  int p1 = testing::FreePort();
  int p2 = testing::FreePort();
  TempDir dir;
  FfpodWorker w("redis+sentinel://127.0.0.1:" + std::to_string(p1) +
                    ",127.0.0.1:" + std::to_string(p2) + "/mymaster",
                "w-none", dir, kFast);
  int port = w.Port();
  ASSERT_TRUE(WaitFor([&] { return !RedisCheck(port).empty(); }, 30s)) << w.Log();
  std::string check = RedisCheck(port);
  EXPECT_EQ(testing::HttpGet(port, "/readyz").status, 503);
  EXPECT_NE(check.find("no Sentinel named the primary mymaster (127.0.0.1:" + std::to_string(p1) +
                       ": connect to sentinel 127.0.0.1:" + std::to_string(p1)),
            std::string::npos)
      << check;
  EXPECT_NE(check.find("; 127.0.0.1:" + std::to_string(p2) + ": connect to sentinel"),
            std::string::npos)
      << check;
}

}  // namespace
}  // namespace ffpod
