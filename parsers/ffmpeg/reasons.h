// The failure reasons of the product contract (docs/failure-reasons.md): names, retry policy and
// the exit code `ffpod run --exit-codes classified` uses. Names are fixed: dashboards, alerts and
// Kubernetes podFailurePolicy rules match on them. Pure, constant data.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace ffpod {

enum class Reason {
  kOk,
  kInputMissing,
  kInputInvalid,
  kBadArguments,
  kEncoderUnavailable,
  kGpuBusy,
  kNetwork,
  kDiskFull,
  kOutputFailed,
  kOutputInvalid,
  kOomKilled,
  kStalled,
  kTimeout,
  kKilled,
  kPreempted,
  kCancelled,
  kWorkerLost,
  kBadJob,
  kUnknown,
};

struct ReasonInfo {
  Reason reason;
  std::string_view name;   // "input_missing"
  bool retryable;          // a later attempt may succeed
  bool counts_as_attempt;  // false for preempted and bad_job (never started)
  int classified_exit;     // exit code under --exit-codes classified; -1 when it has none
};

const ReasonInfo& GetReasonInfo(Reason reason);
inline std::string_view ReasonName(Reason reason) { return GetReasonInfo(reason).name; }
std::optional<Reason> ReasonFromName(std::string_view name);
// Every reason, in the order of docs/failure-reasons.md.
std::span<const ReasonInfo> AllReasons();

}  // namespace ffpod
