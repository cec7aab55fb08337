// The outgoing senders' backoff: doubling up to the maximum, both jitters' bounds, Restart.
#include "parsers/policy/backoff.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST(Backoff, EqualJitterDrawsBetweenHalfAndAllOfADoublingBackoff) {
  Backoff b({100ms, 500ms, BackoffJitter::kEqual});
  std::mt19937_64 random(7);
  const std::vector<milliseconds> expected = {100ms, 200ms, 400ms, 500ms, 500ms};
  for (milliseconds backoff : expected) {
    EXPECT_EQ(b.current(), backoff);
    milliseconds wait = b.Next(random);
    EXPECT_GE(wait, backoff / 2);
    EXPECT_LE(wait, backoff);
  }
  b.Restart();
  EXPECT_EQ(b.current(), 100ms);
}

TEST(Backoff, QuarterMoreJitterDrawsBetweenAllOfItAndAQuarterMore) {
  Backoff b({1000ms, 60000ms, BackoffJitter::kUpToAQuarterMore});
  std::mt19937_64 random(7);
  milliseconds backoff = 1000ms;
  for (int i = 0; i < 10; ++i) {
    milliseconds wait = b.Next(random);
    EXPECT_GE(wait, backoff) << i;
    EXPECT_LE(wait, backoff + backoff / 4) << i;
    backoff = std::min(backoff * 2, 60000ms);
  }
  EXPECT_EQ(b.current(), 60000ms);
}

TEST(Backoff, TheWaitsAreSpreadOverTheWholeRange) {
  std::mt19937_64 random(1);
  std::set<int64_t> seen;
  int64_t lowest = 1000, highest = 0;
  for (int i = 0; i < 2000; ++i) {
    Backoff b({40ms, 40ms, BackoffJitter::kEqual});
    int64_t w = b.Next(random).count();
    seen.insert(w);
    lowest = std::min(lowest, w);
    highest = std::max(highest, w);
  }
  EXPECT_EQ(lowest, 20);
  EXPECT_EQ(highest, 40);
  EXPECT_EQ(seen.size(), 21u);
}

TEST(Backoff, AtLeastOneMillisecondAndAMaximumNoLowerThanTheStart) {
  Backoff zero({0ms, 0ms, BackoffJitter::kEqual});
  std::mt19937_64 random(3);
  EXPECT_EQ(zero.current(), 1ms);
  EXPECT_EQ(zero.Next(random), 1ms);
  Backoff low_max({300ms, 100ms, BackoffJitter::kUpToAQuarterMore});
  low_max.Next(random);
  EXPECT_EQ(low_max.current(), 300ms);
}

}  // namespace
}  // namespace ffpod
