#include "supervisor/modes/step_retry.h"

#include <algorithm>

namespace ffpod {

StepRetry::StepRetry(Clock& clock, OnFailure on_failure)
    : on_failure_(std::move(on_failure)), timer_(clock.MakeTimer()) {}

void StepRetry::Run(const Step& step, const std::function<void()>& then) {
  Try(step, then, kFirstWait);
}

void StepRetry::Try(const Step& step, const std::function<void()>& then,
                    std::chrono::milliseconds wait) {
  step([this, step, then, wait](const Status& status) {
    if (status.ok()) {
      then();
      return;
    }
    if (on_failure_) on_failure_(status.error(), wait);
    timer_->ArmAfter(wait,
                     [this, step, then, wait] { Try(step, then, std::min(kMaxWait, wait * 2)); });
  });
}

}  // namespace ffpod
