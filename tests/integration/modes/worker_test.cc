// `ffpod worker` against a real redis-server and the real ffmpeg: delivery, retries,
// dead-lettering, malformed jobs, lost workers, Redis restarts, pause/resume, TLS and AUTH.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::EncodeArgs;
using testing::FfpodWorker;
using testing::JobDocument;
using testing::JobField;
using testing::Produce;
using testing::RedisServer;
using testing::Results;
using testing::TempDir;
using testing::WaitFor;

const std::vector<std::string> kFast = {"--heartbeat", "1",           "--retry-base",
                                        "0.2",         "--retry-max", "1"};

bool AllInState(const RedisServer& redis, const std::vector<std::string>& ids,
                const std::string& state) {
  for (const auto& id : ids) {
    if (JobField(redis, id, "state") != state) return false;
  }
  return true;
}

TEST(Worker, TwentyJobsOverTwoWorkersEachSucceedExactlyOnce) {
  RedisServer redis;
  TempDir dir;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    std::string id = "clip-" + std::to_string(i);
    std::string out = dir / (id + ".mp4");
    Produce(redis, JobDocument(id, EncodeArgs(out, 1), {out}));
    ids.push_back(id);
  }
  FfpodWorker a(redis.Url(), "w-a", dir, kFast);
  FfpodWorker b(redis.Url(), "w-b", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return AllInState(redis, ids, "succeeded"); }, 180s))
      << a.Log().substr(0, 4000);
  auto results = Results(redis);
  std::map<std::string, int> successes;
  std::set<std::string> workers;
  for (const auto& r : results) {
    EXPECT_EQ(r.status, "succeeded") << boost::json::serialize(r.result);
    ++successes[r.id];
    workers.insert(std::string(r.result.at("worker").at("id").as_string()));
    // Outputs are published with their size and sha256.
    auto& outputs = r.result.at("outputs").as_array();
    ASSERT_EQ(outputs.size(), 1u);
    std::string path(outputs[0].at("path").as_string());
    EXPECT_EQ(outputs[0].at("bytes").as_int64(),
              static_cast<int64_t>(std::filesystem::file_size(path)));
    EXPECT_EQ(outputs[0].at("sha256").as_string().size(), 64u);
  }
  EXPECT_EQ(successes.size(), 20u);
  for (const auto& [id, n] : successes) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(workers, (std::set<std::string>{"w-a", "w-b"}));
  EXPECT_EQ(testing::ListLength(redis, "ffpod:pending"), 0);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:active:w-a"), 0);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:active:w-b"), 0);
  // No temporary output is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".ffpod-"), std::string::npos) << entry.path();
  }
}

TEST(Worker, RetryableFailureIsRetriedWithBackoffThenDeadLettered) {
  RedisServer redis;
  TempDir dir;
  // A refused connection is `network`: retryable.
  Produce(redis, JobDocument("net-1", {"-i", "tcp://127.0.0.1:1", dir / "o.mp4"}, {},
                             {{"max_attempts", 3}}));
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "net-1", "state") == "dead"; }, 60s)) << w.Log();
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].status, "retrying");
  EXPECT_EQ(results[1].status, "retrying");
  EXPECT_EQ(results[2].status, "dead");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i].result.at("attempt").as_int64(), i + 1);
    EXPECT_EQ(results[i].result.at("reason").as_string(), "network");
  }
  // The delay grows: retry-base 0.2 s, then 0.4 s (with equal jitter: >= half of each).
  EXPECT_GE(results[0].result.at("next_attempt_in_s").to_number<double>(), 0.1);
  EXPECT_GE(results[1].result.at("next_attempt_in_s").to_number<double>(), 0.2);
  auto started = [&](int i) { return std::string(results[i].result.at("started_at").as_string()); };
  EXPECT_LT(started(0), started(1));
  EXPECT_EQ(testing::ListLength(redis, "ffpod:dead"), 1);
  auto entry = boost::json::parse(redis.Command({"LINDEX", "ffpod:dead", "0"}).str).as_object();
  EXPECT_EQ(boost::json::parse(entry.at("job").as_string()).at("id").as_string(), "net-1");
  EXPECT_EQ(entry.at("result").at("reason").as_string(), "network");
  EXPECT_EQ(JobField(redis, "net-1", "attempt"), "3");
}

TEST(Worker, NonRetryableFailureIsDeadAtOnce) {
  RedisServer redis;
  TempDir dir;
  Produce(redis, JobDocument("missing-1", {"-i", dir / "nope.mp4", dir / "o.mp4"}));
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "missing-1", "state") == "dead"; }, 60s));
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].result.at("reason").as_string(), "input_missing");
  EXPECT_FALSE(results[0].result.at("retryable").as_bool());
  // A redis TTL is set on the terminal state hash.
  EXPECT_GT(redis.Command({"TTL", "ffpod:job:missing-1"}).integer, 0);
}

