// JobQueue's scripts against a real redis-server, driven directly (no ffpod process): the
// documents they write and what a repeated step does.
#include "supervisor/queue/job_queue.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::JobField;
using testing::ListLength;
using testing::RedisServer;
using testing::Results;

// A JobQueue for worker `worker_id` on its own io_context, with steps run to completion.
class Queue {
 public:
  Queue(const RedisServer& redis, const std::string& worker_id)
      : client_(io_, Url(redis.Url())), queue_(client_, Settings(worker_id)) {
    client_.Start();
    EXPECT_TRUE(RunUntil([this] { return client_.up(); })) << client_.last_error();
  }

  JobQueue& queue() { return queue_; }

  // Runs the io_context until `done()` (60 s at most); returns done().
  bool RunUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(10ms);
    }
    return done();
  }

  // DeadLetterBadJob to completion: {error, dead_lettered}.
  std::pair<std::string, bool> DeadLetter(const std::string& document, const std::string& id,
                                          const std::string& result_json) {
    bool done = false;
    std::pair<std::string, bool> out;
    queue_.DeadLetterBadJob(document, id, result_json,
                            JobQueue::Reply<bool>([&](const Result<bool>& moved) {
                              out = {moved.ok() ? "" : moved.error().message, moved.ok() && *moved};
                              done = true;
                            }));
    EXPECT_TRUE(RunUntil([&] { return done; })) << "no reply";
    return out;
  }

  // Start to completion: {outcome, attempt}.
  std::pair<JobQueue::StartOutcome, int> Start(const std::string& document, const std::string& id,
                                               const std::string& token) {
    bool done = false;
    std::pair<JobQueue::StartOutcome, int> out{JobQueue::StartOutcome::kPaused, -1};
    queue_.Start(document, id, token, [&](const Result<JobQueue::Started>& started) {
      EXPECT_TRUE(started.ok()) << started.error().message;
      if (started.ok()) out = {started->outcome, started->attempt};
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; })) << "no reply";
    return out;
  }

  // Recover(worker, force) to completion: the number recovered (-1 on error); `started` gets
  // the attempts it fenced.
  long long Recover(const std::string& worker, bool force = true,
                    std::vector<FencedAttempt>* started = nullptr) {
    bool done = false;
    long long n = -1;
    queue_.Recover(worker, force, [&](const Result<Recovered>& recovered) {
      EXPECT_TRUE(recovered.ok()) << recovered.error().message;
      if (recovered.ok()) {
        n = recovered->jobs;
        if (started) *started = recovered->started;
      }
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; })) << "no reply";
    return n;
  }

  // Finish to completion, for the claim `start_token` with a result of `status`.
  FinishOutcome Finish(const std::string& document, const std::string& id,
                       const std::string& status, const std::string& start_token) {
    FinishRequest r;
    r.document = document;
    r.id = id;
    r.status = status;
    r.result_json = R"({"id":")" + id + R"(","attempt":1,"status":")" + status + R"("})";
    r.dead_entry_json = R"({"job":"","result":)" + r.result_json + "}";
    r.token = start_token + ":done";
    r.start_token = start_token;
    bool done = false;
    FinishOutcome out = FinishOutcome::kRepeated;
    queue_.Finish(r, [&](const Result<FinishOutcome>& outcome) {
      EXPECT_TRUE(outcome.ok()) << outcome.error().message;
      if (outcome.ok()) out = *outcome;
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; })) << "no reply";
    return out;
  }

  // Finish of `r` to completion.
  FinishOutcome Finish(const FinishRequest& r) {
    bool done = false;
    FinishOutcome out = FinishOutcome::kSuperseded;
    queue_.Finish(r, [&](const Result<FinishOutcome>& outcome) {
      EXPECT_TRUE(outcome.ok()) << outcome.error().message;
      if (outcome.ok()) out = *outcome;
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; })) << "no reply";
    return out;
  }

  // Hold to completion: whether the claim still holds the job (heartbeat TTL 60 s).
  bool Hold(const std::string& document, const std::string& id, const std::string& start_token) {
    bool done = false;
    bool held = false;
    queue_.Hold(document, id, start_token, "{}", 60s, [&](const Result<bool>& h) {
      EXPECT_TRUE(h.ok()) << h.error().message;
      held = h.ok() && *h;
      done = true;
    });
    EXPECT_TRUE(RunUntil([&] { return done; })) << "no reply";
    return held;
  }

 private:
  static RedisUrl Url(const std::string& text) {
    auto r = ParseRedisUrl(text);
    if (!r.ok()) ADD_FAILURE() << text << ": " << r.error().message;
    return r.ok() ? r.value() : RedisUrl{};
  }
  static JobQueue::Settings Settings(const std::string& worker_id) {
    JobQueue::Settings s;
    s.worker_id = worker_id;
    return s;
  }

  boost::asio::io_context io_;
  RedisClient client_;
  JobQueue queue_;
};

