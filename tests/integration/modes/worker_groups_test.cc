// Job groups (docs/queue.md "Job groups") with real workers, the real ffmpeg and a real
// redis-server: a ladder's renditions are jobs of their own, the group's hash counts them by
// state, and the last member's end writes one group entry to the results stream and one event.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::EncodeArgs;
using testing::FfpodWorker;
using testing::JobField;
using testing::RedisServer;
using testing::ResultEntry;
using testing::Results;
using testing::TempDir;
using testing::WaitFor;

const std::vector<std::string> kFast = {"--heartbeat", "1",           "--retry-base",
                                        "0.2",         "--retry-max", "0.5"};

// `ffpod enqueue --group <group> --id <id> --output <out> -- <args>`.
testing::CommandResult EnqueueMember(const RedisServer& redis, const std::string& group,
                                     const std::string& id, const std::string& out,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> argv = {FFPOD_BINARY, "enqueue", "--redis", redis.Url(),
                                   "--group",    group,     "--id",    id,
                                   "--output",   out,       "--"};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCommand(argv);
}

// The group entries of the results stream (kind group).
std::vector<ResultEntry> GroupEntries(const RedisServer& redis) {
  std::vector<ResultEntry> out;
  for (auto& e : Results(redis)) {
    if (e.kind == "group") out.push_back(std::move(e));
  }
  return out;
}

// Attempt results (not group entries) of job `id`.
std::vector<ResultEntry> JobResults(const RedisServer& redis, const std::string& id) {
  std::vector<ResultEntry> out;
  for (auto& e : Results(redis)) {
    if (e.kind.empty() && e.id == id) out.push_back(std::move(e));
  }
  return out;
}

boost::json::object GroupStatus(const RedisServer& redis, const std::string& group) {
  auto status =
      testing::RunCommand({FFPOD_BINARY, "status", "--redis", redis.Url(), "--group", group});
  EXPECT_EQ(status.status, 0) << status.err;
  boost::system::error_code ec;
  auto doc = boost::json::parse(status.out, ec);
  EXPECT_FALSE(ec) << status.out;
  return ec || !doc.is_object() ? boost::json::object{} : doc.as_object();
}

// `redis-cli SUBSCRIBE <queue>:events`, for the group events.
class EventLog {
 public:
  EventLog(const RedisServer& redis, const TempDir& dir) : path_(dir / "events.log") {
    process_ = std::make_unique<testing::BackgroundProcess>(testing::ProcessOptions{
        .argv = {"redis-cli", "-p", std::to_string(redis.port()), "SUBSCRIBE", "ffpod:events"},
        .extra_env = {},
        .stdin_path = "",
        .stdout_path = path_,
        .stderr_path = ""});
    EXPECT_TRUE(WaitFor([&] { return testing::ReadFile(path_).find("subscribe") == 0; }, 10s));
  }
  // The events of type `group`.
  std::vector<boost::json::object> GroupEvents() const {
    std::vector<boost::json::object> out;
    std::istringstream lines(testing::ReadFile(path_));
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"type\":\"group\"") == std::string::npos) continue;
      out.push_back(boost::json::parse(line).as_object());
    }
    return out;
  }

 private:
  std::string path_;
  std::unique_ptr<testing::BackgroundProcess> process_;
};

std::map<std::string, std::string> MemberStates(const boost::json::object& status) {
  std::map<std::string, std::string> out;
  for (const auto& m : status.at("members").as_array()) {
    out[std::string(m.at("id").as_string())] = std::string(m.at("state").as_string());
  }
  return out;
}