TEST(Worker, MalformedDocumentsAreDeadLetteredAndTheWorkerGoesOn) {
  RedisServer redis;
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> bad = {
      {"not json at all", "not valid JSON"},
      {R"({"id": 42, "args": ["-i", "x"]})", "field \"id\""},
      {R"({"args": ["-i", "x"]})", "field \"id\" is missing"},
      {R"({"id": "has space", "args": ["x"]})", "field \"id\""},
      {R"({"id": "empty-args", "args": []})", "field \"args\""},
      {R"({"id": "wrong-types", "args": "-i x", "max_attempts": "3"})", "field \"args\""},
      {R"({"id": "bad-output", "args": ["-i", "a.mp4", "b.mp4"], "outputs": ["c.mp4"]})",
       "field \"outputs[0]\""},
      {R"({"id": "huge", "args": [")" + std::string(10 << 20, 'x') + "\"]}", "1048576-byte limit"},
  };
  for (const auto& [doc, why] : bad) Produce(redis, doc);
  std::string out = dir / "good.mp4";
  Produce(redis, JobDocument("good", EncodeArgs(out, 1), {out}));
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "good", "state") == "succeeded"; }, 60s))
      << w.Log().substr(0, 3000);
  ASSERT_EQ(testing::ListLength(redis, "ffpod:dead"), static_cast<long long>(bad.size()));
  std::vector<std::string> messages;
  for (size_t i = 0; i < bad.size(); ++i) {
    auto entry = boost::json::parse(redis.Command({"LINDEX", "ffpod:dead", std::to_string(i)}).str);
    EXPECT_EQ(entry.at("result").at("reason").as_string(), "bad_job");
    messages.emplace_back(entry.at("result").at("message").as_string());
  }
  for (const auto& [doc, why] : bad) {
    bool found = false;
    for (const auto& m : messages) found = found || m.find(why) != std::string::npos;
    EXPECT_TRUE(found) << why;
  }
  // The original document is kept whole in the dead entry (nothing is lost).
  bool kept_huge = false;
  for (size_t i = 0; i < bad.size(); ++i) {
    auto entry = boost::json::parse(redis.Command({"LINDEX", "ffpod:dead", std::to_string(i)}).str);
    kept_huge = kept_huge || entry.at("job").as_string().size() > (10u << 20);
  }
  EXPECT_TRUE(kept_huge);
  EXPECT_EQ(JobField(redis, "empty-args", "state"), "dead");
  EXPECT_TRUE(w.process().Running());
}

TEST(Worker, KilledWorkersJobIsRecoveredAndCompletedByAnother) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "long.mp4";
  Produce(redis, JobDocument("long-1", EncodeArgs(out, 6, true), {out}));
  auto a = std::make_unique<FfpodWorker>(redis.Url(), "w-a", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "long-1", "state") == "running"; }, 30s));
  std::this_thread::sleep_for(1500ms);
  pid_t ffmpeg = 0;
  for (pid_t c : testing::ChildrenOf(a->process().pid())) {
    if (testing::IsJobFfmpeg(c)) ffmpeg = c;
  }
  ASSERT_GT(ffmpeg, 0);
  a->process().Signal(SIGKILL);
  a->process().Wait(10s);
  // ffmpeg never outlives ffpod (parent-death signal).
  EXPECT_TRUE(WaitFor([&] { return testing::ProcessGoneOrZombie(ffmpeg); }, 5s));
  FfpodWorker b(redis.Url(), "w-b", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "long-1", "state") == "succeeded"; }, 60s))
      << b.Log().substr(0, 4000);
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].result.at("reason").as_string(), "worker_lost");
  EXPECT_EQ(results[0].status, "retrying");
  // The recovered attempt's result has the same shape as any other (arrays, not {}).
  testing::ExpectResultShape(results[0].result, "worker_lost result");
  EXPECT_EQ(results[0].result.at("outputs"), boost::json::array());
  EXPECT_EQ(results[0].result.at("stderr_tail"), boost::json::array());
  EXPECT_EQ(results[0].result.at("worker").at("id").as_string(), "w-a");
  testing::ExpectResultShape(results[1].result, "succeeded result");
  EXPECT_EQ(results[1].status, "succeeded");
  EXPECT_EQ(results[1].result.at("worker").at("id").as_string(), "w-b");
  EXPECT_EQ(results[1].result.at("attempt").as_int64(), 2);  // the lost attempt counted
  EXPECT_EQ(testing::ListLength(redis, "ffpod:active:w-a"), 0);
  EXPECT_TRUE(std::filesystem::exists(out));
  // The killed attempt's temporary was left by a dead process: the new attempt used its own.
  EXPECT_EQ(redis.Command({"SISMEMBER", "ffpod:workers", "w-a"}).integer, 0);
}

