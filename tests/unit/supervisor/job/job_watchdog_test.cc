// The stall and timeout watchdog on simulated time, with a real ProgressTracker fed the blocks
// a running ffmpeg would write.
#include "supervisor/job/job_watchdog.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/fakes/fake_clock.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;

class JobWatchdogTest : public ::testing::Test {
 protected:
  std::unique_ptr<JobWatchdog> Watch(Duration stall, std::optional<Duration> timeout) {
    auto w = std::make_unique<JobWatchdog>(
        clock_, tracker_, stall, timeout,
        JobWatchdog::Hooks{.stopping = [this] { return stopping_; },
                           .timeout = [this](SteadyTime now) { timeouts_.push_back(now - t0_); },
                           .stall = [this](SteadyTime now) { stalls_.push_back(now - t0_); }});
    w->Start(t0_);
    return w;
  }
  // A progress block now, at media position `out_s`.
  void Block(int64_t out_s) {
    ProgressBlock b;
    b.out_time_us = out_s * 1'000'000;
    tracker_.Update(b, TrackerTimeUs(t0_, clock_.Now()));
  }

  fakes::FakeClock clock_;
  SteadyTime t0_ = clock_.Now();
  ProgressTracker tracker_{0};
  bool stopping_ = false;
  std::vector<Duration> timeouts_;
  std::vector<Duration> stalls_;
};

TEST_F(JobWatchdogTest, NoProgressFromTheStartStallsAfterTheStallTimeout) {
  auto w = Watch(10s, std::nullopt);
  clock_.Advance(9750ms);
  EXPECT_TRUE(stalls_.empty());
  clock_.Advance(250ms);
  ASSERT_EQ(stalls_.size(), 1u);
  EXPECT_EQ(stalls_[0], 10s);
}

TEST_F(JobWatchdogTest, ProgressRearmsTheStallTimeout) {
  auto w = Watch(10s, std::nullopt);
  for (int s = 1; s <= 30; ++s) {
    clock_.Advance(1s);
    Block(s);  // the position moves every second
  }
  EXPECT_TRUE(stalls_.empty());
  // ffmpeg goes quiet at 30 s: the stall is due 10 s after the last block.
  clock_.Advance(9750ms);
  EXPECT_TRUE(stalls_.empty());
  clock_.Advance(250ms);
  ASSERT_EQ(stalls_.size(), 1u);
  EXPECT_EQ(stalls_[0], 40s);
}

TEST_F(JobWatchdogTest, BlocksWhosePositionDoesNotMoveStillStall) {
  auto w = Watch(10s, std::nullopt);
  clock_.Advance(1s);
  Block(5);
  for (int i = 0; i < 12; ++i) {
    clock_.Advance(1s);
    Block(5);  // ffmpeg keeps writing blocks, stuck at 5 s
  }
  ASSERT_FALSE(stalls_.empty());
  EXPECT_EQ(stalls_[0], 11s);
}

TEST_F(JobWatchdogTest, NothingFiresWhileAStopIsUnderWay) {
  auto w = Watch(10s, 20s);
  stopping_ = true;
  clock_.Advance(1min);
  EXPECT_TRUE(stalls_.empty());
  EXPECT_TRUE(timeouts_.empty());
}

TEST_F(JobWatchdogTest, TheJobTimeoutCountsFromTheStartWhateverTheProgress) {
  auto w = Watch(10s, 20s);
  for (int s = 1; s <= 19; ++s) {
    clock_.Advance(1s);
    Block(s);
  }
  EXPECT_TRUE(timeouts_.empty());
  clock_.Advance(1s);
  ASSERT_EQ(timeouts_.size(), 1u);
  EXPECT_EQ(timeouts_[0], 20s);
  EXPECT_TRUE(stalls_.empty());
}

TEST_F(JobWatchdogTest, AZeroStallTimeoutDisablesTheStallCheck) {
  auto w = Watch(Duration::zero(), std::nullopt);
  clock_.Advance(1h);
  EXPECT_TRUE(stalls_.empty());
}

TEST_F(JobWatchdogTest, StopEndsTheChecks) {
  auto w = Watch(10s, 20s);
  clock_.Advance(5s);
  w->Stop();
  clock_.Advance(1min);
  EXPECT_TRUE(stalls_.empty());
  EXPECT_TRUE(timeouts_.empty());
  EXPECT_EQ(clock_.pending(), 0u);
}

}  // namespace
}  // namespace ffpod
