// Routing by failure reason (docs/queue.md): real workers on two queues, a real redis-server and
// the real ffmpeg. A job whose attempt ends with a routed reason moves to the named queue, where
// another pool runs it; a second route for the same reason is refused.
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "probes/cgroup.h"
#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::FfpodWorker;
using testing::JobDocument;
using testing::JobField;
using testing::ListLength;
using testing::Produce;
using testing::RedisServer;
using testing::Results;
using testing::TempDir;
using testing::WaitFor;

const std::vector<std::string> kFast = {"--heartbeat", "1",           "--retry-base",
                                        "0.2",         "--retry-max", "1"};

std::vector<std::string> Flags(std::vector<std::string> more) {
  more.insert(more.begin(), kFast.begin(), kFast.end());
  return more;
}

// A memory cgroup below this process's own with a small limit (v2 memory.max, else v1
// memory.limit_in_bytes), where ffpod reads the oom_kill count (probes/cgroup.h). Removed at
// the end, once its processes are gone.
class MemoryCgroup {
 public:
  explicit MemoryCgroup(int64_t limit_bytes) {
    CgroupPaths paths = ParseProcSelfCgroup(testing::ReadFile("/proc/self/cgroup"));
    std::string name = "/ffpod-reroute-test-" + std::to_string(::getpid());
    std::string limit_file, swap_file;
    if (paths.v2 && fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
      dir_ = "/sys/fs/cgroup" + (*paths.v2 == "/" ? "" : *paths.v2) + name;
      limit_file = "memory.max";
      swap_file = "memory.swap.max";
    } else if (paths.v1_memory) {
      dir_ = "/sys/fs/cgroup/memory" + (*paths.v1_memory == "/" ? "" : *paths.v1_memory) + name;
      limit_file = "memory.limit_in_bytes";
      swap_file = "memory.memsw.limit_in_bytes";
    } else {
      why_ = "no memory cgroup in /proc/self/cgroup";
      return;
    }
    std::error_code ec;
    if (!fs::create_directory(dir_, ec) || ec) {
      why_ = "cannot create " + dir_ + (ec ? ": " + ec.message() : "");
      dir_.clear();
      return;
    }
    if (!Write(limit_file, std::to_string(limit_bytes))) {
      why_ = "cannot set " + dir_ + "/" + limit_file;
      return;
    }
    // No swap to escape to (the file is absent where swap accounting is off).
    if (fs::exists(dir_ + "/" + swap_file)) {
      Write(swap_file, swap_file == "memory.swap.max" ? "0" : std::to_string(limit_bytes));
    }
  }
  ~MemoryCgroup() {
    if (dir_.empty()) return;
    WaitFor([&] { return testing::ReadFile(dir_ + "/cgroup.procs").empty(); }, 10s);
    std::error_code ec;
    fs::remove(dir_, ec);
  }
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;

  // Empty when usable, else why not.
  const std::string& why_not() const { return why_; }
  bool Add(pid_t pid) { return Write("cgroup.procs", std::to_string(pid)); }

 private:
  bool Write(const std::string& file, const std::string& value) {
    std::ofstream out(dir_ + "/" + file);
    out << value;
    out.flush();
    return out.good();
  }

  std::string dir_;
  std::string why_;
};

json::object Status(const RedisServer& redis, const std::string& queue, const std::string& id) {
  auto r =
      testing::RunCommand({FFPOD_BINARY, "status", "--redis", redis.Url(), "--queue", queue, id});
  EXPECT_EQ(r.status, 0) << r.err;
  boost::system::error_code ec;
  json::value doc = json::parse(r.out, ec);
  return ec || !doc.is_object() ? json::object{} : doc.as_object();
}

// Nothing of the job is left in any list of `queue`.
void ExpectNothingQueued(const RedisServer& redis, const std::string& queue,
                         const std::vector<std::string>& workers) {
  EXPECT_EQ(ListLength(redis, queue + ":pending"), 0) << queue;
  EXPECT_EQ(redis.Command({"ZCARD", queue + ":delayed"}).integer, 0) << queue;
  for (const auto& w : workers) EXPECT_EQ(ListLength(redis, queue + ":active:" + w), 0) << w;
}

