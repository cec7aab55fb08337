// Applies the drain decision (parsers/policy/drain.h) to one running FfmpegJob: stop it now, let it
// finish and re-check every second (its speed can drop), or kill it, and make sure that even a
// job that is already finishing is gone by the drain deadline. `run` has one, a worker one per
// busy slot.
//
// Threading: the io_context thread of the job.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <functional>

#include "parsers/policy/drain.h"
#include "supervisor/job/ffmpeg_job.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class JobDrainer {
 public:
  // `on_event(name, attributes)` reports each decision (for traces).
  JobDrainer(boost::asio::io_context& io, Logger& logger, FfmpegJob& job,
             boost::json::object log_fields,
             std::function<void(std::string_view, const boost::json::object&)> on_event = {});
  JobDrainer(const JobDrainer&) = delete;
  JobDrainer& operator=(const JobDrainer&) = delete;

  // Decides again after the `signals`-th signal (and then every second while the job is left to
  // finish). `clock` holds the drain's t0, grace and margin.
  void Check(const DrainClock& clock, int signals);
  void Cancel() { timer_.cancel(); }

  // Steady-clock microseconds, the time base of DrainClock.
  static int64_t NowUs();

 private:
  Logger& logger_;
  FfmpegJob& job_;
  boost::json::object fields_;
  std::function<void(std::string_view, const boost::json::object&)> on_event_;
  boost::asio::steady_timer timer_;
  DrainClock clock_;
  int signals_ = 0;
};

}  // namespace ffpod
