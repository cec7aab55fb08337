// `ffpod worker` across a Redis failover and with --redis-wait-replicas, against real
// redis-server processes on loopback: a primary and a replica started by the test (REPLICAOF).
// A worker pointed at a replica is unready and says why once; it recovers when that server is
// promoted; a job running while its Redis is demoted finishes and its result is delivered once
// the server is a primary again; a primary that stops answering is dropped and used again when
// it is back; with WAIT, a claim is not taken while no replica has it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

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

// The value of an unlabelled series of /metrics (-1 when absent).
double Metric(int port, const std::string& name) {
  std::string body = testing::HttpGet(port, "/metrics").body;
  std::string series = "\n" + name + " ";
  size_t at = body.find(series);
  return at == std::string::npos ? -1.0 : std::stod(body.substr(at + series.size()));
}

std::vector<boost::json::object> RecordsOf(const FfpodWorker& w, const std::string& prefix) {
  std::vector<boost::json::object> out;
  for (const auto& r : w.Records()) {
    if (r.at("msg").as_string().starts_with(prefix)) out.push_back(r);
  }
  return out;
}

std::vector<boost::json::object> Warnings(const FfpodWorker& w) {
  std::vector<boost::json::object> out;
  for (const auto& r : w.Records()) {
    if (r.at("level").as_string() == "warning") out.push_back(r);
  }
  return out;
}

std::string Field(const boost::json::object& record, const char* name) {
  auto* v = record.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

// The redis check of /readyz ("" while it passes).
std::string RedisCheck(int port) {
  auto ready = testing::HttpGet(port, "/readyz");
  auto body = boost::json::parse(ready.body).as_object();
  auto* check = body.at("checks").as_object().if_contains("redis");
  return check != nullptr && check->is_string() ? std::string(check->as_string()) : "";
}

long long ConnectionsReceived(const RedisServer& s) {
  std::string info = s.Command({"INFO", "stats"}).str;
  const std::string key = "total_connections_received:";
  size_t at = info.find(key);
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + key.size()));
}

TEST(WorkerFailover, AWorkerPointedAtAReplicaIsUnreadyNamesReadonlyOnceAndRecoversWhenPromoted) {
  RedisServer primary;
  RedisServer replica;
  replica.ReplicaOf(primary);
  TempDir dir;
  FfpodWorker w(replica.Url(), "w-replica", dir, kFast);
  int port = w.Port();

  ASSERT_TRUE(WaitFor([&] { return RedisCheck(port).find("READONLY") != std::string::npos; }, 30s))
      << testing::HttpGet(port, "/readyz").body << w.Log();
  EXPECT_EQ(testing::HttpGet(port, "/readyz").status, 503);
  EXPECT_EQ(RedisCheck(port), "READONLY: Redis at 127.0.0.1:" + std::to_string(replica.port()) +
                                  " is a replica of 127.0.0.1:" + std::to_string(primary.port()) +
                                  ", not a primary");
  EXPECT_EQ(Metric(port, "ffpod_redis_up"), 0);
  EXPECT_EQ(Metric(port, "ffpod_ready"), 0);

  // Many attempts, each refused: one warning for the episode, with the error.
  long long before = ConnectionsReceived(replica);
  ASSERT_TRUE(WaitFor([&] { return ConnectionsReceived(replica) >= before + 6; }, 60s)) << w.Log();
  auto warnings = Warnings(w);
  ASSERT_EQ(warnings.size(), 1u) << w.Log();
  EXPECT_EQ(Field(warnings[0], "msg"), "Redis unavailable; running jobs continue, results wait");
  EXPECT_NE(Field(warnings[0], "error").find("READONLY"), std::string::npos) << w.Log();
  EXPECT_TRUE(RecordsOf(w, "Redis connected").empty()) << w.Log();

  // The URL's target becomes a primary: ready, and a real job runs.
  replica.PromoteToPrimary();
  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 30s))
      << testing::HttpGet(port, "/readyz").body << w.Log();
  EXPECT_EQ(Metric(port, "ffpod_redis_up"), 1);
  std::string out = dir / "promoted.mp4";
  testing::Produce(replica, testing::JobDocument("promoted", testing::EncodeArgs(out, 0.5), {out}));
  ASSERT_TRUE(
      WaitFor([&] { return testing::JobField(replica, "promoted", "state") == "succeeded"; }, 60s))
      << w.Log();
  auto results = testing::Results(replica);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, "succeeded");
  EXPECT_EQ(RecordsOf(w, "Redis connected").size(), 1u) << w.Log();
  EXPECT_EQ(Warnings(w).size(), 1u) << w.Log();
}

