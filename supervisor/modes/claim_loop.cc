#include "supervisor/modes/claim_loop.h"

#include <utility>

namespace ffpod {

ClaimLoop::ClaimLoop(Clock& clock, Queue& queue, Owner& owner)
    : clock_(clock), queue_(queue), owner_(owner), retry_(clock.MakeTimer()) {}

void ClaimLoop::Enable() {
  enabled_ = true;
  Kick();
}

void ClaimLoop::Stop() {
  stopped_ = true;
  retry_->Cancel();
}

void ClaimLoop::Kick() {
  if (in_flight_ || stopped_ || !enabled_) return;
  if (!queue_.up() || !owner_.HasIdleSlot()) return;
  // No claims while ffmpeg cannot run or a required encoder is not usable: the job would only
  // fail here. Another pod (or this one, once the probe passes) takes it.
  if (owner_.ClaimsBlocked()) {
    RetryLater();
    return;
  }
  in_flight_ = true;
  if (Prelude()) return;
  CheckPaused();
}

// Before a claim: the self-recovery at start, and handing back claims whose reply was lost.
// True when it started one of those (AfterPrelude kicks again when it is done).
bool ClaimLoop::Prelude() {
  std::weak_ptr<bool> alive = alive_;
  if (!self_recovered_) {
    // Until this has worked nothing is claimed (the heartbeat keeps other workers off the list).
    queue_.RecoverOwn([this, alive](const std::string& error, long long n) {
      if (alive.expired()) return;
      if (error.empty()) {
        self_recovered_ = true;
        last_reconcile_ = clock_.Now();
        if (n > 0) owner_.OnRecovered(n, 0);
      }
      AfterPrelude(error);
    });
    return true;
  }
  if (reconcile_needed_ || clock_.Now() - last_reconcile_ >= kReconcileEvery) {
    queue_.ReturnUnheld(owner_.HeldDocuments(),
                        [this, alive](const std::string& error, long long n) {
                          if (alive.expired()) return;
                          if (error.empty()) {
                            reconcile_needed_ = false;
                            last_reconcile_ = clock_.Now();
                            if (n > 0) owner_.OnRecovered(0, n);
                          }
                          AfterPrelude(error);
                        });
    return true;
  }
  return false;
}

void ClaimLoop::AfterPrelude(const std::string& error) {
  in_flight_ = false;
  if (!error.empty()) {
    owner_.OnQueueError();
    RetryLater();
    return;
  }
  Kick();
}

void ClaimLoop::CheckPaused() {
  std::weak_ptr<bool> alive = alive_;
  queue_.IsPaused([this, alive](const std::string& error, bool paused) {
    if (!alive.expired()) OnPaused(error, paused);
  });
}

void ClaimLoop::OnPaused(const std::string& error, bool paused) {
  if (!error.empty() || paused) {
    in_flight_ = false;
    if (error.empty() && paused != paused_) {
      paused_ = true;
      owner_.OnPausedChanged(true);
    }
    if (!error.empty()) owner_.OnQueueError();
    RetryLater();
    return;
  }
  if (paused_) {
    paused_ = false;
    owner_.OnPausedChanged(false);
  }
  if (stopped_) {
    in_flight_ = false;
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  queue_.Claim([this, alive](const std::string& error, std::string document) {
    if (!alive.expired()) OnClaim(error, std::move(document));
  });
}

void ClaimLoop::OnClaim(const std::string& error, std::string document) {
  in_flight_ = false;
  if (stopped_ && document.empty()) return;  // the drain closed the blocking connection
  if (!error.empty()) {
    // The BLMOVE may have run with its reply lost: check the active list before claiming.
    reconcile_needed_ = true;
    owner_.OnQueueError();
    RetryLater();
    return;
  }
  if (!document.empty()) owner_.OnClaimed(std::move(document));
  Kick();
}

void ClaimLoop::RetryLater() {
  if (stopped_) return;
  retry_->ArmAfter(kRetryAfter, [this] { Kick(); });
}

}  // namespace ffpod
