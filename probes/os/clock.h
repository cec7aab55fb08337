// Time, behind one seam: the steady clock that every deadline, timeout and period is measured
// on, the wall clock that timestamps documents, and one-shot timers on the steady clock.
//
// Production code takes a `Clock&` (AsioClock, timers on the service's io_context); unit tests
// pass tests/fakes/fake_clock.h, whose time moves only when the test says so, so a drain's
// escalation, a stall watchdog or a retry backoff is tested on simulated time without sleeping
// (after envoy's drain manager tests).
//
// Threading: a Clock and its timers belong to one thread (the io_context's); Now() and
// WallNow() of AsioClock may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace ffpod {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

// One-shot timer. Arming again replaces the earlier arming; Cancel() and destroying the timer
// mean the callback is never called. The callback runs on the clock's thread, never inside
// ArmAt/ArmAfter itself, and may re-arm or destroy the timer.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void ArmAt(SteadyTime when, std::function<void()> fire) = 0;
  virtual void ArmAfter(Duration delay, std::function<void()> fire) = 0;
  virtual void Cancel() = 0;
  // Armed and not yet fired or cancelled.
  virtual bool armed() const = 0;
  // When it fires (meaningful while armed).
  virtual SteadyTime expiry() const = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() const = 0;
  virtual WallTime WallNow() const = 0;
  virtual std::unique_ptr<Timer> MakeTimer() = 0;
};

// The real clocks; timers are asio steady_timers on `io`.
class AsioClock final : public Clock {
 public:
  explicit AsioClock(boost::asio::io_context& io) : io_(io) {}
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  std::unique_ptr<Timer> MakeTimer() override;

 private:
  boost::asio::io_context& io_;
};

// Seconds (as the configuration writes them) to a steady-clock duration, rounded to the
// nearest microsecond; negative values become zero.
Duration Seconds(double seconds);

}  // namespace ffpod
