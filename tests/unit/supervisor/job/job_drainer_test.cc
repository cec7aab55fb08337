// The drain escalation on simulated time (docs/operations.md, "What happens on SIGTERM"): a
// fake clock and a fake job, so the one-second re-checks, the deadline and the second and third
// signals are reached without ffmpeg or sleeps (after envoy's drain manager tests).
#include "supervisor/job/job_drainer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_job.h"
#include "tests/fakes/null_logger.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;

class JobDrainerTest : public ::testing::Test {
 protected:
  JobDrainerTest()
      : job_(clock_),
        drainer_(clock_, log_.get(), job_, {{"job_id", "j1"}},
                 [this](std::string_view name, const boost::json::object& a) {
                   EXPECT_EQ(name, "drain");
                   actions_.emplace_back(a.at("action").as_string());
                 }) {
    drain_.t0 = clock_.Now();
    drain_.grace_s = 30;
    drain_.margin_s = 5;  // D = t0 + 25 s
  }

  SteadyTime At(Duration since_t0) const { return drain_.t0 + since_t0; }

  fakes::FakeClock clock_;
  fakes::NullLogger log_;
  fakes::FakeJob job_;
  std::vector<std::string> actions_;
  JobDrainer drainer_;
  DrainClock drain_;
};

TEST_F(JobDrainerTest, AJobWhoseTimeLeftIsUnknownIsStoppedAtOnceWithTheKillAtTheDeadline) {
  drainer_.Check(drain_, 1);
  ASSERT_EQ(job_.stops.size(), 1u);
  EXPECT_EQ(job_.stops[0].at, At(0s));
  EXPECT_EQ(job_.stops[0].cause, StopCause::kDrain);
  EXPECT_EQ(job_.stops[0].kill_at, At(25s));
  EXPECT_EQ(actions_, (std::vector<std::string>{"stop"}));
  EXPECT_EQ(clock_.pending(), 0u);  // the kill is the job's own timer, not the drainer's
}

TEST_F(JobDrainerTest, AJobThatFitsIsLeftToFinishAndCheckedEverySecondUntilItNoLongerFits) {
  job_.eta_s_ = 10;  // 10 * 1.1 + 1 = 12 s: fits in 25 s
  drainer_.Check(drain_, 1);
  EXPECT_TRUE(job_.stops.empty());
  clock_.Advance(3s);
  EXPECT_EQ(actions_.size(), 4u);  // at 0, 1, 2 and 3 s
  EXPECT_TRUE(job_.stops.empty());
  // The speed drops: 20 s left no longer fits in the 22 s before the deadline.
  job_.eta_s_ = 20;
  clock_.Advance(1s);
  ASSERT_EQ(job_.stops.size(), 1u);
  EXPECT_EQ(job_.stops[0].at, At(4s));
  EXPECT_EQ(job_.stops[0].kill_at, At(25s));
  EXPECT_EQ(actions_.back(), "stop");
  EXPECT_EQ(clock_.pending(), 0u);  // stopped: no more re-checks
}

TEST_F(JobDrainerTest, ALetFinishJobThatEndsIsNotCheckedAgain) {
  job_.eta_s_ = 2;
  drainer_.Check(drain_, 1);
  clock_.Advance(1s);
  job_.running_ = false;
  clock_.Advance(1s);
  EXPECT_TRUE(job_.stops.empty());
  clock_.Advance(1min);
  EXPECT_EQ(actions_.size(), 2u);
  EXPECT_EQ(clock_.pending(), 0u);
}

TEST_F(JobDrainerTest, CancelEndsTheRechecks) {
  job_.eta_s_ = 2;
  drainer_.Check(drain_, 1);
  drainer_.Cancel();
  clock_.Advance(1min);
  EXPECT_EQ(actions_.size(), 1u);
  EXPECT_TRUE(job_.stops.empty());
}

