// `ffpod dead list|show|retry|purge` and the dead list's trimming, against a real redis-server:
// the dead entries are written by the queue's own dead-lettering step (the Finish script, as a
// worker records a dead attempt), then operated with the real ffpod binary.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "parsers/config/redis_url.h"
#include "parsers/telemetry/log_format.h"
#include "supervisor/modes/slot_result.h"
#include "supervisor/queue/dead_letters.h"
#include "supervisor/queue/job_queue.h"
#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::JobDocument;
using testing::JobField;
using testing::ListLength;
using testing::RedisServer;

// Dead-letters jobs the way a worker does: claim (LMOVE to its active list), Start, then
// Finish with a dead result of a given reason and time.
class DeadLetterer {
 public:
  DeadLetterer(const RedisServer& redis, int64_t dead_max = kDefaultDeadMax)
      : redis_(redis),
        client_(io_, *ParseRedisUrl(redis.Url())),
        queue_(client_, Settings(dead_max)) {
    client_.Start();
    EXPECT_TRUE(RunUntil([this] { return client_.up(); })) << client_.last_error();
    queue_.ObserveDeadTrimmed([this](long long n) { trimmed_ += n; });
  }

  bool RunUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(5ms);
    }
    return done();
  }

  // Job `id` ends dead with `reason`, dead-lettered at `at`.
  void Dead(const std::string& id, Reason reason, std::chrono::system_clock::time_point at) {
    std::string doc = JobDocument(id, {"-i", "in-" + id + ".mp4", "out-" + id + ".mp4"});
    redis_.Command({"LPUSH", "ffpod:pending", doc});
    redis_.Command({"LMOVE", "ffpod:pending", "ffpod:active:w-d", "RIGHT", "LEFT"});
    bool started = false;
    queue_.Start(doc, id, id + ":start", [&](const Result<JobQueue::Started>& s) {
      EXPECT_TRUE(s.ok() && s->outcome == JobQueue::StartOutcome::kStarted) << id;
      started = true;
    });
    ASSERT_TRUE(RunUntil([&] { return started; }));
    ResultDoc r;
    r.id = id;
    r.attempt = 1;
    r.status = ResultStatus::kDead;
    r.reason = reason;
    r.message = "dead for a test: " + std::string(ReasonName(reason));
    r.started_at = r.finished_at = FormatTimestamp(at);
    bool finished = false;
    FinishRequest req = MakeFinishRequest(r, doc, id + ":done");
    req.start_token = id + ":start";  // the claim's, as the worker sets it
    queue_.Finish(req, [&](const Result<FinishOutcome>& o) {
      EXPECT_TRUE(o.ok() && *o == FinishOutcome::kRecorded)
          << id << (o.ok() ? "" : ": " + o.error().message);
      finished = true;
    });
    ASSERT_TRUE(RunUntil([&] { return finished; }));
  }

  long long trimmed() const { return trimmed_; }
  RedisClient& client() { return client_; }

 private:
  static JobQueue::Settings Settings(int64_t dead_max) {
    JobQueue::Settings s;
    s.worker_id = "w-d";
    s.dead_max = dead_max;
    return s;
  }

  const RedisServer& redis_;
  boost::asio::io_context io_;
  RedisClient client_;
  JobQueue queue_;
  long long trimmed_ = 0;
};

