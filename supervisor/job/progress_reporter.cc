#include "supervisor/job/progress_reporter.h"

#include <cmath>

namespace ffpod {

ProgressReporter::ProgressReporter(Clock& clock, Logger& logger, const ProgressTracker& tracker,
                                   Duration period, const boost::json::object& fields,
                                   OnEvent on_event)
    : logger_(logger),
      tracker_(tracker),
      period_(period),
      fields_(fields),
      on_event_(std::move(on_event)),
      timer_(clock.MakeTimer()) {}

void ProgressReporter::Start() {
  if (period_ > Duration::zero()) Arm();
}

void ProgressReporter::Arm() {
  timer_->ArmAfter(period_, [this] {
    boost::json::object f = fields_;
    for (auto& kv : ProgressFields(tracker_.View())) f[kv.key()] = kv.value();
    logger_.Info("progress", f);
    Arm();
  });
}

void ProgressReporter::OnBlock() {
  ProgressView v = tracker_.View();
  if (!v.ratio) return;
  int pct = static_cast<int>(std::floor(*v.ratio * 100));
  while (milestone_ < 75 && pct >= milestone_ + 25) {
    milestone_ += 25;
    if (on_event_) on_event_("progress", {{"percent", milestone_}});
  }
}

}  // namespace ffpod