TEST(WorkerFailover, AJobRunningWhileItsRedisIsDemotedFinishesAndIsDeliveredAfterPromotion) {
  RedisServer a;
  RedisServer b;
  b.ReplicaOf(a);
  TempDir dir;
  std::string out = dir / "through.mp4";
  testing::Produce(a, testing::JobDocument("through", testing::EncodeArgs(out, 4, true), {out}));
  FfpodWorker w(a.Url(), "w-through", dir, kFast);
  int port = w.Port();
  ASSERT_TRUE(WaitFor([&] { return testing::JobField(a, "through", "state") == "running"; }, 30s))
      << w.Log();

  // A failover demotes a: b is promoted, a becomes its replica.
  b.PromoteToPrimary();
  a.ReplicaOf(b);
  ASSERT_TRUE(WaitFor([&] { return RedisCheck(port).find("READONLY") != std::string::npos; }, 30s))
      << testing::HttpGet(port, "/readyz").body << w.Log();
  EXPECT_EQ(Metric(port, "ffpod_redis_up"), 0);

  // The encode goes on and ends; publishing and the result wait for a primary (the lease to
  // publish under is renewed in Redis).
  auto started = RecordsOf(w, "ffmpeg started");
  ASSERT_EQ(started.size(), 1u) << w.Log();
  auto pid = static_cast<pid_t>(started[0].at("pid").as_int64());
  ASSERT_TRUE(WaitFor([&] { return testing::ProcessGoneOrZombie(pid); }, 60s)) << w.Log();
  EXPECT_NE(RedisCheck(port).find("READONLY"), std::string::npos) << "still down";
  EXPECT_EQ(testing::JobField(a, "through", "state"), "running");
  EXPECT_TRUE(testing::Results(a).empty());

  // a is promoted again (the URL's target is the primary): the result is delivered, once.
  a.PromoteToPrimary();
  ASSERT_TRUE(WaitFor([&] { return testing::JobField(a, "through", "state") == "succeeded"; }, 60s))
      << w.Log();
  auto results = testing::Results(a);
  ASSERT_EQ(results.size(), 1u) << w.Log();
  EXPECT_EQ(results[0].status, "succeeded");
  EXPECT_EQ(testing::ListLength(a, "ffpod:active:w-through"), 0);
  EXPECT_GT(std::filesystem::file_size(out), 0u);
  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 30s));
  auto down = RecordsOf(w, "Redis unavailable");
  ASSERT_EQ(down.size(), 1u) << w.Log();
  EXPECT_NE(Field(down[0], "error").find("READONLY"), std::string::npos) << w.Log();
  // The retries of the result while Redis was away were detail (debug): one warning in all.
  EXPECT_EQ(Warnings(w).size(), 1u) << w.Log();
}