testing::CommandResult Dead(const RedisServer& redis, std::vector<std::string> args) {
  std::vector<std::string> argv = {FFPOD_BINARY, "dead"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--redis", redis.Url()});
  return testing::RunCommand(argv);
}

boost::json::object Json(const testing::CommandResult& r) {
  EXPECT_EQ(r.status, 0) << r.err;
  boost::json::error_code ec;
  auto v = boost::json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out;
  return ec || !v.is_object() ? boost::json::object() : v.as_object();
}

std::vector<std::string> Ids(const boost::json::array& entries) {
  std::vector<std::string> ids;
  for (const auto& e : entries) ids.emplace_back(e.at("id").as_string());
  return ids;
}

std::vector<std::string> Strings(const boost::json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

// A thousand dead jobs: job i has reason network (i % 3 == 0), input_missing (1) or timeout
// (2), and is 3 days old for i < 400, else 1 hour old. Job 999 is the newest.
struct Thousand {
  std::map<std::string, std::pair<Reason, bool>> jobs;  // id -> (reason, old)
  std::vector<std::string> newest_first;
};

Thousand MakeThousand(const RedisServer& redis) {
  DeadLetterer d(redis);
  Thousand t;
  auto now = std::chrono::system_clock::now();
  const Reason reasons[] = {Reason::kNetwork, Reason::kInputMissing, Reason::kTimeout};
  for (int i = 0; i < 1000; ++i) {
    std::string id = "dead-" + std::to_string(i);
    bool old = i < 400;
    d.Dead(id, reasons[i % 3], now - (old ? 72h : 1h));
    t.jobs[id] = {reasons[i % 3], old};
    t.newest_first.insert(t.newest_first.begin(), id);
  }
  return t;
}

TEST(DeadLetters, ListFiltersAThousandEntriesByReasonAgeAndLimit) {
  RedisServer redis;
  Thousand t = MakeThousand(redis);
  auto all = Json(Dead(redis, {"list"}));
  EXPECT_EQ(all.at("length").as_int64(), 1000);
  EXPECT_EQ(all.at("trimmed").as_int64(), 0);
  EXPECT_EQ(Ids(all.at("entries").as_array()), t.newest_first);
  const auto& first = all.at("entries").at(0).as_object();
  EXPECT_EQ(first.at("reason").as_string(), "network");  // dead-999
  EXPECT_EQ(first.at("message").as_string(), "dead for a test: network");
  EXPECT_EQ(first.at("attempts").as_int64(), 1);
  EXPECT_TRUE(ParseTimestamp(first.at("dead_at").as_string()).has_value());

  auto expected = [&](const std::string& reason, bool only_old) {
    std::vector<std::string> ids;
    for (const auto& id : t.newest_first) {
      auto [r, old] = t.jobs.at(id);
      if ((reason.empty() || ReasonName(r) == reason) && (!only_old || old)) ids.push_back(id);
    }
    return ids;
  };
  auto network = Json(Dead(redis, {"list", "--reason", "network"}));
  EXPECT_EQ(Ids(network.at("entries").as_array()), expected("network", false));
  auto old = Json(Dead(redis, {"list", "--older-than", "2d"}));
  EXPECT_EQ(Ids(old.at("entries").as_array()), expected("", true));
  EXPECT_EQ(old.at("listed").as_int64(), 400);
  auto none = Json(Dead(redis, {"list", "--older-than", "4d"}));
  EXPECT_EQ(none.at("listed").as_int64(), 0);
  auto ten = Json(Dead(redis, {"list", "--limit", "10"}));
  EXPECT_EQ(Ids(ten.at("entries").as_array()),
            std::vector<std::string>(t.newest_first.begin(), t.newest_first.begin() + 10));
  auto both =
      Json(Dead(redis, {"list", "--reason", "timeout", "--older-than", "90m", "--limit", "7"}));
  auto timeout_old = expected("timeout", true);
  EXPECT_EQ(Ids(both.at("entries").as_array()),
            std::vector<std::string>(timeout_old.begin(), timeout_old.begin() + 7));

  auto show = Json(Dead(redis, {"show", "dead-17"}));
  EXPECT_EQ(show.at("id").as_string(), "dead-17");
  EXPECT_EQ(show.at("job").at("args").at(1).as_string(), "in-dead-17.mp4");
  EXPECT_EQ(show.at("result").at("reason").as_string(), "timeout");
  auto missing = Dead(redis, {"show", "no-such-job"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "ffpod: no dead entry for job no-such-job in queue ffpod\n");
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 1000);  // reading changed nothing
}

TEST(DeadLetters, RetryAndPurgeByFilterMoveEachJobExactlyOnce) {
  RedisServer redis;
  Thousand t = MakeThousand(redis);
  // Old network failures go back to pending, at its head, with their attempts reset.
  auto retried = Json(Dead(redis, {"retry", "--reason", "network", "--older-than", "2d"}));
  std::vector<std::string> want;
  for (const auto& id : t.newest_first) {
    if (t.jobs.at(id).first == Reason::kNetwork && t.jobs.at(id).second) want.push_back(id);
  }
  ASSERT_EQ(want.size(), 134u);
  EXPECT_EQ(Strings(retried.at("retried")), want);
  EXPECT_TRUE(retried.at("skipped").as_array().empty());
  EXPECT_EQ(ListLength(redis, "ffpod:pending"), 134);
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 1000 - 134);
  // The right end is the head: the last one retried is claimed first.
  auto head = boost::json::parse(redis.Command({"LINDEX", "ffpod:pending", "-1"}).str);
  EXPECT_EQ(head.at("id").as_string(), want.back());
  for (const auto& id : want) {
    EXPECT_EQ(JobField(redis, id, "state"), "pending") << id;
    EXPECT_EQ(JobField(redis, id, "attempt"), "0") << id;
    EXPECT_EQ(JobField(redis, id, "dead_retries"), "1") << id;
    EXPECT_FALSE(JobField(redis, id, "dead_retried_at").empty()) << id;
  }
  EXPECT_EQ(redis.Command({"TTL", "ffpod:job:" + want[0]}).integer, -1);  // pending: no expiry
  // A second retry finds nothing of them.
  auto again = Json(Dead(redis, {"retry", "--reason", "network", "--older-than", "2d"}));
  EXPECT_TRUE(again.at("retried").as_array().empty());
  auto by_id = Dead(redis, {"retry", want[0]});
  EXPECT_EQ(by_id.status, 1);
  EXPECT_EQ(by_id.err, "ffpod: no dead entry for job " + want[0] + " in queue ffpod\n");

  // Purging the first ten timeouts removes their entries and their state hashes.
  auto purged = Json(Dead(redis, {"purge", "--reason", "timeout", "--limit", "10"}));
  auto gone = Strings(purged.at("purged"));
  ASSERT_EQ(gone.size(), 10u);
  for (const auto& id : gone) {
    EXPECT_EQ(t.jobs.at(id).first, Reason::kTimeout) << id;
    EXPECT_EQ(redis.Command({"EXISTS", "ffpod:job:" + id}).integer, 0) << id;
  }
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 1000 - 134 - 10);
  auto one = Json(Dead(redis, {"purge", "dead-1"}));
  EXPECT_EQ(Strings(one.at("purged")), std::vector<std::string>{"dead-1"});

  // Every job is in exactly one place: pending, dead, or purged.
  auto listed = Json(Dead(redis, {"list"}));
  std::multiset<std::string> seen;
  for (const auto& id : Ids(listed.at("entries").as_array())) seen.insert(id);
  for (const auto& v : redis.Command({"LRANGE", "ffpod:pending", "0", "-1"}).elements) {
    seen.insert(std::string(boost::json::parse(v.str).at("id").as_string()));
  }
  for (const auto& id : gone) seen.insert(id);
  seen.insert("dead-1");
  EXPECT_EQ(seen.size(), 1000u);
  for (const auto& [id, _] : t.jobs) EXPECT_EQ(seen.count(id), 1u) << id;
  EXPECT_EQ(listed.at("retried").as_int64(), 134);
  EXPECT_EQ(listed.at("purged").as_int64(), 11);
}

