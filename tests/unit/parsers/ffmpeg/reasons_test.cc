#include "parsers/ffmpeg/reasons.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace ffpod {
namespace {

struct Expected {
  Reason reason;
  const char* name;
  bool retryable;
  bool counts_as_attempt;
  int classified_exit;
};

// docs/failure-reasons.md, row by row.
constexpr Expected kSpec[] = {
    {Reason::kOk, "ok", false, true, 0},
    {Reason::kInputMissing, "input_missing", false, true, 10},
    {Reason::kInputInvalid, "input_invalid", false, true, 11},
    {Reason::kBadArguments, "bad_arguments", false, true, 12},
    {Reason::kEncoderUnavailable, "encoder_unavailable", true, true, 20},
    {Reason::kGpuBusy, "gpu_busy", true, true, 21},
    {Reason::kNetwork, "network", true, true, 30},
    {Reason::kDiskFull, "disk_full", true, true, 31},
    {Reason::kOutputFailed, "output_failed", false, true, 32},
    {Reason::kOomKilled, "oom_killed", true, true, 40},
    {Reason::kStalled, "stalled", true, true, 41},
    {Reason::kTimeout, "timeout", false, true, 42},
    {Reason::kKilled, "killed", true, true, 43},
    {Reason::kPreempted, "preempted", true, false, 143},
    {Reason::kCancelled, "cancelled", false, true, 44},
    {Reason::kWorkerLost, "worker_lost", true, true, -1},
    {Reason::kBadJob, "bad_job", false, false, -1},  // never started: attempt 0
    {Reason::kUnknown, "unknown", true, true, 1},
};

TEST(Reasons, TableIsSpecSection4) {
  ASSERT_EQ(AllReasons().size(), std::size(kSpec));
  for (size_t i = 0; i < std::size(kSpec); ++i) {
    const Expected& e = kSpec[i];
    const ReasonInfo& info = AllReasons()[i];
    SCOPED_TRACE(e.name);
    EXPECT_EQ(info.reason, e.reason);
    EXPECT_EQ(info.name, e.name);
    EXPECT_EQ(info.retryable, e.retryable);
    EXPECT_EQ(info.counts_as_attempt, e.counts_as_attempt);
    EXPECT_EQ(info.classified_exit, e.classified_exit);
    EXPECT_EQ(&GetReasonInfo(e.reason), &info);
    EXPECT_EQ(ReasonName(e.reason), e.name);
  }
}

TEST(Reasons, NamesRoundTrip) {
  for (const Expected& e : kSpec) {
    std::optional<Reason> r = ReasonFromName(e.name);
    ASSERT_TRUE(r.has_value()) << e.name;
    EXPECT_EQ(*r, e.reason);
  }
  EXPECT_FALSE(ReasonFromName("").has_value());
  EXPECT_FALSE(ReasonFromName("OK").has_value());
  EXPECT_FALSE(ReasonFromName("input-missing").has_value());
  EXPECT_FALSE(ReasonFromName("disk_full ").has_value());
}

TEST(Reasons, ClassifiedExitCodesAreDistinct) {
  std::set<int> seen;
  for (const ReasonInfo& info : AllReasons()) {
    if (info.classified_exit < 0) continue;
    EXPECT_TRUE(seen.insert(info.classified_exit).second) << info.name;
    // A Kubernetes exit code: 0..255, and 0 only for success.
    EXPECT_LE(info.classified_exit, 255);
    EXPECT_EQ(info.classified_exit == 0, info.reason == Reason::kOk) << info.name;
  }
}

}  // namespace
}  // namespace ffpod
