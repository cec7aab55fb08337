// One supervised ffmpeg process, from spawn to classified outcome. Both `ffpod run` and each
// worker slot use it.
//
// It rewrites the arguments (progress on an extra fd, level tags, never an overwrite prompt),
// probes the inputs' durations with ffprobe alongside the encode, spawns ffmpeg in its own
// process group, drains stderr and the progress fd continuously (ffmpeg never blocks on a full
// pipe), forwards ffmpeg's lines to the log, tracks progress, watches for stalls and the job
// timeout, stops ffmpeg the graceful way when asked (`q` on the stdin it owns, or a single
// SIGINT when stdin carries media or transcoding has not started), escalates to SIGKILL of the
// process group at the stop deadline, and finally classifies how it ended. A wrapper (a script
// around ffmpeg, FfmpegJobOptions::wrapper) keeps its arguments; it is offered the progress fd
// and stopped with one SIGINT to its process group.
//
// It composes one part per job: StderrForwarder (lines, decoding, repeats, tail),
// DurationProbes (ffprobe runs), StopEscalation (graceful stop, then SIGKILL at the deadline),
// JobWatchdog (stall and timeout), ProgressReporter (progress log and milestones); itself it
// spawns the child, reads its pipes, tracks progress and classifies the end. Time comes from the
// Clock (probes/os/clock.h).
//
// States: created -> running (Start: spawned, or not started: exec failed) -> reaped (ffmpeg
// exited; pipes and probes still draining, at most 2 s) -> finished (on_finished called once).
// While running, a stop may be under way (stopping(), see StopEscalation).
//
// Threading: lives on one io_context thread; every method and callback runs there.
#pragma once

#include <sys/types.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/ffmpeg/classifier.h"
#include "parsers/ffmpeg/ffmpeg_args.h"
#include "parsers/ffmpeg/ffmpeg_version.h"
#include "parsers/ffmpeg/line_splitter.h"
#include "parsers/ffmpeg/log_line.h"
#include "parsers/ffmpeg/progress.h"
#include "parsers/ffmpeg/progress_tracker.h"
#include "parsers/ffmpeg/stderr_facts.h"
#include "parsers/telemetry/redact.h"
#include "probes/os/clock.h"
#include "probes/os/process.h"
#include "supervisor/job/duration_probes.h"
#include "supervisor/job/job_watchdog.h"
#include "supervisor/job/progress_reporter.h"
#include "supervisor/job/stderr_forwarder.h"
#include "supervisor/job/stop_escalation.h"
#include "supervisor/job/stoppable_job.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

struct FfmpegJobOptions {
  std::string ffmpeg = "ffmpeg";    // executable
  std::string ffprobe = "ffprobe";  // empty: do not probe durations
  std::vector<std::string> args;    // the user's ffmpeg arguments (without the program)
  FfmpegVersion version;            // from `ffmpeg -version`, when known
  bool pass_stdout = true;          // run: ffmpeg's stdout is ffpod's; worker: /dev/null
  RewriteOptions rewrite;
  // The program is a wrapper around ffmpeg (a script), not ffmpeg: its arguments pass untouched,
  // the progress fd (rewrite.progress_fd) is open anyway and named in its environment as
  // FFPOD_PROGRESS_FD, ffmpeg's stats lines on stderr count as progress until a block arrives
  // there, the inputs to probe are those of the ffmpeg found in its process group once progress
  // arrives (FindWrappedFfmpeg), and a graceful stop is one SIGINT to its process group.
  bool wrapper = false;
  // ffmpeg's lines below this level are not logged (still counted, classified and in the tail).
  Severity stderr_log_level = Severity::kDebug;
  std::chrono::milliseconds stall_timeout{120000};   // 0 disables the watchdog
  std::optional<std::chrono::milliseconds> timeout;  // the job's timeout_s
  std::chrono::milliseconds stop_timeout{30000};     // graceful stop -> SIGKILL, for stall/timeout
  std::chrono::milliseconds progress_log_period{10000};  // 0: no progress records
  std::chrono::milliseconds probe_timeout{15000};
  boost::json::object log_fields;  // job_id, attempt, trace_id, span_id: on every record
  size_t stderr_tail_lines = 20;
  // Reads the cgroup's oom_kill count (tests substitute it); nullopt = unknown.
  std::function<std::optional<uint64_t>()> read_oom_kills;
};

struct JobOutcome {
  ExitStatus exit;
  Classification classification;
  StopCause stop = StopCause::kNone;
  ProgressView progress;
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point finished_at;
  double duration_s = 0;
  std::chrono::steady_clock::time_point spawned_steady;  // just before fork
  std::chrono::steady_clock::time_point exited_steady;   // when ffmpeg was reaped
  std::vector<std::string> stderr_tail;                  // redacted
  bool spawned = false;                                  // false: exec failed (exit is 127/126)
  std::string ffmpeg_path;                               // resolved executable
  std::optional<int64_t> expected_duration_us;           // of the output, when it was known
  std::vector<std::string> args;  // as executed (after the rewrite, without the program), redacted
  // What ffprobe told of each input of the command ffpod analysed (the wrapper's ffmpeg for a
  // wrapper), in its order.
  std::vector<InputProbeAnswer> input_probes;
};