TEST(DeadLetters, BadFlagValuesExitTwoNamingTheFlag) {
  RedisServer redis;
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  for (const Case& c : std::vector<Case>{{{"list", "--older-than", "15"}, "--older-than"},
                                         {{"list", "--older-than", "1.5h"}, "--older-than"},
                                         {{"list", "--reason", "bogus"}, "--reason"},
                                         {{"list", "--limit", "0"}, "--limit"},
                                         {{"retry"}, "--reason"},
                                         {{"frobnicate"}, "list, show, retry or purge"}}) {
    auto r = Dead(redis, c.args);
    EXPECT_EQ(r.status, 2) << c.args[0] << " " << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
  }
}

TEST(DeadLetters, TheDeadListIsTrimmedToDeadMaxOldestFirstAndCounted) {
  RedisServer redis;
  DeadLetterer d(redis, 10);
  auto now = std::chrono::system_clock::now();
  for (int i = 0; i < 25; ++i) d.Dead("t-" + std::to_string(i), Reason::kInputMissing, now);
  EXPECT_EQ(ListLength(redis, "ffpod:dead"), 10);
  EXPECT_EQ(d.trimmed(), 15);
  auto listed = Json(Dead(redis, {"list"}));
  EXPECT_EQ(listed.at("trimmed").as_int64(), 15);
  std::vector<std::string> newest;
  for (int i = 24; i >= 15; --i) newest.push_back("t-" + std::to_string(i));
  EXPECT_EQ(Ids(listed.at("entries").as_array()), newest);
}

