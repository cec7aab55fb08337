// What happens to a job after an attempt (docs/queue.md, docs/failure-reasons.md): succeeded,
// retried after a delay, dead-lettered, or requeued at the head of pending (a drain). Pure.
//
// Retryable failures wait min(max, base * 2^(attempt-1)) with "equal jitter" (half fixed, half
// random), so a fleet that failed together does not retry together. When the job's attempts are
// used up, or the reason is not retryable, it goes to dead at once. A preemption does not count
// as an attempt and goes back to the head of pending without delay.
#pragma once

#include <optional>

#include "parsers/documents/job.h"
#include "parsers/ffmpeg/reasons.h"

namespace ffpod {

struct RetryPolicy {
  int max_attempts = 3;  // the job's max_attempts, else --max-attempts
  double base_s = 5;     // --retry-base
  double max_s = 600;    // --retry-max
};

struct AttemptDisposition {
  ResultStatus status = ResultStatus::kDead;
  std::optional<double> delay_s;  // for kRetrying
};

// Attempts a job gets when they end output_invalid: one retry, whatever max_attempts allows.
inline constexpr int kOutputInvalidAttempts = 2;

// `attempt` is the number of the attempt that just ended (1-based); `jitter01` is uniform in
// [0, 1).
AttemptDisposition DecideAfterAttempt(Reason reason, int attempt, const RetryPolicy& policy,
                                      double jitter01);

// The delay before retry number `attempt` (after attempt `attempt` failed).
double RetryDelaySeconds(int attempt, const RetryPolicy& policy, double jitter01);

}  // namespace ffpod
