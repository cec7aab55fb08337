#include "parsers/policy/retry_policy.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

TEST(RetryPolicy, ExponentialWithEqualJitterAndCap) {
  RetryPolicy p{5, 2.0, 30.0};
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(1, p, 0.0), 1.0);  // 2 s: half fixed
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(1, p, 1.0), 2.0);
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(2, p, 0.5), 3.0);   // 4 s: 2 + 1
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(3, p, 0.0), 4.0);   // 8 s
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(5, p, 1.0), 30.0);  // 32 capped at 30
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(80, p, 1.0), 30.0);
}

TEST(RetryPolicy, Dispositions) {
  RetryPolicy p{3, 5, 600};
  EXPECT_EQ(DecideAfterAttempt(Reason::kOk, 1, p, 0).status, ResultStatus::kSucceeded);
  EXPECT_EQ(DecideAfterAttempt(Reason::kPreempted, 3, p, 0).status, ResultStatus::kPreempted);
  auto retry = DecideAfterAttempt(Reason::kNetwork, 1, p, 0);
  EXPECT_EQ(retry.status, ResultStatus::kRetrying);
  EXPECT_DOUBLE_EQ(*retry.delay_s, 2.5);
  EXPECT_EQ(DecideAfterAttempt(Reason::kNetwork, 2, p, 0).status, ResultStatus::kRetrying);
  EXPECT_EQ(DecideAfterAttempt(Reason::kNetwork, 3, p, 0).status, ResultStatus::kDead);
  EXPECT_EQ(DecideAfterAttempt(Reason::kInputMissing, 1, p, 0).status, ResultStatus::kDead);
  EXPECT_EQ(DecideAfterAttempt(Reason::kBadJob, 1, p, 0).status, ResultStatus::kDead);
  EXPECT_EQ(DecideAfterAttempt(Reason::kWorkerLost, 1, p, 0).status, ResultStatus::kRetrying);
  EXPECT_EQ(DecideAfterAttempt(Reason::kUnknown, 1, p, 0).status, ResultStatus::kRetrying);
  EXPECT_EQ(DecideAfterAttempt(Reason::kTimeout, 1, p, 0).status, ResultStatus::kDead);
  // A cancel ends the job on the first attempt, and not as a dead letter.
  EXPECT_EQ(DecideAfterAttempt(Reason::kCancelled, 1, p, 0).status, ResultStatus::kCancelled);
  EXPECT_EQ(DecideAfterAttempt(Reason::kCancelled, 3, p, 0).status, ResultStatus::kCancelled);
  EXPECT_EQ(ResultStatusName(ResultStatus::kCancelled), "cancelled");
}

}  // namespace
}  // namespace ffpod
