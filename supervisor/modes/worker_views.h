// The views of WorkerMode that its parts are given: the claim loop's Queue and Owner
// (supervisor/modes/claim_loop.h) and the slots' Owner (supervisor/modes/worker_slot.h). Each
// is a thin adapter over the worker's members. Private to worker_mode.cc.
//
// Threading: the worker's io_context thread.
#pragma once

#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/modes/claim_loop.h"
#include "supervisor/modes/encoder_watch.h"
#include "supervisor/modes/fair_claim.h"
#include "supervisor/modes/worker_mode.h"
#include "supervisor/modes/worker_slot.h"

namespace ffpod {

// The claim loop's view of the queues: JobQueue's steps on each queue of the --queue list, the
// claim on the blocking connection, from the queue FairClaim picks.
class WorkerMode::ClaimQueue final : public ClaimLoop::Queue {
 public:
  explicit ClaimQueue(WorkerMode& w) : w_(w) {}
  bool up() const override { return w_.redis_->up() && w_.claim_redis_->up(); }
  void RecoverOwn(ClaimLoop::Reply<long long> done) override {
    w_.RecoverOwnFrom(0, 0, std::move(done));
  }
  void ReturnUnheld(const std::vector<ClaimLoop::Claimed>& held,
                    ClaimLoop::Reply<long long> done) override {
    ReturnFrom(0, held, 0, std::move(done));
  }
  // Reads each queue's Q:paused (one round trip: the commands are pipelined); paused when all are.
  void IsPaused(ClaimLoop::Reply<bool> done) override {
    auto answers = std::make_shared<std::vector<std::optional<bool>>>(w_.queues_.size());
    auto failed = std::make_shared<std::optional<Error>>();
    auto left = std::make_shared<size_t>(w_.queues_.size());
    for (size_t q = 0; q < w_.queues_.size(); ++q) {
      w_.queues_[q]->IsPaused([this, q, answers, failed, left, done](const Result<bool>& p) {
        if (p.ok()) {
          (*answers)[q] = *p;
        } else if (!*failed) {
          *failed = p.error();
        }
        if (--*left > 0) return;
        if (*failed) return done(**failed);
        done(Apply(*answers));
      });
    }
  }
  void Claim(ClaimLoop::Reply<std::optional<ClaimLoop::Claimed>> done) override {
    w_.fair_claim_->Claim(w_.paused_, [this, done = std::move(done)](
                                          Result<std::optional<ClaimLoop::Claimed>> claimed) {
      // Counted by the loop; the reason (Redis down, too few replicas in time
      // with --redis-wait-replicas) for whoever looks closer.
      if (!claimed.ok()) {
        w_.logger_.Debug("claim failed; retrying", {{"error", claimed.error().message}});
      }
      done(std::move(claimed));
    });
  }

 private:
  // The pause of each queue as read; with several queues, each change is logged here (the loop
  // logs the worker's: every queue paused, or claiming again). True when all are paused.
  bool Apply(const std::vector<std::optional<bool>>& answers) {
    bool all = true;
    for (size_t q = 0; q < answers.size(); ++q) {
      bool paused = answers[q].value_or(false);
      if (w_.queues_.size() > 1 && paused != w_.paused_[q]) {
        w_.logger_.Info(paused ? "queue paused: not claiming from it" : "queue resumed",
                        {{"queue", w_.queues_[q]->settings().queue}});
      }
      w_.paused_[q] = paused;
      all = all && paused;
    }
    return all;
  }
  void ReturnFrom(size_t q, std::vector<ClaimLoop::Claimed> held, long long total,
                  ClaimLoop::Reply<long long> done) {
    if (q == w_.queues_.size()) return done(total);
    std::vector<std::string> documents;
    for (const auto& c : held) {
      if (c.queue == q) documents.push_back(c.document);
    }
    w_.queues_[q]->ReturnUnheld(documents, [this, q, held = std::move(held), total,
                                            done = std::move(done)](Result<long long> n) mutable {
      if (!n.ok()) return done(n.error());
      ReturnFrom(q + 1, std::move(held), total + *n, std::move(done));
    });
  }

