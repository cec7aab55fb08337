#include "supervisor/job/stop_escalation.h"

namespace ffpod {

StopEscalation::StopEscalation(Clock& clock, std::function<void()> kill)
    : kill_(std::move(kill)), timer_(clock.MakeTimer()) {}

bool StopEscalation::Begin(StopCause cause, SteadyTime kill_at) {
  if (cause_ != StopCause::kNone) {
    // Already stopping: never a second signal; only the SIGKILL deadline may come forward.
    if (!kill_at_ || kill_at < *kill_at_) Arm(kill_at);
    return false;
  }
  cause_ = cause;
  Arm(kill_at);
  return true;
}

void StopEscalation::Arm(SteadyTime kill_at) {
  kill_at_ = kill_at;
  timer_->ArmAt(kill_at, [this] { kill_(); });
}

}  // namespace ffpod
