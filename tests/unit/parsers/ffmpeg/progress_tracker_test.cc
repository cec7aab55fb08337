#include "parsers/ffmpeg/progress_tracker.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

constexpr int64_t kS = 1'000'000;

ProgressBlock Block(std::optional<int64_t> out_us, std::optional<int64_t> size = std::nullopt,
                    std::optional<int64_t> frame = std::nullopt, bool end = false) {
  ProgressBlock b;
  b.out_time_us = out_us;
  b.total_size_bytes = size;
  b.frame = frame;
  b.end = end;
  return b;
}

TEST(ProgressTracker, NoPercentWithoutTotal) {
  ProgressTracker t(0);
  t.Update(Block(5 * kS), 2 * kS);
  ProgressView v = t.View();
  EXPECT_FALSE(v.ratio.has_value());
  EXPECT_FALSE(v.eta_s.has_value());
  EXPECT_DOUBLE_EQ(*v.out_time_s, 5.0);
}

TEST(ProgressTracker, RatioAndEtaFromSmoothedSpeed) {
  ProgressTracker t(0);
  t.SetExpectedDuration(100 * kS);
  // 2x realtime for 10 s of wall time.
  for (int i = 0; i <= 10; ++i) t.Update(Block(i * 2 * kS), i * kS);
  ProgressView v = t.View();
  EXPECT_DOUBLE_EQ(*v.ratio, 0.2);
  EXPECT_NEAR(*v.speed, 2.0, 1e-9);
  EXPECT_NEAR(*v.eta_s, 40.0, 1e-9);  // 80 s of media at 2x
}

TEST(ProgressTracker, SpeedDropShowsWithinTheWindow) {
  ProgressTracker t(0);
  t.SetExpectedDuration(1000 * kS);
  int64_t out = 0;
  int64_t wall = 0;
  for (int i = 0; i < 20; ++i) t.Update(Block(out += 4 * kS), wall += kS);  // 4x
  for (int i = 0; i < 12; ++i) t.Update(Block(out += kS / 2), wall += kS);  // then 0.5x
  EXPECT_NEAR(*t.SmoothedSpeed(), 0.5, 1e-9);
}

TEST(ProgressTracker, ViewShowsTheLatestTotals) {
  ProgressTracker t(0);
  ProgressBlock b = Block(kS, 1000, 25);
  b.dup_frames = 3;
  b.drop_frames = 1;
  t.Update(b, kS);
  ProgressView v = t.View();
  EXPECT_EQ(v.frames, 25);
  EXPECT_EQ(v.total_size_bytes, 1000);
  EXPECT_EQ(v.dup_frames, 3);
  EXPECT_EQ(v.drop_frames, 1);
  b = Block(2 * kS);  // a block without those keys (audio-only): totals stay unknown, not 0
  t.Update(b, 2 * kS);
  EXPECT_FALSE(t.View().frames.has_value());
  EXPECT_EQ(t.View().dup_frames, 0);
}

TEST(ProgressTracker, EndCompletesOnlyNearTheTotal) {
  ProgressTracker done(0);
  done.SetExpectedDuration(3 * kS);
  done.Update(Block(2'960'000, 100, 74, true), kS);
  EXPECT_DOUBLE_EQ(*done.View().ratio, 1.0);
  EXPECT_DOUBLE_EQ(*done.View().eta_s, 0.0);

  ProgressTracker failed(0);  // 6.1+ prints progress=end after a failure too
  failed.SetExpectedDuration(10 * kS);
  failed.Update(Block(4 * kS, 100, 100, true), kS);
  EXPECT_DOUBLE_EQ(*failed.View().ratio, 0.4);
}

TEST(ProgressTracker, RatioIsClampedAndIgnoresNegativeTimes) {
  ProgressTracker t(0);
  t.SetExpectedDuration(2 * kS);
  t.Update(Block(-9223372036854775807LL + 0), kS);
  EXPECT_DOUBLE_EQ(*t.View().ratio, 0.0);
  t.Update(Block(5 * kS), 2 * kS);
  EXPECT_DOUBLE_EQ(*t.View().ratio, 1.0);
}

TEST(ProgressTracker, StallWhenNoBlocks) {
  ProgressTracker t(0);
  EXPECT_FALSE(t.Stalled(119 * kS, 120 * kS));
  EXPECT_TRUE(t.Stalled(120 * kS, 120 * kS));
  t.Update(Block(kS), 100 * kS);
  EXPECT_FALSE(t.Stalled(219 * kS, 120 * kS));
  EXPECT_TRUE(t.Stalled(220 * kS, 120 * kS));
}

TEST(ProgressTracker, StallWhenBlocksArriveButNothingMoves) {
  ProgressTracker t(0);
  t.Update(Block(kS, 100), kS);
  for (int i = 2; i <= 30; ++i) t.Update(Block(kS, 100), i * kS);  // same position
  EXPECT_TRUE(t.Stalled(30 * kS, 29 * kS));
  EXPECT_FALSE(t.Stalled(30 * kS, 30 * kS));
  // total_size moving alone counts as movement (e.g. a muxer flushing, audio-only).
  t.Update(Block(kS, 200), 31 * kS);
  EXPECT_FALSE(t.Stalled(31 * kS, 29 * kS));
  EXPECT_FALSE(t.Stalled(1000 * kS, 0));  // 0 disables
}

}  // namespace
}  // namespace ffpod