  WorkerMode& w_;
};

// FairClaim's view of the queues: each one's claim on the blocking connection.
class WorkerMode::ClaimLanes final : public FairClaim::Lanes {
 public:
  explicit ClaimLanes(WorkerMode& w) : w_(w) {}
  void Claim(size_t queue, std::chrono::milliseconds wait,
             FairClaim::Reply<std::optional<std::string>> done) override {
    w_.queues_[queue]->Claim(*w_.claim_redis_, wait, std::move(done));
  }

 private:
  WorkerMode& w_;
};

// The claim loop's view of the worker: its slots, readiness, and where events go.
class WorkerMode::ClaimOwner final : public ClaimLoop::Owner {
 public:
  explicit ClaimOwner(WorkerMode& w) : w_(w) {}
  bool HasIdleSlot() const override {
    for (const auto& s : w_.slots_) {
      if (s->idle()) return true;
    }
    return false;
  }
  std::vector<ClaimLoop::Claimed> HeldDocuments() const override {
    std::vector<ClaimLoop::Claimed> held;
    for (const auto& s : w_.slots_) {
      if (!s->idle()) held.push_back({.queue = s->queue_index(), .document = s->document()});
    }
    return held;
  }
  bool ClaimsBlocked() const override {
    ReadinessChecks checks = w_.service_.board().Readiness();
    for (const char* check : {"ffmpeg", EncoderWatch::kCheckName}) {
      auto it = checks.checks.find(check);
      if (it != checks.checks.end() && it->second) return true;
    }
    return false;
  }
  void OnClaimed(ClaimLoop::Claimed claimed) override {
    for (auto& s : w_.slots_) {
      if (s->idle()) {
        s->Begin(claimed.queue, std::move(claimed.document));
        return;
      }
    }
  }
  // The worker's pause: its queue's, or with several, every one of them paused.
  void OnPausedChanged(bool paused) override {
    const bool several = w_.queues_.size() > 1;
    StatusBoard& board = w_.service_.board();
    board.SetCheck("paused", !paused   ? std::nullopt
                             : several ? std::optional<std::string>("every queue is paused")
                                       : std::optional<std::string>("the queue is paused"));
    w_.service_.metrics().SetReady(board.Readiness().Ready());
    if (several) {
      w_.logger_.Info(paused ? "every queue paused: not claiming" : "claiming again");
    } else {
      w_.logger_.Info(paused ? "queue paused: not claiming" : "queue resumed");
    }
  }
  void OnQueueError() override { w_.CountRedisError(); }
  void OnRecovered(long long own, long long unheld) override {
    if (own > 0) w_.logger_.Warn("recovered jobs from this worker's previous run", {{"jobs", own}});
    if (unheld > 0) {
      w_.logger_.Warn(
          "handed back claimed jobs that no slot was running (a claim's reply was lost)",
          {{"jobs", unheld}});
    }
  }

 private:
  WorkerMode& w_;
};

// The slots' view of the worker: the queue, the drain, and where their changes go.
class WorkerMode::SlotOwner final : public WorkerSlot::Owner {
 public:
  explicit SlotOwner(WorkerMode& w) : w_(w) {}
  JobQueue& queue(size_t index) override { return *w_.queues_[index]; }
  bool several_queues() const override { return w_.queues_.size() > 1; }
  bool redis_up() const override { return w_.redis_ && w_.redis_->up(); }
  bool writes_refused() const override { return w_.writes_refused_; }
  const DrainClock* drain() const override { return w_.drain_ ? &*w_.drain_ : nullptr; }
  double Jitter() override { return w_.Jitter(); }
  void OnSlotBusy() override { w_.UpdateInFlight(); }
  void OnSlotProgress() override { w_.UpdatePodCost(); }
  void OnAttemptRecorded(bool preempted) override {
    ++w_.jobs_finished_;
    if (preempted) ++w_.jobs_preempted_;
  }
  void OnSlotIdle() override {
    w_.UpdateInFlight();
    w_.OnSlotIdle();
  }
  std::string HeartbeatInfo() const override { return w_.HeartbeatInfo(); }
  std::chrono::milliseconds HeartbeatTtl() const override { return w_.HeartbeatTtl(); }

 private:
  WorkerMode& w_;
};

}  // namespace ffpod
