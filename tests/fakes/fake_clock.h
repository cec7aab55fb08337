// A Clock whose time moves only when the test calls Advance(): timers fire in expiry order (ties
// in arming order), with Now() equal to each timer's expiry while its callback runs, so a test
// of a timed state machine reads like a timeline. Single-threaded, like the loop it stands in
// for.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "probes/os/clock.h"

namespace ffpod::fakes {

class FakeClock final : public Clock {
 public:
  // Starts at an arbitrary, non-zero steady time and a fixed wall time (2026-01-01T00:00:00Z).
  FakeClock()
      : now_(SteadyTime(std::chrono::hours(1000))),
        wall_(WallTime(std::chrono::seconds(1767225600))) {}

  SteadyTime Now() const override { return now_; }
  WallTime WallNow() const override {
    return wall_ + std::chrono::duration_cast<WallTime::duration>(now_ - start_);
  }
  std::unique_ptr<Timer> MakeTimer() override { return std::make_unique<FakeTimer>(*this); }

  // Moves time forward by `d`, firing every timer that falls due on the way (also those armed by
  // callbacks during the advance, when they fall due before its end).
  void Advance(Duration d) { AdvanceTo(now_ + d); }
  void AdvanceTo(SteadyTime until) {
    while (!due_.empty() && due_.begin()->first.first <= until) {
      auto it = due_.begin();
      now_ = std::max(now_, it->first.first);
      FakeTimer* t = it->second;
      due_.erase(it);
      t->Fire();
    }
    now_ = std::max(now_, until);
  }
  // Fires what is due now without moving time (a callback that armed a zero delay).
  void RunDue() { AdvanceTo(now_); }

  // Timers armed and not yet fired.
  size_t pending() const { return due_.size(); }
  // The next expiry, when a timer is armed.
  std::optional<SteadyTime> next() const {
    if (due_.empty()) return std::nullopt;
    return due_.begin()->first.first;
  }

 private:
  using Key = std::pair<SteadyTime, uint64_t>;

  class FakeTimer final : public Timer {
   public:
    explicit FakeTimer(FakeClock& clock) : clock_(clock) {}
    ~FakeTimer() override { Cancel(); }
    void ArmAt(SteadyTime when, std::function<void()> fire) override {
      Cancel();
      fire_ = std::move(fire);
      key_ = Key{when, ++clock_.sequence_};
      clock_.due_.emplace(key_, this);
      armed_ = true;
    }
    void ArmAfter(Duration delay, std::function<void()> fire) override {
      ArmAt(clock_.now_ + delay, std::move(fire));
    }
    void Cancel() override {
      if (armed_) clock_.due_.erase(key_);
      armed_ = false;
    }
    bool armed() const override { return armed_; }
    SteadyTime expiry() const override { return key_.first; }
    void Fire() {
      armed_ = false;
      auto fire = std::move(fire_);
      fire_ = nullptr;
      if (fire) fire();  // may re-arm or destroy this timer
    }

   private:
    FakeClock& clock_;
    std::function<void()> fire_;
    Key key_{};
    bool armed_ = false;
  };

  SteadyTime now_;
  const SteadyTime start_ = now_;
  WallTime wall_;
  uint64_t sequence_ = 0;
  std::map<Key, FakeTimer*> due_;
};

}  // namespace ffpod::fakes
