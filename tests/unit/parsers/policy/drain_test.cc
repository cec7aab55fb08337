#include "parsers/policy/drain.h"

#include <gtest/gtest.h>

#include "parsers/ffmpeg/progress_tracker.h"

namespace ffpod {
namespace {

constexpr int64_t kS = 1'000'000;

// A steady time `us` microseconds after the clock's epoch.
SteadyTime T(int64_t us) { return SteadyTime(std::chrono::microseconds(us)); }

DrainClock Clock() {
  DrainClock c;
  c.t0 = T(100 * kS);
  c.grace_s = 30;
  c.margin_s = 5;
  return c;  // deadline D = 125 s, exit by 130 s
}

JobDrainState Eta(std::optional<double> eta) {
  JobDrainState s;
  s.eta_s = eta;
  return s;
}

TEST(Drain, Deadlines) {
  EXPECT_EQ(Clock().Deadline(), T(125 * kS));
  EXPECT_EQ(Clock().ExitBy(), T(130 * kS));
  EXPECT_EQ(PredictedExit(T(0), 10), T(12 * kS));  // 10 s * 1.1 + 1 s
}

TEST(Drain, FitsIsLeftToFinish) {
  // 25 s to the deadline: eta 21.8 s predicts 24.98 + 1 = 124.98 s <= 125 s.
  auto d = DecideDrain(Clock(), 1, T(100 * kS), Eta(21.8));
  EXPECT_EQ(d.action, DrainAction::kLetFinish);
  EXPECT_EQ(d.kill_at, T(125 * kS));
}

TEST(Drain, BoundaryExactlyAtTheDeadlineFits) {
  // predicted = now + eta*1.1 + 1 = 100 + 24 = 124... choose eta so that it lands on 125 s.
  double eta = (25.0 - 1.0) / 1.1;
  EXPECT_EQ(PredictedExit(T(100 * kS), eta), T(125 * kS));
  EXPECT_EQ(DecideDrain(Clock(), 1, T(100 * kS), Eta(eta)).action, DrainAction::kLetFinish);
  EXPECT_EQ(DecideDrain(Clock(), 1, T(100 * kS + 1), Eta(eta)).action, DrainAction::kStopNow);
}

TEST(Drain, DoesNotFitIsStoppedNowWithKillAtTheDeadline) {
  auto d = DecideDrain(Clock(), 1, T(100 * kS), Eta(60));
  EXPECT_EQ(d.action, DrainAction::kStopNow);
  EXPECT_EQ(d.kill_at, T(125 * kS));
  EXPECT_NE(d.why.find("does not fit"), std::string::npos);
}

TEST(Drain, UnknownEtaIsStopped) {
  auto d = DecideDrain(Clock(), 1, T(100 * kS), Eta(std::nullopt));
  EXPECT_EQ(d.action, DrainAction::kStopNow);
  EXPECT_NE(d.why.find("unknown"), std::string::npos);
}

TEST(Drain, FinishingAndStoppingJobsAreLeftAlone) {
  JobDrainState finishing = Eta(std::nullopt);
  finishing.finishing = true;
  EXPECT_EQ(DecideDrain(Clock(), 1, T(100 * kS), finishing).action, DrainAction::kKeep);
  JobDrainState stopping = Eta(1000);
  stopping.stopping = true;
  EXPECT_EQ(DecideDrain(Clock(), 1, T(100 * kS), stopping).action, DrainAction::kKeep);
}

TEST(Drain, PastTheDeadlineStopsEvenAFastJob) {
  EXPECT_EQ(DecideDrain(Clock(), 1, T(125 * kS), Eta(0)).action, DrainAction::kStopNow);
}

TEST(Drain, SecondSignalSkipsTheWaiting) {
  auto d = DecideDrain(Clock(), 2, T(101 * kS), Eta(1));
  EXPECT_EQ(d.action, DrainAction::kStopNow);
  EXPECT_EQ(d.kill_at, T(106 * kS));  // now + M, sooner than D
  JobDrainState stopping = Eta(1);
  stopping.stopping = true;
  d = DecideDrain(Clock(), 2, T(122 * kS), stopping);
  EXPECT_EQ(d.action, DrainAction::kKeep);
  EXPECT_EQ(d.kill_at, T(125 * kS));  // D is sooner than now + M
  EXPECT_EQ(DecideDrain(Clock(), 3, T(101 * kS), Eta(1)).action, DrainAction::kKillNow);
}

TEST(Drain, SpeedDropAfterTheDecisionStopsTheJob) {
  // The job runs at 2x with 40 s of media left: 20 s, fits. Then the speed falls to 0.5x and
  // the re-check with the tracker's smoothed speed no longer fits: it is stopped while there is
  // still time to write the trailer before the deadline.
  ProgressTracker tracker(0);
  tracker.SetExpectedDuration(360 * kS);
  int64_t out = 0, now = 0;
  auto block = [&](int64_t media_step) {
    ProgressBlock b;
    out += media_step;
    b.out_time_us = out;
    now += kS / 2;
    tracker.Update(b, now);
  };
  for (int i = 0; i < 320; ++i) block(kS);  // 2x: 160 s of wall time, 320 s of media
  DrainClock clock;
  clock.t0 = T(now);
  clock.grace_s = 30;
  clock.margin_s = 5;
  ASSERT_NEAR(*tracker.RemainingMediaSeconds(), 40.0, 1e-9);
  JobDrainState s;
  s.eta_s = *tracker.RemainingMediaSeconds() / *tracker.SmoothedSpeed();
  ASSERT_NEAR(*s.eta_s, 20.0, 1e-6);
  EXPECT_EQ(DecideDrain(clock, 1, T(now), s).action, DrainAction::kLetFinish);

  int rechecks = 0;
  DrainDecision d;
  do {
    for (int i = 0; i < 2; ++i) block(kS / 4);  // 0.5x from now on
    ++rechecks;
    s.eta_s = *tracker.RemainingMediaSeconds() / *tracker.SmoothedSpeed();
    d = DecideDrain(clock, 1, T(now), s);
  } while (d.action == DrainAction::kLetFinish && rechecks < 100);
  EXPECT_EQ(d.action, DrainAction::kStopNow);
  EXPECT_LT(T(now), clock.Deadline());  // decided before the deadline, not at it
  EXPECT_LE(rechecks, 8);               // within the smoothing window's reaction time
}

}  // namespace
}  // namespace ffpod
