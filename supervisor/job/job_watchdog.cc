#include "supervisor/job/job_watchdog.h"

namespace ffpod {

int64_t TrackerTimeUs(SteadyTime start, SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t - start).count();
}

JobWatchdog::JobWatchdog(Clock& clock, const ProgressTracker& tracker, Duration stall_timeout,
                         std::optional<Duration> timeout, Hooks hooks)
    : clock_(clock),
      tracker_(tracker),
      stall_timeout_(stall_timeout),
      timeout_(timeout),
      hooks_(std::move(hooks)),
      timer_(clock.MakeTimer()) {}

void JobWatchdog::Start(SteadyTime start) {
  start_ = start;
  Arm();
}

void JobWatchdog::Arm() {
  timer_->ArmAfter(kPeriod, [this] { Check(); });
}

void JobWatchdog::Check() {
  SteadyTime now = clock_.Now();
  if (timeout_ && !hooks_.stopping() && now - start_ >= *timeout_) hooks_.timeout(now);
  int64_t stall_us = std::chrono::duration_cast<std::chrono::microseconds>(stall_timeout_).count();
  if (!hooks_.stopping() && tracker_.Stalled(TrackerTimeUs(start_, now), stall_us)) {
    hooks_.stall(now);
  }
  Arm();
}

}  // namespace ffpod
