// The drain (docs/operations.md) against real workers, real ffmpeg and a real redis-server, driven
// by a kubelet simulator: SIGTERM, then SIGKILL at the grace deadline if ffpod is still there.
// Plus PID-1 duties and the stall watchdog.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using testing::BackgroundProcess;
using testing::EncodeArgs;
using testing::FfpodWorker;
using testing::JobDocument;
using testing::JobField;
using testing::Produce;
using testing::RedisServer;
using testing::Results;
using testing::TempDir;
using testing::WaitFor;

// What a kubelet does on pod deletion: SIGTERM, wait up to the grace period, SIGKILL.
struct KubeletOutcome {
  int status = -1;
  bool killed_at_deadline = false;
  std::chrono::milliseconds took{0};
};

KubeletOutcome Terminate(BackgroundProcess& p, std::chrono::milliseconds grace) {
  KubeletOutcome o;
  auto t0 = steady_clock::now();
  p.Signal(SIGTERM);
  auto status = p.Wait(grace);
  if (!status) {
    o.killed_at_deadline = true;
    p.Signal(SIGKILL);
    status = p.Wait(10s);
  }
  o.took = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0);
  o.status = status.value_or(-1);
  return o;
}

bool HasTemporaries(const TempDir& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().filename().string().find(".ffpod-") != std::string::npos) return true;
  }
  return false;
}

TEST(Drain, GraceTooShortRequeuesTheJobAndExitsBeforeTheKill) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "long.mp4";
  Produce(redis, JobDocument("long", EncodeArgs(out, 60, true), {out}));
  std::string tlog = dir / "termination-log";
  testing::WriteFile(tlog, "");
  FfpodWorker w(redis.Url(), "w-1", dir,
                {"--heartbeat", "1", "--grace-period", "6", "--drain-margin", "2",
                 "--termination-log", tlog});
  int port = w.Port();
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "long", "state") == "running"; }, 30s));
  std::this_thread::sleep_for(2s);
  auto t0 = steady_clock::now();
  w.process().Signal(SIGTERM);
  // Readiness turns 503 at once.
  EXPECT_TRUE(WaitFor([&] { return testing::HttpGet(port, "/readyz").status == 503; }, 1s));
  auto status = w.process().Wait(
      std::chrono::duration_cast<std::chrono::milliseconds>(6s - (steady_clock::now() - t0)));
  ASSERT_TRUE(status.has_value()) << "ffpod was still running at the grace deadline\n"
                                  << w.Log().substr(0, 4000);
  EXPECT_EQ(*status, 0);
  EXPECT_LT(steady_clock::now() - t0, 6s);
  // Requeued at the head of pending, not counted as an attempt, temporaries removed.
  EXPECT_EQ(JobField(redis, "long", "state"), "pending");
  EXPECT_EQ(JobField(redis, "long", "attempt"), "0");
  EXPECT_EQ(testing::ListLength(redis, "ffpod:pending"), 1);
  EXPECT_EQ(testing::ListLength(redis, "ffpod:active:w-1"), 0);
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, "preempted");
  EXPECT_EQ(results[0].result.at("reason").as_string(), "preempted");
  EXPECT_FALSE(HasTemporaries(dir));
  EXPECT_FALSE(std::filesystem::exists(out));
  // The heartbeat is gone: nobody will treat the exit as a lost worker.
  EXPECT_EQ(redis.Command({"EXISTS", "ffpod:worker:w-1"}).integer, 0);
  EXPECT_EQ(testing::ReadFile(tlog),
            "drained: worker w-1 finished 1 job attempts (1 preempted and requeued)\n");
}

TEST(Drain, GraceLongEnoughLetsTheJobFinish) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "short.mp4";
  Produce(redis, JobDocument("short", EncodeArgs(out, 5, true), {out}));
  FfpodWorker w(redis.Url(), "w-1", dir,
                {"--heartbeat", "1", "--grace-period", "30", "--drain-margin", "5"});
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "short", "state") == "running"; }, 30s));
  std::this_thread::sleep_for(2500ms);  // about 2.5 s of media left at 1x: fits easily
  KubeletOutcome k = Terminate(w.process(), 30s);
  EXPECT_FALSE(k.killed_at_deadline);
  EXPECT_EQ(k.status, 0);
  EXPECT_EQ(JobField(redis, "short", "state"), "succeeded") << w.Log().substr(0, 4000);
  EXPECT_TRUE(std::filesystem::exists(out));
  auto records = w.Records();
  EXPECT_TRUE(testing::FindRecord(records, "drain: letting the job finish").has_value());
}

