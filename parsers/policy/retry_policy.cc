#include "parsers/policy/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace ffpod {

double RetryDelaySeconds(int attempt, const RetryPolicy& policy, double jitter01) {
  int exponent = std::clamp(attempt - 1, 0, 30);
  double delay = std::min(policy.max_s, policy.base_s * std::ldexp(1.0, exponent));
  jitter01 = std::clamp(jitter01, 0.0, 1.0);
  return delay / 2 + delay / 2 * jitter01;
}

AttemptDisposition DecideAfterAttempt(Reason reason, int attempt, const RetryPolicy& policy,
                                      double jitter01) {
  AttemptDisposition d;
  if (reason == Reason::kOk) {
    d.status = ResultStatus::kSucceeded;
    return d;
  }
  if (reason == Reason::kPreempted) {
    d.status = ResultStatus::kPreempted;
    return d;
  }
  if (reason == Reason::kCancelled) {
    // A deliberate stop ends the job, but it is no failure: not dead-lettered.
    d.status = ResultStatus::kCancelled;
    return d;
  }
  const ReasonInfo& info = GetReasonInfo(reason);
  // An invalid output is retried once: the next attempt may read a complete input (an upload
  // that was still arriving), but a second one reads what the first did.
  bool retries_left = attempt < policy.max_attempts &&
                      (reason != Reason::kOutputInvalid || attempt < kOutputInvalidAttempts);
  if (!info.retryable || !retries_left) {
    d.status = ResultStatus::kDead;
    return d;
  }
  d.status = ResultStatus::kRetrying;
  d.delay_s = RetryDelaySeconds(attempt, policy, jitter01);
  return d;
}

}  // namespace ffpod