long long StreamLength(const RedisServer& redis) {
  return redis.Command({"XLEN", "ffpod:results"}).integer;
}

TEST(JobQueue, DeadLetterBadJobRepeatedAfterALostReplyWritesOneEntry) {
  RedisServer redis;
  Queue q(redis, "w-1");
  const std::string doc = R"({"id": "bad-1", "args": []})";
  const std::string result = R"({"id":"bad-1","attempt":0,"status":"dead","reason":"bad_job"})";
  redis.Command({"LPUSH", "ffpod:active:w-1", doc});

  auto first = q.DeadLetter(doc, "bad-1", result);
  EXPECT_EQ(first.first, "");
  EXPECT_TRUE(first.second);
  EXPECT_EQ(ListLength(redis, "ffpod:active:w-1"), 0);
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 1);
  EXPECT_EQ(StreamLength(redis), 1);
  EXPECT_EQ(JobField(redis, "bad-1", "state"), "dead");

  // The same call again (the worker retries when the first reply was lost): nothing new.
  redis.Command({"DEL", "ffpod:job:bad-1"});
  auto second = q.DeadLetter(doc, "bad-1", result);
  EXPECT_EQ(second.first, "");
  EXPECT_FALSE(second.second);
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 1);
  EXPECT_EQ(StreamLength(redis), 1);
  EXPECT_EQ(JobField(redis, "bad-1", "state"), "");  // not written again either
}

TEST(JobQueue, DeadLetterBadJobOfADocumentAnotherWorkerRecoveredWritesNothing) {
  RedisServer redis;
  Queue q(redis, "w-1");
  const std::string doc = "not json at all";
  redis.Command({"LPUSH", "ffpod:active:w-1", doc});
  // w-1's heartbeat expired meanwhile: a live worker moved its claim back to pending.
  Queue other(redis, "w-2");
  EXPECT_EQ(other.Recover("w-1"), 1);
  ASSERT_EQ(ListLength(redis, "ffpod:pending"), 1);

  auto r = q.DeadLetter(doc, "", R"({"id":null,"attempt":0,"status":"dead"})");
  EXPECT_EQ(r.first, "");
  EXPECT_FALSE(r.second);
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 0);
  EXPECT_EQ(StreamLength(redis), 0);
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 1);  // whoever claims it next dead-letters it
}

// A job that w-lost was running when it vanished, with `attempt` attempts used.
void LostWhileRunning(const RedisServer& redis, const std::string& doc, const std::string& id,
                      int attempt) {
  redis.Command({"LPUSH", "ffpod:active:w-lost", doc});
  redis.Command({"HSET", "ffpod:job:" + id, "state", "running", "worker", "w-lost", "attempt",
                 std::to_string(attempt), "start_token", "w-lost:0:1"});
}