TEST(Drain, SecondSignalStopsTheJobAtOnce) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "fits.mp4";
  Produce(redis, JobDocument("fits", EncodeArgs(out, 12, true), {out}));
  FfpodWorker w(redis.Url(), "w-1", dir,
                {"--heartbeat", "1", "--grace-period", "120", "--drain-margin", "5"});
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "fits", "state") == "running"; }, 30s));
  std::this_thread::sleep_for(2s);
  w.process().Signal(SIGTERM);
  ASSERT_TRUE(WaitFor(
      [&] { return testing::FindRecord(w.Records(), "drain: letting the job finish").has_value(); },
      5s));
  auto t1 = steady_clock::now();
  w.process().Signal(SIGTERM);
  auto status = w.process().Wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_LT(steady_clock::now() - t1, 5s);
  EXPECT_EQ(JobField(redis, "fits", "state"), "pending");
  EXPECT_EQ(Results(redis).back().status, "preempted");
}

TEST(Drain, RunModePreemptedExits143AndSaysSo) {
  TempDir dir;
  std::string tlog = dir / "termination-log";
  testing::WriteFile(tlog, "");
  testing::ProcessOptions opts;
  opts.argv = {FFPOD_BINARY,
               "run",
               "--listen",
               "",
               "--exit-codes",
               "classified",
               "--grace-period",
               "5",
               "--drain-margin",
               "2",
               "--termination-log",
               tlog,
               "--",
               "ffmpeg"};
  auto args = EncodeArgs(dir / "o.mp4", 60, true);
  opts.argv.insert(opts.argv.end(), args.begin(), args.end());
  opts.stderr_path = dir / "log";
  BackgroundProcess ffpod(opts);
  ASSERT_TRUE(WaitFor(
      [&] { return testing::ReadFile(dir / "log").find("ffmpeg started") != std::string::npos; },
      20s));
  std::this_thread::sleep_for(2s);
  KubeletOutcome k = Terminate(ffpod, 5s);
  EXPECT_FALSE(k.killed_at_deadline);
  EXPECT_EQ(k.status, 143);
  EXPECT_EQ(testing::ReadFile(tlog).rfind("preempted: reason=preempted", 0), 0u)
      << testing::ReadFile(tlog);
  // The graceful stop let ffmpeg write its trailer: the partial MP4 is playable.
  auto probe = testing::RunCommand({"ffprobe", "-v", "error", "-show_entries", "format=duration",
                                    "-of", "csv=p=0", dir / "o.mp4"});
  EXPECT_EQ(probe.status, 0) << probe.err;
  EXPECT_GT(std::atof(probe.out.c_str()), 1.0);
}

// Whether `pid` blocks SIGTERM the way ffpod's main() does (SigBlk of /proc/<pid>/status).
bool TerminationBlocked(pid_t pid) {
  std::istringstream status(testing::ReadFile("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("SigBlk:")) {
      // ffpod's own mask (TERM, INT, HUP), not a thread library's all-signals blocker.
      unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
      return ((mask >> (SIGTERM - 1)) & 1) && !((mask >> (SIGUSR2 - 1)) & 1);
    }
  }
  return false;
}

