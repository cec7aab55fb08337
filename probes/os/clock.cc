#include "probes/os/clock.h"

#include <cmath>

namespace ffpod {
namespace {

class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(boost::asio::io_context& io) : timer_(io) {}
  ~AsioTimer() override { *alive_ = false; }

  void ArmAt(SteadyTime when, std::function<void()> fire) override {
    timer_.expires_at(when);  // aborts the earlier wait, if any
    Wait(std::move(fire));
  }
  void ArmAfter(Duration delay, std::function<void()> fire) override {
    timer_.expires_after(delay);
    Wait(std::move(fire));
  }
  void Cancel() override {
    ++generation_;
    armed_ = false;
    boost::system::error_code ignored;  // the non-throwing overload
    timer_.cancel(ignored);
  }
  bool armed() const override { return armed_; }
  SteadyTime expiry() const override { return timer_.expiry(); }

 private:
  void Wait(std::function<void()> fire) {
    uint64_t generation = ++generation_;
    armed_ = true;
    timer_.async_wait([this, generation, alive = alive_,
                       fire = std::move(fire)](const boost::system::error_code& ec) {
      // A cancelled, re-armed or destroyed timer's earlier wait ends here, unheard.
      if (ec || !*alive || generation != generation_) return;
      armed_ = false;
      fire();
    });
  }

  boost::asio::steady_timer timer_;
  uint64_t generation_ = 0;
  bool armed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<Timer> AsioClock::MakeTimer() { return std::make_unique<AsioTimer>(io_); }

Duration Seconds(double seconds) {
  if (!(seconds > 0)) return Duration::zero();
  return std::chrono::duration_cast<Duration>(
      std::chrono::microseconds(static_cast<int64_t>(std::llround(seconds * 1e6))));
}

}  // namespace ffpod
