// `ffpod worker --queue A,B:3` against a real redis-server: fair claiming across queues (a
// backlog in one does not hold back another's jobs; weights share the claims), pause per
// queue, the per-queue pending gauges and /status, recovery and the drain's hand-back through
// each job's own queue, and bad --queue values. The jobs run a
// stand-in ffmpeg that records which job it ran and exits at once (the probes at start run the
// real one), so the order of the record is the order of the claims (one slot).
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "parsers/telemetry/log_format.h"
#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::FfpodWorker;
using testing::JobDocument;
using testing::JobField;
using testing::RedisServer;
using testing::TempDir;
using testing::WaitFor;

// The stand-in: a job's `title=<tag>` argument is appended to <dir>/order; -version and
// -buildconf (the worker's probes) are the real ffmpeg's.
std::string WriteRecordingFfmpeg(const TempDir& dir) {
  std::string path = dir / "ffmpeg";
  testing::WriteFile(path,
                     "#!/bin/sh\n"
                     "for a in \"$@\"; do\n"
                     "  case \"$a\" in\n"
                     "    -version|-buildconf) exec /usr/bin/ffmpeg \"$@\";;\n"
                     "    title=*) echo \"${a#title=}\" >> '" +
                         (dir / "order") +
                         "';;\n"
                         "  esac\n"
                         "done\n"
                         "exit 0\n");
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

std::string QuickJob(const std::string& tag, const boost::json::object& extra = {}) {
  return JobDocument(tag, {"-metadata", "title=" + tag, "-f", "null", "-"}, {}, extra);
}

// `count` jobs tagged <queue>-<n> pushed onto <queue>:pending in one LPUSH.
void ProduceMany(const RedisServer& redis, const std::string& queue, int count, int first = 0) {
  std::vector<std::string> argv = {"LPUSH", queue + ":pending"};
  for (int i = first; i < first + count; ++i)
    argv.push_back(QuickJob(queue + "-" + std::to_string(i)));
  RedisReply r = redis.Command(argv);
  ASSERT_FALSE(r.IsError()) << r.ToString();
}

// The tags the stand-in ran, in order.
std::vector<std::string> Order(const TempDir& dir) {
  std::vector<std::string> out;
  std::istringstream in(testing::ReadFile(dir / "order"));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

size_t OrderLength(const TempDir& dir) {
  return std::filesystem::exists(dir / "order") ? Order(dir).size() : 0;
}

std::vector<std::string> WorkerFlags(const std::string& ffmpeg, const std::string& queues) {
  return {"--heartbeat", "1", "--ffmpeg", ffmpeg, "--queue", queues, "--log-level", "debug"};
}

// 200 jobs wait in A; 5 arrive in B while A's backlog is being worked off. Each of B's is
// claimed within about one A job of the previous claim from B (counted in claims, not time).
TEST(WorkerQueues, ABacklogInOneQueueDelaysAnothersJobsByAboutOneJob) {
  RedisServer redis;
  TempDir dir;
  std::string ffmpeg = WriteRecordingFfmpeg(dir);
  ProduceMany(redis, "A", 200);
  FfpodWorker w(redis.Url(), "w-1", dir, WorkerFlags(ffmpeg, "A,B"));
  ASSERT_TRUE(WaitFor([&] { return OrderLength(dir) >= 20; }, 60s)) << w.Log().substr(0, 4000);
  size_t ran_before_push = OrderLength(dir);
  ProduceMany(redis, "B", 5);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < 5; ++i) {
          if (JobField(redis, "B-" + std::to_string(i), "state", "B") != "succeeded") return false;
        }
        return true;
      },
      60s))
      << w.Log().substr(0, 4000);
  std::vector<std::string> order = Order(dir);
  // Claims of A between B's arrival (give or take the claim in flight) and each of B's jobs.
  std::vector<int> a_between;
  int a_run = 0;
  for (size_t i = ran_before_push; i < order.size() && a_between.size() < 5; ++i) {
    if (order[i].starts_with("B-")) {
      a_between.push_back(a_run);
      a_run = 0;
    } else {
      ++a_run;
    }
  }
  ASSERT_EQ(a_between.size(), 5u);
  std::string positions;
  for (int n : a_between) positions += std::to_string(n) + " ";
  // The first may follow the A claim that was in flight when B's jobs arrived.
  EXPECT_LE(a_between[0], 2) << "A jobs before each B job: " << positions;
  for (size_t i = 1; i < a_between.size(); ++i) {
    EXPECT_LE(a_between[i], 1) << "A jobs before each B job: " << positions;
  }
  RecordProperty("a_jobs_before_each_b_job", positions);
  std::string claims;
  for (size_t i = ran_before_push; i < ran_before_push + 12 && i < order.size(); ++i) {
    claims += order[i] + " ";
  }
  RecordProperty("claims_after_b_arrived", claims);
  // B's jobs ran in the order they were pushed, each once; A's backlog is still being served.
  int b = 0;
  for (const auto& tag : order) {
    if (tag.starts_with("B-")) {
      EXPECT_EQ(tag, "B-" + std::to_string(b++));
    }
  }
  EXPECT_EQ(b, 5);
  EXPECT_GT(testing::ListLength(redis, "A:pending"), 0);
  // Each queue has its own keys: heartbeat and membership in both.
  EXPECT_EQ(redis.Command({"EXISTS", "A:worker:w-1"}).integer, 1);
  EXPECT_EQ(redis.Command({"EXISTS", "B:worker:w-1"}).integer, 1);
  EXPECT_EQ(redis.Command({"SISMEMBER", "B:workers", "w-1"}).integer, 1);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:pending"), 0);
}