// A pod deleted while ffpod starts: the SIGTERM waits for the loop and drains the worker (exit 0,
// its heartbeat and membership removed) instead of killing it with the default disposition.
TEST(Drain, ATerminationSignalDuringStartUpDrainsInsteadOfKilling) {
  RedisServer redis;
  TempDir dir;
  int caught_starting = 0;
  for (int round = 0; round < 10; ++round) {
    testing::ProcessOptions o;
    o.argv = {FFPOD_BINARY,  "worker",  "--redis",  redis.Url(),
              "--worker-id", "w-early", "--listen", "127.0.0.1:0"};
    o.stderr_path = dir / ("early." + std::to_string(round) + ".log");
    BackgroundProcess p(o);
    // In main() already (it blocks the termination signals first), not yet in the loop: a
    // window of milliseconds, watched as closely as /proc allows.
    bool starting = false;
    for (auto deadline = steady_clock::now() + 2s; !starting && steady_clock::now() < deadline;) {
      starting = TerminationBlocked(p.pid());
    }
    caught_starting += starting;
    p.Signal(SIGTERM);
    auto status = p.Wait(20s);
    ASSERT_TRUE(status.has_value());
    if (starting) {
      EXPECT_EQ(*status, 0) << "round " << round << ": " << testing::ReadFile(o.stderr_path);
    }
  }
  EXPECT_GT(caught_starting, 0) << "SIGTERM was never seen blocked during start-up";
  EXPECT_EQ(redis.Command({"SISMEMBER", "ffpod:workers", "w-early"}).integer, 0);
}

TEST(Drain, TwentyRandomDrainsLoseNothing) {
  RedisServer redis;
  TempDir dir;
  const int kJobs = 14;
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    std::string id = "j" + std::to_string(i);
    std::string out = dir / (id + ".mp4");
    Produce(redis, JobDocument(id, EncodeArgs(out, 2.5, true), {out}, {{"max_attempts", 100}}));
    ids.push_back(id);
  }
  std::mt19937 rng(20261122);
  int generation = 0;
  auto start = [&](int slot) {
    return std::make_unique<FfpodWorker>(
        redis.Url(), "w" + std::to_string(slot) + "-" + std::to_string(generation++), dir,
        std::vector<std::string>{"--heartbeat", "1", "--grace-period", "4", "--drain-margin",
                                 "1.5"});
  };
  std::unique_ptr<FfpodWorker> workers[2] = {start(0), start(1)};
  int drains = 0, kills = 0;
  for (int round = 0; round < 20; ++round) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 2500)(rng)));
    int slot = std::uniform_int_distribution<int>(0, 1)(rng);
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      workers[slot]->process().Signal(SIGKILL);
      workers[slot]->process().Wait(10s);
      ++kills;
    } else {
      KubeletOutcome k = Terminate(workers[slot]->process(), 4s);
      EXPECT_FALSE(k.killed_at_deadline) << workers[slot]->Log().substr(0, 3000);
      EXPECT_EQ(k.status, 0);
      ++drains;
    }
    workers[slot] = start(slot);
  }
  EXPECT_GT(drains, 0);
  EXPECT_GT(kills, 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& id : ids) {
          if (JobField(redis, id, "state") != "succeeded") return false;
        }
        return true;
      },
      240s))
      << "pending=" << testing::ListLength(redis, "ffpod:pending");
  std::map<std::string, int> successes;
  for (const auto& r : Results(redis)) {
    if (r.status == "succeeded") ++successes[r.id];
    EXPECT_NE(r.status, "dead");
  }
  for (const auto& id : ids) EXPECT_EQ(successes[id], 1) << id;
  EXPECT_EQ(testing::ListLength(redis, "ffpod:dead"), 0);
  for (const auto& id : ids) EXPECT_TRUE(std::filesystem::exists(dir / (id + ".mp4"))) << id;
}