TEST(Worker, RedisRestartMidJobLosesNothing) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "r.mp4";
  Produce(redis, JobDocument("restart-1", EncodeArgs(out, 4, true), {out}));
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "restart-1", "state") == "running"; }, 30s));
  redis.Stop();
  // While Redis is away the worker stays up and says it is not ready.
  int port = w.Port();
  EXPECT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 503; }, 10s));
  auto body = testing::HttpGet(port, "/readyz").body;
  EXPECT_NE(body.find("redis"), std::string::npos) << body;
  std::this_thread::sleep_for(5s);  // the encode finishes while Redis is down
  EXPECT_TRUE(w.process().Running());
  redis.Start();
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "restart-1", "state") == "succeeded"; }, 60s))
      << w.Log().substr(0, 5000);
  EXPECT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 20s));
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, "succeeded");
  auto metrics = testing::HttpGet(port, "/metrics").body;
  EXPECT_NE(metrics.find("ffpod_redis_up 1"), std::string::npos);
  EXPECT_EQ(metrics.find("ffpod_redis_errors_total 0\n"), std::string::npos);
}

TEST(Worker, PauseStopsClaimingAndResumeRestartsIt) {
  RedisServer redis;
  TempDir dir;
  auto ffpod = [&](const std::string& cmd) {
    return testing::RunCommand({FFPOD_BINARY, cmd, "--redis", redis.Url()});
  };
  ASSERT_EQ(ffpod("pause").status, 0);
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  int port = w.Port();
  std::string out = dir / "p.mp4";
  Produce(redis, JobDocument("paused-1", EncodeArgs(out, 1), {out}));
  EXPECT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 503; }, 10s));
  EXPECT_NE(testing::HttpGet(port, "/readyz").body.find("paused"), std::string::npos);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:pending"), 1);
  EXPECT_EQ(JobField(redis, "paused-1", "state"), "");
  auto resumed = ffpod("resume");
  EXPECT_EQ(resumed.status, 0);
  EXPECT_EQ(resumed.out, "queue ffpod resumed\n");
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "paused-1", "state") == "succeeded"; }, 60s));
  EXPECT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 200; }, 10s));
}

TEST(Worker, TlsAndAuthConnectionsWork) {
  testing::RedisServerOptions tls_options;
  tls_options.tls = true;
  tls_options.password = "s3cret";
  RedisServer redis(tls_options);
  TempDir dir;
  std::string out = dir / "tls.mp4";
  Produce(redis, JobDocument("tls-1", EncodeArgs(out, 1), {out}));
  FfpodWorker w(redis.Url(":s3cret"), "w-tls", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "tls-1", "state") == "succeeded"; }, 60s))
      << w.Log().substr(0, 3000);
  EXPECT_EQ(w.Log().find("s3cret"), std::string::npos);  // never logged

  testing::RedisServerOptions acl;
  acl.acl_user = "encoder";
  acl.acl_password = "p@ss:word";
  RedisServer redis2(acl);
  std::string out2 = dir / "acl.mp4";
  Produce(redis2, JobDocument("acl-1", EncodeArgs(out2, 1), {out2}));
  FfpodWorker w2(redis2.Url("encoder:p%40ss%3Aword"), "w-acl", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis2, "acl-1", "state") == "succeeded"; }, 60s))
      << w2.Log().substr(0, 3000);
}

TEST(Worker, UnusableRequiredEncoderMeansNotReadyAndNoClaims) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "n.mp4";
  Produce(redis, JobDocument("needs-gpu", EncodeArgs(out, 1), {out}));
  FfpodWorker gpu(redis.Url(), "w-gpu", dir,
                  {"--heartbeat", "1", "--require-encoders", "libx264,h264_nvenc"});
  int port = gpu.Port();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = testing::HttpGet(port, "/readyz");
        return r.status == 503 && r.body.find("libcuda") != std::string::npos;
      },
      60s))
      << testing::HttpGet(port, "/readyz").body;
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:pending"), 1);  // left for a capable pod
  auto metrics = testing::HttpGet(port, "/metrics").body;
  EXPECT_NE(metrics.find("ffpod_encoder_usable{encoder=\"h264_nvenc\"} 0"), std::string::npos);
  EXPECT_NE(metrics.find("ffpod_encoder_usable{encoder=\"libx264\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("ffpod_ready 0"), std::string::npos);
  FfpodWorker cpu(redis.Url(), "w-cpu", dir, {"--heartbeat", "1", "--require-encoders", "libx264"});
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "needs-gpu", "state") == "succeeded"; }, 60s));
  EXPECT_EQ(Results(redis).at(0).result.at("worker").at("id").as_string(), "w-cpu");
  EXPECT_EQ(testing::HttpGet(cpu.Port(), "/readyz").status, 200);
}

