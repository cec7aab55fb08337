#include "supervisor/queue/job_queue.h"

#include <boost/json.hpp>
#include <chrono>

#include "parsers/telemetry/log_format.h"
#include "supervisor/queue/queue_scripts.h"

namespace ffpod {

namespace {

std::string Now() { return FormatTimestamp(std::chrono::system_clock::now()); }

// A primary's refusals of a write it takes no writes for now, also as Redis 6 wraps them inside
// a script's error ("ERR Error running script ...: -OOM command not allowed ...").
bool IsWriteRefusal(const RedisReply& reply) {
  if (!reply.IsError()) return false;
  for (std::string_view code : {"OOM", "MISCONF", "NOREPLICAS"}) {
    if (reply.IsErrorCode(code)) return true;
    if (reply.str.find("-" + std::string(code) + " ") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> ResultsStreamAdd(const QueueKeys& keys, int64_t maxlen,
                                          const std::string& id, const std::string& status,
                                          const std::string& result_json) {
  return {"XADD",   keys.Results(), "MAXLEN", "~",        std::to_string(maxlen), "*", "id", id,
          "status", status,         "result", result_json};
}

JobQueue::JobQueue(RedisClient& commands, Settings settings)
    : redis_(commands),
      write_observer_(std::make_shared<WriteObserver>()),
      trim_observer_(std::make_shared<TrimObserver>()),
      settings_(std::move(settings)),
      keys_(settings_.queue) {}

void JobQueue::ObserveWrites(WriteObserver observer) { *write_observer_ = std::move(observer); }

void JobQueue::ObserveDeadTrimmed(TrimObserver observer) { *trim_observer_ = std::move(observer); }

namespace {

// The `trimmed` count of a script's reply (its element `index`), told to the observer.
void ReportTrimmed(const std::shared_ptr<JobQueue::TrimObserver>& observer, const RedisReply& reply,
                   size_t index) {
  if (reply.elements.size() <= index) return;
  long long dropped = reply.elements[index].integer;
  if (dropped > 0 && *observer) (*observer)(dropped);
}

}  // namespace

RedisClient::Callback JobQueue::Observed(RedisClient::Callback callback, bool plain_write) const {
  return [observer = write_observer_, callback = std::move(callback), plain_write](
             std::error_code ec, RedisReply reply) {
    if (!ec && *observer) {
      if (IsWriteRefusal(reply)) {
        (*observer)(reply.str);
      } else if (plain_write && !reply.IsError()) {
        (*observer)(std::nullopt);
      }
    }
    callback(ec, std::move(reply));
  };
}

void JobQueue::EvalWatched(const RedisScript& script, std::vector<std::string> keys,
                           std::vector<std::string> args, RedisClient::Callback callback) {
  redis_.Eval(script, std::move(keys), std::move(args), Observed(std::move(callback), false));
}

void JobQueue::Replicated(RedisClient& client, const char* step,
                          std::function<void(Status)> done) const {
  if (settings_.wait_replicas <= 0) return done(Status::Ok());
  int want = settings_.wait_replicas;
  auto timeout = settings_.wait_timeout;
  client.Command(
      {"WAIT", std::to_string(want), std::to_string(timeout.count())},
      [done = std::move(done), want, timeout, step](std::error_code ec, const RedisReply& reply) {
        if (ec) return done(RedisFailure(ec));
        if (reply.IsError()) return done(RedisFailure(reply));
        if (reply.integer >= want) return done(Status::Ok());
        done(Error{"Redis: the " + std::string(step) + " reached " + std::to_string(reply.integer) +
                   " of " + std::to_string(want) + " replicas within " +
                   std::to_string(timeout.count()) + " ms (--redis-wait-replicas)"});
      },
      timeout);
}

void JobQueue::Claim(RedisClient& blocking, std::chrono::milliseconds wait,
                     Reply<std::optional<std::string>> done) {
  std::vector<std::string> command = {"LMOVE", keys_.Pending(), keys_.Active(settings_.worker_id),
                                      "RIGHT", "LEFT"};
  if (wait.count() > 0) {
    command[0] = "BLMOVE";
    // In seconds; a fraction ("0.5") when the wait is not whole seconds.
    std::string seconds = std::to_string(wait.count() / 1000);
    if (wait.count() % 1000 != 0) {
      std::string millis = std::to_string(1000 + wait.count() % 1000).substr(1);
      seconds += "." + millis;
    }
    command.push_back(seconds);
  }
  blocking.Command(
      command,
      Observed(
          [this, &blocking, done = std::move(done)](std::error_code ec, RedisReply reply) mutable {
            if (ec) return done(RedisFailure(ec));
            if (reply.IsError()) return done(RedisFailure(reply));
            if (reply.IsNil()) return done(std::optional<std::string>());
            ReplicatedThen(blocking, "claim", std::optional<std::string>(std::move(reply.str)),
                           std::move(done));
          },
          true),
      wait);
}

void JobQueue::Start(const std::string& document, const std::string& id, const std::string& token,
                     Reply<Started> done) {
  EvalWatched(QueueScripts::Start(),
              {keys_.Job(id), keys_.Paused(), keys_.Active(settings_.worker_id), keys_.Pending()},
              {document, settings_.worker_id, Now(), keys_.Events(), id, token},
              [this, done = std::move(done)](std::error_code ec, RedisReply reply) mutable {
                if (ec) return done(RedisFailure(ec));
                if (reply.IsError() || reply.elements.size() != 2) return done(RedisFailure(reply));
                long long code = reply.elements[0].integer;
                Started started{.outcome = code == 1   ? StartOutcome::kStarted
                                           : code == 2 ? StartOutcome::kCancelled
                                           : code == 3 ? StartOutcome::kGone
                                           : code == 4 ? StartOutcome::kEnded
                                                       : StartOutcome::kPaused,
                                .attempt = static_cast<int>(reply.elements[1].integer)};
                ReplicatedThen(redis_, "start", started, std::move(done));
              });
}

void JobQueue::ReturnUnheld(const std::vector<std::string>& held, Reply<long long> done) {
  EvalWatched(QueueScripts::ReturnUnheld(), {keys_.Active(settings_.worker_id), keys_.Pending()},
              held, [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                if (ec) return done(RedisFailure(ec));
                if (reply.IsError()) return done(RedisFailure(reply));
                done(reply.integer);
              });
}

void JobQueue::Finish(const FinishRequest& r, Reply<FinishOutcome> done) {
  std::string job_key = r.id.empty() ? keys_.Job("-") : keys_.Job(r.id);
  std::vector<std::string> args(
      {r.document, r.status, r.result_json, r.id, std::to_string(r.delay_ms),
       std::to_string(settings_.result_ttl_s), std::to_string(settings_.results_maxlen), r.token,
       keys_.Events(), Now(), r.id.empty() ? "0" : "1", r.dead_entry_json, settings_.worker_id,
       r.start_token, std::to_string(settings_.dead_max)});
  // A rerouted job's destination: its keys are the script's KEYS (this queue's own when the
  // result is not rerouted), so the script never builds another queue's key.
  QueueKeys to(r.reroute_queue.empty() ? keys_.q : r.reroute_queue);
  args.insert(args.end(), {r.reroute_queue, r.reroute_document, r.reroute_record_json,
                           r.fallback_status, r.fallback_result_json, to.Events(), keys_.q});
  EvalWatched(
      QueueScripts::Finish(),
      {job_key, keys_.Active(settings_.worker_id), keys_.Pending(), keys_.Delayed(), keys_.Dead(),
       keys_.Results(), keys_.DeadStats(), to.Pending(), r.id.empty() ? to.Job("-") : to.Job(r.id)},
      std::move(args),
      [this, done = std::move(done), trims = trim_observer_](std::error_code ec,
                                                             const RedisReply& reply) mutable {
        if (ec) return done(RedisFailure(ec));
        if (reply.IsError() || reply.elements.size() != 3) return done(RedisFailure(reply));
        ReportTrimmed(trims, reply, 1);
        long long code = reply.elements[0].integer;
        bool fell_back = reply.elements[2].integer == 1;
        FinishOutcome outcome = code == 2    ? FinishOutcome::kSuperseded
                                : code == -1 ? FinishOutcome::kRepeated
                                : fell_back  ? FinishOutcome::kRecordedWithoutRoute
                                             : FinishOutcome::kRecorded;
        ReplicatedThen(redis_, "result", outcome, std::move(done));
      });
}

void JobQueue::Hold(const std::string& document, const std::string& id,
                    const std::string& start_token, const std::string& info_json,
                    std::chrono::milliseconds ttl, Reply<bool> done) {
  EvalWatched(QueueScripts::Hold(),
              {keys_.Job(id), keys_.Active(settings_.worker_id), keys_.Worker(settings_.worker_id),
               keys_.Workers()},
              {document, start_token, info_json, std::to_string(ttl.count()), settings_.worker_id},
              [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                if (ec) return done(RedisFailure(ec));
                if (reply.IsError()) return done(RedisFailure(reply));
                done(reply.integer == 1);
              });
}

void JobQueue::DeadLetterBadJob(const std::string& document, const std::string& id,
                                const std::string& result_json, Reply<bool> done) {
  std::string entry = "{\"job\":" + boost::json::serialize(boost::json::string_view(document)) +
                      ",\"result\":" + result_json + "}";
  EvalWatched(QueueScripts::DeadLetterBadJob(),
              {keys_.Active(settings_.worker_id), keys_.Dead(), keys_.Results(),
               id.empty() ? keys_.Job("-") : keys_.Job(id), keys_.DeadStats()},
              {document, entry, result_json, id, std::to_string(settings_.results_maxlen),
               std::to_string(settings_.result_ttl_s), keys_.Events(), Now(),
               std::to_string(settings_.dead_max)},
              [done = std::move(done), trims = trim_observer_](std::error_code ec,
                                                               const RedisReply& reply) {
                if (ec) return done(RedisFailure(ec));
                if (reply.IsError() || reply.elements.size() != 2) return done(RedisFailure(reply));
                ReportTrimmed(trims, reply, 1);
                done(reply.elements[0].integer == 1);
              });
}

void JobQueue::DeadLetterBadJob(const std::string& document, const std::string& id,
                                const std::string& result_json, Done done) {
  DeadLetterBadJob(
      document, id, result_json,
      Reply<bool>([done = std::move(done)](const Result<bool>& r) { done(r.status()); }));
}

void JobQueue::PublishProgress(const std::string& id, const std::string& progress_json, Done done) {
  redis_.Command({"HSET", keys_.Job(id), "progress", progress_json, "updated_at", Now()},
                 Observed([](std::error_code, const RedisReply&) {}, true));
  redis_.Command(
      {"PUBLISH", keys_.Events(),
       "{\"type\":\"progress\",\"id\":" + boost::json::serialize(boost::json::string_view(id)) +
           ",\"progress\":" + progress_json + "}"},
      [done = std::move(done)](std::error_code ec, const RedisReply&) {
        done(ec ? Status(RedisFailure(ec)) : Status::Ok());
      });
}

void JobQueue::Heartbeat(const std::string& info_json, std::chrono::milliseconds ttl, Done done) {
  std::string key = keys_.Worker(settings_.worker_id);
  std::string px = std::to_string(ttl.count());
  redis_.Command(
      {"SET", key, info_json, "PX", px},
      Observed(
          [&redis = redis_, key, px](std::error_code ec, const RedisReply& reply) {
            // maxmemory (noeviction) refuses SET but not PEXPIRE: the heartbeat
            // lives on, or every peer would recover this worker's running jobs.
            if (!ec && IsWriteRefusal(reply)) {
              redis.Command({"PEXPIRE", key, px}, [](std::error_code, const RedisReply&) {});
            }
          },
          true));
  redis_.Command({"SADD", keys_.Workers(), settings_.worker_id},
                 Observed(
                     [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                       if (ec) return done(RedisFailure(ec));
                       if (reply.IsError()) return done(RedisFailure(reply));
                       done(Status::Ok());
                     },
                     true));
}

void JobQueue::Leave(Done done) {
  redis_.Command({"DEL", keys_.Worker(settings_.worker_id)},
                 [](std::error_code, const RedisReply&) {});
  redis_.Command({"SREM", keys_.Workers(), settings_.worker_id},
                 [done = std::move(done)](std::error_code ec, const RedisReply&) {
                   done(ec ? Status(RedisFailure(ec)) : Status::Ok());
                 });
}

void JobQueue::Strings(const std::vector<std::string>& command,
                       Reply<std::vector<std::string>> done) {
  redis_.Command(command, [done = std::move(done)](std::error_code ec, RedisReply reply) {
    if (ec) return done(RedisFailure(ec));
    if (reply.IsError()) return done(RedisFailure(reply));
    std::vector<std::string> out;
    for (auto& e : reply.elements) out.push_back(std::move(e.str));
    done(std::move(out));
  });
}

void JobQueue::Workers(Reply<std::vector<std::string>> done) {
  Strings({"SMEMBERS", keys_.Workers()}, std::move(done));
}

void JobQueue::Recover(const std::string& worker, bool force, Reply<Recovered> done) {
  EvalWatched(
      QueueScripts::Recover(),
      {keys_.Worker(worker), keys_.Active(worker), keys_.Pending(), keys_.Dead(), keys_.Results(),
       keys_.Workers(), keys_.DeadStats()},
      {worker, settings_.queue, std::to_string(settings_.default_max_attempts), settings_.worker_id,
       Now(), std::to_string(settings_.results_maxlen), std::to_string(settings_.result_ttl_s),
       keys_.Events(), force ? "1" : "0", std::to_string(settings_.dead_max)},
      [done = std::move(done), trims = trim_observer_](std::error_code ec,
                                                       const RedisReply& reply) {
        if (ec) return done(RedisFailure(ec));
        if (reply.IsError() || reply.elements.size() != 3) return done(RedisFailure(reply));
        ReportTrimmed(trims, reply, 2);
        Recovered r{.jobs = reply.elements[0].integer, .started = {}};
        const auto& started = reply.elements[1].elements;
        for (size_t i = 0; i + 2 < started.size(); i += 3) {
          r.started.push_back({.document = started[i].str,
                               .attempt = static_cast<int>(started[i + 1].integer),
                               .ended = started[i + 2].integer == 1});
        }
        done(std::move(r));
      });
}

void JobQueue::ActiveDocuments(const std::string& worker, Reply<std::vector<std::string>> done) {
  Strings({"LRANGE", keys_.Active(worker), "0", "-1"}, std::move(done));
}

void JobQueue::PromoteDelayed(Reply<long long> done) {
  EvalWatched(QueueScripts::PromoteDelayed(), {keys_.Delayed(), keys_.Pending()},
              {settings_.queue, "100", keys_.Events(), Now()},
              [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                if (ec) return done(RedisFailure(ec));
                if (reply.IsError()) return done(RedisFailure(reply));
                done(reply.integer);
              });
}

void JobQueue::PendingLength(Reply<long long> done) {
  redis_.Command({"LLEN", keys_.Pending()},
                 [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                   if (ec) return done(RedisFailure(ec));
                   if (reply.IsError()) return done(RedisFailure(reply));
                   done(reply.integer);
                 });
}

namespace {

// KEYS: Q:pending. Reads only (no shebang flags: Redis 6.2 has none). Returns {length,
// enqueued_at of the head document (the right end, claimed next), or "" when it has none or is
// not JSON}.
const RedisScript& PendingHeadScript() {
  static const RedisScript script(R"lua(
local n = redis.call('LLEN', KEYS[1])
if n == 0 then return {0, ''} end
local head = redis.call('LINDEX', KEYS[1], -1)
local ok, doc = pcall(cjson.decode, head)
if ok and type(doc) == 'table' and type(doc['enqueued_at']) == 'string' then
  return {n, doc['enqueued_at']}
end
return {n, ''}
)lua");
  return script;
}

}  // namespace

void JobQueue::PendingHead(Reply<Pending> done) {
  redis_.Eval(PendingHeadScript(), {keys_.Pending()}, {},
              [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                if (ec) return done(RedisFailure(ec));
                if (reply.IsError() || reply.elements.size() != 2) {
                  return done(RedisFailure(reply));
                }
                Pending p;
                p.jobs = reply.elements[0].integer;
                if (!reply.elements[1].str.empty()) {
                  p.oldest_enqueued_at = ParseTimestamp(reply.elements[1].str);
                }
                done(p);
              });
}

void JobQueue::IsPaused(Reply<bool> done) {
  redis_.Command({"EXISTS", keys_.Paused()},
                 [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                   if (ec) return done(RedisFailure(ec));
                   if (reply.IsError()) return done(RedisFailure(reply));
                   done(reply.integer == 1);
                 });
}

void JobQueue::SetPaused(bool paused, const std::string& info_json, Done done) {
  std::vector<std::string> argv = paused
                                      ? std::vector<std::string>{"SET", keys_.Paused(), info_json}
                                      : std::vector<std::string>{"DEL", keys_.Paused()};
  redis_.Command(argv, [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
    if (ec) return done(RedisFailure(ec));
    if (reply.IsError()) return done(RedisFailure(reply));
    done(Status::Ok());
  });
}

void JobQueue::Cancel(const std::string& id, Reply<std::string> done) {
  EvalWatched(QueueScripts::Cancel(), {keys_.Job(id)},
              {Now(), keys_.Events(), id, std::to_string(settings_.result_ttl_s)},
              [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                if (ec) return done(RedisFailure(ec));
                if (reply.IsError()) return done(RedisFailure(reply));
                done(reply.str);
              });
}

void JobQueue::Watch(const std::vector<Watched>& jobs,
                     const Reply<std::vector<WatchedState>>& done) {
  if (jobs.empty()) return done(std::vector<WatchedState>());
  // One round trip for every running job: HMGET in a pipeline, answered in order.
  auto answers = std::make_shared<std::vector<WatchedState>>();
  auto failed = std::make_shared<std::optional<Error>>();
  for (size_t i = 0; i < jobs.size(); ++i) {
    bool last = i + 1 == jobs.size();
    redis_.Command({"HMGET", keys_.Job(jobs[i].id), "cancel_requested", "start_token", "state"},
                   [answers, failed, last, done, token = jobs[i].start_token](
                       std::error_code ec, const RedisReply& reply) {
                     if (ec && !*failed) *failed = RedisFailure(ec);
                     if (!ec && reply.IsError() && !*failed) *failed = RedisFailure(reply);
                     WatchedState w;
                     if (!ec && reply.elements.size() == 3) {
                       w.cancel_requested = !reply.elements[0].IsNil();
                       // A hash without a state was lost by Redis, not taken over: nobody else
                       // holds it.
                       w.fenced = !reply.elements[2].IsNil() &&
                                  (reply.elements[1].IsNil() || reply.elements[1].str != token);
                     }
                     answers->push_back(w);
                     if (!last) return;
                     if (*failed) return done(**failed);
                     done(*answers);
                   });
  }
}

void JobQueue::Enqueue(const std::string& document, const std::string& id, const std::string& group,
                       Reply<Enqueued> done) {
  EvalWatched(QueueScripts::Enqueue(), {keys_.Job(id), keys_.Pending()},
              {document, Now(), keys_.Events(), id, group},
              [done = std::move(done)](std::error_code ec, RedisReply reply) {
                if (ec) return done(RedisFailure(ec));
                if (reply.IsError() || reply.elements.size() != 2) return done(RedisFailure(reply));
                long long code = reply.elements[0].integer;
                Enqueued e{.queued = code == 1, .state = {}, .group_outcome = {}};
                (code == 2 ? e.group_outcome : e.state) = std::move(reply.elements[1].str);
                done(std::move(e));
              });
}

namespace {

JobQueue::Fields HashFields(const RedisReply& reply) {
  JobQueue::Fields fields;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields.emplace_back(reply.elements[i].str, reply.elements[i + 1].str);
  }
  return fields;
}

}  // namespace

void JobQueue::JobHash(const std::string& id, Reply<Fields> done) {
  redis_.Command({"HGETALL", keys_.Job(id)},
                 [done = std::move(done)](std::error_code ec, const RedisReply& reply) {
                   if (ec) return done(RedisFailure(ec));
                   if (reply.IsError()) return done(RedisFailure(reply));
                   done(HashFields(reply));
                 });
}

void JobQueue::GroupHash(const std::string& group, Reply<GroupHashes> done) {
  // Two reads in order on one connection: a step that runs between them shows in the members
  // but not yet in the counts (the next read agrees again).
  auto hashes = std::make_shared<GroupHashes>();
  auto failed = std::make_shared<std::optional<Error>>();
  redis_.Command({"HGETALL", keys_.Group(group)},
                 [hashes, failed](std::error_code ec, const RedisReply& reply) {
                   if (ec)
                     *failed = RedisFailure(ec);
                   else if (reply.IsError())
                     *failed = RedisFailure(reply);
                   else
                     hashes->group = HashFields(reply);
                 });
  redis_.Command(
      {"HGETALL", keys_.GroupMembers(group)},
      [hashes, failed, done = std::move(done)](std::error_code ec, const RedisReply& reply) {
        if (*failed) return done(**failed);
        if (ec) return done(RedisFailure(ec));
        if (reply.IsError()) return done(RedisFailure(reply));
        hashes->members = HashFields(reply);
        done(std::move(*hashes));
      });
}

}  // namespace ffpod
