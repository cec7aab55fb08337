// JobQueue with wait_replicas (--redis-wait-replicas) against a real primary and a replica of
// it (REPLICAOF on loopback): a step whose writes no replica acknowledged in time fails, saying
// so; repeated once the replica is back it changes nothing more and succeeds, and the replica
// then holds what the step wrote.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "supervisor/queue/job_queue.h"
#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::JobField;
using testing::ListLength;
using testing::RedisServer;

JobQueue::Settings WaitForOneReplica() {
  JobQueue::Settings s;
  s.worker_id = "w1";
  s.wait_replicas = 1;
  s.wait_timeout = 200ms;
  return s;
}

// A JobQueue on `redis` that waits for one replica, with steps run to completion.
class WaitingQueue {
 public:
  explicit WaitingQueue(const RedisServer& redis)
      : client_(io_, *ParseRedisUrl(redis.Url())), queue_(client_, WaitForOneReplica()) {
    client_.Start();
    EXPECT_TRUE(RunUntil([this] { return client_.up(); })) << client_.last_error();
  }

  bool RunUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(10ms);
    }
    return done();
  }

  Result<JobQueue::Started> Start(const std::string& document, const std::string& token) {
    std::optional<Result<JobQueue::Started>> out;
    queue_.Start(document, "j1", token, [&](Result<JobQueue::Started> r) { out = std::move(r); });
    EXPECT_TRUE(RunUntil([&] { return out.has_value(); })) << "no reply";
    return out.value_or(Error{"no reply"});
  }

  Result<FinishOutcome> Finish(const std::string& document, const std::string& start_token) {
    FinishRequest r;
    r.document = document;
    r.id = "j1";
    r.status = "succeeded";
    r.result_json = R"({"id":"j1","attempt":1,"status":"succeeded"})";
    r.token = start_token + ":done";
    r.start_token = start_token;
    std::optional<Result<FinishOutcome>> out;
    queue_.Finish(r, [&](Result<FinishOutcome> o) { out = std::move(o); });
    EXPECT_TRUE(RunUntil([&] { return out.has_value(); })) << "no reply";
    return out.value_or(Error{"no reply"});
  }

 private:
  boost::asio::io_context io_;
  RedisClient client_;
  JobQueue queue_;
};

TEST(JobQueueWait, StartAndFinishSucceedOnlyOnceAReplicaHasTheirWritesAndRepeatSafely) {
  RedisServer primary;
  RedisServer replica;
  replica.ReplicaOf(primary);
  WaitingQueue q(primary);
  std::string doc = testing::JobDocument("j1", {"-f", "lavfi", "-i", "nullsrc", "-f", "null", "-"});
  primary.Command({"LPUSH", "ffpod:active:w1", doc});

  // The replica applies no writes: the primary runs the step, the step still fails.
  ASSERT_FALSE(replica.Command({"CLIENT", "PAUSE", "600000", "WRITE"}).IsError());
  auto refused = q.Start(doc, "w1:0:1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "Redis: the start reached 0 of 1 replicas within 200 ms (--redis-wait-replicas)");
  EXPECT_EQ(JobField(primary, "j1", "state"), "running");
  ASSERT_FALSE(replica.Command({"CLIENT", "UNPAUSE"}).IsError());
  // The replica applies what it held back (on a loaded machine, longer than a 200 ms WAIT).
  ASSERT_TRUE(testing::WaitFor([&] { return JobField(replica, "j1", "state") == "running"; }, 30s));

  // Repeated with the same claim's token: no second attempt, and now the replica has it.
  auto started = q.Start(doc, "w1:0:1");
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->outcome, JobQueue::StartOutcome::kStarted);
  EXPECT_EQ(started->attempt, 1);
  EXPECT_EQ(JobField(replica, "j1", "state"), "running");
  EXPECT_EQ(JobField(replica, "j1", "attempt"), "1");

  ASSERT_FALSE(replica.Command({"CLIENT", "PAUSE", "600000", "WRITE"}).IsError());
  auto unconfirmed = q.Finish(doc, "w1:0:1");
  ASSERT_FALSE(unconfirmed.ok());
  EXPECT_EQ(unconfirmed.error().message,
            "Redis: the result reached 0 of 1 replicas within 200 ms (--redis-wait-replicas)");
  ASSERT_FALSE(replica.Command({"CLIENT", "UNPAUSE"}).IsError());
  ASSERT_TRUE(
      testing::WaitFor([&] { return JobField(replica, "j1", "state") == "succeeded"; }, 30s));

  // The repeat finds its own token: nothing written twice, and the replica has the result.
  auto recorded = q.Finish(doc, "w1:0:1");
  ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  EXPECT_EQ(*recorded, FinishOutcome::kRepeated);
  EXPECT_EQ(JobField(replica, "j1", "state"), "succeeded");
  EXPECT_EQ(ListLength(replica, "ffpod:active:w1"), 0);
  EXPECT_EQ(replica.Command({"XLEN", "ffpod:results"}).integer, 1);
}

TEST(JobQueueWait, WithNoReplicaAtAllEveryWaitedStepFails) {
  RedisServer alone;
  WaitingQueue q(alone);
  std::string doc = testing::JobDocument("j1", {"-f", "lavfi", "-i", "nullsrc", "-f", "null", "-"});
  alone.Command({"LPUSH", "ffpod:active:w1", doc});
  auto refused = q.Start(doc, "w1:0:1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "Redis: the start reached 0 of 1 replicas within 200 ms (--redis-wait-replicas)");
}

}  // namespace
}  // namespace ffpod
