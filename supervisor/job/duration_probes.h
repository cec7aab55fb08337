// The duration probes of one ffmpeg: an ffprobe per local input, run alongside the encode, whose
// exact durations give the progress its total (ffmpeg's own `Duration:` line rounds to 1/100 s
// and covers network inputs, which are never fetched twice). The same run tells the input's
// container and streams, for the result's audit trail. When ffmpeg exits first the probes
// still running are stopped; the job waits for their ends (bounded by the job's own 2 s wait).
//
// Threading: the io_context thread of the job. A probe that ends after the object is gone is
// ignored.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/documents/probe_facts.h"
#include "parsers/ffmpeg/ffmpeg_args.h"
#include "probes/os/process.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

// What the probe of one input told, or why it told nothing (`skipped`, never empty then).
struct InputProbeAnswer {
  std::optional<InputProbe> facts;
  std::string skipped;
};

// One ffprobe run of the duration probes.
struct ProbeRun {
  std::string executable;
  std::vector<std::string> args;
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point finished_at;
  ExitStatus exit;
  bool timed_out = false;
  bool cancelled = false;  // ffmpeg finished first: the probe was stopped, its answer not needed
};

class DurationProbes {
 public:
  struct Hooks {
    std::function<void(const ProbeRun&)> on_run;  // each run that ended (for its trace span)
    std::function<void()> on_answer;              // after each end: durations() may have grown
  };

  // `ffprobe` empty: no probes. `fields` go on every record and must outlive this object.
  DurationProbes(Processes& processes, Logger& logger, const boost::json::object& fields,
                 std::string ffprobe, std::chrono::milliseconds timeout, Hooks hooks);
  ~DurationProbes();
  DurationProbes(const DurationProbes&) = delete;
  DurationProbes& operator=(const DurationProbes&) = delete;

  // One probe per local, probeable input of `command` (which must outlive this object).
  void Start(const FfmpegCommand& command);
  // ffmpeg has exited: kills the probes that still run (their ends still arrive).
  void StopAll();
  // The job was reported: later ends are only counted, not reported.
  void Detach() { detached_ = true; }

  // Probes started and not yet ended.
  int pending() const { return pending_; }
  // ffprobe's duration of input `i` (µs), when it told one.
  std::optional<int64_t> duration(size_t i) const {
    return i < probed_.size() ? probed_[i] : std::nullopt;
  }
  // One answer per input of the command, in its order (empty before Start).
  const std::vector<InputProbeAnswer>& answers() const { return answers_; }

 private:
  void OnEnded(size_t input, const std::vector<std::string>& args,
               std::chrono::system_clock::time_point started, const CommandOutput& out);

  Processes& processes_;
  Logger& logger_;
  const boost::json::object& fields_;
  std::string ffprobe_;
  std::chrono::milliseconds timeout_;
  Hooks hooks_;
  const FfmpegCommand* command_ = nullptr;
  int pending_ = 0;
  bool detached_ = false;
  std::vector<std::function<void()>> stops_;  // kill a probe that still runs
  std::vector<std::optional<int64_t>> probed_;
  std::vector<InputProbeAnswer> answers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ffpod
