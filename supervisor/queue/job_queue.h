// Typed operations on the Redis queue of docs/queue.md, for the worker and the one-shot
// commands (enqueue, status, pause, resume). Multi-key steps run as the Lua scripts of
// supervisor/queue/queue_scripts.h; single-key ones as plain commands.
//
// Every callback gets a Status, or a Result with the step's answer: on failure the error says
// why the step did not run or its outcome is unknown (Redis down, connection lost), or carries
// Redis' error reply. Nothing is retried here: the worker decides (steps are safe to repeat:
// Finish carries a token, Start and Recover are guarded). Fencing: a claim that started a job
// holds its start token; only the holder may publish (Hold) or record an outcome (Finish), and
// a recovery takes the token away.
//
// Writes refused: Redis answers a write it will not take now with an error (OOM: maxmemory
// reached under noeviction; MISCONF: snapshots failing; NOREPLICAS: too few replicas).
// ObserveWrites() sees each such refusal, from any step, and each plain write command Redis
// accepted (a script may write nothing, so its success proves nothing). A replica's READONLY is
// not a refusal but a lost primary: the client reconnects (supervisor/queue/redis_failover.h).
//
// Durability (Settings::wait_replicas > 0): the claim, Start and Finish steps succeed only once
// that many replicas have acknowledged the step's writes (WAIT, on the connection that wrote
// them, up to Settings::wait_timeout); fewer in time fails the step with an error saying so,
// although the primary has it. A failed claim is handed back by the claim loop's
// reconciliation, a failed Start or Finish is repeated (both are safe to repeat).
//
// Threading: the io_context thread of the clients.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/common/result.h"
#include "supervisor/queue/redis_client.h"

namespace ffpod {

struct QueueKeys {
  explicit QueueKeys(std::string queue) : q(std::move(queue)) {}
  std::string q;
  std::string Pending() const { return q + ":pending"; }
  std::string Active(const std::string& worker) const { return q + ":active:" + worker; }
  std::string Worker(const std::string& worker) const { return q + ":worker:" + worker; }
  std::string Workers() const { return q + ":workers"; }
  std::string Delayed() const { return q + ":delayed"; }
  std::string Dead() const { return q + ":dead"; }
  std::string DeadStats() const { return q + ":dead:stats"; }
  std::string Job(const std::string& id) const { return q + ":job:" + id; }
  std::string Results() const { return q + ":results"; }
  std::string Events() const { return q + ":events"; }
  std::string Paused() const { return q + ":paused"; }
  std::string Group(const std::string& id) const { return q + ":group:" + id; }
  std::string GroupMembers(const std::string& id) const { return Group(id) + ":members"; }
};

// Q:results is trimmed to about this many entries unless --results-maxlen says otherwise.
constexpr int64_t kDefaultResultsMaxlen = 100000;
// Q:dead is trimmed to this many entries (the oldest dropped) unless --dead-max says otherwise.
constexpr int64_t kDefaultDeadMax = 100000;

// The XADD that appends one attempt's result to Q:results with the fields the queue's scripts
// write (id, status, result), trimmed to about `maxlen` entries. For a result recorded outside
// the scripts (`ffpod run --report-redis`).
std::vector<std::string> ResultsStreamAdd(const QueueKeys& keys, int64_t maxlen,
                                          const std::string& id, const std::string& status,
                                          const std::string& result_json);

struct FinishRequest {
  std::string document;  // exactly as claimed
  std::string id;        // empty for a document without a usable id
  std::string status;    // succeeded | retrying | dead | preempted | cancelled | rerouted
  std::string result_json;
  std::string dead_entry_json;  // for dead: {"job": document, "result": result}
  int64_t delay_ms = 0;         // for retrying
  std::string token;            // unique per attempt: makes a repeated Finish harmless
  std::string start_token;      // the claim's fencing token (the Start script's)
  // For rerouted (docs/queue.md "Routing by failure reason"): the destination queue, the
  // document that goes to the head of its pending list (with the move in `reroutes`), the move
  // as JSON, and what is recorded instead (retrying with delay_ms, or dead with
  // dead_entry_json) when the destination holds a live job with this id.
  std::string reroute_queue;
  std::string reroute_document;
  std::string reroute_record_json;
  std::string fallback_status;
  std::string fallback_result_json;
};

// What Finish did with a result.
enum class FinishOutcome {
  kRecorded,    // the claim held the job: the job moved where the status says
  kSuperseded,  // fenced (another claim holds the job, or it had ended): audit entry only
  kRepeated,    // a call with the same token had recorded it already: nothing changed
  // rerouted, but the destination queue holds a live job with this id: the fallback (retrying
  // or dead) was recorded here instead
  kRecordedWithoutRoute,
};

// A started attempt that a recovery fenced: its temporaries can no longer be published.
struct FencedAttempt {
  std::string document;
  int attempt = 0;
  bool ended = false;  // the recovery dead-lettered the job: no attempt of it publishes again
};

// What Recover did.
struct Recovered {
  long long jobs = 0;                  // documents moved out of the lost worker's active list
  std::vector<FencedAttempt> started;  // those it had started
};

class JobQueue {
 public:
  struct Settings {
    std::string queue = "ffpod";
    std::string worker_id;
    int64_t result_ttl_s = 7 * 24 * 3600;
    int64_t results_maxlen = kDefaultResultsMaxlen;
    int default_max_attempts = 3;
    int64_t dead_max = kDefaultDeadMax;  // Q:dead's length after each dead-lettering
    // WAIT after the claim, Start and Finish steps: replicas that must have their writes (0:
    // none, no WAIT) and how long to wait for them.
    int wait_replicas = 0;
    std::chrono::milliseconds wait_timeout{5000};
  };