class FfmpegJob final : public StoppableJob {
 public:
  struct Callbacks {
    // After every progress block (also from the stats-line fallback).
    std::function<void(const ProgressBlock&)> on_progress;
    // Lines of the progress stream that could not be parsed (count since the last call).
    std::function<void(uint64_t)> on_progress_parse_errors;
    // Every stderr line ffpod did not consume as progress, decoded.
    std::function<void(const LogLine&)> on_stderr_line;
    // Notable moments for traces: "stall", "stop", "timeout", "progress 25%", "error line".
    std::function<void(std::string_view name, const boost::json::object& attributes)> on_event;
    // Each ffprobe run that ended (for its trace span).
    std::function<void(const ProbeRun&)> on_probe;
    // Exactly once, after the process was reaped and its pipes were drained.
    std::function<void(const JobOutcome&)> on_finished;
  };

  FfmpegJob(boost::asio::io_context& io, Clock& clock, Processes& processes, Logger& logger,
            FfmpegJobOptions options, Callbacks callbacks);
  ~FfmpegJob() override;
  FfmpegJob(const FfmpegJob&) = delete;
  FfmpegJob& operator=(const FfmpegJob&) = delete;

  // Spawns ffmpeg (and the duration probes). A failed exec is reported via on_finished.
  void Start();

  // Graceful stop: one `q` or one SIGINT now (never a second), SIGKILL of the process group at
  // `kill_at`. A later call can only bring the SIGKILL deadline forward.
  void Stop(StopCause cause, SteadyTime kill_at) override;
  // SIGKILL to the process group now (a second SIGTERM to ffpod skips the waiting).
  void Kill() override;

  bool running() const override { return started_ && !finished_; }
  bool stopping() const override { return stop_.stopping(); }
  bool finishing() const override { return tracker_.View().ended; }
  std::optional<double> EtaSeconds() const override;
  StopCause stop_cause() const { return stop_.cause(); }
  pid_t pid() const { return pid_; }
  const ProgressTracker& tracker() const { return tracker_; }
  ProgressView View() const { return tracker_.View(); }
  // Every ffprobe run has ended.
  bool probes_done() const { return probes_.pending() == 0; }
  // The version ffmpeg printed in its banner, else the one given in the options.
  const FfmpegVersion& version() const;
  SteadyTime started_steady() const { return started_steady_; }

 private:
  void NotStarted(ExitStatus exit, const std::string& why);
  // Hands our ends of the pipes to the loop, taking the fds in every case. On failure nothing
  // stays attached and the error says why.
  Status AttachPipes(int stdin_fd, int stderr_fd, int progress_fd);
  void ClosePipes();
  void LogStarted(const std::vector<std::string>& args);
  void UpdateExpectedDuration();
  void ReadStderr();
  void ReadProgress();
  bool InspectStderrLine(const SplitLine& line);
  void OnProgressBlock(const ProgressBlock& block);
  void FindWrappedFfmpeg();
  // A wrapper's first progress blocks look for its ffmpeg (FindWrappedFfmpeg); after these, it
  // is not one ffpod can find.
  static constexpr uint64_t kWrapperLookups = 5;
  void OnStopDue(StopCause cause, std::string_view why, std::string_view event,
                 std::string_view timeout_field, Duration timeout, SteadyTime now);
  void OnReaped(int wait_status);
  void MaybeFinish();
  void Finish();
  JobOutcome Outcome();
  void Emit(std::string_view name, const boost::json::object& attributes) const;
  boost::json::object Fields() const { return options_.log_fields; }

  boost::asio::io_context& io_;
  Clock& clock_;
  Processes& processes_;
  Logger& logger_;
  FfmpegJobOptions options_;
  Callbacks callbacks_;

  FfmpegCommand command_;
  SecretValues secrets_;  // of options_.args: redacted from stderr, the tail and the outcome
  bool progress_channel_ = false;
  bool progress_from_fd_ = false;  // a block came on the progress fd (stats lines: no longer)
  bool stdin_owned_ = false;
  FailureClassifier classifier_;
  ProgressTracker tracker_;
  ProgressParser progress_parser_;
  StderrFacts facts_;

  boost::asio::posix::stream_descriptor stdin_pipe_;
  boost::asio::posix::stream_descriptor stderr_pipe_;
  boost::asio::posix::stream_descriptor progress_pipe_;
  std::array<char, 65536> stderr_buf_{};
  std::array<char, 16384> progress_buf_{};

  StderrForwarder stderr_;
  DurationProbes probes_;
  StopEscalation stop_;
  JobWatchdog watchdog_;
  ProgressReporter reporter_;
  std::unique_ptr<Timer> drain_timer_;       // bounded wait for pipe EOF after reaping
  std::unique_ptr<Timer> probe_kill_timer_;  // bounded wait for the end of a killed probe

  pid_t pid_ = -1;
  bool started_ = false;
  bool finished_ = false;
  bool reaped_ = false;
  bool stderr_open_ = false;
  bool progress_open_ = false;
  bool probes_abandoned_ = false;  // killed probes that did not end: finish without them
  bool killed_by_us_ = false;
  std::optional<uint64_t> oom_before_;
  ExitStatus exit_;
  WallTime started_at_;
  SteadyTime started_steady_;
  SteadyTime reaped_steady_;
  std::string resolved_ffmpeg_;
  std::vector<std::string> exec_args_;  // the rewritten arguments, as spawned
  // Lifetime guard for callbacks that may outlive this object (pipes, the reaper).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ffpod
