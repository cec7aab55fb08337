// The running job as the drain and the worker's cancel see it: whether it runs, whether a stop
// was sent, how long it has left, and the two ways to end it. FfmpegJob is the real one;
// tests/fakes/fake_job.h stands in for it in the drain's unit tests.
//
// Threading: the io_context thread of the job.
#pragma once

#include <optional>

#include "parsers/ffmpeg/classifier.h"
#include "probes/os/clock.h"

namespace ffpod {

class StoppableJob {
 public:
  virtual ~StoppableJob() = default;

  // Spawned and not yet finished.
  virtual bool running() const = 0;
  // A graceful stop was sent.
  virtual bool stopping() const = 0;
  // ffmpeg already wrote progress=end (its trailer is being written).
  virtual bool finishing() const = 0;
  // Smoothed estimate of the time left (media left over measured speed); nullopt = unknown.
  virtual std::optional<double> EtaSeconds() const = 0;

  // Graceful stop now (never a second one), SIGKILL of the process group at `kill_at`; a later
  // call can only bring that deadline forward.
  virtual void Stop(StopCause cause, SteadyTime kill_at) = 0;
  // SIGKILL to the process group now.
  virtual void Kill() = 0;
};

}  // namespace ffpod
