#include "supervisor/modes/worker_slot.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cmath>

#include "parsers/common/json_text.h"
#include "parsers/policy/retry_policy.h"
#include "parsers/telemetry/log_format.h"
#include "probes/cgroup.h"
#include "supervisor/job/outputs.h"
#include "supervisor/modes/worker_mode.h"

namespace ffpod {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

milliseconds Ms(double seconds) {
  return milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

// A failed Redis step is retried after 250 ms (the declaration's default), doubling up to 5 s.
constexpr milliseconds kMaxRetry{5000};

}  // namespace

WorkerSlot::WorkerSlot(WorkerMode& worker, int index)
    : w_(worker), index_(index), retry_timer_(worker.service().io()) {}

void WorkerSlot::Begin(std::string document) {
  busy_ = true;
  document_ = std::move(document);
  claimed_at_ = steady_clock::now();
  claimed_wall_ = std::chrono::system_clock::now();
  start_token_ = w_.identity().id + ":" + std::to_string(index_) + ":" +
                 std::to_string(claimed_at_.time_since_epoch().count());
  attempt_ = 0;
  result_.reset();
  temporaries_.clear();
  spawned_at_ = exited_at_ = steady_clock::time_point{};
  auto parsed = ParseJob(document_);
  if (!parsed.ok()) {
    BadJob(parsed.error().message);
    return;
  }
  spec_ = std::move(parsed).value();
  if (auto why = CheckJobOutputs(spec_)) {
    BadJob(*why);
    return;
  }
  if (spec_.traceparent_ignored) {
    w_.logger().Warn("the job's traceparent is not valid W3C trace context; ignored", Fields());
  }
  StartAttempt();
}

void WorkerSlot::OnDrain(const DrainClock& clock, int signals) {
  if (!job_ || !job_->running()) return;
  if (!drainer_) {
    drainer_ = std::make_unique<JobDrainer>(
        w_.service().io(), w_.logger(), *job_, Fields(),
        [this](std::string_view name, const boost::json::object& a) { trace_->Event(name, a); });
  }
  drainer_->Check(clock, signals);
}

void WorkerSlot::Cancel() {
  if (!job_ || !job_->running() || job_->stopping()) return;
  w_.logger().Info("cancel requested: stopping the job", Fields());
  if (trace_) trace_->Event("cancel", {});
  job_->Stop(StopCause::kCancel, steady_clock::now() + Ms(w_.config().stop_timeout_s));
}

void WorkerSlot::KillNow() {
  if (job_ && job_->running()) {
    job_->Stop(StopCause::kDrain, steady_clock::now());
    job_->Kill();
  }
}

boost::json::object WorkerSlot::Describe() const {
  boost::json::object o{{"slot", index_}, {"busy", busy_}};
  if (busy_) {
    o["job_id"] = spec_.id;
    o["attempt"] = attempt_;
    o["phase"] = job_ ? (job_->running() ? "ffmpeg" : "reporting") : "starting";
  }
  return o;
}

boost::json::object WorkerSlot::Fields() const {
  boost::json::object f = trace_ ? trace_->LogFields() : boost::json::object{};
  f["slot"] = index_;
  if (!spec_.id.empty()) f["job_id"] = spec_.id;
  if (attempt_ > 0) f["attempt"] = attempt_;
  return f;
}

void WorkerSlot::BadJob(const std::string& why) {
  std::string id = SalvageJobId(document_);
  boost::json::object f{{"slot", index_}, {"reason", "bad_job"}, {"error", why}};
  if (!id.empty()) f["job_id"] = id;
  f["document_bytes"] = document_.size();
  w_.logger().Error("malformed job dead-lettered", f);
  ResultDoc r = BaseResult();
  r.id = id;
  r.attempt = 0;
  r.status = ResultStatus::kDead;
  r.reason = Reason::kBadJob;
  r.message = why;
  r.started_at = r.finished_at = FormatTimestamp(std::chrono::system_clock::now());
  std::string result_json = SerializeResult(r);
  Retry(
      [this, id, result_json](const std::function<void(const std::string&)>& next) {
        w_.queue().DeadLetterBadJob(document_, id, result_json,
                                    [this, next](const std::string& err, bool dead_lettered) {
                                      if (err.empty()) dead_lettered_ = dead_lettered;
                                      next(err);
                                    });
      },
      [this] {
        // Counted by whoever's script moved it: never twice (an earlier try whose reply was lost
        // goes uncounted).
        if (dead_lettered_) w_.service().metrics().RecordJobFinished("dead", "bad_job", 0);
        Done();
      });
}

void WorkerSlot::StartAttempt() {
  Retry(
      [this](const std::function<void(const std::string&)>& next) {
        w_.queue().Start(
            document_, spec_.id, start_token_,
            [this, next](const std::string& err, JobQueue::StartOutcome outcome, int attempt) {
              if (err.empty()) {
                start_outcome_ = outcome;
                attempt_ = attempt;
              }
              next(err);
            });
      },
      [this] {
        if (start_outcome_ == JobQueue::StartOutcome::kPaused) {
          w_.logger().Info("queue paused: job handed back to pending", Fields());
          Done();
          return;
        }
        if (start_outcome_ == JobQueue::StartOutcome::kGone) {
          // An earlier try (reply lost) handed it back while paused, or another worker recovered
          // it during a Redis outage: it is someone else's to run now.
          w_.logger().Info("job no longer in this worker's active list; not started", Fields());
          Done();
          return;
        }
        if (start_outcome_ == JobQueue::StartOutcome::kCancelled) {
          // Cancelled before it ran: recorded as such, not retried, ffmpeg never started.
          ResultDoc r = BaseResult();
          r.status = ResultStatus::kDead;
          r.reason = Reason::kCancelled;
          r.message = "cancelled on request before it started";
          r.started_at = r.finished_at = FormatTimestamp(std::chrono::system_clock::now());
          result_ = r;
          Record();
          return;
        }
        JobSpanInfo info;
        info.job_id = spec_.id;
        info.attempt = attempt_;
        info.traceparent = spec_.traceparent;
        info.tracestate = spec_.tracestate;
        info.queue = w_.config().queue;
        info.worker_id = w_.identity().id;
        trace_ = std::make_unique<JobTrace>(w_.service().tracer(), info, spec_.enqueued_at,
                                            claimed_wall_);
        if (w_.draining()) {
          // Claimed just as the drain began: never started, handed back at once.
          result_ = PreemptedBeforeStart();
          Record();
          return;
        }
        RunFfmpeg();
      });
}

ResultDoc WorkerSlot::BaseResult() const {
  ResultDoc r;
  r.id = spec_.id;
  r.attempt = attempt_;
  r.worker = w_.identity();
  r.ffmpeg_path = w_.config().ffmpeg;
  return r;
}

ResultDoc WorkerSlot::PreemptedBeforeStart() const {
  ResultDoc r = BaseResult();
  r.status = ResultStatus::kPreempted;
  r.reason = Reason::kPreempted;
  r.message = "stopped by the drain before ffmpeg started";
  r.started_at = r.finished_at = FormatTimestamp(std::chrono::system_clock::now());
  return r;
}

std::string WorkerSlot::Token() const {
  return w_.identity().id + ":" + std::to_string(index_) + ":" + std::to_string(attempt_) + ":" +
         std::to_string(claimed_at_.time_since_epoch().count());
}

void WorkerSlot::RunFfmpeg() {
  const Config& c = w_.config();
  FfmpegJobOptions o;
  o.ffmpeg = c.ffmpeg;
  o.ffprobe = c.ffprobe;
  o.args = spec_.args;
  o.version = w_.service().ffmpeg_version();
  o.pass_stdout = false;
  o.rewrite.overwrite = true;  // retries must be able to replace their own partial output
  if (c.atomic_outputs && !spec_.outputs.empty()) {
    temporaries_ =
        TemporaryOutputs(spec_.outputs, w_.identity().id + "-" + std::to_string(attempt_));
    o.rewrite.output_renames = temporaries_;
  }
  o.stall_timeout = Ms(spec_.stall_timeout_s.value_or(c.stall_timeout_s));
  if (spec_.timeout_s) o.timeout = Ms(*spec_.timeout_s);
  o.stop_timeout = Ms(c.stop_timeout_s);
  o.progress_log_period = Ms(c.progress_log_interval_s);
  o.probe_timeout = Ms(c.probe_timeout_s);
  o.log_fields = Fields();
  o.read_oom_kills = [] { return ReadOomKillCount(); };
  FfmpegJob::Callbacks cb;
  cb.on_progress = [this](const ProgressBlock&) { OnProgress(); };
  cb.on_stderr_line = [this](const LogLine& line) {
    w_.service().metrics().CountStderrLine(LogLevelName(line.level));
  };
  cb.on_progress_parse_errors = [this](uint64_t n) {
    w_.service().metrics().CountProgressParseErrors(n);
  };
  cb.on_event = [this](std::string_view name, const boost::json::object& attributes) {
    if (name == "stall") w_.service().metrics().CountStall();
    trace_->Event(name, attributes);
  };
  cb.on_probe = [this](const ProbeRun& run) { trace_->Probe(run); };
  cb.on_finished = [this](const JobOutcome& outcome) {
    // Leave the FfmpegJob's own call stack before acting on the outcome.
    asio::post(w_.service().io(), [this, outcome] { OnFinished(outcome); });
  };
  job_ = std::make_unique<FfmpegJob>(w_.service().io(), w_.service().reaper(), w_.logger(), o, cb);
  RunningJobStatus status;
  status.slot = index_;
  status.id = spec_.id;
  status.attempt = attempt_;
  w_.service().board().SetJob(status);
  w_.UpdateInFlight();
  job_->Start();
  if (job_->pid() > 0) trace_->FfmpegStarted(o.ffmpeg, o.args, job_->pid());
  if (w_.draining()) OnDrain(*w_.drain_clock(), w_.service().signals_received());
}

void WorkerSlot::OnProgress() {
  ProgressView v = job_->View();
  w_.service().metrics().SetSlotProgress(index_, spec_.id, SlotProgressFrom(v));
  progress_ratio_ = v.ratio;
  w_.UpdatePodCost();
  RunningJobStatus status;
  status.slot = index_;
  status.id = spec_.id;
  status.attempt = attempt_;
  status.progress = v;
  status.running_s = std::chrono::duration<double>(steady_clock::now() - claimed_at_).count();
  w_.service().board().SetJob(status);
  // The state hash and the events channel, at most every 2 s.
  auto now = steady_clock::now();
  if (now - last_published_ >= seconds(2) && w_.redis_up()) {
    last_published_ = now;
    w_.queue().PublishProgress(spec_.id, JsonText(ProgressFields(v)), [](const std::string&) {});
  }
}

void WorkerSlot::OnFinished(const JobOutcome& outcome) {
  if (drainer_) drainer_->Cancel();
  ResultDoc r = BaseResult();
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
  r.trace_id = trace_->trace_id();
  trace_->FfmpegEnded(outcome);
  trace_->PublishStarted();
  result_ = r;
  spawned_at_ = outcome.spawned_steady;
  exited_at_ = outcome.exited_steady;
  if (r.reason != Reason::kOk) {
    RemoveTemporaries(temporaries_);
    Decide();
    return;
  }
  // Publish (rename) and hash off the loop: a big output takes a while to read.
  auto temporaries = temporaries_;
  auto outputs = spec_.outputs;
  asio::post(w_.hash_pool(), [this, temporaries, outputs, &io = w_.service().io()] {
    std::string error;
    std::vector<OutputFile> files;
    if (!temporaries.empty()) {
      auto published = PublishOutputs(temporaries);
      if (!published.ok()) error = published.error().message;
    }
    if (error.empty()) {
      for (const auto& path : outputs) {
        auto h = HashOutput(path);
        if (!h.ok()) {
          error = h.error().message;
          break;
        }
        files.push_back(std::move(h).value());
      }
    }
    if (!error.empty()) RemoveTemporaries(temporaries);
    asio::post(io, [this, error, files] {
      result_->outputs = files;
      if (!error.empty()) {
        result_->reason = Reason::kOutputFailed;
        result_->message = error;
      }
      Decide();
    });
  });
}

void WorkerSlot::Decide() {
  RetryPolicy policy;
  policy.max_attempts = spec_.max_attempts.value_or(w_.config().max_attempts);
  policy.base_s = w_.config().retry_base_s;
  policy.max_s = w_.config().retry_max_s;
  AttemptDisposition d = DecideAfterAttempt(result_->reason, attempt_, policy, w_.Jitter());
  result_->status = d.status;
  result_->next_attempt_in_s = d.delay_s;
  Record();
}

void WorkerSlot::Record() {
  if (trace_) result_->trace_id = trace_->trace_id();
  const ResultDoc& r = *result_;
  FinishRequest req;
  req.document = document_;
  req.id = spec_.id;
  req.status = std::string(ResultStatusName(r.status));
  req.result_json = SerializeResult(r);
  if (r.status == ResultStatus::kDead) {
    req.dead_entry_json = "{\"job\":" + JsonText(boost::json::string_view(document_)) +
                          ",\"result\":" + req.result_json + "}";
  }
  if (r.next_attempt_in_s) req.delay_ms = std::llround(*r.next_attempt_in_s * 1000);
  req.token = Token();
  boost::json::object f = Fields();
  f["status"] = ResultStatusName(r.status);
  f["reason"] = ReasonName(r.reason);
  f["result"] = ResultToJson(r);
  Severity sev = r.status == ResultStatus::kSucceeded   ? Severity::kInfo
                 : r.status == ResultStatus::kPreempted ? Severity::kWarning
                                                        : Severity::kError;
  w_.logger().Log(sev,
                  "job finished: " + std::string(ReasonName(r.reason)) +
                      (r.message.empty() ? "" : " (" + r.message + ")"),
                  f);
  w_.service().metrics().RecordJobFinished(ResultStatusName(r.status), ReasonName(r.reason),
                                           r.duration_s);
  w_.CountFinished(r.status == ResultStatus::kPreempted);
  w_.service().metrics().ClearSlot(index_);
  w_.service().board().ClearJob(index_);
  Retry(
      [this, req](const std::function<void(const std::string&)>& next) {
        w_.queue().Finish(req, [this, next](const std::string& err, int owned) {
          if (err.empty() && owned == 0) {
            w_.logger().Warn("job had been taken over by another worker; result recorded only",
                             Fields());
          }
          next(err);
        });
      },
      [this] {
        if (exited_at_ != steady_clock::time_point{}) {
          // The worker's own share of a job: claim to spawn, and ffmpeg's exit to the recorded
          // result (docs/benchmarks.md).
          auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
          boost::json::object f = Fields();
          f["claim_to_spawn_ms"] = std::round(ms(spawned_at_ - claimed_at_) * 1000) / 1000;
          f["exit_to_recorded_ms"] = std::round(ms(steady_clock::now() - exited_at_) * 1000) / 1000;
          w_.logger().Debug("result recorded", f);
        }
        if (trace_) {
          trace_->PublishEnded();
          trace_->Finish(*result_);
        }
        Done();
      });
}

void WorkerSlot::Retry(const std::function<void(std::function<void(const std::string&)>)>& step,
                       const std::function<void()>& then, milliseconds delay) {
  step([this, step, then, delay](const std::string& err) {
    if (err.empty()) {
      then();
      return;
    }
    w_.CountRedisError();
    boost::json::object f = Fields();
    f["error"] = err;
    f["retry_in_ms"] = delay.count();
    w_.logger().Warn("queue step failed; retrying", f);
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this, step, then, delay](const boost::system::error_code& ec) {
      if (ec) return;
      Retry(step, then, std::min(kMaxRetry, delay * 2));
    });
  });
}

void WorkerSlot::Done() {
  drainer_.reset();
  if (job_) {
    // Destroyed after this turn: its handlers may still be on the stack.
    auto job = std::shared_ptr<FfmpegJob>(std::move(job_));
    asio::post(w_.service().io(), [job] {});
  }
  trace_.reset();
  busy_ = false;
  progress_ratio_.reset();
  spec_ = JobSpec{};
  attempt_ = 0;
  w_.UpdateInFlight();
  w_.OnSlotIdle();
}

}  // namespace ffpod