TEST(WorkerGroups, LadderWithAMissingInputEndsPartialNamingTheFailedRendition) {
  RedisServer redis;
  TempDir dir;
  EventLog events(redis, dir);
  std::map<std::string, std::string> outputs;
  for (std::string r : {"r-240", "r-360", "r-720"}) {
    outputs[r] = dir / (r + ".mp4");
    auto enq = EnqueueMember(redis, "ladder-1", r, outputs[r], EncodeArgs(outputs[r], 1));
    ASSERT_EQ(enq.status, 0) << enq.err;
  }
  std::string in = dir / "source-1080.mp4";  // does not exist yet: input_missing, not retried
  std::string out = dir / "r-1080.mp4";
  auto enq =
      EnqueueMember(redis, "ladder-1", "r-1080", out, {"-i", in, "-c:v", "libx264", "-y", out});
  ASSERT_EQ(enq.status, 0) << enq.err;
  EXPECT_EQ(redis.Command({"HGET", "ffpod:group:ladder-1", "pending"}).str, "4");
  EXPECT_EQ(redis.Command({"HGET", "ffpod:group:ladder-1", "total"}).str, "4");

  FfpodWorker w(redis.Url(), "w-1", dir, {"--slots", "2", "--heartbeat", "1"});
  ASSERT_TRUE(WaitFor([&] { return GroupEntries(redis).size() == 1; }, 120s)) << w.Log();
  ResultEntry entry = GroupEntries(redis)[0];
  EXPECT_EQ(entry.id, "ladder-1");
  EXPECT_EQ(entry.status, "partial");
  EXPECT_EQ(entry.result.at("status").as_string(), "partial");
  EXPECT_EQ(entry.result.at("total").as_int64(), 4);
  EXPECT_EQ(entry.result.at("counts").at("succeeded").as_int64(), 3);
  EXPECT_EQ(entry.result.at("counts").at("dead").as_int64(), 1);
  const auto& failed = entry.result.at("failed").as_array();
  ASSERT_EQ(failed.size(), 1u) << boost::json::serialize(entry.result);
  EXPECT_EQ(failed[0].at("id").as_string(), "r-1080");
  EXPECT_EQ(failed[0].at("reason").as_string(), "input_missing");
  EXPECT_NE(failed[0].at("message").as_string().find("No such file"), std::string::npos);
  ASSERT_EQ(entry.result.at("members").as_array().size(), 4u);
  EXPECT_LE(entry.result.at("first_finished_at").as_string(),
            entry.result.at("last_finished_at").as_string());
  // The others' outputs are intact: as their own results recorded them.
  for (const auto& [id, path] : outputs) {
    auto results = JobResults(redis, id);
    ASSERT_EQ(results.size(), 1u) << id;
    EXPECT_EQ(results[0].status, "succeeded") << id;
    const auto& published = results[0].result.at("outputs").at(0);
    EXPECT_EQ(published.at("path").as_string(), path);
    EXPECT_EQ(published.at("bytes").as_int64(), static_cast<int64_t>(fs::file_size(path)));
  }
  EXPECT_FALSE(fs::exists(out));
  // One event, the same outcome.
  ASSERT_TRUE(WaitFor([&] { return events.GroupEvents().size() == 1; }, 10s));
  EXPECT_EQ(events.GroupEvents()[0].at("id").as_string(), "ladder-1");
  EXPECT_EQ(events.GroupEvents()[0].at("state").as_string(), "partial");
  EXPECT_EQ(events.GroupEvents()[0].at("failed").as_int64(), 1);

  // ffpod status --group: counts, members and their states, the outcome.
  auto status = GroupStatus(redis, "ladder-1");
  EXPECT_EQ(status.at("outcome").as_string(), "partial");
  EXPECT_EQ(status.at("counts").at("running").as_int64(), 0);
  EXPECT_EQ(status.at("counts").at("pending").as_int64(), 0);
  EXPECT_EQ(MemberStates(status), (std::map<std::string, std::string>{{"r-1080", "dead"},
                                                                      {"r-240", "succeeded"},
                                                                      {"r-360", "succeeded"},
                                                                      {"r-720", "succeeded"}}));
  EXPECT_EQ(status.at("result").at("failed").at(0).at("id").as_string(), "r-1080");

  // A new member of a group that ended is refused: its outcome was published.
  std::string extra = dir / "r-144.mp4";
  auto late = EnqueueMember(redis, "ladder-1", "r-144", extra, EncodeArgs(extra, 1));
  EXPECT_EQ(late.status, 2);
  EXPECT_NE(late.err.find("--group ladder-1 has already ended (partial)"), std::string::npos)
      << late.err;
  EXPECT_EQ(JobField(redis, "r-144", "state"), "");

  // The input arrives and the operator puts the dead rendition back: the group reopens, only
  // that rendition runs, and the group's new end is a second entry, succeeded.
  auto made = testing::RunCommand({"/usr/bin/ffmpeg", "-nostdin", "-loglevel", "error", "-f",
                                   "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
                                   "-c:v", "libx264", "-y", in});
  ASSERT_EQ(made.status, 0) << made.err;
  auto retry =
      testing::RunCommand({FFPOD_BINARY, "dead", "retry", "r-1080", "--redis", redis.Url()});
  ASSERT_EQ(retry.status, 0) << retry.err;
  ASSERT_TRUE(WaitFor([&] { return GroupEntries(redis).size() == 2; }, 60s)) << w.Log();
  entry = GroupEntries(redis)[1];
  EXPECT_EQ(entry.status, "succeeded");
  EXPECT_EQ(entry.result.at("reopened").as_int64(), 1);
  EXPECT_EQ(entry.result.at("failed").as_array().size(), 0u);
  for (const auto& [id, path] : outputs) EXPECT_EQ(JobResults(redis, id).size(), 1u) << id;
  EXPECT_TRUE(fs::exists(out));
}

