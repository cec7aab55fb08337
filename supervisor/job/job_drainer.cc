#include "supervisor/job/job_drainer.h"

#include <cmath>

namespace ffpod {

JobDrainer::JobDrainer(Clock& clock, Logger& logger, StoppableJob& job,
                       boost::json::object log_fields, OnEvent on_event)
    : clock_(clock),
      logger_(logger),
      job_(job),
      fields_(std::move(log_fields)),
      on_event_(std::move(on_event)),
      timer_(clock.MakeTimer()) {}

void JobDrainer::Check(const DrainClock& drain, int signals) {
  drain_ = drain;
  signals_ = signals;
  if (!job_.running()) return;
  JobDrainState state;
  state.finishing = job_.finishing();
  state.stopping = job_.stopping();
  state.eta_s = job_.EtaSeconds();
  DrainDecision d = DecideDrain(drain, signals, clock_.Now(), state);
  boost::json::object f = fields_;
  f["decision"] = d.why;
  if (state.eta_s) f["eta_s"] = std::round(*state.eta_s * 10) / 10;
  boost::json::object event{{"decision", d.why}};
  switch (d.action) {
    case DrainAction::kLetFinish:
      logger_.Info("drain: letting the job finish", f);
      event["action"] = "let_finish";
      timer_->ArmAfter(std::chrono::seconds(1), [this] { Check(drain_, signals_); });
      break;
    case DrainAction::kStopNow:
      logger_.Info("drain: stopping the job", f);
      event["action"] = "stop";
      job_.Stop(StopCause::kDrain, d.kill_at);
      break;
    case DrainAction::kKillNow:
      logger_.Warn("drain: killing the job", f);
      event["action"] = "kill";
      job_.Stop(StopCause::kDrain, clock_.Now());
      job_.Kill();
      break;
    case DrainAction::kKeep:
      event["action"] = "keep";
      if (state.stopping) {
        job_.Stop(StopCause::kDrain, d.kill_at);  // only brings the SIGKILL deadline forward
      } else {
        // Already finishing: reported normally, but gone by the deadline regardless.
        timer_->ArmAt(d.kill_at, [this] {
          if (job_.running()) job_.Stop(StopCause::kDrain, clock_.Now());
        });
      }
      break;
  }
  if (on_event_) on_event_("drain", event);
}

}  // namespace ffpod