TEST(WorkerReroute, OomKilledJobMovesToHighmemAndSucceedsThere) {
  // A real OOM kill: the default pool's worker runs in a cgroup of 128 MiB, and the job buffers
  // every frame of 6 s of 720p video (`reverse`, about 300 MiB).
  MemoryCgroup cgroup(128 << 20);
  if (!cgroup.why_not().empty()) GTEST_SKIP() << cgroup.why_not();
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "big.mp4";
  std::vector<std::string> args = {"-f",      "lavfi",     "-i",   "testsrc2=s=1280x720:r=25:d=6",
                                   "-vf",     "reverse",   "-c:v", "libx264",
                                   "-preset", "ultrafast", out};
  FfpodWorker small(redis.Url(), "w-small", dir,
                    Flags({"--queue", "default", "--reroute", "oom_killed=highmem"}));
  ASSERT_TRUE(cgroup.Add(small.process().pid()));
  Produce(redis, JobDocument("big-1", args, {out}), "default");
  ASSERT_TRUE(
      WaitFor([&] { return JobField(redis, "big-1", "state", "default") == "rerouted"; }, 90s))
      << small.Log();
  // Nobody serves highmem yet: the job waits at the head of its pending list.
  EXPECT_EQ(ListLength(redis, "highmem:pending"), 1);
  EXPECT_EQ(JobField(redis, "big-1", "state", "highmem"), "pending");
  FfpodWorker large(redis.Url(), "w-large", dir, Flags({"--queue", "highmem"}));
  ASSERT_TRUE(
      WaitFor([&] { return JobField(redis, "big-1", "state", "highmem") == "succeeded"; }, 120s))
      << large.Log();

  auto here = Results(redis, "default");
  ASSERT_EQ(here.size(), 1u);
  EXPECT_EQ(here[0].status, "rerouted");
  EXPECT_EQ(here[0].result.at("reason"), "oom_killed") << json::serialize(here[0].result);
  EXPECT_EQ(here[0].result.at("rerouted_to"), "highmem");
  EXPECT_EQ(here[0].result.at("attempt"), 1);
  auto there = Results(redis, "highmem");
  ASSERT_EQ(there.size(), 1u);
  EXPECT_EQ(there[0].status, "succeeded");
  EXPECT_EQ(there[0].result.at("attempt"), 2);  // the attempts were carried
  EXPECT_TRUE(fs::exists(out));

  json::object moved = Status(redis, "highmem", "big-1");
  EXPECT_EQ(moved["state"], "succeeded");
  EXPECT_EQ(moved["attempt"], 2);
  EXPECT_EQ(moved["rerouted_from"], "default");
  ASSERT_TRUE(moved["rerouted"].is_array()) << json::serialize(moved);
  ASSERT_EQ(moved["rerouted"].as_array().size(), 1u);
  EXPECT_EQ(moved["rerouted"].at(0).at("reason"), "oom_killed");
  EXPECT_EQ(moved["rerouted"].at(0).at("from"), "default");
  EXPECT_EQ(moved["rerouted"].at(0).at("to"), "highmem");
  json::object source = Status(redis, "default", "big-1");
  EXPECT_EQ(source["state"], "rerouted");
  EXPECT_EQ(source["rerouted_to"], "highmem");
  ExpectNothingQueued(redis, "default", {"w-small"});
  ExpectNothingQueued(redis, "highmem", {"w-large"});
  EXPECT_EQ(ListLength(redis, "default:dead") + ListLength(redis, "highmem:dead"), 0);
}