TEST(WorkerGroups, ARetryableFailureRetriesThatRenditionAloneAndItsSiblingsRunOnce) {
  RedisServer redis;
  TempDir dir;
  // A stand-in ffmpeg: logs each run's arguments, fails the first run of the "flaky" rendition
  // the way a refused connection does (network: retryable), and runs the real ffmpeg otherwise.
  std::string runs = dir / "runs.log";
  std::string marker = dir / "flaky.failed";
  std::string ffmpeg = dir / "ffmpeg";
  testing::WriteFile(ffmpeg, "#!/bin/sh\necho \"$*\" >> '" + runs +
                                 "'\ncase \"$*\" in *flaky*)\n  if [ ! -e '" + marker +
                                 "' ]; then\n    touch '" + marker +
                                 "'\n    echo 'tcp://127.0.0.1:1: Connection refused' >&2\n"
                                 "    exit 1\n  fi;;\nesac\nexec /usr/bin/ffmpeg \"$@\"\n");
  fs::permissions(ffmpeg, fs::perms::owner_all);
  std::vector<std::string> ids = {"low", "mid", "flaky", "high"};
  for (const auto& id : ids) {
    std::string out = dir / (id + ".mp4");
    auto enq = EnqueueMember(redis, "ladder-2", id, out, EncodeArgs(out, 1));
    ASSERT_EQ(enq.status, 0) << enq.err;
  }
  std::vector<std::string> flags = kFast;
  flags.insert(flags.end(), {"--slots", "2", "--ffmpeg", ffmpeg});
  FfpodWorker w(redis.Url(), "w-1", dir, flags);
  ASSERT_TRUE(WaitFor([&] { return GroupEntries(redis).size() == 1; }, 120s)) << w.Log();
  ResultEntry entry = GroupEntries(redis)[0];
  EXPECT_EQ(entry.status, "succeeded") << boost::json::serialize(entry.result);
  // Encodes per rendition, counted from the stand-in's log: the runs with the progress channel
  // ffpod adds to a job's ffmpeg (the build probes and the verification's decode have none).
  std::map<std::string, int> encodes;
  std::istringstream lines(testing::ReadFile(runs));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("-progress ") == std::string::npos) continue;
    for (const auto& id : ids) {
      // The output, or its temporary name (<dir>/.<stem>.ffpod-<token>.mp4).
      if (line.find("/" + id + ".mp4") != std::string::npos ||
          line.find("/." + id + ".ffpod-") != std::string::npos) {
        ++encodes[id];
      }
    }
  }
  EXPECT_EQ(encodes,
            (std::map<std::string, int>{{"low", 1}, {"mid", 1}, {"flaky", 2}, {"high", 1}}))
      << testing::ReadFile(runs);
  auto flaky = JobResults(redis, "flaky");
  ASSERT_EQ(flaky.size(), 2u);
  EXPECT_EQ(flaky[0].status, "retrying");
  EXPECT_EQ(flaky[0].result.at("reason").as_string(), "network");
  EXPECT_EQ(flaky[1].status, "succeeded");
  for (const auto& id : {"low", "mid", "high"}) {
    auto results = JobResults(redis, id);
    ASSERT_EQ(results.size(), 1u) << id;
    EXPECT_EQ(results[0].result.at("attempt").as_int64(), 1) << id;
  }
  for (const auto& m : entry.result.at("members").as_array()) {
    EXPECT_EQ(m.at("attempt").as_int64(), m.at("id").as_string() == "flaky" ? 2 : 1)
        << boost::json::serialize(m);
  }
  // The retry passed through delayed and back to pending, and every count came back to zero.
  auto status = GroupStatus(redis, "ladder-2");
  for (const char* state : {"pending", "running", "delayed", "dead", "cancelled"}) {
    EXPECT_EQ(status.at("counts").at(state).as_int64(), 0) << state;
  }
  EXPECT_EQ(status.at("counts").at("succeeded").as_int64(), 4);
}

