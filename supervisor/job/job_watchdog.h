// The stall and timeout watchdog of one ffmpeg: every 250 ms it checks whether the job ran past
// its timeout (measured from the start) and whether ffmpeg made no progress for the stall
// timeout (no progress block, or blocks whose position does not move; before the first block,
// measured from the start). Either fires once a stop is due; nothing fires while the job is
// already stopping. The check repeats until Stop().
//
// Threading: the clock's (the io_context's) thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "parsers/ffmpeg/progress_tracker.h"
#include "probes/os/clock.h"

namespace ffpod {

// `t` in the time base of a ProgressTracker created at `start`: microseconds since it.
int64_t TrackerTimeUs(SteadyTime start, SteadyTime t);

class JobWatchdog {
 public:
  struct Hooks {
    std::function<bool()> stopping;           // a stop was already sent
    std::function<void(SteadyTime)> timeout;  // the job ran past its timeout, at `now`
    std::function<void(SteadyTime)> stall;    // no progress for the stall timeout, at `now`
  };
  static constexpr std::chrono::milliseconds kPeriod{250};

  // `stall_timeout` zero: no stall check. `timeout` nullopt: none.
  JobWatchdog(Clock& clock, const ProgressTracker& tracker, Duration stall_timeout,
              std::optional<Duration> timeout, Hooks hooks);
  JobWatchdog(const JobWatchdog&) = delete;
  JobWatchdog& operator=(const JobWatchdog&) = delete;

  // Starts checking; `start` is when ffmpeg started (the tracker's time zero).
  void Start(SteadyTime start);
  void Stop() { timer_->Cancel(); }

 private:
  void Arm();
  void Check();

  Clock& clock_;
  const ProgressTracker& tracker_;
  Duration stall_timeout_;
  std::optional<Duration> timeout_;
  Hooks hooks_;
  std::unique_ptr<Timer> timer_;
  SteadyTime start_;
};

}  // namespace ffpod
