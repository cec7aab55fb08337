#include "parsers/policy/backoff.h"

#include <algorithm>
#include <cstdint>

namespace ffpod {

using std::chrono::milliseconds;

Backoff::Backoff(const BackoffPolicy& policy) : policy_(policy) {
  policy_.initial = std::max(milliseconds(1), policy_.initial);
  policy_.max = std::max(policy_.initial, policy_.max);
  current_ = policy_.initial;
}

milliseconds Backoff::Next(std::mt19937_64& random) {
  const int64_t b = current_.count();
  int64_t wait = b;
  if (policy_.jitter == BackoffJitter::kEqual) {
    wait = std::uniform_int_distribution<int64_t>(b / 2, b)(random);
  } else {
    wait = b + std::uniform_int_distribution<int64_t>(0, b / 4)(random);
  }
  current_ = std::min(current_ * 2, policy_.max);
  return milliseconds(wait);
}

}  // namespace ffpod