TEST(JobQueue, WorkerLostResultHasTheSpecShapeWhenRetried) {
  RedisServer redis;
  Queue q(redis, "w-live");
  const std::string doc = R"({"id": "lost-1", "args": ["-i", "a.mp4", "b.mp4"]})";
  LostWhileRunning(redis, doc, "lost-1", 1);
  EXPECT_EQ(q.Recover("w-lost"), 1);

  auto results = Results(redis);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, "retrying");
  const boost::json::object& r = results[0].result;
  testing::ExpectResultShape(r, "stream entry");
  EXPECT_EQ(r.at("id").as_string(), "lost-1");
  EXPECT_EQ(r.at("attempt").to_number<int64_t>(), 1);
  EXPECT_EQ(r.at("status").as_string(), "retrying");
  EXPECT_EQ(r.at("reason").as_string(), "worker_lost");
  EXPECT_TRUE(r.at("retryable").as_bool());
  EXPECT_EQ(r.at("outputs"), boost::json::array());
  EXPECT_EQ(r.at("stderr_tail"), boost::json::array());
  EXPECT_TRUE(r.at("exit").is_null());
  EXPECT_TRUE(r.at("started_at").is_null());
  EXPECT_FALSE(r.at("finished_at").as_string().empty());
  EXPECT_TRUE(r.at("duration_s").is_null());
  EXPECT_TRUE(r.at("progress").is_null());
  EXPECT_TRUE(r.at("trace_id").is_null());
  EXPECT_EQ(r.at("worker").at("id").as_string(), "w-lost");
  EXPECT_NE(r.at("message").as_string().find("recovered by w-live"), std::string::npos);

  // The job hash carries the same document; the job is back at the head of pending.
  EXPECT_EQ(boost::json::parse(JobField(redis, "lost-1", "result")).as_object(), r);
  EXPECT_EQ(JobField(redis, "lost-1", "state"), "pending");
  EXPECT_EQ(redis.Command({"LINDEX", "ffpod:pending", "-1"}).str, doc);
}

TEST(JobQueue, WorkerLostResultHasTheSpecShapeWhenDead) {
  RedisServer redis;
  Queue q(redis, "w-live");
  const std::string doc = R"({"id": "lost-2", "args": ["x"], "max_attempts": 2})";
  LostWhileRunning(redis, doc, "lost-2", 2);
  EXPECT_EQ(q.Recover("w-lost"), 1);

  auto results = Results(redis);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, "dead");
  testing::ExpectResultShape(results[0].result, "stream entry");
  EXPECT_EQ(results[0].result.at("status").as_string(), "dead");

  auto hash_result = boost::json::parse(JobField(redis, "lost-2", "result")).as_object();
  testing::ExpectResultShape(hash_result, "job hash result");
  EXPECT_EQ(hash_result, results[0].result);
  EXPECT_EQ(JobField(redis, "lost-2", "state"), "dead");

  ASSERT_EQ(ListLength(redis, "ffpod:dead"), 1);
  auto entry = boost::json::parse(redis.Command({"LINDEX", "ffpod:dead", "0"}).str).as_object();
  EXPECT_EQ(entry.at("job").as_string(), doc);  // the document exactly as claimed
  testing::ExpectResultShape(entry.at("result").as_object(), "dead entry result");
  EXPECT_EQ(entry.at("result").at("outputs"), boost::json::array());
  EXPECT_EQ(entry.at("result").at("stderr_tail"), boost::json::array());
}

TEST(JobQueueStart, ARepeatedStartCountsOneAttempt) {
  RedisServer redis;
  Queue q(redis, "w1");
  std::string doc = testing::JobDocument("j1", {"-f", "lavfi", "-i", "nullsrc", "-f", "null", "-"});
  redis.Command({"LPUSH", "ffpod:active:w1", doc});
  auto first = q.Start(doc, "j1", "w1:0:1");
  EXPECT_EQ(first.first, JobQueue::StartOutcome::kStarted);
  EXPECT_EQ(first.second, 1);
  // The reply was lost and the worker asks again with the same claim's token.
  auto again = q.Start(doc, "j1", "w1:0:1");
  EXPECT_EQ(again.first, JobQueue::StartOutcome::kStarted);
  EXPECT_EQ(again.second, 1);
  EXPECT_EQ(JobField(redis, "j1", "attempt"), "1");
  // A later claim of the same document (a retry) is a new attempt.
  auto next = q.Start(doc, "j1", "w1:0:2");
  EXPECT_EQ(next.first, JobQueue::StartOutcome::kStarted);
  EXPECT_EQ(next.second, 2);
}

