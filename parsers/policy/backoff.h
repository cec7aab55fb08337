// The wait between the attempts of an outgoing request (supervisor/net/https_sender.h):
// exponential backoff with jitter, so that pods that failed together do not retry together.
//
// The backoff starts at `initial` and doubles after every wait, up to `max`. Each wait is the
// current backoff b jittered one of two ways:
//   kEqual             uniformly between b/2 and b: the OTLP exporter (docs/tracing.md)
//   kUpToAQuarterMore  uniformly between b and b + b/4: the pod-deletion cost (docs/kubernetes.md)
//
// Pure: the randomness comes from the engine the caller passes. A Backoff belongs to one thread.
#pragma once

#include <chrono>
#include <random>

namespace ffpod {

enum class BackoffJitter { kEqual, kUpToAQuarterMore };

struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{5000};
  BackoffJitter jitter = BackoffJitter::kEqual;
};

class Backoff {
 public:
  // `initial` is at least 1 ms and `max` at least `initial`.
  explicit Backoff(const BackoffPolicy& policy);

  // The wait before the next attempt; the backoff then doubles (up to max).
  std::chrono::milliseconds Next(std::mt19937_64& random);
  // Back to `initial`.
  void Restart() { current_ = policy_.initial; }
  // The backoff the next wait is drawn from.
  std::chrono::milliseconds current() const { return current_; }

 private:
  BackoffPolicy policy_;
  std::chrono::milliseconds current_;
};

}  // namespace ffpod
