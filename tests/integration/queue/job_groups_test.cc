// The group counts of JobQueue's scripts against a real redis-server, driven directly (no
// ffpod process): each state change of a member moves one count, a repeated step (after a lost
// reply) moves none, and the recovery and the drain's requeue count like the other steps.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "parsers/config/redis_url.h"
#include "supervisor/queue/job_queue.h"
#include "tests/harness/ffpod_worker.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::RedisServer;

// JobQueue for worker `worker` on its own io_context; each step runs to completion.
class Steps {
 public:
  Steps(const RedisServer& redis, const std::string& worker)
      : client_(io_, *ParseRedisUrl(redis.Url())), queue_(client_, Settings(worker)) {
    client_.Start();
    EXPECT_TRUE(RunUntil([this] { return client_.up(); })) << client_.last_error();
  }

  bool RunUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(10ms);
    }
    return done();
  }

  JobQueue::Enqueued Enqueue(const std::string& doc, const std::string& id,
                             const std::string& group) {
    bool done = false;
    JobQueue::Enqueued out;
    queue_.Enqueue(doc, id, group, [&](const Result<JobQueue::Enqueued>& e) {
      EXPECT_TRUE(e.ok()) << e.error().message;
      if (e.ok()) out = *e;
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; }));
    return out;
  }

  JobQueue::StartOutcome Start(const std::string& doc, const std::string& id,
                               const std::string& token) {
    bool done = false;
    JobQueue::StartOutcome out = JobQueue::StartOutcome::kPaused;
    queue_.Start(doc, id, token, [&](const Result<JobQueue::Started>& s) {
      EXPECT_TRUE(s.ok()) << s.error().message;
      if (s.ok()) out = s->outcome;
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; }));
    return out;
  }

  FinishOutcome Finish(const std::string& doc, const std::string& id, const std::string& status,
                       const std::string& reason, const std::string& start_token) {
    FinishRequest r;
    r.document = doc;
    r.id = id;
    r.status = status;
    r.result_json = R"({"id":")" + id + R"(","attempt":1,"status":")" + status + R"(","reason":")" +
                    reason + R"(","message":"m"})";
    r.dead_entry_json = "{}";
    r.token = start_token + ":done";
    r.start_token = start_token;
    bool done = false;
    FinishOutcome out = FinishOutcome::kSuperseded;
    queue_.Finish(r, [&](const Result<FinishOutcome>& f) {
      EXPECT_TRUE(f.ok()) << f.error().message;
      if (f.ok()) out = *f;
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; }));
    return out;
  }

  void Recover(const std::string& worker) {
    bool done = false;
    queue_.Recover(worker, true, [&](const Result<Recovered>& r) {
      EXPECT_TRUE(r.ok()) << r.error().message;
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; }));
  }

 private:
  static JobQueue::Settings Settings(const std::string& worker) {
    JobQueue::Settings s;
    s.worker_id = worker;
    return s;
  }

  boost::asio::io_context io_;
  RedisClient client_;
  JobQueue queue_;
};

std::string Doc(const std::string& id) {
  return R"({"id":")" + id + R"(","args":["-i","x","o.mp4"],"group":"g-1"})";
}

// The group's counts as "pending/running/delayed/succeeded/dead/cancelled of total".
std::string Counts(const RedisServer& redis) {
  std::string out;
  for (const char* f : {"pending", "running", "delayed", "succeeded", "dead", "cancelled"}) {
    auto v = redis.Command({"HGET", "ffpod:group:g-1", f});
    out += (out.empty() ? "" : "/") + (v.IsNil() ? std::string("0") : v.str);
  }
  return out + " of " + redis.Command({"HGET", "ffpod:group:g-1", "total"}).str;
}

// Moves `doc` from pending to w's active list, as the claim's BLMOVE does.
void Claim(const RedisServer& redis, const std::string& worker) {
  redis.Command({"LMOVE", "ffpod:pending", "ffpod:active:" + worker, "RIGHT", "LEFT"});
}

long long GroupEntries(const RedisServer& redis) {
  long long n = 0;
  for (const auto& e : testing::Results(redis)) n += e.kind == "group" ? 1 : 0;
  return n;
}

