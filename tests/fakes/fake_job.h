// A StoppableJob whose state the test sets and whose stops and kills are recorded with the
// time they came (the drain's unit tests drive it instead of a real ffmpeg).
#pragma once

#include <optional>
#include <vector>

#include "probes/os/clock.h"
#include "supervisor/job/stoppable_job.h"

namespace ffpod::fakes {

class FakeJob final : public StoppableJob {
 public:
  struct StopCall {
    SteadyTime at;  // when Stop was called
    StopCause cause;
    SteadyTime kill_at;
  };

  explicit FakeJob(const Clock& clock) : clock_(clock) {}

  bool running() const override { return running_; }
  bool stopping() const override { return !stops.empty(); }
  bool finishing() const override { return finishing_; }
  std::optional<double> EtaSeconds() const override { return eta_s_; }
  void Stop(StopCause cause, SteadyTime kill_at) override {
    stops.push_back({clock_.Now(), cause, kill_at});
  }
  void Kill() override { kills.push_back(clock_.Now()); }

  bool running_ = true;
  bool finishing_ = false;
  std::optional<double> eta_s_;
  std::vector<StopCall> stops;
  std::vector<SteadyTime> kills;

 private:
  const Clock& clock_;
};

}  // namespace ffpod::fakes