TEST(JobQueueStart, ARepeatAfterAnotherWorkerRecoveredTheJobStartsNothing) {
  RedisServer redis;
  Queue w1(redis, "w1");
  Queue w2(redis, "w2");
  std::string doc = testing::JobDocument("j3", {"-f", "lavfi", "-i", "nullsrc", "-f", "null", "-"});
  redis.Command({"LPUSH", "ffpod:active:w1", doc});
  EXPECT_EQ(w1.Start(doc, "j3", "w1:0:9").first, JobQueue::StartOutcome::kStarted);
  // w1's reply was lost and w1 stayed cut off past its heartbeat: w2 recovered the job.
  EXPECT_EQ(w2.Recover("w1"), 1);
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 1);
  // w1's repeat with the same claim's token must not run it a second time.
  auto again = w1.Start(doc, "j3", "w1:0:9");
  EXPECT_EQ(again.first, JobQueue::StartOutcome::kGone);
  EXPECT_EQ(JobField(redis, "j3", "state"), "pending");
}

TEST(JobQueueStart, ARepeatAfterThePausedHandBackStartsNothing) {
  RedisServer redis;
  Queue q(redis, "w1");
  std::string doc = testing::JobDocument("j2", {"-f", "lavfi", "-i", "nullsrc", "-f", "null", "-"});
  redis.Command({"LPUSH", "ffpod:active:w1", doc});
  redis.Command({"SET", "ffpod:paused", "{}"});
  EXPECT_EQ(q.Start(doc, "j2", "w1:0:7").first, JobQueue::StartOutcome::kPaused);
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 1);
  // Resumed before the repeat (whose first reply was lost) arrives: the job is in pending, so
  // starting it here too would run it twice.
  redis.Command({"DEL", "ffpod:paused"});
  auto again = q.Start(doc, "j2", "w1:0:7");
  EXPECT_EQ(again.first, JobQueue::StartOutcome::kGone);
  EXPECT_EQ(JobField(redis, "j2", "state"), "");
  EXPECT_EQ(JobField(redis, "j2", "attempt"), "");
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 1);
  EXPECT_EQ(ListLength(redis, "ffpod:active:w1"), 0);
}

// Fencing (docs/queue.md, "One result per job"): worker w-a ran the job, froze past its heartbeat
// (SIGSTOP; its ffmpeg kept encoding), w-c recovered it and w-b runs it now.
struct FencedScene {
  explicit FencedScene(const RedisServer& redis)
      : redis(redis), a(redis, "w-a"), b(redis, "w-b"), c(redis, "w-c") {
    redis.Command({"LPUSH", "ffpod:active:w-a", doc});
    EXPECT_EQ(a.Start(doc, "f1", "w-a:0:1").first, JobQueue::StartOutcome::kStarted);
    EXPECT_EQ(c.Recover("w-a", false), 1);  // no heartbeat key: w-a is presumed dead
    redis.Command({"LMOVE", "ffpod:pending", "ffpod:active:w-b", "RIGHT", "LEFT"});
    EXPECT_EQ(b.Start(doc, "f1", "w-b:0:1").first, JobQueue::StartOutcome::kStarted);
  }
  std::vector<std::string> Statuses() const {
    std::vector<std::string> out;
    for (const auto& e : Results(redis)) out.push_back(e.status);
    return out;
  }
  const RedisServer& redis;
  const std::string doc = testing::JobDocument("f1", {"-i", "in.mp4", "out.mp4"});
  Queue a, b, c;
};