TEST(Worker, CancelStopsARunningJobAndPreventsAPendingOne) {
  RedisServer redis;
  TempDir dir;
  auto cancel = [&](const std::string& id) {
    return testing::RunCommand({FFPOD_BINARY, "cancel", "--redis", redis.Url(), id});
  };
  std::string out1 = dir / "running.mp4";
  std::string out2 = dir / "waiting.mp4";
  Produce(redis, JobDocument("running", EncodeArgs(out1, 60, true), {out1}));
  Produce(redis, JobDocument("waiting", EncodeArgs(out2, 1), {out2}));
  // "waiting" was pushed with a plain LPUSH and is not claimed yet: the cancel waits for it.
  auto pre = cancel("waiting");
  EXPECT_EQ(pre.status, 0) << pre.err;
  EXPECT_EQ(pre.out, "cancel requested for waiting (not claimed yet)\n");
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "running", "state") == "running"; }, 30s));
  std::this_thread::sleep_for(1s);
  auto t0 = std::chrono::steady_clock::now();
  auto c = cancel("running");
  EXPECT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.out, "cancel requested for running (running)\n");
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "running", "state") == "cancelled"; }, 20s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "waiting", "state") == "cancelled"; }, 30s));
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.status, "cancelled") << r.id;
    EXPECT_EQ(r.result.at("status").as_string(), "cancelled") << r.id;
    EXPECT_EQ(r.result.at("reason").as_string(), "cancelled") << r.id;
    EXPECT_FALSE(r.result.at("retryable").as_bool());
  }
  // A deliberate cancel is no dead letter: nothing in Q:dead, none counted as dead.
  EXPECT_EQ(testing::ListLength(redis, "ffpod:dead"), 0);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:pending"), 0);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:active:w-1"), 0);
  EXPECT_GT(redis.Command({"TTL", "ffpod:job:running"}).integer, 0);  // terminal: it expires
  auto metrics = testing::HttpGet(w.Port(), "/metrics").body;
  EXPECT_NE(metrics.find("ffpod_jobs_total{result=\"cancelled\",reason=\"cancelled\"} 2"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("result=\"dead\""), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out1));  // its temporary was removed, nothing published
  EXPECT_FALSE(std::filesystem::exists(out2));  // never ran
  EXPECT_EQ(JobField(redis, "waiting", "attempt"), "");  // no attempt was used
  auto again = cancel("running");
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find("has already ended (cancelled)"), std::string::npos) << again.err;
  // The first terminal state is final: a copy of the cancelled job that turns up is not run.
  Produce(redis, JobDocument("running", EncodeArgs(out1, 1), {out1}));
  ASSERT_TRUE(WaitFor([&] { return testing::ListLength(redis, "ffpod:pending") == 0; }, 30s));
  ASSERT_TRUE(WaitFor([&] { return testing::ListLength(redis, "ffpod:active:w-1") == 0; }, 30s));
  EXPECT_EQ(JobField(redis, "running", "state"), "cancelled");
  EXPECT_FALSE(std::filesystem::exists(out1));
}

TEST(Worker, ARetriedDeadJobRunsAgainWithItsAttemptsResetAndSucceeds) {
  RedisServer redis;
  TempDir dir;
  std::string in = dir / "in.mp4";
  std::string out = dir / "out.mp4";
  Produce(redis, JobDocument("late-input", {"-i", in, "-c:v", "libx264", "-y", out}, {out},
                             {{"max_attempts", 2}}));
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "late-input", "state") == "dead"; }, 60s))
      << w.Log();
  EXPECT_EQ(testing::ListLength(redis, "ffpod:dead"), 1);
  // The input arrives; the operator retries the job.
  auto made = testing::RunCommand({"/usr/bin/ffmpeg", "-nostdin", "-loglevel", "error", "-f",
                                   "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
                                   "-c:v", "libx264", "-y", in});
  ASSERT_EQ(made.status, 0) << made.err;
  auto retry =
      testing::RunCommand({FFPOD_BINARY, "dead", "retry", "late-input", "--redis", redis.Url()});
  ASSERT_EQ(retry.status, 0) << retry.err;
  auto doc = boost::json::parse(retry.out).as_object();
  EXPECT_EQ(doc.at("retried").as_array().size(), 1u) << retry.out;
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "late-input", "state") == "succeeded"; }, 60s))
      << w.Log();
  EXPECT_EQ(testing::ListLength(redis, "ffpod:dead"), 0);
  EXPECT_EQ(JobField(redis, "late-input", "dead_retries"), "1");
  EXPECT_EQ(JobField(redis, "late-input", "attempt"), "1");  // counted again from zero
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, "dead");
  EXPECT_EQ(results[0].result.at("reason").as_string(), "input_missing");
  EXPECT_EQ(results[1].status, "succeeded");
  EXPECT_EQ(results[1].result.at("attempt").as_int64(), 1);
  EXPECT_TRUE(std::filesystem::exists(out));
}

