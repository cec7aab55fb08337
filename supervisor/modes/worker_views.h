// The views of WorkerMode that its parts are given: the claim loop's Queue and Owner
// (supervisor/modes/claim_loop.h) and the slots' Owner (supervisor/modes/worker_slot.h). Each
// is a thin adapter over the worker's members. Private to worker_mode.cc.
//
// Threading: the worker's io_context thread.
#pragma once

#include <boost/asio/post.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "supervisor/modes/claim_loop.h"
#include "supervisor/modes/encoder_watch.h"
#include "supervisor/modes/worker_mode.h"
#include "supervisor/modes/worker_slot.h"

namespace ffpod {

// The claim loop's view of the queue: JobQueue's steps, claims on the blocking connection.
class WorkerMode::ClaimQueue final : public ClaimLoop::Queue {
 public:
  explicit ClaimQueue(WorkerMode& w) : w_(w) {}
  bool up() const override { return w_.redis_->up() && w_.claim_redis_->up(); }
  // This run has started nothing yet: every temporary this worker id wrote for the jobs in its
  // active list is its previous run's and can never be published. Removed before the recovery,
  // so that a worker stopped in between finds them again at its next start.
  void RecoverOwn(ClaimLoop::Reply<long long> done) override {
    w_.queue_->ActiveDocuments(w_.identity_.id, [this, done = std::move(done)](
                                                    Result<std::vector<std::string>> docs) mutable {
      if (!docs.ok()) return done(docs.error());
      boost::asio::post(
          w_.hash_pool_, [this, docs = std::move(*docs), done = std::move(done)]() mutable {
            w_.RemovePreviousRunTemporaries(docs);
            boost::asio::post(w_.service_.io(), [this, done = std::move(done)]() mutable {
              Recover(std::move(done));
            });
          });
    });
  }
  void Recover(ClaimLoop::Reply<long long> done) {
    w_.RecoverAndSweep(w_.identity_.id, true, [done = std::move(done)](const Result<Recovered>& n) {
      if (!n.ok()) return done(n.error());
      done(n->jobs);
    });
  }
  void ReturnUnheld(const std::vector<std::string>& held,
                    ClaimLoop::Reply<long long> done) override {
    w_.queue_->ReturnUnheld(held, std::move(done));
  }
  void IsPaused(ClaimLoop::Reply<bool> done) override { w_.queue_->IsPaused(std::move(done)); }
  void Claim(ClaimLoop::Reply<std::optional<std::string>> done) override {
    w_.queue_->Claim(
        *w_.claim_redis_, std::chrono::seconds(2),
        [this, done = std::move(done)](Result<std::optional<std::string>> claimed) {
          // Counted by the loop; the reason (Redis down, too few replicas in time
          // with --redis-wait-replicas) for whoever looks closer.
          if (!claimed.ok()) {
            w_.logger_.Debug("claim failed; retrying", {{"error", claimed.error().message}});
          }
          done(std::move(claimed));
        });
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
  std::vector<std::string> HeldDocuments() const override {
    std::vector<std::string> held;
    for (const auto& s : w_.slots_) {
      if (!s->idle()) held.push_back(s->document());
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
  void OnClaimed(std::string document) override {
    for (auto& s : w_.slots_) {
      if (s->idle()) {
        s->Begin(std::move(document));
        return;
      }
    }
  }
  void OnPausedChanged(bool paused) override {
    StatusBoard& board = w_.service_.board();
    board.SetCheck("paused",
                   paused ? std::optional<std::string>("the queue is paused") : std::nullopt);
    w_.service_.metrics().SetReady(board.Readiness().Ready());
    w_.logger_.Info(paused ? "queue paused: not claiming" : "queue resumed");
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
  JobQueue& queue() override { return *w_.queue_; }
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
