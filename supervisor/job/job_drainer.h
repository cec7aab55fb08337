// Applies the drain decision (parsers/policy/drain.h) to one running job: stop it now, let it
// finish and re-check every second (its speed can drop), or kill it, and make sure that even a
// job that is already finishing is gone by the drain deadline. `run` has one, a worker one per
// busy slot.
//
// States (per Check): let-finish (a one-second re-check armed), stopping (the job's own kill
// timer holds the deadline), kept (finishing: a timer stops it at the deadline if it still
// runs), killed. Cancel() disarms the timer once the job has ended.
//
// Threading: the clock's (the io_context's) thread.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "parsers/policy/drain.h"
#include "probes/os/clock.h"
#include "supervisor/job/stoppable_job.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class JobDrainer {
 public:
  using OnEvent = std::function<void(std::string_view, const boost::json::object&)>;

  // `on_event(name, attributes)` reports each decision (for traces).
  JobDrainer(Clock& clock, Logger& logger, StoppableJob& job, boost::json::object log_fields,
             OnEvent on_event = {});
  JobDrainer(const JobDrainer&) = delete;
  JobDrainer& operator=(const JobDrainer&) = delete;

  // Decides again after the `signals`-th signal (and then every second while the job is left to
  // finish). `drain` holds the drain's t0, grace and margin.
  void Check(const DrainClock& drain, int signals);
  void Cancel() { timer_->Cancel(); }

 private:
  Clock& clock_;
  Logger& logger_;
  StoppableJob& job_;
  boost::json::object fields_;
  OnEvent on_event_;
  std::unique_ptr<Timer> timer_;
  DrainClock drain_;
  int signals_ = 0;
};

}  // namespace ffpod
