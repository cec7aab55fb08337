// The queue steps' retry with backoff on simulated time: 250 ms, doubling, at most 5 s.
#include "supervisor/modes/step_retry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/fakes/fake_clock.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

class StepRetryTest : public ::testing::Test {
 protected:
  // A step that fails `failures` times, then succeeds; each try's time is recorded.
  StepRetry::Step FailingStep(int failures) {
    return [this, failures](const StepRetry::Next& next) {
      tries_.push_back(clock_.Now() - t0_);
      next(static_cast<int>(tries_.size()) <= failures ? Status(Error{"Redis unavailable"})
                                                       : Status::Ok());
    };
  }

  fakes::FakeClock clock_;
  SteadyTime t0_ = clock_.Now();
  std::vector<Duration> tries_;
  std::vector<milliseconds> waits_;
  int done_ = 0;
  StepRetry retry_{clock_, [this](const Error& error, milliseconds wait) {
                     EXPECT_EQ(error.message, "Redis unavailable");
                     waits_.push_back(wait);
                   }};
};

TEST_F(StepRetryTest, ASucceedingStepRunsOnceAndGoesOnAtOnce) {
  retry_.Run(FailingStep(0), [this] { ++done_; });
  EXPECT_EQ(done_, 1);
  EXPECT_EQ(tries_.size(), 1u);
  EXPECT_TRUE(waits_.empty());
  EXPECT_EQ(clock_.pending(), 0u);
}

TEST_F(StepRetryTest, FailuresWaitFrom250MsDoublingUpToFiveSeconds) {
  retry_.Run(FailingStep(8), [this] { ++done_; });
  clock_.Advance(1min);
  EXPECT_EQ(waits_, (std::vector<milliseconds>{250ms, 500ms, 1000ms, 2000ms, 4000ms, 5000ms, 5000ms,
                                               5000ms}));
  ASSERT_EQ(tries_.size(), 9u);
  EXPECT_EQ(tries_[0], 0ms);
  EXPECT_EQ(tries_[1], 250ms);
  EXPECT_EQ(tries_[2], 750ms);
  EXPECT_EQ(tries_[5], 7750ms);
  EXPECT_EQ(tries_[8], 22750ms);
  EXPECT_EQ(done_, 1);
  EXPECT_EQ(clock_.pending(), 0u);
}

TEST_F(StepRetryTest, NothingIsTriedBeforeItsWaitIsOver) {
  retry_.Run(FailingStep(1), [this] { ++done_; });
  EXPECT_TRUE(retry_.waiting());
  clock_.Advance(249ms);
  EXPECT_EQ(tries_.size(), 1u);
  EXPECT_EQ(done_, 0);
  clock_.Advance(1ms);
  EXPECT_EQ(tries_.size(), 2u);
  EXPECT_EQ(done_, 1);
  EXPECT_FALSE(retry_.waiting());
}

TEST_F(StepRetryTest, ARunStartsAgainFromTheFirstWait) {
  retry_.Run(FailingStep(3), [this] { ++done_; });
  clock_.Advance(1min);
  tries_.clear();
  waits_.clear();
  retry_.Run(FailingStep(1), [this] { ++done_; });
  clock_.Advance(1min);
  EXPECT_EQ(waits_, (std::vector<milliseconds>{250ms}));
  EXPECT_EQ(done_, 2);
}

TEST_F(StepRetryTest, CancelStopsAWaitingRetry) {
  retry_.Run(FailingStep(100), [this] { ++done_; });
  clock_.Advance(300ms);
  retry_.Cancel();
  clock_.Advance(1min);
  EXPECT_EQ(tries_.size(), 2u);
  EXPECT_EQ(done_, 0);
}

}  // namespace
}  // namespace ffpod
