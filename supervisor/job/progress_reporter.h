// What one ffmpeg's progress tells people: a `progress` log record every period (percent, ETA,
// speed, ...) and a trace event at 25, 50 and 75 %.
//
// Threading: the clock's (the io_context's) thread.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "parsers/ffmpeg/progress_tracker.h"
#include "probes/os/clock.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class ProgressReporter {
 public:
  using OnEvent = std::function<void(std::string_view, const boost::json::object&)>;

  // `fields` go on every record and must outlive the reporter.
  ProgressReporter(Clock& clock, Logger& logger, const ProgressTracker& tracker, Duration period,
                   const boost::json::object& fields, OnEvent on_event);
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Starts the periodic record (none when the period is zero); Stop() ends it.
  void Start();
  void Stop() { timer_->Cancel(); }
  // After each progress block: the milestone events it crossed.
  void OnBlock();

 private:
  void Arm();

  Logger& logger_;
  const ProgressTracker& tracker_;
  Duration period_;
  const boost::json::object& fields_;
  OnEvent on_event_;
  std::unique_ptr<Timer> timer_;
  int milestone_ = 0;  // last milestone reported (25/50/75)
};

}  // namespace ffpod
