// Runs one queue step until it succeeds: a failed try is retried after 250 ms, the wait doubling
// up to 5 s. While Redis is down a worker slot's claimed job stays in the worker's active list,
// so nothing is lost if ffpod dies meanwhile; the steps are safe to repeat (docs/queue.md).
//
// Threading: the clock's (the io_context's) thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "parsers/common/result.h"
#include "probes/os/clock.h"

namespace ffpod {

class StepRetry {
 public:
  // A step's answer: OK, or why it failed.
  using Next = std::function<void(const Status& status)>;
  // One try of the step; it calls `next` once with its answer.
  using Step = std::function<void(Next next)>;
  // Each failed try, before the wait (for the log and the error metric).
  using OnFailure = std::function<void(const Error& error, std::chrono::milliseconds wait)>;

  static constexpr std::chrono::milliseconds kFirstWait{250};
  static constexpr std::chrono::milliseconds kMaxWait{5000};

  StepRetry(Clock& clock, OnFailure on_failure);
  StepRetry(const StepRetry&) = delete;
  StepRetry& operator=(const StepRetry&) = delete;

  // Tries `step` now and after each failure until one succeeds; then `then`. One run at a time.
  void Run(const Step& step, const std::function<void()>& then);
  // A retry that waits is not tried again.
  void Cancel() { timer_->Cancel(); }
  // Waiting for the next try.
  bool waiting() const { return timer_->armed(); }

 private:
  void Try(const Step& step, const std::function<void()>& then, std::chrono::milliseconds wait);

  OnFailure on_failure_;
  std::unique_ptr<Timer> timer_;
};

}  // namespace ffpod