  JobQueue(RedisClient& commands, Settings settings);
  const QueueKeys& keys() const { return keys_; }

  // `refused`: Redis' error when a step was refused because Redis takes no writes now;
  // nullopt when a plain write command was accepted (the claim, the heartbeat, progress).
  using WriteObserver = std::function<void(const std::optional<std::string>& refused)>;
  void ObserveWrites(WriteObserver observer);
  // Called with the number of Q:dead entries a step dropped to keep the list at `dead_max`
  // (only when it dropped some).
  using TrimObserver = std::function<void(long long dropped)>;
  void ObserveDeadTrimmed(TrimObserver observer);
  const Settings& settings() const { return settings_; }
  // The client the steps run on, for the queue's other views (supervisor/queue/dead_letters.h).
  RedisClient& client() { return redis_; }

  // A step without an answer of its own.
  using Done = std::function<void(const Status&)>;
  // A step's answer, or why there is none.
  template <typename T>
  using Reply = std::function<void(Result<T>)>;

  // BLMOVE pending -> active:<worker> on `blocking` (a client of its own), or with a `wait` of 0
  // LMOVE, which answers at once. No document when nothing arrived within `wait` (an empty
  // string is a document, however malformed).
  void Claim(RedisClient& blocking, std::chrono::milliseconds wait,
             Reply<std::optional<std::string>> done);
  // Starts an attempt.
  enum class StartOutcome { kStarted, kPaused, kCancelled, kGone, kEnded };
  // kStarted: `token` is the job's fencing token until Finish (or a recovery) releases it.
  // kPaused: the job went back to the head of pending. kCancelled: a cancel was requested;
  // nothing started (`attempt` is the attempts used so far). kGone: the document is no longer
  // in this worker's active list; nothing to do. kEnded: the job already ended (succeeded, dead,
  // cancelled, or rerouted away); this copy was dropped. `token` is unique per claim: a repeated
  // call with it (after a lost reply) answers kStarted again without counting a second attempt.
  struct Started {
    StartOutcome outcome = StartOutcome::kPaused;
    int attempt = 0;
  };
  void Start(const std::string& document, const std::string& id, const std::string& token,
             Reply<Started> done);
  // Requests a cancel; the answer is the job's state when asked ("" when unknown yet).
  void Cancel(const std::string& id, Reply<std::string> done);
  // What the worker watches of each running job: a cancel request, and the fencing token.
  struct Watched {
    std::string id;
    std::string start_token;  // this worker's claim's
  };
  struct WatchedState {
    bool cancel_requested = false;
    bool fenced = false;  // another claim holds the job (or none: a recovery took it)
  };
  // The state of each watched job, in order; one round trip.
  void Watch(const std::vector<Watched>& jobs, const Reply<std::vector<WatchedState>>& done);
  // Whether the claim (`document`, `start_token`) still holds its job; if it does, renews this
  // worker's heartbeat (`info_json`, `ttl`) in the same step, so no recovery can fence the
  // claim for `ttl` from now: the lease to publish outputs under.
  void Hold(const std::string& document, const std::string& id, const std::string& start_token,
            const std::string& info_json, std::chrono::milliseconds ttl, Reply<bool> done);
  // Hands every document of this worker's active list that `held` (the documents its busy
  // slots hold) does not account for back to the head of pending: claims whose reply was lost.
  // Call it only while no claim of this worker is in flight. The answer: how many went back.
  void ReturnUnheld(const std::vector<std::string>& held, Reply<long long> done);
  // Records the attempt's result (see FinishOutcome).
  void Finish(const FinishRequest& request, Reply<FinishOutcome> done);
  // Moves a malformed document from this worker's active list to Q:dead with its result. The
  // answer is false when the document was no longer there (already dead-lettered by a call
  // whose reply was lost, or recovered by another worker): then nothing was written.
  void DeadLetterBadJob(const std::string& document, const std::string& id,
                        const std::string& result_json, Reply<bool> done);
  // The same, for a caller that needs only to know whether it worked.
  void DeadLetterBadJob(const std::string& document, const std::string& id,
                        const std::string& result_json, Done done);
  // The job's progress document in its hash, and a progress event.
  void PublishProgress(const std::string& id, const std::string& progress_json, Done done);
  void Heartbeat(const std::string& info_json, std::chrono::milliseconds ttl, Done done);
  // Removes this worker's heartbeat and membership (a clean exit).
  void Leave(Done done);
  void Workers(Reply<std::vector<std::string>> done);
  // Recovers `worker`'s active jobs when its heartbeat has expired (or always, with `force`),
  // fencing the attempts it had started.
  void Recover(const std::string& worker, bool force, Reply<Recovered> done);
  // The documents in `worker`'s active list.
  void ActiveDocuments(const std::string& worker, Reply<std::vector<std::string>> done);
  // Moves the due retries to pending; the answer: how many.
  void PromoteDelayed(Reply<long long> done);
  void PendingLength(Reply<long long> done);
  // Q:pending's length and its head's `enqueued_at` (the job claimed next, the one that has
  // waited longest), in one step that only reads.
  struct Pending {
    long long jobs = 0;
    // nullopt when the list is empty, or its head has no (valid) enqueued_at.
    std::optional<std::chrono::system_clock::time_point> oldest_enqueued_at;
  };
  void PendingHead(Reply<Pending> done);
  void IsPaused(Reply<bool> done);
  void SetPaused(bool paused, const std::string& info_json, Done done);
  // Enqueues a document unless a job with its id exists, or `group` (the document's group; ""
  // for none) has already ended. A member is counted pending in its group in the same step.
  struct Enqueued {
    bool queued = false;
    std::string state;          // of the existing job when not queued
    std::string group_outcome;  // when not queued because the group ended: its outcome
  };
  void Enqueue(const std::string& document, const std::string& id, const std::string& group,
               Reply<Enqueued> done);
  using Fields = std::vector<std::pair<std::string, std::string>>;
  void JobHash(const std::string& id, Reply<Fields> done);
  // A job group's hash and its members hash (member id -> record), read in one round trip.
  struct GroupHashes {
    Fields group;
    Fields members;
  };
  void GroupHash(const std::string& group, Reply<GroupHashes> done);