TEST(JobQueueFencing, AWorkerBackFromTheDeadCannotPublishOrRecordOverTheLiveCopy) {
  RedisServer redis;
  FencedScene scene(redis);
  // w-a resumes and its late success asks to publish, then to record: both are refused.
  EXPECT_FALSE(scene.a.Hold(scene.doc, "f1", "w-a:0:1"));
  EXPECT_EQ(scene.a.Finish(scene.doc, "f1", "succeeded", "w-a:0:1"), FinishOutcome::kSuperseded);
  EXPECT_EQ(JobField(redis, "f1", "state"), "running");
  EXPECT_EQ(JobField(redis, "f1", "worker"), "w-b");
  EXPECT_EQ(ListLength(redis, "ffpod:active:w-b"), 1);
  // Recorded for the audit, with its own status.
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].result.at("reason").as_string(), "worker_lost");
  EXPECT_EQ(results[1].status, "superseded");
  EXPECT_EQ(results[1].result.at("status").as_string(), "superseded");
  // The live copy holds the job: it may publish, and its outcome is the job's.
  EXPECT_TRUE(scene.b.Hold(scene.doc, "f1", "w-b:0:1"));
  EXPECT_EQ(scene.b.Finish(scene.doc, "f1", "succeeded", "w-b:0:1"), FinishOutcome::kRecorded);
  EXPECT_EQ(JobField(redis, "f1", "state"), "succeeded");
  EXPECT_EQ(JobField(redis, "f1", "worker"), "w-b");
  EXPECT_EQ(ListLength(redis, "ffpod:active:w-b"), 0);
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 0);
}

TEST(JobQueueFencing, TheFirstTerminalStateIsFinal) {
  RedisServer redis;
  FencedScene scene(redis);
  EXPECT_EQ(scene.b.Finish(scene.doc, "f1", "succeeded", "w-b:0:1"), FinishOutcome::kRecorded);
  // w-a's copy then fails for good: no dead entry, no change of state.
  EXPECT_EQ(scene.a.Finish(scene.doc, "f1", "dead", "w-a:0:1"), FinishOutcome::kSuperseded);
  EXPECT_EQ(JobField(redis, "f1", "state"), "succeeded");
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 0);
  // A copy of the document that turns up again is not run a third time.
  redis.Command({"LPUSH", "ffpod:active:w-c", scene.doc});
  auto late = scene.c.Start(scene.doc, "f1", "w-c:0:1");
  EXPECT_EQ(late.first, JobQueue::StartOutcome::kEnded);
  EXPECT_EQ(JobField(redis, "f1", "attempt"), "2");
  EXPECT_EQ(ListLength(redis, "ffpod:active:w-c"), 0);
  EXPECT_EQ(scene.Statuses(), (std::vector<std::string>{"retrying", "succeeded", "superseded"}));
}

// Today the live copy's state says `running` whatever a fenced worker tried to write; recovery
// recognises a started attempt by the claim's token, not by `state`.
TEST(JobQueueFencing, RecoveringTheLiveCopyCountsItsAttemptAfterAFencedLateResult) {
  RedisServer redis;
  FencedScene scene(redis);
  EXPECT_EQ(scene.a.Finish(scene.doc, "f1", "succeeded", "w-a:0:1"), FinishOutcome::kSuperseded);
  // w-b dies too; w-c recovers it: a worker_lost attempt, not "claimed, never started".
  std::vector<FencedAttempt> started;
  EXPECT_EQ(scene.c.Recover("w-b", false, &started), 1);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].document, scene.doc);
  EXPECT_EQ(started[0].attempt, 2);
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2].result.at("reason").as_string(), "worker_lost");
  EXPECT_EQ(results[2].result.at("worker").at("id").as_string(), "w-b");
  EXPECT_EQ(JobField(redis, "f1", "state"), "pending");
  EXPECT_EQ(JobField(redis, "f1", "start_token"), "");  // w-b's claim is fenced too
}

TEST(JobQueueFencing, HoldRenewsTheHeartbeatSoNoRecoveryFencesTheLease) {
  RedisServer redis;
  Queue a(redis, "w-a");
  Queue c(redis, "w-c");
  std::string doc = testing::JobDocument("h1", {"-i", "in.mp4", "out.mp4"});
  redis.Command({"LPUSH", "ffpod:active:w-a", doc});
  ASSERT_EQ(a.Start(doc, "h1", "w-a:0:1").first, JobQueue::StartOutcome::kStarted);
  // The heartbeat had lapsed (the worker was slow), but no recovery ran yet: still its claim.
  EXPECT_TRUE(a.Hold(doc, "h1", "w-a:0:1"));
  EXPECT_GT(redis.Command({"PTTL", "ffpod:worker:w-a"}).integer, 50000);
  EXPECT_EQ(c.Recover("w-a", false), 0);
  EXPECT_EQ(a.Finish(doc, "h1", "succeeded", "w-a:0:1"), FinishOutcome::kRecorded);
  EXPECT_EQ(JobField(redis, "h1", "state"), "succeeded");
}

