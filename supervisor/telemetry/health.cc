#include "supervisor/telemetry/health.h"

#include "parsers/common/json_text.h"

#include <boost/json.hpp>
#include <cmath>

namespace ffpod {

bool LoopWatch::Healthy(std::chrono::steady_clock::time_point now) const {
  int64_t last = last_beat_ns_.load(std::memory_order_relaxed);
  auto age = std::chrono::nanoseconds(now.time_since_epoch().count() - last);
  return age <= limit_;
}

bool ReadinessChecks::Ready() const {
  for (const auto& [name, failure] : checks) {
    if (failure) return false;
  }
  return true;
}

std::string ReadinessChecks::Body() const {
  boost::json::object body;
  body["ready"] = Ready();
  boost::json::object detail;
  boost::json::array failing;
  for (const auto& [name, failure] : checks) {
    if (failure) {
      detail[name] = *failure;
      failing.emplace_back(name);
    } else {
      detail[name] = "ok";
    }
  }
  body["failing"] = std::move(failing);
  body["checks"] = std::move(detail);
  return JsonText(body);
}

std::string_view ServiceStateName(ServiceState s) {
  switch (s) {
    case ServiceState::kIdle:
      return "idle";
    case ServiceState::kRunning:
      return "running";
    case ServiceState::kDraining:
      return "draining";
    case ServiceState::kStopped:
      return "stopped";
  }
  return "idle";
}

void StatusBoard::SetState(ServiceState s) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = s;
}

ServiceState StatusBoard::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void StatusBoard::SetJob(const RunningJobStatus& job) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_[job.slot] = job;
}

void StatusBoard::ClearJob(int slot) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.erase(slot);
}

void StatusBoard::SetCheck(const std::string& name, std::optional<std::string> failure) {
  std::lock_guard<std::mutex> lock(mu_);
  readiness_.Set(name, std::move(failure));
}

ReadinessChecks StatusBoard::Readiness() const {
  std::lock_guard<std::mutex> lock(mu_);
  return readiness_;
}

namespace {

boost::json::value Rounded(const std::optional<double>& v, double scale) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return std::round(*v * scale) / scale;
}

}  // namespace

std::string StatusBoard::StatusJson() const { return JsonText(StatusValue()); }

boost::json::object StatusBoard::StatusValue() const {
  std::lock_guard<std::mutex> lock(mu_);
  boost::json::object body;
  body["mode"] = mode_;
  body["state"] = ServiceStateName(state_);
  boost::json::array jobs;
  for (const auto& [slot, job] : jobs_) {
    const ProgressView& p = job.progress;
    boost::json::object j;
    j["slot"] = slot;
    if (!job.queue.empty()) j["queue"] = job.queue;
    j["id"] = job.id.empty() ? boost::json::value(nullptr) : boost::json::value(job.id);
    j["attempt"] = job.attempt;
    j["percent"] =
        p.ratio ? Rounded(std::optional<double>(*p.ratio * 100), 10) : boost::json::value(nullptr);
    j["eta_s"] = Rounded(p.eta_s, 10);
    j["fps"] = Rounded(p.fps, 100);
    j["speed"] = Rounded(p.speed, 1000);
    j["out_time_s"] = Rounded(p.out_time_s, 1000);
    j["frames"] = p.frames ? boost::json::value(*p.frames) : boost::json::value(nullptr);
    j["running_s"] = std::round(job.running_s * 10) / 10;
    jobs.push_back(std::move(j));
  }
  body["jobs"] = std::move(jobs);
  return body;
}

}  // namespace ffpod