// Weights 1 and 3 with work in both: of the first 100 claims, 25 and 75 (within 3).
TEST(WorkerQueues, WeightsOneToThreeShareTheClaimsOneToThree) {
  RedisServer redis;
  TempDir dir;
  std::string ffmpeg = WriteRecordingFfmpeg(dir);
  ProduceMany(redis, "A", 150);
  ProduceMany(redis, "B", 150);
  FfpodWorker w(redis.Url(), "w-1", dir, WorkerFlags(ffmpeg, "A:1,B:3"));
  ASSERT_TRUE(WaitFor([&] { return OrderLength(dir) >= 100; }, 120s)) << w.Log().substr(0, 4000);
  std::vector<std::string> order = Order(dir);
  std::map<char, int> claims;
  for (size_t i = 0; i < 100; ++i) ++claims[order[i][0]];
  EXPECT_NEAR(claims['A'], 25, 3) << "A " << claims['A'] << ", B " << claims['B'];
  EXPECT_NEAR(claims['B'], 75, 3) << "A " << claims['A'] << ", B " << claims['B'];
  RecordProperty("claims_a_b", std::to_string(claims['A']) + ":" + std::to_string(claims['B']));
}

// `ffpod pause --queue A` stops claims from A only: B's jobs go on, the worker stays ready,
// and A's jobs run once A is resumed.
TEST(WorkerQueues, PausingOneQueueLeavesTheOtherFlowing) {
  RedisServer redis;
  TempDir dir;
  std::string ffmpeg = WriteRecordingFfmpeg(dir);
  auto ffpod = [&](const std::string& cmd, const std::string& queue) {
    return testing::RunCommand({FFPOD_BINARY, cmd, "--redis", redis.Url(), "--queue", queue});
  };
  ASSERT_EQ(ffpod("pause", "A").status, 0);
  FfpodWorker w(redis.Url(), "w-1", dir, WorkerFlags(ffmpeg, "A,B"));
  int port = w.Port();
  ProduceMany(redis, "A", 3);
  ProduceMany(redis, "B", 3);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "B-2", "state", "B") == "succeeded"; }, 60s))
      << w.Log().substr(0, 4000);
  EXPECT_EQ(testing::ListLength(redis, "A:pending"), 3);
  EXPECT_EQ(JobField(redis, "A-0", "state", "A"), "");
  EXPECT_EQ(testing::HttpGet(port, "/readyz").status, 200);
  ASSERT_EQ(ffpod("pause", "B").status, 0);
  EXPECT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 503; }, 10s));
  EXPECT_NE(testing::HttpGet(port, "/readyz").body.find("every queue is paused"),
            std::string::npos);
  ASSERT_EQ(ffpod("resume", "A").status, 0);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "A-2", "state", "A") == "succeeded"; }, 60s))
      << w.Log().substr(0, 4000);
  EXPECT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 10s));
  bool logged = false;
  for (const auto& r : w.Records()) {
    if (r.contains("queue") && r.at("queue") == "A" && r.at("msg") == "queue resumed")
      logged = true;
  }
  EXPECT_TRUE(logged) << w.Log().substr(0, 4000);
}

// Metric value of `series` (the whole text before the value) on /metrics, if present.
std::optional<double> MetricValue(int port, const std::string& series) {
  std::string body = testing::HttpGet(port, "/metrics").body;
  size_t at = body.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(body.substr(at + series.size() + 2));
}