// The reply timeout (30 s) is what tells a hung primary from a busy one.
TEST(WorkerFailover, APrimaryThatStopsAnsweringIsDroppedAtTheReplyTimeoutAndUsedAgainWhenBack) {
  RedisServer redis;
  TempDir dir;
  FfpodWorker w(redis.Url(), "w-hung", dir, kFast);
  int port = w.Port();
  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 30s))
      << testing::HttpGet(port, "/readyz").body << w.Log();

  redis.Freeze();
  const std::string hung = "no reply from 127.0.0.1:" + std::to_string(redis.port()) + " within";
  ASSERT_TRUE(WaitFor([&] { return RedisCheck(port).find(hung) != std::string::npos; }, 90s))
      << testing::HttpGet(port, "/readyz").body << w.Log();
  EXPECT_EQ(testing::HttpGet(port, "/readyz").status, 503);
  EXPECT_EQ(Metric(port, "ffpod_redis_up"), 0);
  auto warnings = Warnings(w);
  ASSERT_EQ(warnings.size(), 1u) << w.Log();
  EXPECT_NE(Field(warnings[0], "error").find(hung), std::string::npos) << w.Log();

  redis.Thaw();
  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 60s))
      << testing::HttpGet(port, "/readyz").body << w.Log();
  std::string out = dir / "after-hang.mp4";
  testing::Produce(redis, testing::JobDocument("after-hang", testing::EncodeArgs(out, 0.5), {out}));
  ASSERT_TRUE(
      WaitFor([&] { return testing::JobField(redis, "after-hang", "state") == "succeeded"; }, 60s))
      << w.Log();
  EXPECT_EQ(RecordsOf(w, "Redis connected").size(), 2u) << w.Log();
  EXPECT_EQ(Warnings(w).size(), 1u) << w.Log();
}

TEST(WorkerFailover, WithWaitReplicasAClaimIsNotTakenUntilAReplicaHasIt) {
  RedisServer primary;
  RedisServer replica;
  replica.ReplicaOf(primary);
  TempDir dir;
  FfpodWorker w(primary.Url(), "w-wait", dir,
                {"--heartbeat", "1", "--redis-wait-replicas", "1", "--redis-wait-timeout", "0.5",
                 "--log-level", "debug"});
  int port = w.Port();
  ASSERT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 30s))
      << testing::HttpGet(port, "/readyz").body << w.Log();

  // The replica applies nothing while its writes are paused: no claim can reach it.
  ASSERT_FALSE(replica.Command({"CLIENT", "PAUSE", "600000", "WRITE"}).IsError());
  std::string out = dir / "waited.mp4";
  testing::Produce(primary,
                   testing::JobDocument("waited", testing::EncodeArgs(out, 2, true), {out}));
  auto refused = [&] {
    for (const auto& r : RecordsOf(w, "claim failed")) {
      if (Field(r, "error").find("the claim reached 0 of 1 replicas within 500 ms") !=
          std::string::npos) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(WaitFor([&] { return refused(); }, 30s)) << w.Log();
  ASSERT_TRUE(WaitFor([&] { return RecordsOf(w, "claim failed").size() >= 3; }, 30s)) << w.Log();
  EXPECT_TRUE(RecordsOf(w, "ffmpeg started").empty()) << w.Log();
  EXPECT_EQ(testing::JobField(primary, "waited", "state"), "") << "never started";
  // Nothing is lost: the document is in pending or in the worker's active list.
  EXPECT_EQ(testing::ListLength(primary, "ffpod:pending") +
                testing::ListLength(primary, "ffpod:active:w-wait"),
            1);

  // The replica catches up: the claim and the start reach it before ffmpeg runs.
  ASSERT_FALSE(replica.Command({"CLIENT", "UNPAUSE"}).IsError());
  ASSERT_TRUE(WaitFor([&] { return !RecordsOf(w, "ffmpeg started").empty(); }, 30s)) << w.Log();
  EXPECT_EQ(testing::JobField(replica, "waited", "state"), "running");
  EXPECT_EQ(testing::ListLength(replica, "ffpod:active:w-wait"), 1);
  ASSERT_TRUE(WaitFor([&] { return !RecordsOf(w, "result recorded").empty(); }, 60s)) << w.Log();
  EXPECT_EQ(testing::JobField(replica, "waited", "state"), "succeeded");
  EXPECT_EQ(testing::ListLength(replica, "ffpod:active:w-wait"), 0);
  EXPECT_EQ(testing::Results(replica).size(), 1u);
}

}  // namespace
}  // namespace ffpod