TEST(DeadLetters, ConcurrentRetryAndPurgeOfOneJobLeaveExactlyOneOutcome) {
  RedisServer redis;
  testing::TempDir dir;
  for (int round = 0; round < 20; ++round) {
    std::string id = "race-" + std::to_string(round);
    {
      DeadLetterer d(redis);
      d.Dead(id, Reason::kNetwork, std::chrono::system_clock::now());
    }
    auto start = [&](const std::string& action) {
      testing::ProcessOptions o;
      o.argv = {FFPOD_BINARY, "dead", action, id, "--redis", redis.Url()};
      o.stdout_path = dir / (action + ".out");
      o.stderr_path = dir / (action + ".err");
      return std::make_unique<testing::BackgroundProcess>(o);
    };
    // Which one starts first alternates; which wins is up to the race.
    auto first = start(round % 2 == 0 ? "retry" : "purge");
    auto second = start(round % 2 == 0 ? "purge" : "retry");
    auto a = first->Wait(60s);
    auto b = second->Wait(60s);
    ASSERT_TRUE(a && b);
    EXPECT_EQ((*a == 0) + (*b == 0), 1) << id << ": exactly one of them acted";
    EXPECT_EQ(ListLength(redis, "ffpod:dead"), 0) << id;
    long long pending = ListLength(redis, "ffpod:pending");
    bool hash = redis.Command({"EXISTS", "ffpod:job:" + id}).integer == 1;
    if (pending == 1) {
      EXPECT_EQ(JobField(redis, id, "state"), "pending") << id;  // retried, not purged
    } else {
      EXPECT_EQ(pending, 0) << id;
      EXPECT_FALSE(hash) << id;  // purged, not retried
    }
    redis.Command({"DEL", "ffpod:pending"});
  }
}

// The two scripts sent back to back on one connection (Redis runs them one after the other, in
// either order): the first wins, the second finds the entry gone and changes nothing.
TEST(DeadLetters, ARetryAndAPurgeOfOneEntryInEitherOrderDoExactlyOneThing) {
  RedisServer redis;
  DeadLetterer d(redis);
  for (bool retry_first : {true, false}) {
    std::string id = retry_first ? "first-retry" : "first-purge";
    d.Dead(id, Reason::kNetwork, std::chrono::system_clock::now());
    auto entry = ParseDeadEntry(redis.Command({"LINDEX", "ffpod:dead", "0"}).str);
    ASSERT_TRUE(entry.has_value());
    DeadLetters dead(d.client(), QueueKeys("ffpod"));
    std::optional<DeadLetters::Outcome> retried, purged;
    auto retry = [&] {
      dead.Retry(*entry, !retry_first,
                 [&](Result<DeadLetters::Outcome> o) { retried = o.value(); });
    };
    auto purge = [&] {
      dead.Purge(*entry, retry_first, [&](Result<DeadLetters::Outcome> o) { purged = o.value(); });
    };
    if (retry_first) {
      retry();
      purge();
    } else {
      purge();
      retry();
    }
    ASSERT_TRUE(d.RunUntil([&] { return retried && purged; }));
    EXPECT_EQ(retried->done, retry_first);
    EXPECT_EQ(purged->done, !retry_first);
    EXPECT_EQ(ListLength(redis, "ffpod:dead"), 0);
    EXPECT_EQ(ListLength(redis, "ffpod:pending"), retry_first ? 1 : 0);
    EXPECT_EQ(JobField(redis, id, "state"), retry_first ? "pending" : "");
    redis.Command({"DEL", "ffpod:pending"});
  }
}

}  // namespace
}  // namespace ffpod