// A fake ffmpeg that leaves orphans: each backgrounded subshell exits at once, so its `sleep`
// is re-parented to the nearest subreaper (ffpod) and becomes a zombie unless ffpod reaps it.
std::string WriteOrphanMaker(const TempDir& dir) {
  std::string path = dir / "ffmpeg";
  testing::WriteFile(path,
                     "#!/bin/sh\n"
                     "for i in 1 2 3 4 5; do ( sleep 0.2 & ) ; done\n"
                     "( sh -c 'sleep 0.3' & )\n"
                     "echo 'ffmpeg version 5.1.9-fake' >&2\n"
                     "sleep 1\n"
                     "exit 0\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

int Zombies(pid_t parent) {
  int n = 0;
  for (pid_t c : testing::ChildrenOf(parent)) {
    std::string stat = testing::ReadFile("/proc/" + std::to_string(c) + "/stat");
    size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z') ++n;
  }
  return n;
}

TEST(Pid1, SubreaperReapsEveryOrphan) {
  TempDir dir;
  std::string fake = WriteOrphanMaker(dir);
  testing::ProcessOptions opts;
  opts.argv = {FFPOD_BINARY, "run", "--listen", "", "--subreaper", "--linger", "3", "--", fake};
  opts.stderr_path = dir / "log";
  BackgroundProcess ffpod(opts);
  std::this_thread::sleep_for(2500ms);  // the fake is done and its orphans have exited
  EXPECT_EQ(Zombies(ffpod.pid()), 0);
  auto status = ffpod.Wait(10s);
  ASSERT_TRUE(status.has_value());
  // The orphans really were ffpod's to reap (not init's).
  auto fin =
      testing::FindRecord(testing::JsonLines(testing::ReadFile(dir / "log")), "job finished");
  ASSERT_TRUE(fin.has_value());
  EXPECT_GE(fin->at("orphans_reaped").to_number<int64_t>(), 6);
}

TEST(Pid1, UnderAPidNamespaceNoZombiesRemain) {
  if (testing::RunCommand({"unshare", "--pid", "--fork", "true"}).status != 0) {
    GTEST_SKIP() << "unshare --pid is not permitted here";
  }
  TempDir dir;
  std::string fake = WriteOrphanMaker(dir);
  testing::ProcessOptions opts;
  opts.argv = {"unshare", "--pid",    "--fork", "--kill-child", FFPOD_BINARY, "run", "--listen",
               "",        "--linger", "3",      "--",           fake};
  opts.stderr_path = dir / "log";
  BackgroundProcess unshare(opts);
  pid_t ffpod = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (pid_t c : testing::ChildrenOf(unshare.pid())) ffpod = c;
        return ffpod > 0;
      },
      5s));
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(Zombies(ffpod), 0) << testing::ReadFile(dir / "log");
  auto status = unshare.Wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << testing::ReadFile(dir / "log");
  auto fin =
      testing::FindRecord(testing::JsonLines(testing::ReadFile(dir / "log")), "job finished");
  ASSERT_TRUE(fin.has_value());
  EXPECT_GE(fin->at("orphans_reaped").to_number<int64_t>(), 6);
}

TEST(Stall, FifoThatStopsProducingIsStoppedWithinTheTimeout) {
  TempDir dir;
  std::string fifo = dir / "in.ts";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  std::string data = dir / "data.ts";
  auto made = testing::RunCommand({"ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                                   "testsrc2=size=160x120:rate=25", "-t", "2", "-c:v", "libx264",
                                   "-preset", "ultrafast", "-f", "mpegts", data});
  ASSERT_EQ(made.status, 0);
  // The producer writes two seconds of media, then keeps the FIFO open without writing.
  testing::ProcessOptions writer_opts;
  writer_opts.argv = {"sh", "-c", "exec 3>\"$0\"; cat \"$1\" >&3; sleep 60", fifo, data};
  BackgroundProcess writer(writer_opts);
  testing::ProcessOptions opts;
  opts.argv = {
      FFPOD_BINARY, "run",          "--listen",   "",     "--stall-timeout", "3",  "--stop-timeout",
      "1",          "--exit-codes", "classified", "--",   "ffmpeg",          "-f", "mpegts",
      "-i",         fifo,           "-c",         "copy", dir / "o.mkv"};
  opts.stderr_path = dir / "log";
  BackgroundProcess ffpod(opts);
  ASSERT_TRUE(WaitFor(
      [&] {
        return testing::ReadFile(dir / "log").find("\"progress\"") != std::string::npos ||
               testing::ReadFile(dir / "log").find("Output #0") != std::string::npos;
      },
      20s));
  auto t0 = steady_clock::now();
  auto status = ffpod.Wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 41) << testing::ReadFile(dir / "log");
  EXPECT_LT(steady_clock::now() - t0, 3s + 2s + 1s);  // + the time ffmpeg spent on real data
  auto records = testing::JsonLines(testing::ReadFile(dir / "log"));
  auto fin = testing::FindRecord(records, "job finished");
  ASSERT_TRUE(fin.has_value());
  EXPECT_EQ(fin->at("result").at("reason").as_string(), "stalled");
  writer.Signal(SIGKILL);
}

}  // namespace
}  // namespace ffpod