TEST(WorkerReroute, EncoderUnavailableMovesToCpuWhereTheJobsCpuArgumentsRun) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "clip.mp4";
  auto encode = [&](const std::string& encoder) {
    return std::vector<std::string>{"-f",   "lavfi", "-i", "testsrc2=s=320x240:d=1",
                                    "-c:v", encoder, out};
  };
  json::array cpu_args;
  for (const auto& a : encode("libx264")) cpu_args.emplace_back(a);
  // Both queues' events channels, as a dashboard would follow them.
  std::string events = dir / "events.txt";
  testing::BackgroundProcess subscriber(
      {.argv = {"redis-cli", "-u", redis.Url(), "SUBSCRIBE", "default:events", "cpu:events"},
       .extra_env = {},
       .stdin_path = "",
       .stdout_path = events,
       .stderr_path = ""});
  ASSERT_TRUE(WaitFor(
      [&] { return testing::ReadFile(events).find("cpu:events") != std::string::npos; }, 10s));
  Produce(redis,
          JobDocument("gpu-1", encode("h264_nvenc"), {out},
                      {{"reroute", {{"encoder_unavailable", "cpu"}}},
                       {"args_by_queue", {{"cpu", cpu_args}}}}),
          "default");
  FfpodWorker gpu(redis.Url(), "w-gpu", dir, Flags({"--queue", "default"}));
  FfpodWorker cpu(redis.Url(), "w-cpu", dir, Flags({"--queue", "cpu"}));
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "gpu-1", "state", "cpu") == "succeeded"; }, 90s))
      << gpu.Log() << cpu.Log();

  auto here = Results(redis, "default");
  ASSERT_EQ(here.size(), 1u);
  EXPECT_EQ(here[0].status, "rerouted");
  EXPECT_EQ(here[0].result.at("reason"), "encoder_unavailable");
  EXPECT_EQ(here[0].result.at("rerouted_to"), "cpu");
  auto there = Results(redis, "cpu");
  ASSERT_EQ(there.size(), 1u);
  const json::object& done = there[0].result;
  EXPECT_EQ(done.at("status"), "succeeded");
  EXPECT_EQ(done.at("attempt"), 2);
  // The cpu pool ran the job's arguments for it: a real libx264 encode, verified.
  std::string ran = json::serialize(done.at("args"));
  EXPECT_NE(ran.find("\"libx264\""), std::string::npos) << ran;
  EXPECT_EQ(ran.find("h264_nvenc"), std::string::npos) << ran;
  EXPECT_EQ(done.at("verification").at("status"), "passed");
  ASSERT_EQ(done.at("outputs").as_array().size(), 1u);
  EXPECT_EQ(done.at("outputs").at(0).at("bytes").as_int64(),
            static_cast<int64_t>(fs::file_size(out)));
  EXPECT_EQ(Status(redis, "default", "gpu-1")["rerouted_to"], "cpu");
  // redis-cli prints each message as three lines: "message", the channel, the payload.
  std::vector<json::object> published;
  std::istringstream lines(testing::ReadFile(events));
  for (std::string line; std::getline(lines, line);) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (!ec && v.is_object()) published.push_back(v.as_object());
  }
  auto heard = [&](std::string_view state, std::string_view key, std::string_view value) {
    for (const auto& e : published) {
      if (e.contains("state") && e.at("state") == json::value(state) && e.contains(key) &&
          e.at(key) == json::value(value)) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(heard("rerouted", "to", "cpu")) << testing::ReadFile(events);
  EXPECT_TRUE(heard("pending", "from", "default")) << testing::ReadFile(events);
  // The queue it left cannot cancel it: it says where the job went.
  auto cancel = testing::RunCommand(
      {FFPOD_BINARY, "cancel", "--redis", redis.Url(), "--queue", "default", "gpu-1"});
  EXPECT_EQ(cancel.status, 1);
  EXPECT_NE(cancel.err.find("moved to another queue"), std::string::npos) << cancel.err;
  ExpectNothingQueued(redis, "default", {"w-gpu"});
  ExpectNothingQueued(redis, "cpu", {"w-cpu"});
}

TEST(WorkerReroute, ASecondRouteForTheSameReasonIsRefused) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "loop.mp4";
  auto enqueued = testing::RunCommand({FFPOD_BINARY,
                                       "enqueue",
                                       "--redis",
                                       redis.Url(),
                                       "--queue",
                                       "default",
                                       "--id",
                                       "loop-1",
                                       "--job-max-attempts",
                                       "3",
                                       "--reroute",
                                       "encoder_unavailable=cpu",
                                       "--",
                                       "-f",
                                       "lavfi",
                                       "-i",
                                       "testsrc2=s=320x240:d=1",
                                       "-c:v",
                                       "h264_nvenc",
                                       out});
  ASSERT_EQ(enqueued.status, 0) << enqueued.err;
  // The cpu pool would send it straight back: the loop rule refuses that second route.
  FfpodWorker gpu(redis.Url(), "w-gpu", dir, Flags({"--queue", "default"}));
  FfpodWorker cpu(redis.Url(), "w-cpu", dir,
                  Flags({"--queue", "cpu", "--reroute", "encoder_unavailable=default"}));
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "loop-1", "state", "cpu") == "dead"; }, 90s))
      << gpu.Log() << cpu.Log();

  auto here = Results(redis, "default");
  ASSERT_EQ(here.size(), 1u);
  EXPECT_EQ(here[0].status, "rerouted");
  auto there = Results(redis, "cpu");
  ASSERT_EQ(there.size(), 2u);
  EXPECT_EQ(there[0].status, "retrying");  // the normal path, in the pool it is in
  EXPECT_EQ(there[1].status, "dead");
  for (const auto& r : there) {
    EXPECT_EQ(r.result.at("reason"), "encoder_unavailable");
    EXPECT_FALSE(r.result.contains("rerouted_to"));
  }
  EXPECT_EQ(there[1].result.at("attempt"), 3);  // max_attempts bounds every queue together
  EXPECT_EQ(JobField(redis, "loop-1", "state", "default"), "rerouted");
  ASSERT_EQ(ListLength(redis, "cpu:dead"), 1);
  auto entry = json::parse(redis.Command({"LINDEX", "cpu:dead", "0"}).str).as_object();
  auto job = json::parse(entry.at("job").as_string()).as_object();
  ASSERT_EQ(job.at("reroutes").as_array().size(), 1u);
  EXPECT_EQ(job.at("reroutes").at(0).at("to"), "cpu");
  ExpectNothingQueued(redis, "default", {"w-gpu"});
  ExpectNothingQueued(redis, "cpu", {"w-cpu"});
}

