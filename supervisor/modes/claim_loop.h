// The worker's claim loop: when a slot is free, take the next job from the queue, one claim at a
// time. Before the first claim it recovers this worker's own active list (jobs a previous life
// under the same id left there); after a failed claim, and every 30 s while idle, it hands back
// documents its active list holds that no slot runs (a claim whose reply was lost). It claims
// nothing while the queue is paused, while Redis is down, while the owner says a readiness check
// forbids it (ffmpeg cannot run, a required encoder is unusable) and after Stop() (the drain).
// Every failure waits 1 s and tries again; nothing is lost meanwhile, since a claimed document
// stays in the active list until its result is recorded. With several queues (--queue a,b:3)
// the Queue stands for all of them: it is paused when each is, its steps cover each queue's
// keys, and its claim picks the queue (supervisor/modes/fair_claim.h).
//
// States (one step in flight at most):
//   stopped --Enable--> idle --Kick, slot free, ready--> [recovering own | returning unheld]
//     --> checking paused --not paused--> claiming (BLMOVE) --document--> idle (handed to a slot)
//   any step failing --> waiting 1 s --> idle;  Stop() from any state --> stopped for good.
//
// Threading: the clock's (the io_context's) thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/common/result.h"
#include "probes/os/clock.h"

namespace ffpod {

class ClaimLoop {
 public:
  // A step's answer, or why there is none.
  template <typename T>
  using Reply = std::function<void(Result<T>)>;

  // A claimed document and the queue it came from (an index into the worker's --queue list).
  struct Claimed {
    size_t queue = 0;
    std::string document;
  };

  // The queue steps the loop takes (JobQueue in production). Each calls its reply once, later.
  struct Queue {
    virtual ~Queue() = default;
    virtual bool up() const = 0;  // both connections (commands, blocking claims) are up
    virtual void RecoverOwn(Reply<long long> done) = 0;
    virtual void ReturnUnheld(const std::vector<Claimed>& held, Reply<long long> done) = 0;
    // True when no queue may be claimed from (each of the worker's queues is paused).
    virtual void IsPaused(Reply<bool> done) = 0;
    // Blocks up to a few seconds; no document means nothing arrived (an empty one is a
    // document: malformed, the slot dead-letters it).
    virtual void Claim(Reply<std::optional<Claimed>> done) = 0;
  };

  // What the loop needs of the worker.
  struct Owner {
    virtual ~Owner() = default;
    virtual bool HasIdleSlot() const = 0;
    // The documents the busy slots hold (the active lists may hold no others).
    virtual std::vector<Claimed> HeldDocuments() const = 0;
    // True when no job may be claimed now (a readiness check that a job would fail on).
    virtual bool ClaimsBlocked() const = 0;
    virtual void OnClaimed(Claimed claimed) = 0;
    virtual void OnPausedChanged(bool paused) = 0;
    virtual void OnQueueError() = 0;  // counted (ffpod_redis_errors_total)
    virtual void OnRecovered(long long own_jobs, long long unheld_returned) = 0;  // for the log
  };

  static constexpr std::chrono::seconds kRetryAfter{1};
  static constexpr std::chrono::seconds kReconcileEvery{30};

  ClaimLoop(Clock& clock, Queue& queue, Owner& owner);
  ClaimLoop(const ClaimLoop&) = delete;
  ClaimLoop& operator=(const ClaimLoop&) = delete;

  // Claims may start (the first connection is up). Kicks.
  void Enable();
  // Claims one job if everything allows it now; otherwise does nothing (or retries in 1 s when
  // a readiness check blocks). Call it whenever a slot frees, Redis comes back, or a retry was
  // promoted. Safe to call any time: at most one step is in flight.
  void Kick();
  // No further claims (the drain). A claim in flight may still answer with a document: it goes
  // to OnClaimed like any other (the slot then hands it back as preempted before start).
  void Stop();

  bool claiming() const { return in_flight_; }
  bool paused() const { return paused_; }

 private:
  bool Prelude();
  void AfterPrelude(const Status& status);
  void CheckPaused();
  void OnPaused(const Result<bool>& paused);
  void OnClaim(Result<std::optional<Claimed>> document);
  void RetryLater();

  Clock& clock_;
  Queue& queue_;
  Owner& owner_;
  std::unique_ptr<Timer> retry_;
  bool enabled_ = false;
  bool stopped_ = false;
  bool in_flight_ = false;
  bool self_recovered_ = false;    // this worker's own active list was recovered at start
  bool reconcile_needed_ = false;  // a claim failed: its document may sit in the active list
  SteadyTime last_reconcile_{};
  bool paused_ = false;
  // Lifetime guard for replies that may arrive after this object is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ffpod
