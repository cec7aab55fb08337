// Fencing against the real binary, Redis and ffmpeg (docs/queue.md, "One result per job"): a
// worker that comes back after it was presumed dead changes nothing, temporaries of killed
// attempts do not outlive them, and an empty document is dead-lettered like any malformed one.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>

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

// The temporary outputs (".<stem>.ffpod-<worker>-<attempt>.<ext>") in `dir`.
std::vector<std::string> Temporaries(const TempDir& dir) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    std::string name = e.path().filename().string();
    if (name.starts_with(".") && name.find(".ffpod-") != std::string::npos) found.push_back(name);
  }
  return found;
}

pid_t FfmpegOf(testing::BackgroundProcess& p) {
  for (pid_t c : testing::ChildrenOf(p.pid())) {
    if (testing::IsJobFfmpeg(c)) return c;
  }
  return 0;
}

std::string Sha256(const std::string& path) {
  auto r = testing::RunCommand({"sha256sum", path});
  return r.out.substr(0, r.out.find(' '));
}

TEST(WorkerFencing, AWorkerFrozenPastItsHeartbeatPublishesNothingAndStopsItsFfmpeg) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "z.mp4";
  Produce(redis, JobDocument("z-1", EncodeArgs(out, 14, true), {out}));
  FfpodWorker a(redis.Url(), "w-a", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "z-1", "state") == "running"; }, 30s));
  pid_t a_ffmpeg = 0;
  ASSERT_TRUE(WaitFor([&] { return (a_ffmpeg = FfmpegOf(a.process())) > 0; }, 10s));
  // Frozen: its heartbeat lapses while its ffmpeg keeps encoding; w-b recovers and restarts.
  a.process().Signal(SIGSTOP);
  FfpodWorker b(redis.Url(), "w-b", dir, kFast);
  ASSERT_TRUE(WaitFor(
      [&] {
        return JobField(redis, "z-1", "worker") == "w-b" &&
               JobField(redis, "z-1", "state") == "running";
      },
      30s))
      << b.Log().substr(0, 4000);
  EXPECT_FALSE(testing::ProcessGoneOrZombie(a_ffmpeg));
  a.process().Signal(SIGCONT);
  // Back: it finds its claim fenced and stops the encode, long before it would have ended.
  EXPECT_TRUE(WaitFor([&] { return testing::ProcessGoneOrZombie(a_ffmpeg); }, 10s));
  EXPECT_TRUE(WaitFor([&] { return JobField(redis, "z-1", "state") == "running"; }, 1s));
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "z-1", "state") == "succeeded"; }, 60s))
      << b.Log().substr(0, 4000);

  std::map<std::string, int> statuses;
  std::string won_sha;
  for (const auto& e : Results(redis)) {
    ++statuses[e.status + "/" + std::string(e.result.at("reason").as_string()) + "/" +
               std::string(e.result.at("worker").at("id").as_string())];
    if (e.status == "succeeded") won_sha = e.result.at("outputs").at(0).at("sha256").as_string();
  }
  EXPECT_EQ(statuses, (std::map<std::string, int>{{"retrying/worker_lost/w-a", 1},
                                                  {"superseded/worker_lost/w-a", 1},
                                                  {"succeeded/ok/w-b", 1}}));
  EXPECT_EQ(JobField(redis, "z-1", "worker"), "w-b");
  EXPECT_EQ(testing::ListLength(redis, "ffpod:dead"), 0);
  // The file at the final path is the winning attempt's.
  EXPECT_EQ(Sha256(out), won_sha);
  EXPECT_EQ(Temporaries(dir), std::vector<std::string>());
  // The fenced worker said so once, and lives on.
  int said = 0;
  for (const auto& r : a.Records()) {
    if (r.contains("status") && r.at("status") == "superseded") ++said;
  }
  EXPECT_EQ(said, 1) << a.Log();
  EXPECT_TRUE(a.process().Running());
}