TEST(JobGroups, RepeatedStepsCountOnceAndTheLastEndWritesOneEntry) {
  RedisServer redis;
  Steps w(redis, "w-1");
  ASSERT_TRUE(w.Enqueue(Doc("a"), "a", "g-1").queued);
  ASSERT_TRUE(w.Enqueue(Doc("b"), "b", "g-1").queued);
  EXPECT_EQ(Counts(redis), "2/0/0/0/0/0 of 2");
  Claim(redis, "w-1");  // a (pushed first, the head)
  EXPECT_EQ(w.Start(Doc("a"), "a", "t-a"), JobQueue::StartOutcome::kStarted);
  EXPECT_EQ(w.Start(Doc("a"), "a", "t-a"), JobQueue::StartOutcome::kStarted);  // lost reply
  EXPECT_EQ(Counts(redis), "1/1/0/0/0/0 of 2");
  EXPECT_EQ(w.Finish(Doc("a"), "a", "succeeded", "ok", "t-a"), FinishOutcome::kRecorded);
  EXPECT_EQ(w.Finish(Doc("a"), "a", "succeeded", "ok", "t-a"), FinishOutcome::kRepeated);
  EXPECT_EQ(Counts(redis), "1/0/0/1/0/0 of 2");
  EXPECT_EQ(GroupEntries(redis), 0);
  Claim(redis, "w-1");
  ASSERT_EQ(w.Start(Doc("b"), "b", "t-b"), JobQueue::StartOutcome::kStarted);
  EXPECT_EQ(w.Finish(Doc("b"), "b", "dead", "input_missing", "t-b"), FinishOutcome::kRecorded);
  EXPECT_EQ(w.Finish(Doc("b"), "b", "dead", "input_missing", "t-b"), FinishOutcome::kRepeated);
  EXPECT_EQ(Counts(redis), "0/0/0/1/1/0 of 2");
  EXPECT_EQ(GroupEntries(redis), 1);
  EXPECT_EQ(redis.Command({"HGET", "ffpod:group:g-1", "outcome"}).str, "partial");
  EXPECT_GT(redis.Command({"TTL", "ffpod:group:g-1"}).integer, 0);
  // Ended: a new member is refused, and nothing is queued.
  auto late = w.Enqueue(Doc("c"), "c", "g-1");
  EXPECT_FALSE(late.queued);
  EXPECT_EQ(late.group_outcome, "partial");
  EXPECT_EQ(testing::ListLength(redis, "ffpod:pending"), 0);
  EXPECT_EQ(Counts(redis), "0/0/0/1/1/0 of 2");
}

TEST(JobGroups, AnEndedMemberEnqueuedAgainWhileTheGroupIsOpenCountsBackToPending) {
  RedisServer redis;
  Steps w(redis, "w-1");
  ASSERT_TRUE(w.Enqueue(Doc("a"), "a", "g-1").queued);
  ASSERT_TRUE(w.Enqueue(Doc("b"), "b", "g-1").queued);
  Claim(redis, "w-1");
  ASSERT_EQ(w.Start(Doc("a"), "a", "t-a"), JobQueue::StartOutcome::kStarted);
  ASSERT_EQ(w.Finish(Doc("a"), "a", "dead", "input_missing", "t-a"), FinishOutcome::kRecorded);
  EXPECT_EQ(Counts(redis), "1/0/0/0/1/0 of 2");
  ASSERT_TRUE(w.Enqueue(Doc("a"), "a", "g-1").queued);  // b is still pending: the group is open
  EXPECT_EQ(Counts(redis), "2/0/0/0/0/0 of 2");
  EXPECT_EQ(GroupEntries(redis), 0);
}

TEST(JobGroups, RecoveryDrainAndCancelMoveTheCounts) {
  RedisServer redis;
  Steps lost(redis, "w-lost");
  Steps live(redis, "w-live");
  for (std::string id : {"a", "b", "c"}) ASSERT_TRUE(live.Enqueue(Doc(id), id, "g-1").queued);
  Claim(redis, "w-lost");
  ASSERT_EQ(lost.Start(Doc("a"), "a", "t-a1"), JobQueue::StartOutcome::kStarted);
  EXPECT_EQ(Counts(redis), "2/1/0/0/0/0 of 3");
  // w-lost vanished: its running member goes back to pending, counted once.
  live.Recover("w-lost");
  live.Recover("w-lost");
  EXPECT_EQ(Counts(redis), "3/0/0/0/0/0 of 3");
  // A drained attempt is handed back to pending.
  Claim(redis, "w-live");
  std::string head = redis.Command({"LINDEX", "ffpod:active:w-live", "0"}).str;
  std::string id = head == Doc("b") ? "b" : head == Doc("c") ? "c" : "a";
  ASSERT_EQ(live.Start(head, id, "t-1"), JobQueue::StartOutcome::kStarted);
  EXPECT_EQ(Counts(redis), "2/1/0/0/0/0 of 3");
  EXPECT_EQ(live.Finish(head, id, "preempted", "preempted", "t-1"), FinishOutcome::kRecorded);
  EXPECT_EQ(Counts(redis), "3/0/0/0/0/0 of 3");
  // The three end: succeeded, cancelled, dead; the entry names the two that did not succeed.
  const char* ends[][2] = {{"succeeded", "ok"}, {"cancelled", "cancelled"}, {"dead", "timeout"}};
  for (int i = 0; i < 3; ++i) {
    Claim(redis, "w-live");
    head = redis.Command({"LINDEX", "ffpod:active:w-live", "0"}).str;
    id = head == Doc("a") ? "a" : head == Doc("b") ? "b" : "c";
    std::string token = "t-end-" + std::to_string(i);
    ASSERT_EQ(live.Start(head, id, token), JobQueue::StartOutcome::kStarted);
    EXPECT_EQ(live.Finish(head, id, ends[i][0], ends[i][1], token), FinishOutcome::kRecorded);
  }
  EXPECT_EQ(Counts(redis), "0/0/0/1/1/1 of 3");
  auto results = testing::Results(redis);
  ASSERT_FALSE(results.empty());
  const auto& entry = results.back();
  EXPECT_EQ(entry.kind, "group");
  EXPECT_EQ(entry.status, "partial");
  EXPECT_EQ(entry.result.at("failed").as_array().size(), 2u);
  EXPECT_EQ(GroupEntries(redis), 1);
}

}  // namespace
}  // namespace ffpod
