#include "supervisor/job/job_attempt.h"

#include <boost/asio/post.hpp>

#include "parsers/ffmpeg/log_line.h"
#include "parsers/telemetry/log_format.h"
#include "probes/cgroup.h"
#include "supervisor/job/outputs.h"

namespace ffpod {

namespace {

// ffprobe's facts into the audit's records of the same inputs (both lists follow the
// arguments' order; a wrapper's are of two different commands, then nothing matches).
void AddInputProbes(const std::vector<InputProbeAnswer>& answers,
                    std::vector<InputRecord>& records) {
  for (size_t i = 0; i < records.size(); ++i) {
    InputRecord& r = records[i];
    if (r.kind != InputKind::kFile && r.kind != InputKind::kUrl) continue;
    if (answers.empty()) {
      r.probe_skipped = "ffmpeg did not start: nothing was probed";
      continue;
    }
    if (answers.size() != records.size()) {
      r.probe_skipped = "the command ffmpeg ran is not the one ffpod was given (a wrapper)";
      continue;
    }
    r.probe = answers[i].facts;
    r.probe_skipped = answers[i].facts ? std::string() : answers[i].skipped;
  }
}

}  // namespace

Severity ResultSeverity(const ResultDoc& result) {
  return result.status == ResultStatus::kSucceeded ? Severity::kInfo
         : result.status == ResultStatus::kPreempted ||
                 result.status == ResultStatus::kSuperseded ||
                 result.status == ResultStatus::kRerouted
             ? Severity::kWarning
             : Severity::kError;
}

std::string JobFinishedMessage(const ResultDoc& result) {
  return "job finished: " + std::string(ReasonName(result.reason)) +
         (result.message.empty() ? "" : " (" + result.message + ")") +
         (result.rerouted_to.empty() ? "" : "; rerouted to queue " + result.rerouted_to);
}

JobAttempt::JobAttempt(AttemptEnv env, AttemptSpec spec)
    : env_(env),
      spec_(std::move(spec)),
      trace_(std::make_unique<JobTrace>(env_.tracer, spec_.span, spec_.enqueued_at,
                                        spec_.claimed_at)) {}

boost::json::object JobAttempt::LogFields() const {
  boost::json::object f = trace_->LogFields();
  for (const auto& kv : spec_.log_fields) f[kv.key()] = kv.value();
  return f;
}

FfmpegJobOptions JobAttempt::JobOptions() const {
  FfmpegJobOptions o;
  o.ffmpeg = spec_.ffmpeg;
  o.ffprobe = spec_.ffprobe;
  o.args = spec_.args;
  o.version = spec_.version;
  o.pass_stdout = spec_.pass_stdout;
  o.rewrite = spec_.rewrite;
  o.wrapper = spec_.wrapper;
  o.stderr_log_level = spec_.stderr_log_level;
  if (!spec_.temporaries.empty()) o.rewrite.output_renames = spec_.temporaries;
  o.stall_timeout = spec_.stall_timeout;
  o.timeout = spec_.timeout;
  o.stop_timeout = spec_.stop_timeout;
  o.progress_log_period = spec_.progress_log_period;
  o.probe_timeout = spec_.probe_timeout;
  o.log_fields = LogFields();
  o.read_oom_kills = [] { return ReadOomKillCount(); };
  return o;
}

FfmpegJob::Callbacks JobAttempt::JobCallbacks() {
  FfmpegJob::Callbacks cb;
  cb.on_progress = [this](const ProgressBlock&) { OnProgressBlock(); };
  cb.on_stderr_line = [this](const LogLine& line) {
    env_.metrics.CountStderrLine(LogLevelName(line.level));
    if (auto kind = decode_errors_.Observe(line.message)) env_.metrics.CountDecodeError(*kind);
  };
  cb.on_progress_parse_errors = [this](uint64_t n) { env_.metrics.CountProgressParseErrors(n); };
  cb.on_event = [this](std::string_view name, const boost::json::object& attributes) {
    if (name == "stall") env_.metrics.CountStall();
    trace_->Event(name, attributes);
  };
  cb.on_probe = [this](const ProbeRun& run) { trace_->Probe(run); };
  cb.on_finished = [this](const JobOutcome& outcome) {
    // Leave the FfmpegJob's own call stack before acting on the outcome.
    boost::asio::post(env_.io, [this, outcome, alive = alive_] {
      if (*alive) OnFinished(outcome);
    });
  };
  return cb;
}

RunningJobStatus JobAttempt::Status() const {
  RunningJobStatus status;
  status.slot = spec_.slot;
  status.queue = spec_.span.queue;
  status.id = spec_.job_id;
  status.attempt = spec_.attempt;
  return status;
}

void JobAttempt::Start(OnProgress on_progress, OnResult done) {
  on_progress_ = std::move(on_progress);
  done_ = std::move(done);
  FfmpegJobOptions o = JobOptions();
  std::string ffmpeg = o.ffmpeg;
  std::vector<std::string> args = o.args;
  job_ = std::make_unique<FfmpegJob>(env_.io, env_.clock, env_.processes, env_.logger, std::move(o),
                                     JobCallbacks());
  inputs_ =
      std::make_unique<InputAudit>(env_.io, env_.input_pool, AnalyzeFfmpegArgs(spec_.args).inputs,
                                   SecretValues(spec_.args), spec_.input_hash_max_bytes);
  inputs_->Start();
  env_.board.SetJob(Status());
  job_->Start();
  if (job_->pid() > 0) trace_->FfmpegStarted(ffmpeg, args, job_->pid());
}

void JobAttempt::OnProgressBlock() {
  ProgressView v = job_->View();
  env_.metrics.SetSlotProgress(spec_.slot, spec_.job_id, SlotProgressFrom(v), spec_.span.queue);
  RunningJobStatus status = Status();
  status.progress = v;
  SteadyTime since = spec_.running_since.value_or(job_->started_steady());
  status.running_s = std::chrono::duration<double>(env_.clock.Now() - since).count();
  env_.board.SetJob(status);
  if (on_progress_) on_progress_(v);
}

void JobAttempt::Drain(const DrainClock& drain, int signals) {
  if (!running()) return;
  if (!drainer_) {
    drainer_ = std::make_unique<JobDrainer>(
        env_.clock, env_.logger, *job_, LogFields(),
        [this](std::string_view name, const boost::json::object& a) { trace_->Event(name, a); });
  }
  drainer_->Check(drain, signals);
}

void JobAttempt::StopNow(StopCause cause, SteadyTime kill_at) {
  if (running()) job_->Stop(cause, kill_at);
}

void JobAttempt::KillNow(StopCause cause) {
  if (!running()) return;
  job_->Stop(cause, env_.clock.Now());  // preempted (or cancelled), not killed
  job_->Kill();
}

void JobAttempt::OnFinished(const JobOutcome& outcome) {
  if (drainer_) drainer_->Cancel();
  // The input hashes ran alongside ffmpeg: a moment for the last of them, never in a drain.
  if (inputs_ && !inputs_->done() && !drainer_) {
    auto reported = std::make_shared<bool>(false);
    auto report = [this, outcome, reported, alive = alive_] {
      if (!*alive || *reported) return;
      *reported = true;
      input_wait_->Cancel();
      Report(outcome);
    };
    input_wait_ = env_.clock.MakeTimer();
    input_wait_->ArmAfter(kInputHashWait, report);
    inputs_->WhenDone(report);
    return;
  }
  Report(outcome);
}

void JobAttempt::Report(const JobOutcome& outcome) {
  ResultDoc r;
  r.id = spec_.job_id;
  r.attempt = spec_.attempt;
  r.worker = spec_.worker;
  r.reason = outcome.classification.reason;
  r.message = outcome.classification.message;
  r.exit = outcome.exit;
  r.started_at = FormatTimestamp(outcome.started_at);
  r.finished_at = FormatTimestamp(outcome.finished_at);
  r.duration_s = outcome.duration_s;
  r.progress = outcome.progress;
  r.ffmpeg_path = outcome.ffmpeg_path;
  r.ffmpeg_version = job_->version().text;
  r.stderr_tail = outcome.stderr_tail;
  r.decode_errors = decode_errors_.by_kind();
  r.trace_id = trace_->trace_id();
  r.audit.args = outcome.args;
  r.audit.inputs = inputs_ ? inputs_->Take() : std::vector<InputRecord>{};
  AddInputProbes(outcome.input_probes, *r.audit.inputs);
  trace_->FfmpegEnded(outcome);
  if (r.reason != Reason::kOk) RemoveTemporaries(spec_.temporaries);
  if (done_) done_(std::move(r), outcome);
}

void JobAttempt::End(const ResultDoc& result) {
  trace_->PublishEnded();
  trace_->Finish(result);
}

}  // namespace ffpod
