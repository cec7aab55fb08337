#include "parsers/ffmpeg/reasons.h"

#include <array>

namespace ffpod {
namespace {

// The reasons of docs/failure-reasons.md, in its order. The array is indexed by Reason: keep both
// in the same order.
constexpr std::array<ReasonInfo, 19> kReasons = {{
    {Reason::kOk, "ok", false, true, 0},
    {Reason::kInputMissing, "input_missing", false, true, 10},
    {Reason::kInputInvalid, "input_invalid", false, true, 11},
    {Reason::kBadArguments, "bad_arguments", false, true, 12},
    {Reason::kEncoderUnavailable, "encoder_unavailable", true, true, 20},
    {Reason::kGpuBusy, "gpu_busy", true, true, 21},
    {Reason::kNetwork, "network", true, true, 30},
    {Reason::kDiskFull, "disk_full", true, true, 31},
    {Reason::kOutputFailed, "output_failed", false, true, 32},
    {Reason::kOutputInvalid, "output_invalid", true, true, 33},
    {Reason::kOomKilled, "oom_killed", true, true, 40},
    {Reason::kStalled, "stalled", true, true, 41},
    {Reason::kTimeout, "timeout", false, true, 42},
    {Reason::kKilled, "killed", true, true, 43},
    {Reason::kPreempted, "preempted", true, false, 143},
    {Reason::kCancelled, "cancelled", false, true, 44},
    {Reason::kWorkerLost, "worker_lost", true, true, -1},
    {Reason::kBadJob, "bad_job", false, false, -1},
    {Reason::kUnknown, "unknown", true, true, 1},
}};

constexpr bool IndexedByReason() {
  for (size_t i = 0; i < kReasons.size(); ++i) {
    if (static_cast<size_t>(kReasons[i].reason) != i) return false;
  }
  return static_cast<size_t>(Reason::kUnknown) + 1 == kReasons.size();
}
static_assert(IndexedByReason(), "kReasons must list every Reason in enum order");

}  // namespace

const ReasonInfo& GetReasonInfo(Reason reason) { return kReasons[static_cast<size_t>(reason)]; }

std::optional<Reason> ReasonFromName(std::string_view name) {
  for (const ReasonInfo& info : kReasons) {
    if (info.name == name) return info.reason;
  }
  return std::nullopt;
}

std::span<const ReasonInfo> AllReasons() { return kReasons; }

}  // namespace ffpod
