#include "supervisor/modes/encoder_watch.h"

#include <algorithm>
#include <map>
#include <optional>

namespace ffpod {

EncoderWatch::EncoderWatch(Clock& clock, Prober prober, FfpodMetrics& metrics, StatusBoard& board,
                           Logger& logger, std::string ffmpeg, std::vector<std::string> encoders,
                           std::chrono::milliseconds interval, std::chrono::milliseconds timeout)
    : EncoderWatch(nullptr, std::ref(clock), std::move(prober), metrics, board, logger,
                   std::move(ffmpeg), std::move(encoders), interval, timeout) {}

EncoderWatch::EncoderWatch(boost::asio::io_context& io, Processes& processes, FfpodMetrics& metrics,
                           StatusBoard& board, Logger& logger, std::string ffmpeg,
                           std::vector<std::string> encoders, std::chrono::milliseconds interval,
                           std::chrono::milliseconds timeout)
    : EncoderWatch(
          std::make_unique<AsioClock>(io), std::nullopt,
          [&processes](const CapabilityProbeOptions& options,
                       std::function<void(Capabilities)> done) {
            ProbeCapabilities(processes, options, std::move(done));
          },
          metrics, board, logger, std::move(ffmpeg), std::move(encoders), interval, timeout) {}

EncoderWatch::EncoderWatch(std::unique_ptr<Clock> own_clock, OptionalClock clock, Prober prober,
                           FfpodMetrics& metrics, StatusBoard& board, Logger& logger,
                           std::string ffmpeg, std::vector<std::string> encoders,
                           std::chrono::milliseconds interval, std::chrono::milliseconds timeout)
    : own_clock_(std::move(own_clock)),
      clock_(own_clock_ ? *own_clock_ : clock->get()),
      prober_(std::move(prober)),
      metrics_(metrics),
      board_(board),
      logger_(logger),
      ffmpeg_(std::move(ffmpeg)),
      interval_(interval),
      timeout_(timeout),
      timer_(clock_.MakeTimer()),
      all_usable_(true) {
  for (std::string& name : encoders) {
    if (name.empty()) continue;
    if (std::find(encoders_.begin(), encoders_.end(), name) == encoders_.end()) {
      encoders_.push_back(std::move(name));
    }
  }
  all_usable_ = encoders_.empty();
}

EncoderWatch::~EncoderWatch() { Stop(); }

void EncoderWatch::Start() {
  if (started_ || encoders_.empty()) return;
  started_ = true;
  alive_ = std::make_shared<int>(0);
  if (probes_ == 0) {
    std::string names;
    for (const std::string& n : encoders_) names += (names.empty() ? "" : ", ") + n;
    board_.SetCheck(kCheckName, "waiting for the first probe of " + names);
  }
  ProbeNow();
}

void EncoderWatch::Stop() {
  started_ = false;
  alive_.reset();
  timer_->Cancel();
}

void EncoderWatch::ProbeNow() {
  CapabilityProbeOptions options;
  options.ffmpeg = ffmpeg_;
  options.encoders = encoders_;
  options.timeout = timeout_;
  options.device_paths = device_paths_;
  std::weak_ptr<int> alive = alive_;
  prober_(options, [this, alive](Capabilities caps) {
    if (alive.expired()) return;
    OnProbed(std::move(caps));
  });
}

void EncoderWatch::OnProbed(Capabilities caps) {
  std::map<std::string, bool> before;
  for (const EncoderCapability& e : last_) before[e.name] = e.usable;
  const bool first = probes_ == 0;
  ++probes_;

  std::string failing;
  bool all = true;
  for (const EncoderCapability& e : caps.encoders) {
    metrics_.SetEncoderUsable(e.name, e.usable);
    if (!e.usable) {
      all = false;
      if (!failing.empty()) failing += "; ";
      failing += e.name + ": " + e.reason;
    }
    auto prev = before.find(e.name);
    bool changed = prev == before.end() || prev->second != e.usable;
    if (!changed) continue;
    boost::json::object f{{"encoder", e.name}, {"usable", e.usable}};
    if (e.probe_ms) f["probe_ms"] = *e.probe_ms;
    if (e.usable) {
      logger_.Info(first ? "encoder usable" : "encoder usable again", f);
    } else {
      f["reason"] = e.reason;
      if (e.failure) f["failure"] = ReasonName(*e.failure);
      logger_.Warn(first ? "encoder not usable: " + e.name + ": " + e.reason
                         : "encoder no longer usable: " + e.name + ": " + e.reason,
                   f);
    }
  }
  all_usable_ = all;
  last_ = std::move(caps.encoders);
  if (all) {
    board_.SetCheck(kCheckName, std::nullopt);
  } else {
    board_.SetCheck(kCheckName, failing);
  }
  if (on_update_) on_update_(all_usable_);
  ScheduleNext();
}

void EncoderWatch::ScheduleNext() {
  if (!started_) return;
  std::weak_ptr<int> alive = alive_;
  timer_->ArmAfter(interval_, [this, alive] {
    if (!alive.expired()) ProbeNow();
  });
}

}  // namespace ffpod
