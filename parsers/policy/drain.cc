#include "parsers/policy/drain.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ffpod {

int64_t DrainClock::DeadlineUs() const {
  return t0_us + static_cast<int64_t>(std::llround((grace_s - margin_s) * 1e6));
}

int64_t DrainClock::ExitByUs() const {
  return t0_us + static_cast<int64_t>(std::llround(grace_s * 1e6));
}

int64_t PredictedExitUs(int64_t now_us, double eta_s) {
  double seconds = std::max(0.0, eta_s) * 1.1 + 1.0;
  return now_us + static_cast<int64_t>(std::llround(std::min(seconds, 1e9) * 1e6));
}

namespace {

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

}  // namespace

DrainDecision DecideDrain(const DrainClock& clock, int signals, int64_t now_us,
                          const JobDrainState& job) {
  const int64_t deadline = clock.DeadlineUs();
  DrainDecision d;
  if (signals >= 3) {
    d.action = DrainAction::kKillNow;
    d.why = "third signal: killing ffmpeg now";
    return d;
  }
  if (signals == 2) {
    // Skip the waiting: stop what still runs, and shorten every SIGKILL deadline to at most M.
    int64_t soon = now_us + static_cast<int64_t>(std::llround(clock.margin_s * 1e6));
    d.kill_at_us = std::min(deadline, soon);
    if (d.kill_at_us < now_us) d.kill_at_us = now_us;
    if (job.stopping || job.finishing) {
      d.action = DrainAction::kKeep;
      d.why = "second signal: SIGKILL deadline brought forward";
    } else {
      d.action = DrainAction::kStopNow;
      d.why = "second signal: stopping without waiting for the job to finish";
    }
    return d;
  }
  d.kill_at_us = deadline;
  if (job.stopping) {
    d.action = DrainAction::kKeep;
    d.why = "already stopping";
    return d;
  }
  if (job.finishing) {
    d.action = DrainAction::kKeep;
    d.why = "ffmpeg is already finishing its output";
    return d;
  }
  if (now_us >= deadline) {
    d.action = DrainAction::kStopNow;
    d.why = "the drain deadline has passed";
    return d;
  }
  if (!job.eta_s) {
    d.action = DrainAction::kStopNow;
    d.why = "the time left is unknown, so it cannot be shown to fit the grace period";
    return d;
  }
  int64_t predicted = PredictedExitUs(now_us, *job.eta_s);
  double left_s = (deadline - now_us) / 1e6;
  if (predicted <= deadline) {
    d.action = DrainAction::kLetFinish;
    d.why = "estimated " + Seconds(*job.eta_s) + " left fits in the " + Seconds(left_s) +
            " before the drain deadline";
  } else {
    d.action = DrainAction::kStopNow;
    d.why = "estimated " + Seconds(*job.eta_s) + " left does not fit in the " + Seconds(left_s) +
            " before the drain deadline";
  }
  return d;
}

}  // namespace ffpod
