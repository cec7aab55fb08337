// The stop of one ffmpeg: one graceful stop (the caller sends `q` or SIGINT), then SIGKILL of
// the process group at a deadline that later stops can only bring forward, never push back.
// ffmpeg never gets a second graceful signal: one during its trailer corrupts an MP4.
//
// States: running -> stopping (cause and kill deadline set, kill timer armed) -> killed (the
// deadline passed) ; Disarm() (ffmpeg was reaped) ends the timer in any state.
//
// Threading: the clock's (the io_context's) thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "parsers/ffmpeg/classifier.h"
#include "probes/os/clock.h"

namespace ffpod {

class StopEscalation {
 public:
  // `kill` is called when the deadline passes (SIGKILL to the process group).
  StopEscalation(Clock& clock, std::function<void()> kill);
  StopEscalation(const StopEscalation&) = delete;
  StopEscalation& operator=(const StopEscalation&) = delete;

  // The first call records `cause`, arms the kill at `kill_at` and returns true: the caller
  // sends the graceful stop. Any later call returns false and only moves an earlier `kill_at`
  // in.
  bool Begin(StopCause cause, SteadyTime kill_at);
  // ffmpeg is gone: the kill timer never fires.
  void Disarm() { timer_->Cancel(); }

  bool stopping() const { return cause_ != StopCause::kNone; }
  StopCause cause() const { return cause_; }
  std::optional<SteadyTime> kill_at() const { return kill_at_; }

 private:
  void Arm(SteadyTime kill_at);

  std::function<void()> kill_;
  std::unique_ptr<Timer> timer_;
  StopCause cause_ = StopCause::kNone;
  std::optional<SteadyTime> kill_at_;
};

}  // namespace ffpod
