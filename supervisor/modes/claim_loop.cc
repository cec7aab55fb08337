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
    queue_.RecoverOwn([this, alive](const Result<long long>& n) {
      if (alive.expired()) return;
      if (n.ok()) {
        self_recovered_ = true;
        last_reconcile_ = clock_.Now();
        if (*n > 0) owner_.OnRecovered(*n, 0);
      }
      AfterPrelude(n.status());
    });
    return true;
  }
  if (reconcile_needed_ || clock_.Now() - last_reconcile_ >= kReconcileEvery) {
    queue_.ReturnUnheld(owner_.HeldDocuments(), [this, alive](const Result<long long>& n) {
      if (alive.expired()) return;
      if (n.ok()) {
        reconcile_needed_ = false;
        last_reconcile_ = clock_.Now();
        if (*n > 0) owner_.OnRecovered(0, *n);
      }
      AfterPrelude(n.status());
    });
    return true;
  }
  return false;
}

void ClaimLoop::AfterPrelude(const Status& status) {
  in_flight_ = false;
  if (!status.ok()) {
    owner_.OnQueueError();
    RetryLater();
    return;
  }
  Kick();
}

void ClaimLoop::CheckPaused() {
  std::weak_ptr<bool> alive = alive_;
  queue_.IsPaused([this, alive](const Result<bool>& paused) {
    if (!alive.expired()) OnPaused(paused);
  });
}

void ClaimLoop::OnPaused(const Result<bool>& paused) {
  if (!paused.ok() || *paused) {
    in_flight_ = false;
    if (paused.ok() && !paused_) {
      paused_ = true;
      owner_.OnPausedChanged(true);
    }
    if (!paused.ok()) owner_.OnQueueError();
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
  queue_.Claim([this, alive](Result<std::optional<Claimed>> document) {
    if (!alive.expired()) OnClaim(std::move(document));
  });
}

void ClaimLoop::OnClaim(Result<std::optional<Claimed>> document) {
  in_flight_ = false;
  // The drain closed the blocking connection (or nothing arrived before it did).
  if (stopped_ && (!document.ok() || !document->has_value())) return;
  if (!document.ok()) {
    // The BLMOVE may have run with its reply lost: check the active list before claiming.
    reconcile_needed_ = true;
    owner_.OnQueueError();
    RetryLater();
    return;
  }
  if (document->has_value()) owner_.OnClaimed(std::move(**document));
  Kick();
}

void ClaimLoop::RetryLater() {
  if (stopped_) return;
  retry_->ArmAfter(kRetryAfter, [this] { Kick(); });
}

}  // namespace ffpod
