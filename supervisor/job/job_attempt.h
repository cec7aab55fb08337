// One attempt at a job, as `ffpod run` and each worker slot run it: the ffmpeg child
// (FfmpegJob), its trace (JobTrace) and, once a drain begins, its JobDrainer. The attempt keeps
// the metrics' slot gauges and the /status board current from the progress, counts stderr
// lines, progress parse errors and stalls, turns FfmpegJob's events and probes into trace
// events and spans, and hands back one ResultDoc with the fields that come from the outcome.
// What differs between the modes stays with them: run's exit status, termination log and
// --report-redis; the worker's queue steps, output publication and retry decision.
//
// States: created (the trace exists; a worker may still record the attempt without running
// ffmpeg, e.g. preempted before it started) -> running (Start) -> draining (Drain: the drainer
// decides every second) -> ended (`done` called once, on a later turn than ffmpeg's end) ->
// closed (End: the publish span and the job span ended).
//
// Threading: the io_context thread; every callback runs there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/documents/job.h"
#include "parsers/ffmpeg/decode_errors.h"
#include "parsers/policy/drain.h"
#include "probes/os/clock.h"
#include "probes/os/process.h"
#include "supervisor/job/ffmpeg_job.h"
#include "supervisor/job/input_audit.h"
#include "supervisor/job/job_drainer.h"
#include "supervisor/job/job_trace.h"
#include "supervisor/telemetry/ffpod_metrics.h"
#include "supervisor/telemetry/health.h"
#include "supervisor/telemetry/logger.h"
#include "supervisor/telemetry/tracer.h"

namespace ffpod {

// The level of the "job finished" record of a result: info when it succeeded, warning when it
// was preempted, superseded or rerouted, error otherwise.
Severity ResultSeverity(const ResultDoc& result);
// That record's message: "job finished: <reason>" and the result's message in parentheses;
// "; rerouted to queue <q>" when the job moved to another queue.
std::string JobFinishedMessage(const ResultDoc& result);

// How long a result waits, after ffmpeg's end, for input hashes still being read (never during
// a drain); what is not done by then is reported as not hashed.
inline constexpr std::chrono::milliseconds kInputHashWait{1000};

// The service-level things an attempt uses; all outlive it.
struct AttemptEnv {
  boost::asio::io_context& io;
  boost::asio::thread_pool& input_pool;  // reads and hashes the input files (InputAudit)
  Clock& clock;
  Processes& processes;
  Logger& logger;
  FfpodMetrics& metrics;
  StatusBoard& board;
  Tracer& tracer;
};

// What to run, and who runs it.
struct AttemptSpec {
  std::string ffmpeg = "ffmpeg";    // executable
  std::string ffprobe = "ffprobe";  // empty: do not probe durations
  std::vector<std::string> args;    // the user's ffmpeg arguments (without the program)
  FfmpegVersion version;            // from `ffmpeg -version`, when known
  bool pass_stdout = true;          // run: ffmpeg's stdout is ffpod's; worker: /dev/null
  RewriteOptions rewrite;
  bool wrapper = false;  // a script around ffmpeg (FfmpegJobOptions::wrapper)
  // ffmpeg's lines below this level are not logged (a terminal shows warnings and errors only).
  Severity stderr_log_level = Severity::kDebug;
  // final -> temporary name of each output written atomically (ffmpeg writes the temporary);
  // removed when the attempt does not succeed.
  std::map<std::string, std::string> temporaries;
  std::chrono::milliseconds stall_timeout{120000};       // 0 disables the watchdog
  std::optional<std::chrono::milliseconds> timeout;      // the job's timeout_s
  std::chrono::milliseconds stop_timeout{30000};         // graceful stop -> SIGKILL, stall/timeout
  std::chrono::milliseconds progress_log_period{10000};  // 0: no progress records
  std::chrono::milliseconds probe_timeout{15000};
  int64_t input_hash_max_bytes = 0;  // local inputs up to this size are hashed; 0: none

  int slot = 0;  // metrics and /status
  std::string job_id;
  int attempt = 1;
  WorkerIdentity worker;
  // On every record of the attempt, after the trace's ids (slot, job_id, attempt).
  boost::json::object log_fields;
  // /status running_s counts from here (worker: the claim); default: ffmpeg's start.
  std::optional<SteadyTime> running_since;

  JobSpanInfo span;
  std::optional<WallTime> enqueued_at;  // the queue wait span: from here ...
  std::optional<WallTime> claimed_at;   // ... to here
};

class JobAttempt {
 public:
  // After every progress block, once the slot gauges and the board show it.
  using OnProgress = std::function<void(const ProgressView&)>;
  // The attempt's result with the outcome's fields filled (id, attempt, worker, reason,
  // message, exit, times, progress, ffmpeg path and version, stderr tail, trace id, and the
  // audit's args and inputs); the status, the ffmpeg build and the image are the caller's.
  using OnResult = std::function<void(ResultDoc result, const JobOutcome& outcome)>;

  // Creates the trace (its ids are in LogFields() from now on); nothing runs yet.
  JobAttempt(AttemptEnv env, AttemptSpec spec);
  ~JobAttempt() { *alive_ = false; }
  JobAttempt(const JobAttempt&) = delete;
  JobAttempt& operator=(const JobAttempt&) = delete;

  // Spawns ffmpeg (and its duration probes), and starts hashing the input files alongside it.
  // `done` is called exactly once, also when the exec failed, on a turn of the loop after
  // ffmpeg's end: once the input hashes are done, or kInputHashWait after ffmpeg's end.
  void Start(OnProgress on_progress, OnResult done);
  // The drain's decision for this attempt, after the `signals`-th signal; nothing when ffmpeg
  // does not run.
  void Drain(const DrainClock& drain, int signals);
  // A graceful stop now for `cause`, SIGKILL of the process group at `kill_at` (a later call
  // can only bring that forward); nothing when ffmpeg does not run.
  void StopNow(StopCause cause, SteadyTime kill_at);
  // SIGKILL now, counted as a stop for `cause` unless a stop is already under way (the drain's
  // backstop just before the kubelet's SIGKILL; a second Ctrl-C).
  void KillNow(StopCause cause = StopCause::kDrain);
  // Ends the publish span and the job span with the recorded result.
  void End(const ResultDoc& result);

  bool running() const { return job_ && job_->running(); }
  // The ffmpeg child, once started.
  FfmpegJob* job() { return job_.get(); }
  const FfmpegJob* job() const { return job_.get(); }
  JobTrace& trace() { return *trace_; }
  const AttemptSpec& spec() const { return spec_; }
  // The trace's ids and the spec's log fields.
  boost::json::object LogFields() const;
  // The decode errors ffmpeg reported on stderr so far, by kind.
  const DecodeErrorCounts& decode_errors() const { return decode_errors_; }

 private:
  FfmpegJobOptions JobOptions() const;
  FfmpegJob::Callbacks JobCallbacks();
  RunningJobStatus Status() const;
  void OnProgressBlock();
  void OnFinished(const JobOutcome& outcome);
  void Report(const JobOutcome& outcome);

  AttemptEnv env_;
  AttemptSpec spec_;
  OnProgress on_progress_;
  OnResult done_;
  std::unique_ptr<JobTrace> trace_;  // declared before job_: outlives it
  std::unique_ptr<FfmpegJob> job_;
  std::unique_ptr<JobDrainer> drainer_;
  DecodeErrorCounts decode_errors_;
  std::unique_ptr<InputAudit> inputs_;
  std::unique_ptr<Timer> input_wait_;  // the bounded wait for the last input hashes
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ffpod
