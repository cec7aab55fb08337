// WorkerSlot, the outputs' part: publishing the attempt's temporaries onto the final paths under
// the claim's lease, and removing temporaries that no attempt can publish any more.
#include <boost/asio/post.hpp>

#include "supervisor/job/output_verifier.h"
#include "supervisor/job/outputs.h"
#include "supervisor/modes/worker_slot.h"

namespace ffpod {

namespace asio = boost::asio;

// The job's verify field, else --verify-outputs; only declared outputs are verified.
void WorkerSlot::Verify(std::optional<int64_t> expected_us) {
  VerifyPolicy policy = spec_.verify.value_or(VerifyPolicy{});
  if (!spec_.verify) policy.enabled = ctx_.config.verify_outputs;
  verified_ = VerifyOutcome{};
  if (spec_.outputs.empty()) {
    Publish();
    return;
  }
  if (!policy.enabled) {
    verified_.status = "off";
    Publish();
    return;
  }
  state_ = State::kPublishing;
  attempt_->trace().VerifyStarted(spec_.outputs.size());
  VerifierTools tools{.ffmpeg = ctx_.config.ffmpeg, .ffprobe = ctx_.config.ffprobe};
  VerifyOutputs(
      ctx_.service.processes(), tools,
      VerifyTargets(spec_.args, spec_.outputs, attempt_->spec().temporaries, expected_us, policy),
      attempt_->decode_errors(), policy,
      [this](VerifyOutcome outcome) { OnVerified(std::move(outcome)); });
}

void WorkerSlot::OnVerified(VerifyOutcome outcome) {
  verified_ = std::move(outcome);
  attempt_->trace().VerifyEnded(verified_.status, verified_.message);
  if (verified_.status != "failed") {
    Publish();
    return;
  }
  RemoveTemporaries(attempt_->spec().temporaries);
  result_->reason = Reason::kOutputInvalid;
  result_->message = verified_.message;
  AddVerification(*result_, verified_);
  ctx_.logger.Warn("output verification failed; nothing was published", [&] {
    boost::json::object f = Fields();
    f["error"] = verified_.message;
    return f;
  }());
  Decide();
}

// Hash off the loop (a big output takes a while to read), then rename under the claim's lease.
void WorkerSlot::Publish() {
  state_ = State::kPublishing;
  asio::post(ctx_.hash_pool, [this, temporaries = attempt_->spec().temporaries,
                              outputs = spec_.outputs, &io = ctx_.service.io()] {
    PublishedOutputs hashed = HashBeforePublishing(temporaries, outputs);
    asio::post(io, [this, hashed = std::move(hashed)]() mutable { OnHashed(std::move(hashed)); });
  });
}

void WorkerSlot::OnHashed(PublishedOutputs hashed) {
  result_->outputs = std::move(hashed.files);
  if (!verified_.status.empty()) AddVerification(*result_, verified_);
  unpublished_ = attempt_->spec().temporaries;
  if (!hashed.status.ok()) {
    RemoveTemporaries(unpublished_);
    result_->reason = Reason::kOutputFailed;
    result_->message = hashed.status.error().message;
    Decide();
    return;
  }
  // A playlist with a hole is not published (unless verification is off).
  if (auto hole = JudgeHlsOutputs(result_->outputs); hole && verified_.status != "off") {
    RemoveTemporaries(unpublished_);
    result_->reason = Reason::kOutputInvalid;
    result_->message = *hole;
    result_->verification = "failed";
    result_->verification_message = *hole;
    ctx_.logger.Warn("output verification failed; nothing was published", [&] {
      boost::json::object f = Fields();
      f["error"] = *hole;
      return f;
    }());
    Decide();
    return;
  }
  if (unpublished_.empty()) {
    Decide();  // outputs written in place: nothing to rename
    return;
  }
  HoldAndRename();
}

// Renaming onto the final paths only while the claim is known to hold the job: Hold renews the
// heartbeat, so no recovery can fence the claim before the heartbeat's TTL has passed. The lease
// ends a heartbeat period before that (the two clocks need not agree to the millisecond).
void WorkerSlot::HoldAndRename() {
  retry_.Run(
      [this](const StepRetry::Next& next) {
        hold_sent_ = ctx_.clock.Now();
        queue().Hold(document_, spec_.id, start_token_, owner_.HeartbeatInfo(),
                     owner_.HeartbeatTtl(), [this, next](Result<bool> held) {
                       if (held.ok()) held_ = *held;
                       next(held.status());
                     });
      },
      [this] {
        if (!held_) {
          fenced_ = true;
          RemoveTemporaries(unpublished_);
          Record();
          return;
        }
        std::chrono::milliseconds ttl = owner_.HeartbeatTtl();
        RenameWithinLease(hold_sent_ + ttl - ttl / 3);
      });
}

void WorkerSlot::RenameWithinLease(SteadyTime lease_until) {
  while (!unpublished_.empty()) {
    if (ctx_.clock.Now() >= lease_until) {
      HoldAndRename();  // (this worker was stopped or slow): ask again
      return;
    }
    auto [final_path, temporary] = *unpublished_.begin();
    if (Status published = PublishOutput(final_path, temporary); !published.ok()) {
      RemoveTemporaries(unpublished_);
      result_->reason = Reason::kOutputFailed;
      result_->message = published.error().message;
      break;
    }
    unpublished_.erase(unpublished_.begin());
  }
  Decide();
}

// The job ended: a temporary of its outputs left now (by a fenced attempt killed before it
// cleaned up) would have no one else to remove it.
void WorkerSlot::SweepEndedJob() {
  if (!ctx_.config.atomic_outputs || spec_.outputs.empty()) return;
  asio::post(ctx_.hash_pool,
             [outputs = spec_.outputs] { ffpod::RemoveOtherTemporaries(outputs, {}); });
}

// Temporaries that earlier attempts of this job left (a worker killed mid-job): this claim holds
// the job now, so none of them can be published any more.
void WorkerSlot::RemoveOtherTemporaries() {
  const auto& own = attempt_->spec().temporaries;
  if (own.empty()) return;
  asio::post(ctx_.hash_pool, [outputs = spec_.outputs, own, fields = Fields(),
                              &logger = ctx_.logger, &io = ctx_.service.io()]() mutable {
    int removed = ffpod::RemoveOtherTemporaries(outputs, own);
    if (removed == 0) return;
    asio::post(io, [removed, fields = std::move(fields), &logger]() mutable {
      fields["temporaries"] = removed;
      logger.Info("removed temporary outputs of earlier attempts of this job", fields);
    });
  });
}

}  // namespace ffpod