 private:
  // `callback`, telling the write observer what the reply says about writes first.
  RedisClient::Callback Observed(RedisClient::Callback callback, bool plain_write) const;
  void EvalWatched(const RedisScript& script, std::vector<std::string> keys,
                   std::vector<std::string> args, RedisClient::Callback callback);
  // With wait_replicas: WAIT on `client` (whose writes `step` made), then `done` with OK, or
  // an error when too few replicas acknowledged in time. Without: `done` at once.
  void Replicated(RedisClient& client, const char* step, std::function<void(Status)> done) const;
  // Replicated, then `done` with `value` (or with the WAIT's error).
  template <typename T>
  void ReplicatedThen(RedisClient& client, const char* step, T value, Reply<T> done) const {
    Replicated(client, step,
               [done = std::move(done), value = std::move(value)](const Status& s) mutable {
                 if (!s.ok()) return done(s.error());
                 done(std::move(value));
               });
  }
  // A command whose answer is an array of strings (SMEMBERS, LRANGE).
  void Strings(const std::vector<std::string>& command, Reply<std::vector<std::string>> done);

  RedisClient& redis_;
  std::shared_ptr<WriteObserver> write_observer_;  // shared with callbacks in flight
  std::shared_ptr<TrimObserver> trim_observer_;    // likewise
  Settings settings_;
  QueueKeys keys_;
};

}  // namespace ffpod
