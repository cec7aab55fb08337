// Keeps the readiness of a worker tied to its required encoders (`--require-encoders`,
// `--probe-interval`): probes them at Start() and again every interval after each probe ended,
// since a GPU can vanish after start (driver reload, Xid error, device plugin restart) and come
// back. After every probe it
//   - sets `ffpod_encoder_usable{encoder}` to 1 or 0 for each required encoder,
//   - sets the readiness check "encoders" on the StatusBoard: passing when all are usable, else
//     failing with "h264_nvenc: Cannot load libcuda.so.1; hevc_nvenc: ..." (the unusable ones),
//   - logs each change of an encoder's usability once (warning when it turns unusable),
//   - calls the update callback, so the owner can refresh `ffpod_ready`.
// Until the first probe ended, the check fails with "waiting for the first probe of ...": an
// encoder counts as usable only once a test encode proved it.
//
// With no required encoders it does nothing and AllUsable() is true.
//
// Time comes from a Clock and probes from a Prober, so the re-probe schedule is unit-tested on
// simulated time (tests/unit/supervisor/modes/encoder_watch_test.cc); the io_context
// constructor uses the real clock and ProbeCapabilities.
//
// Threading: everything, the callback included, runs on the clock's (the io_context's) thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probes/capabilities.h"
#include "probes/os/clock.h"
#include "probes/os/process.h"
#include "supervisor/telemetry/ffpod_metrics.h"
#include "supervisor/telemetry/health.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class EncoderWatch {
 public:
  // The readiness check's name on the StatusBoard.
  static constexpr const char* kCheckName = "encoders";

  // Runs one capability probe and calls `done` once with its document (on the loop, never
  // inside the call itself).
  using Prober = std::function<void(const CapabilityProbeOptions& options,
                                    std::function<void(Capabilities)> done)>;

  // `encoders`: the required encoder names (duplicates ignored). `interval`: time from the end
  // of one probe to the start of the next. `timeout`: the limit of each test encode.
  EncoderWatch(Clock& clock, Prober prober, FfpodMetrics& metrics, StatusBoard& board,
               Logger& logger, std::string ffmpeg, std::vector<std::string> encoders,
               std::chrono::milliseconds interval, std::chrono::milliseconds timeout);
  // The real clock on `io`, and ProbeCapabilities with `processes`.
  EncoderWatch(boost::asio::io_context& io, Processes& processes, FfpodMetrics& metrics,
               StatusBoard& board, Logger& logger, std::string ffmpeg,
               std::vector<std::string> encoders, std::chrono::milliseconds interval,
               std::chrono::milliseconds timeout);
  ~EncoderWatch();
  EncoderWatch(const EncoderWatch&) = delete;
  EncoderWatch& operator=(const EncoderWatch&) = delete;

  // Where device nodes are listed (tests); set before Start().
  void SetDevicePaths(DevicePaths paths) { device_paths_ = std::move(paths); }
  // Called on the loop after every probe with AllUsable(); set before Start().
  void OnUpdate(std::function<void(bool all_usable)> callback) { on_update_ = std::move(callback); }

  // Sets the check to "waiting" and starts the first probe. Calling it twice does nothing.
  void Start();
  // Stops re-probing; a probe in flight still ends (its test encodes are bounded by the
  // timeout) but its result is ignored. The metric and the check keep their last values.
  void Stop();

  // True when every required encoder was usable in the latest probe (true with none required).
  bool AllUsable() const { return all_usable_; }
  // The latest probe's entries for the required encoders; empty before the first one ended.
  const std::vector<EncoderCapability>& last() const { return last_; }
  // Probes completed so far.
  int probes() const { return probes_; }

 private:
  using OptionalClock = std::optional<std::reference_wrapper<Clock>>;
  EncoderWatch(std::unique_ptr<Clock> own_clock, OptionalClock clock, Prober prober,
               FfpodMetrics& metrics, StatusBoard& board, Logger& logger, std::string ffmpeg,
               std::vector<std::string> encoders, std::chrono::milliseconds interval,
               std::chrono::milliseconds timeout);
  void ProbeNow();
  void OnProbed(Capabilities caps);
  void ScheduleNext();

  std::unique_ptr<Clock> own_clock_;  // the io_context constructor's
  Clock& clock_;
  Prober prober_;
  FfpodMetrics& metrics_;
  StatusBoard& board_;
  Logger& logger_;
  const std::string ffmpeg_;
  std::vector<std::string> encoders_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds timeout_;
  DevicePaths device_paths_;
  std::function<void(bool)> on_update_;
  std::unique_ptr<Timer> timer_;
  // Replaced on Stop(): probe callbacks hold a weak reference and drop results once it expired.
  std::shared_ptr<int> alive_;
  bool started_ = false;
  bool all_usable_;
  int probes_ = 0;
  std::vector<EncoderCapability> last_;
};

}  // namespace ffpod
