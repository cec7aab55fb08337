// The drain decision (docs/operations.md): at the first SIGTERM at t0, with grace G and margin M,
// every running job must have exited by the deadline D = t0 + G - M, leaving M to report and
// exit before the kubelet's SIGKILL at t0 + G.
//
// A job whose estimated finish fits before D is left to finish and re-checked as it goes
// (speed can drop); any other is stopped gracefully now, with SIGKILL to its process group at
// D if it has not exited. A job already finishing (ffmpeg wrote progress=end) is left alone. A
// second signal skips the waiting: jobs still running are stopped now, and SIGKILL comes after
// at most M. A third signal kills at once.
//
// Pure: time is passed in (steady-clock time points), so every branch is tested with
// simulated time, after envoy's drain manager.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace ffpod {

using SteadyTime = std::chrono::steady_clock::time_point;

struct DrainClock {
  SteadyTime t0;        // first signal
  double grace_s = 30;  // --grace-period
  double margin_s = 5;  // --drain-margin

  SteadyTime Deadline() const;  // D = t0 + G - M: every job has exited by then
  SteadyTime ExitBy() const;    // t0 + G: ffpod has exited by then
};

struct JobDrainState {
  std::optional<double> eta_s;  // smoothed estimate of the time left; nullopt = unknown
  bool finishing = false;       // ffmpeg already wrote progress=end (trailer being written)
  bool stopping = false;        // a graceful stop was already sent
};

enum class DrainAction {
  kLetFinish,  // the estimate fits: keep running, check again soon
  kStopNow,    // graceful stop now, SIGKILL at kill_at
  kKillNow,    // SIGKILL now
  kKeep,       // already stopping or finishing: nothing new to do
};

struct DrainDecision {
  DrainAction action = DrainAction::kKeep;
  SteadyTime kill_at;  // for kStopNow (and kKeep of a stopping job): the SIGKILL deadline
  std::string why;     // one sentence for the log and the span event
};

// The finish time predicted for a job with `eta_s` left, at `now`: the ETA plus 10 % and
// one second for the trailer, so that a job that only just fits is not cut at the deadline.
SteadyTime PredictedExit(SteadyTime now, double eta_s);

// Decides for one job at `now`, the `signals`-th signal having been received (1, 2, 3+).
DrainDecision DecideDrain(const DrainClock& clock, int signals, SteadyTime now,
                          const JobDrainState& job);

}  // namespace ffpod