TEST(JobQueueFencing, ACancelFoundAtStartIsRecordedByTheClaimThatFoundIt) {
  RedisServer redis;
  Queue a(redis, "w-a");
  std::string doc = testing::JobDocument("c1", {"-i", "in.mp4", "out.mp4"});
  redis.Command({"HSET", "ffpod:job:c1", "cancel_requested", "now"});
  redis.Command({"LPUSH", "ffpod:active:w-a", doc});
  EXPECT_EQ(a.Start(doc, "c1", "w-a:0:1").first, JobQueue::StartOutcome::kCancelled);
  EXPECT_EQ(a.Start(doc, "c1", "w-a:0:1").first, JobQueue::StartOutcome::kCancelled);  // repeat
  EXPECT_EQ(a.Finish(doc, "c1", "cancelled", "w-a:0:1"), FinishOutcome::kRecorded);
  EXPECT_EQ(JobField(redis, "c1", "state"), "cancelled");
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 0);  // a cancel is no dead letter
  EXPECT_EQ(ListLength(redis, "ffpod:active:w-a"), 0);
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 0);
  EXPECT_GT(redis.Command({"TTL", "ffpod:job:c1"}).integer, 0);  // terminal: it expires
  // Cancelled is terminal like succeeded and dead: a copy that turns up is not run, and a
  // second cancel finds the job ended.
  redis.Command({"LPUSH", "ffpod:active:w-a", doc});
  EXPECT_EQ(a.Start(doc, "c1", "w-a:0:2").first, JobQueue::StartOutcome::kEnded);
  EXPECT_EQ(ListLength(redis, "ffpod:active:w-a"), 0);
}

// A Redis restarted without its data: the claim is the only copy left, and its result is kept.
TEST(JobQueueFencing, AResultWhoseJobHashRedisLostIsStillRecorded) {
  RedisServer redis;
  Queue a(redis, "w-a");
  std::string doc = testing::JobDocument("l1", {"-i", "in.mp4", "out.mp4"});
  redis.Command({"LPUSH", "ffpod:active:w-a", doc});
  ASSERT_EQ(a.Start(doc, "l1", "w-a:0:1").first, JobQueue::StartOutcome::kStarted);
  redis.Command({"FLUSHALL"});
  EXPECT_TRUE(a.Hold(doc, "l1", "w-a:0:1"));
  EXPECT_EQ(a.Finish(doc, "l1", "succeeded", "w-a:0:1"), FinishOutcome::kRecorded);
  EXPECT_EQ(JobField(redis, "l1", "state"), "succeeded");
}

}  // namespace
}  // namespace ffpod