TEST(WorkerFencing, TemporariesOfAKilledWorkerAreRemoved) {
  RedisServer redis;
  TempDir dir;
  std::string last = dir / "last.mp4";
  std::string again = dir / "again.mp4";
  Produce(redis, JobDocument("k-last", EncodeArgs(last, 30, true), {last}, {{"max_attempts", 1}}));
  Produce(redis, JobDocument("k-again", EncodeArgs(again, 4, true), {again}));
  std::vector<std::string> flags = kFast;
  flags.insert(flags.end(), {"--slots", "2"});
  auto a = std::make_unique<FfpodWorker>(redis.Url(), "w-a", dir, flags);
  ASSERT_TRUE(WaitFor([&] { return Temporaries(dir).size() == 2; }, 30s)) << a->Log();
  a->process().Signal(SIGKILL);
  a->process().Wait(10s);
  FfpodWorker b(redis.Url(), "w-b", dir, kFast);
  ASSERT_TRUE(WaitFor(
      [&] {
        return JobField(redis, "k-last", "state") == "dead" &&
               JobField(redis, "k-again", "state") == "succeeded";
      },
      60s))
      << b.Log().substr(0, 4000);
  // The dead-lettered job's temporary is gone too: the recovering worker knew its name.
  EXPECT_TRUE(WaitFor([&] { return Temporaries(dir).empty(); }, 5s))
      << Temporaries(dir).size() << " left";
  EXPECT_FALSE(std::filesystem::exists(last));
  EXPECT_TRUE(std::filesystem::exists(again));
}

// Job "prev" as a previous run of worker w-p left it: in w-p's active list, started (attempt 2,
// token in place), with temporaries of two of w-p's attempts and one of worker w-p-2's.
void LeavePreviousRun(const RedisServer& redis, const TempDir& dir, int max_attempts) {
  std::string out = dir / "prev.mp4";
  redis.Command({"LPUSH", "ffpod:active:w-p",
                 JobDocument("prev", EncodeArgs(out, 1), {out}, {{"max_attempts", max_attempts}})});
  redis.Command({"HSET", "ffpod:job:prev", "state", "running", "worker", "w-p", "attempt", "2",
                 "start_token", "w-p:earlier-run"});
  for (const char* token : {"w-p-1", "w-p-2", "w-p-2-1"}) {
    std::ofstream(dir / (std::string(".prev.ffpod-") + token + ".mp4")) << "partial";
  }
}

// A worker stopped after its start-up recovery ran in Redis but before it removed anything (a
// drain at start, a SIGKILL) has lost the recovery's answer: its next start must still find its
// temporaries, whatever attempt of this worker wrote them.
TEST(WorkerFencing, AWorkerRemovesEveryTemporaryOfItsPreviousRunAtStart) {
  RedisServer redis;
  TempDir dir;
  LeavePreviousRun(redis, dir, 3);
  redis.Command({"SET", "ffpod:paused", "{}"});  // the retry stays queued: nothing sweeps after
  FfpodWorker w(redis.Url(), "w-p", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "prev", "state") == "pending"; }, 30s))
      << w.Log();
  EXPECT_TRUE(WaitFor([&] { return Temporaries(dir).size() == 1; }, 5s))
      << Temporaries(dir).size() << " left\n"
      << w.Log();
  // Worker w-p-2's may still be live: not this worker's to remove while the job goes on.
  EXPECT_TRUE(std::filesystem::exists(dir / ".prev.ffpod-w-p-2-1.mp4"));
}

// The recovery dead-letters the job: no attempt of it can publish again, so every temporary of
// its outputs goes, whoever wrote it.
TEST(WorkerFencing, AJobTheRecoveryDeadLettersHasEveryTemporaryRemoved) {
  RedisServer redis;
  TempDir dir;
  LeavePreviousRun(redis, dir, 2);
  FfpodWorker w(redis.Url(), "w-p", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "prev", "state") == "dead"; }, 30s)) << w.Log();
  EXPECT_TRUE(WaitFor([&] { return Temporaries(dir).empty(); }, 5s))
      << Temporaries(dir).size() << " left\n"
      << w.Log();
}

// `LPUSH Q:pending ""`: a malformed document like any other, not a claim whose reply was lost.
TEST(Worker, AnEmptyDocumentIsDeadLetteredAsBadJob) {
  RedisServer redis;
  TempDir dir;
  Produce(redis, "");
  std::string out = dir / "after.mp4";
  Produce(redis, JobDocument("after-empty", EncodeArgs(out, 1), {out}));
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "after-empty", "state") == "succeeded"; }, 30s));
  ASSERT_TRUE(WaitFor([&] { return testing::ListLength(redis, "ffpod:dead") == 1; }, 5s))
      << w.Log();
  auto entry = boost::json::parse(redis.Command({"LINDEX", "ffpod:dead", "0"}).str).as_object();
  EXPECT_EQ(entry.at("job").as_string(), "");
  EXPECT_EQ(entry.at("result").at("reason").as_string(), "bad_job");
  EXPECT_EQ(testing::ListLength(redis, "ffpod:active:w-1"), 0);
  EXPECT_EQ(w.Log().find("handed back claimed jobs"), std::string::npos);
}

}  // namespace
}  // namespace ffpod
