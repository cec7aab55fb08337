// Health and readiness decisions (docs/metrics.md), and the shared view of what ffpod is doing
// that /status serves.
//
// LoopWatch: the event loop beats every kBeatPeriod; /healthz is 503 when the last beat is
// older than the limit, i.e. when the loop stopped turning (a process that is merely alive is
// not healthy). ReadinessChecks: the named checks behind /readyz; the body names each failing
// one. StatusBoard: the loop writes it, the HTTP threads read it.
//
// Threading: LoopWatch and StatusBoard are thread-safe (atomics / a mutex); ReadinessChecks is
// a plain value built under StatusBoard's lock.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "parsers/ffmpeg/progress_tracker.h"

namespace ffpod {

class LoopWatch {
 public:
  static constexpr std::chrono::milliseconds kBeatPeriod{250};
  explicit LoopWatch(std::chrono::milliseconds limit = std::chrono::seconds(5)) : limit_(limit) {}

  void Beat(std::chrono::steady_clock::time_point now) {
    last_beat_ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  }
  bool Healthy(std::chrono::steady_clock::time_point now) const;

 private:
  std::chrono::milliseconds limit_;
  std::atomic<int64_t> last_beat_ns_{std::chrono::steady_clock::now().time_since_epoch().count()};
};

// One readiness check: name -> failure detail (absent when it passes).
struct ReadinessChecks {
  std::map<std::string, std::optional<std::string>> checks;

  void Set(const std::string& name, std::optional<std::string> failure) {
    checks[name] = std::move(failure);
  }
  bool Ready() const;
  // {"ready":false,"checks":{"redis":"connection refused","draining":null}, "failing":["redis"]}
  std::string Body() const;
};

enum class ServiceState { kIdle, kRunning, kDraining, kStopped };
std::string_view ServiceStateName(ServiceState s);

struct RunningJobStatus {
  int slot = 0;
  std::string queue;  // worker: the queue the job was claimed from (empty in run mode)
  std::string id;
  int attempt = 0;
  ProgressView progress;
  double running_s = 0;
};

class StatusBoard {
 public:
  explicit StatusBoard(std::string mode) : mode_(std::move(mode)) {}

  void SetState(ServiceState s);
  ServiceState state() const;
  void SetJob(const RunningJobStatus& job);
  void ClearJob(int slot);
  void SetCheck(const std::string& name, std::optional<std::string> failure);

  // GET /status body: {"mode","state","jobs":[{slot,queue (worker),id,attempt,percent,eta_s,
  // fps,speed,out_time_s,frames}]}; absent figures are null. StatusValue is the same document
  // unserialised (for the state dump's log record).
  std::string StatusJson() const;
  boost::json::object StatusValue() const;
  ReadinessChecks Readiness() const;

 private:
  mutable std::mutex mu_;
  std::string mode_;
  ServiceState state_ = ServiceState::kIdle;
  std::map<int, RunningJobStatus> jobs_;
  ReadinessChecks readiness_;
};

}  // namespace ffpod