TEST(WorkerGroups, AnAllSucceededGroupIsReportedExactlyOnceWithTwoWorkers) {
  RedisServer redis;
  TempDir dir;
  EventLog events(redis, dir);
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    std::string id = "rung-" + std::to_string(i);
    std::string out = dir / (id + ".mp4");
    // A producer's plain LPUSH with the group fields: the members join at their first step, and
    // the group does not end before all 8 have joined.
    testing::Produce(redis, testing::JobDocument(id, EncodeArgs(out, 0.5), {out},
                                                 {{"group", "ladder-3"}, {"group_size", 8}}));
    ids.push_back(id);
  }
  FfpodWorker a(redis.Url(), "w-a", dir, {"--slots", "2", "--heartbeat", "1"});
  FfpodWorker b(redis.Url(), "w-b", dir, {"--slots", "2", "--heartbeat", "1"});
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& id : ids) {
          if (JobField(redis, id, "state") != "succeeded") return false;
        }
        return true;
      },
      120s))
      << a.Log();
  // The step that ended the last member wrote the entry: nothing more can come.
  auto entries = GroupEntries(redis);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, "ladder-3");
  EXPECT_EQ(entries[0].status, "succeeded");
  EXPECT_EQ(entries[0].result.at("total").as_int64(), 8);
  EXPECT_EQ(entries[0].result.at("counts").at("succeeded").as_int64(), 8);
  std::set<std::string> workers;
  for (const auto& r : Results(redis)) {
    if (r.kind.empty()) workers.insert(std::string(r.result.at("worker").at("id").as_string()));
  }
  EXPECT_EQ(workers, (std::set<std::string>{"w-a", "w-b"}));
  ASSERT_TRUE(WaitFor([&] { return events.GroupEvents().size() == 1; }, 10s));
  EXPECT_EQ(events.GroupEvents()[0].at("state").as_string(), "succeeded");
  EXPECT_EQ(JobField(redis, "rung-0", "group"), "ladder-3");
}

TEST(WorkerGroups, ABadGroupIdIsABadJob) {
  RedisServer redis;
  TempDir dir;
  std::string out = dir / "o.mp4";
  testing::Produce(redis, testing::JobDocument("bad-group", EncodeArgs(out, 0.5), {out},
                                               {{"group", "ladder 4!"}}));
  FfpodWorker w(redis.Url(), "w-1", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "bad-group", "state") == "dead"; }, 60s))
      << w.Log();
  auto results = JobResults(redis, "bad-group");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].result.at("reason").as_string(), "bad_job");
  EXPECT_NE(results[0].result.at("message").as_string().find("field \"group\""), std::string::npos)
      << results[0].result.at("message");
  EXPECT_TRUE(GroupEntries(redis).empty());
  EXPECT_EQ(redis.Command({"KEYS", "ffpod:group:*"}).elements.size(), 0u);
  // The command line says the same before anything reaches Redis.
  auto enq = EnqueueMember(redis, "ladder 4!", "x-1", out, EncodeArgs(out, 0.5));
  EXPECT_EQ(enq.status, 2);
  EXPECT_NE(enq.err.find("--group"), std::string::npos) << enq.err;
  auto status =
      testing::RunCommand({FFPOD_BINARY, "status", "--redis", redis.Url(), "--group", "nope"});
  EXPECT_EQ(status.status, 1);
  EXPECT_NE(status.err.find("no group nope"), std::string::npos) << status.err;
}

}  // namespace
}  // namespace ffpod