namespace ffpod {
namespace {

// A started attempt of `id` in queue ffpod that ended oom_killed, asking to move to highmem.
FinishRequest RerouteToHighmem(Queue& q, const RedisServer& redis, const std::string& id) {
  const std::string doc = R"({"id":")" + id + R"(","args":["-i","a","b"]})";
  redis.Command({"LPUSH", "ffpod:active:w-1", doc});
  EXPECT_EQ(q.Start(doc, id, "w-1:0:1").first, JobQueue::StartOutcome::kStarted);
  FinishRequest r;
  r.document = doc;
  r.id = id;
  r.status = "rerouted";
  r.result_json =
      R"({"id":")" + id + R"(","attempt":1,"status":"rerouted","rerouted_to":"highmem"})";
  r.fallback_status = "retrying";
  r.fallback_result_json = R"({"id":")" + id + R"(","attempt":1,"status":"retrying"})";
  r.delay_ms = 100;
  r.token = "w-1:0:1:done";
  r.start_token = "w-1:0:1";
  r.reroute_queue = "highmem";
  r.reroute_document = R"({"id":")" + id + R"(","args":["-i","a","b"],"reroutes":[]})";
  r.reroute_record_json = R"({"reason":"oom_killed","from":"ffpod","to":"highmem","at":"t"})";
  return r;
}

TEST(JobQueueReroute, FinishMovesTheJobOnceEvenWhenRepeatedAfterALostReply) {
  RedisServer redis;
  Queue q(redis, "w-1");
  FinishRequest r = RerouteToHighmem(q, redis, "big-1");
  EXPECT_EQ(q.Finish(r), FinishOutcome::kRecorded);
  EXPECT_EQ(q.Finish(r), FinishOutcome::kRepeated);  // the reply was lost: asked again
  EXPECT_EQ(ListLength(redis, "highmem:pending"), 1);
  EXPECT_EQ(redis.Command({"LINDEX", "highmem:pending", "0"}).str, r.reroute_document);
  EXPECT_EQ(ListLength(redis, "ffpod:active:w-1"), 0);
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 0);
  EXPECT_EQ(redis.Command({"ZCARD", "ffpod:delayed"}).integer, 0);
  // The state moved with its attempts; the source says where it went.
  EXPECT_EQ(JobField(redis, "big-1", "state", "highmem"), "pending");
  EXPECT_EQ(JobField(redis, "big-1", "attempt", "highmem"), "1");
  EXPECT_EQ(JobField(redis, "big-1", "rerouted_from", "highmem"), "ffpod");
  EXPECT_EQ(JobField(redis, "big-1", "state"), "rerouted");
  EXPECT_EQ(JobField(redis, "big-1", "rerouted_to"), "highmem");
  auto moves = boost::json::parse(JobField(redis, "big-1", "rerouted", "highmem")).as_array();
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].at("reason"), "oom_killed");
  EXPECT_EQ(JobField(redis, "big-1", "rerouted"), JobField(redis, "big-1", "rerouted", "highmem"));
  EXPECT_GT(redis.Command({"TTL", "ffpod:job:big-1"}).integer, 0);
  EXPECT_EQ(redis.Command({"TTL", "highmem:job:big-1"}).integer, -1);
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, "rerouted");
}

TEST(JobQueueReroute, ACopyPushedAgainToTheQueueItLeftIsNotRun) {
  RedisServer redis;
  Queue q(redis, "w-1");
  FinishRequest r = RerouteToHighmem(q, redis, "big-3");
  ASSERT_EQ(q.Finish(r), FinishOutcome::kRecorded);
  // A producer's retry pushes the same document to the source queue again: it is not run there.
  redis.Command({"LPUSH", "ffpod:active:w-1", r.document});
  EXPECT_EQ(q.Start(r.document, "big-3", "w-1:0:2").first, JobQueue::StartOutcome::kEnded);
  EXPECT_EQ(ListLength(redis, "ffpod:active:w-1"), 0);
  EXPECT_EQ(JobField(redis, "big-3", "state"), "rerouted");
  EXPECT_EQ(ListLength(redis, "highmem:pending"), 1);
}

TEST(JobQueueReroute, ADestinationHoldingALiveJobWithTheIdGetsNothing) {
  RedisServer redis;
  Queue q(redis, "w-1");
  redis.Command({"HSET", "highmem:job:big-2", "state", "running", "attempt", "1"});
  FinishRequest r = RerouteToHighmem(q, redis, "big-2");
  EXPECT_EQ(q.Finish(r), FinishOutcome::kRecordedWithoutRoute);
  EXPECT_EQ(ListLength(redis, "highmem:pending"), 0);
  EXPECT_EQ(JobField(redis, "big-2", "state", "highmem"), "running");
  EXPECT_EQ(JobField(redis, "big-2", "state"), "delayed");  // the fallback: retried here
  EXPECT_EQ(redis.Command({"ZCARD", "ffpod:delayed"}).integer, 1);
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, "retrying");
}

}  // namespace
}  // namespace ffpod
