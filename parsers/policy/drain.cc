#include "parsers/policy/drain.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace ffpod {

namespace {

// Seconds to a whole number of microseconds, rounded to the nearest.
std::chrono::microseconds Micros(double seconds) {
  return std::chrono::microseconds(static_cast<int64_t>(std::llround(seconds * 1e6)));
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

}  // namespace

SteadyTime DrainClock::Deadline() const { return t0 + Micros(grace_s - margin_s); }

SteadyTime DrainClock::ExitBy() const { return t0 + Micros(grace_s); }

SteadyTime PredictedExit(SteadyTime now, double eta_s) {
  double seconds = std::max(0.0, eta_s) * 1.1 + 1.0;
  return now + Micros(std::min(seconds, 1e9));
}

DrainDecision DecideDrain(const DrainClock& clock, int signals, SteadyTime now,
                          const JobDrainState& job) {
  const SteadyTime deadline = clock.Deadline();
  DrainDecision d;
  if (signals >= 3) {
    d.action = DrainAction::kKillNow;
    d.why = "third signal: killing ffmpeg now";
    return d;
  }
  if (signals == 2) {
    // Skip the waiting: stop what still runs, and shorten every SIGKILL deadline to at most M.
    SteadyTime soon = now + Micros(clock.margin_s);
    d.kill_at = std::min(deadline, soon);
    if (d.kill_at < now) d.kill_at = now;
    if (job.stopping || job.finishing) {
      d.action = DrainAction::kKeep;
      d.why = "second signal: SIGKILL deadline brought forward";
    } else {
      d.action = DrainAction::kStopNow;
      d.why = "second signal: stopping without waiting for the job to finish";
    }
    return d;
  }
  d.kill_at = deadline;
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
  if (now >= deadline) {
    d.action = DrainAction::kStopNow;
    d.why = "the drain deadline has passed";
    return d;
  }
  if (!job.eta_s) {
    d.action = DrainAction::kStopNow;
    d.why = "the time left is unknown, so it cannot be shown to fit the grace period";
    return d;
  }
  SteadyTime predicted = PredictedExit(now, *job.eta_s);
  double left_s = std::chrono::duration<double>(deadline - now).count();
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