TEST_F(JobDrainerTest, AFinishingJobIsLeftAloneButStoppedAtTheDeadlineIfStillRunning) {
  job_.finishing_ = true;
  drainer_.Check(drain_, 1);
  EXPECT_EQ(actions_, (std::vector<std::string>{"keep"}));
  clock_.Advance(24s);
  EXPECT_TRUE(job_.stops.empty());
  clock_.Advance(1s);
  ASSERT_EQ(job_.stops.size(), 1u);
  EXPECT_EQ(job_.stops[0].at, At(25s));
  EXPECT_EQ(job_.stops[0].kill_at, At(25s));  // SIGKILL at once
}

TEST_F(JobDrainerTest, AFinishingJobThatEndsInTimeIsNeverStopped) {
  job_.finishing_ = true;
  drainer_.Check(drain_, 1);
  clock_.Advance(10s);
  job_.running_ = false;
  clock_.Advance(1min);
  EXPECT_TRUE(job_.stops.empty());
}

TEST_F(JobDrainerTest, ASecondSignalStopsALetFinishJobWithTheKillWithinTheMargin) {
  job_.eta_s_ = 10;
  drainer_.Check(drain_, 1);
  clock_.Advance(2s);
  drainer_.Check(drain_, 2);
  ASSERT_EQ(job_.stops.size(), 1u);
  EXPECT_EQ(job_.stops[0].at, At(2s));
  EXPECT_EQ(job_.stops[0].kill_at, At(7s));  // now + M, sooner than D
  // The re-check already armed decides once more: the job is stopping, so it only offers a
  // later deadline (8 s), which the job ignores; then the checks end.
  clock_.Advance(1min);
  ASSERT_EQ(job_.stops.size(), 2u);
  EXPECT_EQ(job_.stops[1].at, At(3s));
  EXPECT_EQ(job_.stops[1].kill_at, At(8s));
  EXPECT_EQ(actions_.back(), "keep");
  EXPECT_EQ(clock_.pending(), 0u);
  EXPECT_TRUE(job_.kills.empty());
}

TEST_F(JobDrainerTest, ASecondSignalBringsAStoppingJobsKillForwardButNeverPastTheDeadline) {
  drainer_.Check(drain_, 1);  // unknown ETA: stopped, kill at D
  ASSERT_EQ(job_.stops.size(), 1u);
  clock_.Advance(10s);
  drainer_.Check(drain_, 2);
  ASSERT_EQ(job_.stops.size(), 2u);  // the job keeps only an earlier deadline (FfmpegJob::Stop)
  EXPECT_EQ(job_.stops[1].kill_at, At(15s));
  EXPECT_EQ(actions_.back(), "keep");
  clock_.Advance(12s);
  drainer_.Check(drain_, 2);
  EXPECT_EQ(job_.stops[2].kill_at, At(25s));  // D is sooner than now + M
  EXPECT_TRUE(job_.kills.empty());
}

TEST_F(JobDrainerTest, AThirdSignalKillsAtOnce) {
  job_.eta_s_ = 10;
  drainer_.Check(drain_, 1);
  clock_.Advance(1500ms);
  drainer_.Check(drain_, 2);
  clock_.Advance(500ms);
  drainer_.Check(drain_, 3);
  ASSERT_EQ(job_.kills.size(), 1u);
  EXPECT_EQ(job_.kills[0], At(2s));
  EXPECT_EQ(job_.stops.back().kill_at, At(2s));
  EXPECT_EQ(actions_.back(), "kill");
}

TEST_F(JobDrainerTest, PastTheDeadlineEvenAFastJobIsStopped) {
  job_.eta_s_ = 0;
  clock_.Advance(25s);
  drainer_.Check(drain_, 1);
  ASSERT_EQ(job_.stops.size(), 1u);
  EXPECT_EQ(job_.stops[0].kill_at, At(25s));
}

TEST_F(JobDrainerTest, NothingHappensToAJobThatIsNotRunning) {
  job_.running_ = false;
  drainer_.Check(drain_, 3);
  EXPECT_TRUE(job_.stops.empty());
  EXPECT_TRUE(job_.kills.empty());
  EXPECT_TRUE(actions_.empty());
}

}  // namespace
}  // namespace ffpod
