#include "supervisor/job/job_drainer.h"

#include <cmath>

namespace ffpod {

using std::chrono::steady_clock;

JobDrainer::JobDrainer(boost::asio::io_context& io, Logger& logger, FfmpegJob& job,
                       boost::json::object log_fields,
                       std::function<void(std::string_view, const boost::json::object&)> on_event)
    : logger_(logger),
      job_(job),
      fields_(std::move(log_fields)),
      on_event_(std::move(on_event)),
      timer_(io) {}

int64_t JobDrainer::NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             steady_clock::now().time_since_epoch())
      .count();
}

void JobDrainer::Check(const DrainClock& clock, int signals) {
  clock_ = clock;
  signals_ = signals;
  if (!job_.running()) return;
  ProgressView v = job_.View();
  JobDrainState state;
  state.finishing = v.ended;
  state.stopping = job_.stopping();
  if (auto remaining = job_.tracker().RemainingMediaSeconds()) {
    auto speed = job_.tracker().SmoothedSpeed();
    if (speed && *speed > 0) state.eta_s = *remaining / *speed;
  }
  DrainDecision d = DecideDrain(clock, signals, NowUs(), state);
  auto kill_at = steady_clock::time_point(std::chrono::microseconds(d.kill_at_us));
  boost::json::object f = fields_;
  f["decision"] = d.why;
  if (state.eta_s) f["eta_s"] = std::round(*state.eta_s * 10) / 10;
  boost::json::object event{{"decision", d.why}};
  switch (d.action) {
    case DrainAction::kLetFinish:
      logger_.Info("drain: letting the job finish", f);
      event["action"] = "let_finish";
      timer_.expires_after(std::chrono::seconds(1));
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) Check(clock_, signals_);
      });
      break;
    case DrainAction::kStopNow:
      logger_.Info("drain: stopping the job", f);
      event["action"] = "stop";
      job_.Stop(StopCause::kDrain, kill_at);
      break;
    case DrainAction::kKillNow:
      logger_.Warn("drain: killing the job", f);
      event["action"] = "kill";
      job_.Stop(StopCause::kDrain, steady_clock::now());
      job_.Kill();
      break;
    case DrainAction::kKeep:
      event["action"] = "keep";
      if (state.stopping) {
        job_.Stop(StopCause::kDrain, kill_at);  // only brings the SIGKILL deadline forward
      } else {
        // Already finishing: reported normally, but gone by the deadline regardless.
        timer_.expires_at(kill_at);
        timer_.async_wait([this](const boost::system::error_code& ec) {
          if (!ec && job_.running()) job_.Stop(StopCause::kDrain, steady_clock::now());
        });
      }
      break;
  }
  if (on_event_) on_event_("drain", event);
}

}  // namespace ffpod
