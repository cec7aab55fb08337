// The graceful stop and its SIGKILL deadline on simulated time.
#include "supervisor/job/stop_escalation.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/fakes/fake_clock.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;

class StopEscalationTest : public ::testing::Test {
 protected:
  fakes::FakeClock clock_;
  std::vector<SteadyTime> kills_;
  StopEscalation stop_{clock_, [this] { kills_.push_back(clock_.Now()); }};
};

TEST_F(StopEscalationTest, TheFirstStopIsTheOnlyGracefulOneAndTheKillComesAtItsDeadline) {
  SteadyTime t0 = clock_.Now();
  EXPECT_FALSE(stop_.stopping());
  EXPECT_TRUE(stop_.Begin(StopCause::kStall, t0 + 30s));
  EXPECT_TRUE(stop_.stopping());
  EXPECT_EQ(stop_.cause(), StopCause::kStall);
  // A later stop of another cause sends nothing and keeps the first cause.
  EXPECT_FALSE(stop_.Begin(StopCause::kDrain, t0 + 40s));
  EXPECT_EQ(stop_.cause(), StopCause::kStall);
  clock_.Advance(29s);
  EXPECT_TRUE(kills_.empty());
  clock_.Advance(1s);
  EXPECT_EQ(kills_, (std::vector<SteadyTime>{t0 + 30s}));
  clock_.Advance(1min);
  EXPECT_EQ(kills_.size(), 1u);  // never pushed back to 40 s
}

TEST_F(StopEscalationTest, ALaterStopCanOnlyBringTheDeadlineForward) {
  SteadyTime t0 = clock_.Now();
  EXPECT_TRUE(stop_.Begin(StopCause::kDrain, t0 + 25s));
  clock_.Advance(2s);
  EXPECT_FALSE(stop_.Begin(StopCause::kDrain, t0 + 7s));  // a second SIGTERM: within M
  EXPECT_EQ(stop_.kill_at(), t0 + 7s);
  EXPECT_FALSE(stop_.Begin(StopCause::kDrain, t0 + 8s));
  EXPECT_EQ(stop_.kill_at(), t0 + 7s);
  clock_.Advance(1min);
  EXPECT_EQ(kills_, (std::vector<SteadyTime>{t0 + 7s}));
}

TEST_F(StopEscalationTest, ADeadlineOfNowKillsOnTheNextTurnNotInsideTheCall) {
  EXPECT_TRUE(stop_.Begin(StopCause::kDrain, clock_.Now()));
  EXPECT_TRUE(kills_.empty());
  clock_.RunDue();
  EXPECT_EQ(kills_.size(), 1u);
}

TEST_F(StopEscalationTest, NoKillOnceFfmpegIsGone) {
  EXPECT_TRUE(stop_.Begin(StopCause::kTimeout, clock_.Now() + 30s));
  clock_.Advance(10s);
  stop_.Disarm();
  clock_.Advance(1min);
  EXPECT_TRUE(kills_.empty());
  EXPECT_TRUE(stop_.stopping());  // the cause stays: it decides the reason
}

}  // namespace
}  // namespace ffpod