TEST(WorkerReroute, BadRoutesAreRefusedNamingWhatIsWrong) {
  RedisServer redis;
  TempDir dir;
  auto worker = testing::RunCommand(
      {FFPOD_BINARY, "worker", "--redis", redis.Url(), "--reroute", "oom_killed=highmem,oom=cpu"});
  EXPECT_EQ(worker.status, 2);
  EXPECT_NE(worker.err.find("--reroute expects REASON=QUEUE pairs separated by commas (element "
                            "\"oom=cpu\": \"oom\" is not a failure reason another pool can fix"),
            std::string::npos)
      << worker.err;
  auto enqueue = testing::RunCommand({FFPOD_BINARY, "enqueue", "--redis", redis.Url(), "--reroute",
                                      "highmem", "--", "-i", "a.mp4", "b.mp4"});
  EXPECT_EQ(enqueue.status, 2);
  EXPECT_NE(enqueue.err.find("--reroute expects"), std::string::npos) << enqueue.err;
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 0);
  // A producer's document with a bad route is a bad_job naming the field and the key.
  Produce(redis, JobDocument("bad-route", {"-i", "a.mp4", "b.mp4"}, {},
                             {{"reroute", {{"oom_killed", "high mem"}}}}));
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "bad-route", "state") == "dead"; }, 30s))
      << w.Log();
  auto results = Results(redis);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].result.at("reason"), "bad_job");
  EXPECT_NE(std::string(results[0].result.at("message").as_string())
                .find("field \"reroute.oom_killed\" is wrong"),
            std::string::npos)
      << json::serialize(results[0].result);
}

}  // namespace
}  // namespace ffpod
