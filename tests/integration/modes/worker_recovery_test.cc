// A worker's own active list after Redis trouble: a claim whose BLMOVE ran but whose reply was
// lost with the connection, and a start-up self-recovery that failed once. In both cases a
// document sits in Q:active:<self> with no slot working on it; the worker must hand it back
// and run it, not leave it there for as long as the pod lives.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::FfpodWorker;
using testing::JobField;
using testing::RedisServer;
using testing::TempDir;
using testing::WaitFor;

// The CLIENT LIST line of the Redis client named `name`, or "" when there is none.
std::string ClientLine(const RedisServer& redis, const std::string& name) {
  std::istringstream lines(redis.Command({"CLIENT", "LIST"}).str);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" name=" + name + " ") != std::string::npos) return line;
  }
  return "";
}

std::string Field(const std::string& client_line, const std::string& key) {
  size_t at = client_line.find(key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  return client_line.substr(at, client_line.find(' ', at) - at);
}

bool LogHas(const FfpodWorker& w, const std::string& msg) {
  for (const auto& r : w.Records()) {
    if (r.at("msg").as_string() == msg) return true;
  }
  return false;
}

TEST(WorkerRecovery, AClaimWhoseReplyWasLostIsHandedBackAndRun) {
  RedisServer redis;
  TempDir dir;
  FfpodWorker w(redis.Url(), "w1", dir);
  // Started, recovered its own list, and now waiting in BLMOVE for a job.
  ASSERT_TRUE(
      WaitFor([&] { return Field(ClientLine(redis, "ffpod-claim-w1"), "cmd") == "blmove"; }, 30s))
      << w.Log();
  // What a BLMOVE leaves behind when the connection drops before its reply arrives: the
  // document in this worker's active list, and the claim connection gone.
  std::string out = dir / "out.mp4";
  std::string doc = testing::JobDocument("lost-reply", testing::EncodeArgs(out, 0.5), {out});
  redis.Command({"LPUSH", "ffpod:active:w1", doc});
  std::string id = Field(ClientLine(redis, "ffpod-claim-w1"), "id");
  ASSERT_EQ(redis.Command({"CLIENT", "KILL", "ID", id}).integer, 1);

  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "lost-reply", "state") == "succeeded"; }, 60s))
      << w.Log();
  EXPECT_TRUE(
      LogHas(w, "handed back claimed jobs that no slot was running (a claim's reply was lost)"))
      << w.Log();
  EXPECT_EQ(testing::ListLength(redis, "ffpod:active:w1"), 0);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:pending"), 0);
  w.process().Signal(SIGTERM);
  ASSERT_TRUE(w.process().Wait(30s).has_value());
}

TEST(WorkerRecovery, AFailedSelfRecoveryAtStartIsRetriedBeforeClaiming) {
  testing::RedisServerOptions options;
  options.acl_user = "ffpod";
  options.acl_password = "pw";
  RedisServer redis(options);
  TempDir dir;
  // A previous life of w1 left a job in its active list.
  std::string out = dir / "out.mp4";
  redis.Command({"LPUSH", "ffpod:active:w1",
                 testing::JobDocument("left-over", testing::EncodeArgs(out, 0.5), {out})});
  // The worker's user may not run scripts when it starts, so its self-recovery fails.
  redis.Command({"ACL", "SETUSER", "ffpod", "-@scripting"});
  FfpodWorker w(redis.Url("ffpod:pw"), "w1", dir);
  const std::string series = "\nffpod_redis_errors_total ";
  auto redis_errors = [&] {
    std::string body = testing::HttpGet(w.Port(), "/metrics").body;
    size_t at = body.find(series);
    return at == std::string::npos ? 0.0 : std::stod(body.substr(at + series.size()));
  };
  ASSERT_TRUE(WaitFor([&] { return redis_errors() >= 2; }, 30s)) << w.Log();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:active:w1"), 1);  // still there: nothing recovered
  redis.Command({"ACL", "SETUSER", "ffpod", "+@scripting"});

  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "left-over", "state") == "succeeded"; }, 60s))
      << w.Log();
  EXPECT_TRUE(LogHas(w, "recovered jobs from this worker's previous run")) << w.Log();
  w.process().Signal(SIGTERM);
  ASSERT_TRUE(w.process().Wait(30s).has_value());
}

}  // namespace
}  // namespace ffpod