TEST(Worker, DeadListIsTrimmedAtDeadMaxAndTheDropsAreCounted) {
  RedisServer redis;
  TempDir dir;
  for (int i = 0; i < 5; ++i) {
    Produce(redis, "{\"id\": \"bad-" + std::to_string(i) + "\", \"args\": 7}");  // bad_job
  }
  std::vector<std::string> flags = kFast;
  flags.insert(flags.end(), {"--dead-max", "2"});
  FfpodWorker w(redis.Url(), "w-1", dir, flags);
  ASSERT_TRUE(WaitFor([&] { return testing::ListLength(redis, "ffpod:pending") == 0; }, 30s));
  ASSERT_TRUE(WaitFor([&] { return Results(redis).size() == 5u; }, 30s)) << w.Log();
  EXPECT_EQ(testing::ListLength(redis, "ffpod:dead"), 2);
  EXPECT_EQ(redis.Command({"HGET", "ffpod:dead:stats", "trimmed"}).str, "3");
  ASSERT_TRUE(WaitFor(
      [&] {
        return testing::HttpGet(w.Port(), "/metrics").body.find("ffpod_dead_trimmed_total 3\n") !=
               std::string::npos;
      },
      10s))
      << testing::HttpGet(w.Port(), "/metrics").body;
  auto list = testing::RunCommand({FFPOD_BINARY, "dead", "list", "--redis", redis.Url()});
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_EQ(boost::json::parse(list.out).at("trimmed").as_int64(), 3);
}

TEST(Worker, EnqueueAndStatusCommands) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "e.mp4";
  auto args = EncodeArgs(out, 1);
  std::vector<std::string> argv = {FFPOD_BINARY, "enqueue",  "--redis", redis.Url(), "--id",
                                   "enq-1",      "--output", out,       "--"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto enq = testing::RunCommand(argv);
  ASSERT_EQ(enq.status, 0) << enq.err;
  EXPECT_EQ(enq.out, "enq-1\n");
  auto dup = testing::RunCommand(argv);
  EXPECT_EQ(dup.status, 1);
  EXPECT_NE(dup.err.find("already exists and is pending"), std::string::npos) << dup.err;
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "enq-1", "state") == "succeeded"; }, 60s));
  auto status = testing::RunCommand({FFPOD_BINARY, "status", "--redis", redis.Url(), "enq-1"});
  ASSERT_EQ(status.status, 0) << status.err;
  auto doc = boost::json::parse(status.out).as_object();
  EXPECT_EQ(doc.at("state").as_string(), "succeeded");
  EXPECT_EQ(doc.at("attempt").as_int64(), 1);
  EXPECT_EQ(doc.at("result").at("outputs").at(0).at("path").as_string(), out);
  // The worker's own tokens stay in Redis, out of the document people read.
  EXPECT_FALSE(doc.contains("start_token")) << status.out;
  EXPECT_FALSE(doc.contains("done_token")) << status.out;
  EXPECT_FALSE(JobField(redis, "enq-1", "done_token").empty());
  EXPECT_EQ(JobField(redis, "enq-1", "start_token"), "");  // released when the attempt ended
  auto missing = testing::RunCommand({FFPOD_BINARY, "status", "--redis", redis.Url(), "nope"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("no job nope"), std::string::npos);
  auto down =
      testing::RunCommand({FFPOD_BINARY, "status", "--redis",
                           "redis://127.0.0.1:" + std::to_string(testing::FreePort()), "enq-1"},
                          30s);
  EXPECT_EQ(down.status, 1);
  EXPECT_NE(down.err.find("cannot reach Redis"), std::string::npos) << down.err;
}

}  // namespace
}  // namespace ffpod