// ffpod_queue_pending_jobs{queue} and ffpod_queue_oldest_pending_seconds{queue}: the age of the
// head of each pending list from its enqueued_at; 0 for an empty list; absent when the head
// has no enqueued_at.
TEST(WorkerQueues, OldestPendingGaugeIsTheAgeOfEachQueuesHead) {
  RedisServer redis;
  TempDir dir;
  std::string ffmpeg = WriteRecordingFfmpeg(dir);
  for (const char* q : {"A", "B", "C"}) {
    ASSERT_EQ(
        testing::RunCommand({FFPOD_BINARY, "pause", "--redis", redis.Url(), "--queue", q}).status,
        0);
  }
  auto now = std::chrono::system_clock::now();
  // The head of A (pushed first, claimed first) waited 300 s; a newer one behind it 10 s.
  testing::Produce(redis, QuickJob("A-old", {{"enqueued_at", FormatTimestamp(now - 300s)}}), "A");
  testing::Produce(redis, QuickJob("A-new", {{"enqueued_at", FormatTimestamp(now - 10s)}}), "A");
  testing::Produce(redis, QuickJob("C-plain"), "C");
  FfpodWorker w(redis.Url(), "w-1", dir, WorkerFlags(ffmpeg, "A,B,C"));
  int port = w.Port();
  ASSERT_TRUE(WaitFor(
      [&] { return MetricValue(port, "ffpod_queue_pending_jobs{queue=\"C\"}").has_value(); }, 15s));
  EXPECT_EQ(MetricValue(port, "ffpod_queue_pending_jobs{queue=\"A\"}"), 2);
  EXPECT_EQ(MetricValue(port, "ffpod_queue_pending_jobs{queue=\"B\"}"), 0);
  EXPECT_EQ(MetricValue(port, "ffpod_queue_pending_jobs{queue=\"C\"}"), 1);
  auto age = MetricValue(port, "ffpod_queue_oldest_pending_seconds{queue=\"A\"}");
  ASSERT_TRUE(age.has_value());
  double elapsed = std::chrono::duration<double>(std::chrono::system_clock::now() - now).count();
  EXPECT_GE(*age, 300 - 1);
  EXPECT_LE(*age, 300 + elapsed + 1);
  EXPECT_EQ(MetricValue(port, "ffpod_queue_oldest_pending_seconds{queue=\"B\"}"), 0);
  EXPECT_FALSE(MetricValue(port, "ffpod_queue_oldest_pending_seconds{queue=\"C\"}").has_value());
}

// /status names the queue of the job each slot runs.
TEST(WorkerQueues, StatusSaysWhichQueueEachSlotServes) {
  RedisServer redis;
  TempDir dir;
  std::string ffmpeg = dir / "ffmpeg";
  // This stand-in runs until its job's marker file is removed.
  testing::WriteFile(ffmpeg,
                     "#!/bin/sh\n"
                     "for a in \"$@\"; do\n"
                     "  case \"$a\" in\n"
                     "    -version|-buildconf) exec /usr/bin/ffmpeg \"$@\";;\n"
                     "  esac\n"
                     "done\n"
                     "touch '" +
                         (dir / "hold") +
                         "'\n"
                         "while [ -e '" +
                         (dir / "hold") +
                         "' ]; do sleep 0.1; done\n"
                         "exit 0\n");
  std::filesystem::permissions(ffmpeg, std::filesystem::perms::owner_all);
  testing::Produce(redis, QuickJob("B-0"), "B");
  std::vector<std::string> flags = WorkerFlags(ffmpeg, "A,B");
  FfpodWorker w(redis.Url(), "w-1", dir, flags);
  int port = w.Port();
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(dir / "hold"); }, 30s))
      << w.Log().substr(0, 4000);
  boost::json::object status;
  ASSERT_TRUE(WaitFor(
      [&] {
        status = boost::json::parse(testing::HttpGet(port, "/status").body).as_object();
        return !status.at("jobs").as_array().empty();
      },
      10s));
  const auto& job = status.at("jobs").as_array()[0].as_object();
  EXPECT_EQ(job.at("queue"), "B");
  EXPECT_EQ(job.at("id"), "B-0");
  std::filesystem::remove(dir / "hold");
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "B-0", "state", "B") == "succeeded"; }, 30s));
}

// A worker of A and B dies while it runs B's job: a worker of B alone recovers it from B's keys
// (worker_lost, recorded in B) and runs it; A's job is left to A's workers.
TEST(WorkerQueues, ALostWorkersJobIsRecoveredThroughItsOwnQueue) {
  RedisServer redis;
  TempDir dir;
  std::string ffmpeg = dir / "ffmpeg";
  // While <dir>/armed exists, each job's run waits for ever.
  testing::WriteFile(ffmpeg,
                     "#!/bin/sh\n"
                     "for a in \"$@\"; do\n"
                     "  case \"$a\" in\n"
                     "    -version|-buildconf) exec /usr/bin/ffmpeg \"$@\";;\n"
                     "  esac\n"
                     "done\n"
                     "while [ -e '" +
                         (dir / "armed") + "' ]; do sleep 0.1; done\nexit 0\n");
  std::filesystem::permissions(ffmpeg, std::filesystem::perms::owner_all);
  testing::WriteFile(dir / "armed", "");
  testing::Produce(redis, QuickJob("B-0"), "B");
  auto first = std::make_unique<FfpodWorker>(redis.Url(), "w-1", dir, WorkerFlags(ffmpeg, "A,B"));
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "B-0", "state", "B") == "running"; }, 30s))
      << first->Log().substr(0, 4000);
  testing::Produce(redis, QuickJob("A-0"), "A");
  first->process().Signal(SIGKILL);
  first->process().Wait(10s);
  std::filesystem::remove(dir / "armed");
  FfpodWorker second(redis.Url(), "w-2", dir, WorkerFlags(ffmpeg, "B"));
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "B-0", "state", "B") == "succeeded"; }, 60s))
      << second.Log().substr(0, 4000);
  auto results = testing::Results(redis, "B");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].result.at("reason").as_string(), "worker_lost");
  EXPECT_EQ(results[0].result.at("worker").at("id").as_string(), "w-1");
  EXPECT_EQ(results[1].status, "succeeded");
  EXPECT_EQ(results[1].result.at("worker").at("id").as_string(), "w-2");
  EXPECT_EQ(testing::ListLength(redis, "B:active:w-1"), 0);
  EXPECT_TRUE(testing::Results(redis, "A").empty());
  EXPECT_EQ(testing::ListLength(redis, "A:pending"), 1);
  EXPECT_EQ(JobField(redis, "B-0", "state"), "");  // nothing under the default queue's keys
}

// The drain hands a job back to the head of its own queue's pending list, and the worker leaves
// every queue (heartbeat and membership gone from each).
TEST(WorkerQueues, TheDrainHandsEachJobBackToItsOwnQueue) {
  RedisServer redis;
  TempDir dir;
  std::string ffmpeg = dir / "ffmpeg";
  // Runs until killed: the drain's graceful stop is not enough, so the job is preempted.
  testing::WriteFile(ffmpeg,
                     "#!/bin/sh\n"
                     "for a in \"$@\"; do\n"
                     "  case \"$a\" in\n"
                     "    -version|-buildconf) exec /usr/bin/ffmpeg \"$@\";;\n"
                     "  esac\n"
                     "done\n"
                     "trap '' INT TERM\nwhile true; do sleep 0.1; done\n");
  std::filesystem::permissions(ffmpeg, std::filesystem::perms::owner_all);
  testing::Produce(redis, QuickJob("B-0"), "B");
  std::vector<std::string> flags = WorkerFlags(ffmpeg, "A,B");
  flags.insert(flags.end(), {"--grace-period", "4", "--drain-margin", "1"});
  FfpodWorker w(redis.Url(), "w-1", dir, flags);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "B-0", "state", "B") == "running"; }, 30s))
      << w.Log().substr(0, 4000);
  w.process().Signal(SIGTERM);
  EXPECT_EQ(w.process().Wait(20s), 0) << w.Log().substr(0, 4000);
  EXPECT_EQ(testing::ListLength(redis, "B:pending"), 1);
  EXPECT_EQ(testing::ListLength(redis, "B:active:w-1"), 0);
  EXPECT_EQ(JobField(redis, "B-0", "state", "B"), "pending");
  for (const char* q : {"A", "B"}) {
    EXPECT_EQ(redis.Command({"EXISTS", std::string(q) + ":worker:w-1"}).integer, 0) << q;
    EXPECT_EQ(redis.Command({"SISMEMBER", std::string(q) + ":workers", "w-1"}).integer, 0) << q;
  }
}

TEST(WorkerQueues, BadQueueListsExitTwoNamingTheFlagAndTheElement) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a,b,a", "(\"a\" is listed twice)"},
      {"a,,b", "(element 2 is empty)"},
      {"a,globex:0", "(\"globex:0\" has weight \"0\")"},
      {"a:1001", "(\"a:1001\" has weight \"1001\")"},
  };
  for (const auto& [value, named] : cases) {
    auto r = testing::RunCommand(
        {FFPOD_BINARY, "worker", "--redis", "redis://127.0.0.1:1", "--queue", value});
    EXPECT_EQ(r.status, 2) << value;
    EXPECT_NE(r.err.find("--queue expects"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    auto env = testing::RunCommand({FFPOD_BINARY, "worker", "--redis", "redis://127.0.0.1:1"},
                                   std::chrono::seconds(10), {"FFPOD_QUEUE=" + value});
    EXPECT_EQ(env.status, 2) << value;
    EXPECT_NE(env.err.find("FFPOD_QUEUE"), std::string::npos) << env.err;
  }
}

}  // namespace
}  // namespace ffpod
