#include "supervisor/modes/worker_slot.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cmath>

#include "parsers/common/json_text.h"
#include "parsers/policy/retry_policy.h"
#include "parsers/telemetry/log_format.h"
#include "supervisor/job/outputs.h"
#include "supervisor/modes/slot_result.h"

namespace ffpod {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

milliseconds Ms(double seconds) {
  return milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

}  // namespace

WorkerSlot::WorkerSlot(const Context& context, Owner& owner, int index)
    : ctx_(context),
      owner_(owner),
      index_(index),
      retry_(context.clock, [this](const Error& error, milliseconds wait) {
        ctx_.service.metrics().CountRedisError();
        boost::json::object f = Fields();
        f["error"] = error.message;
        f["retry_in_ms"] = wait.count();
        // While Redis is down or refuses writes the worker has said so once; each retry is
        // detail.
        if (owner_.writes_refused() || !owner_.redis_up()) {
          ctx_.logger.Debug("queue step failed; retrying", f);
        } else {
          ctx_.logger.Warn("queue step failed; retrying", f);
        }
      }) {}

void WorkerSlot::Begin(size_t queue, std::string document) {
  state_ = State::kStarting;
  queue_ = queue;
  document_ = std::move(document);
  claimed_at_ = ctx_.clock.Now();
  claimed_wall_ = ctx_.clock.WallNow();
  start_token_ = ctx_.identity.id + ":" + std::to_string(index_) + ":" +
                 std::to_string(claimed_at_.time_since_epoch().count());
  attempt_number_ = 0;
  fenced_ = false;
  unpublished_.clear();
  result_.reset();
  spawned_at_ = exited_at_ = SteadyTime{};
  auto parsed = ParseJob(document_);
  if (!parsed.ok()) {
    DeadLetter(parsed.error().message);
    return;
  }
  spec_ = std::move(parsed).value();
  // The job's arguments for this queue's pool, when it has some (docs/queue.md).
  if (auto own = spec_.routing.args_by_queue.find(this->queue().keys().q);
      own != spec_.routing.args_by_queue.end()) {
    spec_.args = own->second;
  }
  if (Status outputs = CheckJobOutputs(spec_); !outputs.ok()) {
    DeadLetter(outputs.error().message);
    return;
  }
  if (spec_.traceparent_ignored) {
    ctx_.logger.Warn("the job's traceparent is not valid W3C trace context; ignored", Fields());
  }
  StartAttempt();
}

void WorkerSlot::OnDrain(const DrainClock& drain, int signals) {
  if (attempt_) attempt_->Drain(drain, signals);
}

void WorkerSlot::Cancel() {
  if (!running_ffmpeg() || attempt_->job()->stopping()) return;
  ctx_.logger.Info("cancel requested: stopping the job", Fields());
  attempt_->trace().Event("cancel", {});
  attempt_->job()->Stop(StopCause::kCancel, ctx_.clock.Now() + Ms(ctx_.config.stop_timeout_s));
}

void WorkerSlot::KillNow() {
  if (attempt_) attempt_->KillNow();
}

void WorkerSlot::Fenced() {
  if (fenced_ || !running_ffmpeg()) return;
  fenced_ = true;  // said once, in the attempt's result record
  attempt_->trace().Event("fenced", {});
  if (!attempt_->job()->stopping()) {
    attempt_->job()->Stop(StopCause::kCancel, ctx_.clock.Now() + Ms(ctx_.config.stop_timeout_s));
  }
}

// Only the Finish script found the claim fenced, after the result record was logged.
void WorkerSlot::LogFencedLate() {
  boost::json::object f = Fields();
  f["status"] = "superseded";
  // Published: the window of docs/queue.md (a freeze between the last rename and the result).
  bool published = result_ && result_->reason == Reason::kOk && !result_->outputs.empty();
  ctx_.logger.Warn(std::string("job taken over by another worker after this worker's heartbeat "
                               "expired: the result above is recorded as superseded") +
                       (published ? ", and the outputs it published are replaced by the live "
                                    "attempt's"
                                  : ""),
                   f);
}

boost::json::object WorkerSlot::Describe() const {
  boost::json::object o{{"slot", index_}, {"busy", !idle()}};
  if (!idle()) {
    o["queue"] = owner_.queue(queue_).settings().queue;
    o["job_id"] = spec_.id;
    o["attempt"] = attempt_number_;
    const FfmpegJob* job = attempt_ ? attempt_->job() : nullptr;
    o["phase"] = job ? (job->running() ? "ffmpeg" : "reporting") : "starting";
  }
  return o;
}

boost::json::object WorkerSlot::Fields() const {
  boost::json::object f = attempt_ ? attempt_->trace().LogFields() : boost::json::object{};
  f["slot"] = index_;
  if (owner_.several_queues()) f["queue"] = owner_.queue(queue_).settings().queue;
  if (!spec_.id.empty()) f["job_id"] = spec_.id;
  if (attempt_number_ > 0) f["attempt"] = attempt_number_;
  return f;
}

ResultDoc WorkerSlot::BaseResult() const {
  ResultDoc r;
  r.id = spec_.id;
  r.attempt = attempt_number_;
  r.worker = ctx_.identity;
  r.ffmpeg_path = ctx_.config.ffmpeg;
  ctx_.service.StampAudit(r);
  return r;
}

std::string WorkerSlot::Token() const {
  return ctx_.identity.id + ":" + std::to_string(index_) + ":" + std::to_string(attempt_number_) +
         ":" + std::to_string(claimed_at_.time_since_epoch().count());
}

// A malformed document goes to Q:dead with a bad_job result; no attempt is counted.
void WorkerSlot::DeadLetter(const std::string& why) {
  state_ = State::kDeadLettering;
  std::string id = SalvageJobId(document_);
  boost::json::object f{{"slot", index_}, {"reason", "bad_job"}, {"error", why}};
  if (!id.empty()) f["job_id"] = id;
  f["document_bytes"] = document_.size();
  ctx_.logger.Error("malformed job dead-lettered", f);
  std::string result_json =
      SerializeResult(BadJobResult(BaseResult(), id, why, ctx_.clock.WallNow()));
  retry_.Run(
      [this, id, result_json](const StepRetry::Next& next) {
        queue().DeadLetterBadJob(document_, id, result_json,
                                 JobQueue::Reply<bool>([this, next](Result<bool> moved) {
                                   if (moved.ok()) dead_lettered_ = *moved;
                                   next(moved.status());
                                 }));
      },
      [this] {
        // Counted by whoever's script moved it: never twice (an earlier try whose reply was lost
        // goes uncounted).
        if (dead_lettered_) ctx_.service.metrics().RecordJobFinished("dead", "bad_job", 0);
        Done();
      });
}

void WorkerSlot::StartAttempt() {
  retry_.Run(
      [this](const StepRetry::Next& next) {
        start_sent_ = ctx_.clock.Now();
        queue().Start(document_, spec_.id, start_token_,
                      [this, next](Result<JobQueue::Started> started) {
                        if (started.ok()) {
                          start_outcome_ = started->outcome;
                          attempt_number_ = started->attempt;
                        }
                        next(started.status());
                      });
      },
      [this] { OnStarted(); });
}

// The Start script answered.
void WorkerSlot::OnStarted() {
  switch (start_outcome_) {
    case JobQueue::StartOutcome::kPaused:
      ctx_.logger.Info("queue paused: job handed back to pending", Fields());
      Done();
      return;
    case JobQueue::StartOutcome::kGone:
      // An earlier try (reply lost) handed it back while paused, or another worker recovered
      // it during a Redis outage: it is someone else's to run now.
      ctx_.logger.Info("job no longer in this worker's active list; not started", Fields());
      Done();
      return;
    case JobQueue::StartOutcome::kEnded:
      // A copy of a job that already succeeded or is dead: its first terminal state is final.
      ctx_.logger.Warn(
          "job already ended (succeeded, dead or cancelled); this copy was dropped, not run",
          Fields());
      Done();
      return;
    case JobQueue::StartOutcome::kCancelled:
      // Cancelled before it ran: recorded as such, not retried, ffmpeg never started.
      result_ = CancelledBeforeStartResult(BaseResult(), ctx_.clock.WallNow());
      Record();
      return;
    case JobQueue::StartOutcome::kStarted:
      break;
  }
  if (ctx_.clock.Now() - start_sent_ > owner_.HeartbeatTtl() / 3) {
    // The answer took longer than a heartbeat period (this worker was stopped, or Redis slow):
    // a recovery may have fenced the claim meanwhile. Spawn only under a fresh lease.
    retry_.Run(
        [this](const StepRetry::Next& next) {
          queue().Hold(document_, spec_.id, start_token_, owner_.HeartbeatInfo(),
                       owner_.HeartbeatTtl(), [this, next](Result<bool> held) {
                         if (held.ok()) held_ = *held;
                         next(held.status());
                       });
        },
        [this] {
          if (held_) return BeginAttempt();
          ctx_.logger.Warn(
              "job taken over by another worker while this worker was stopped after starting "
              "it; not run here",
              Fields());
          Done();
        });
    return;
  }
  BeginAttempt();
}

void WorkerSlot::BeginAttempt() {
  AttemptEnv env{.io = ctx_.service.io(),
                 .input_pool = ctx_.input_pool,
                 .clock = ctx_.clock,
                 .processes = ctx_.service.processes(),
                 .logger = ctx_.logger,
                 .metrics = ctx_.service.metrics(),
                 .board = ctx_.service.board(),
                 .tracer = ctx_.service.tracer()};
  attempt_ = std::make_unique<JobAttempt>(env, MakeAttemptSpec());
  if (owner_.drain()) {
    // Claimed just as the drain began: never started, handed back at once.
    result_ = PreemptedBeforeStartResult(BaseResult(), ctx_.clock.WallNow());
    Record();
    return;
  }
  RunFfmpeg();
  RemoveOtherTemporaries();
}

AttemptSpec WorkerSlot::MakeAttemptSpec() const {
  const Config& c = ctx_.config;
  AttemptSpec a;
  a.ffmpeg = c.ffmpeg;
  a.ffprobe = c.ffprobe;
  a.args = spec_.args;
  a.version = ctx_.service.ffmpeg_version();
  a.pass_stdout = false;
  a.rewrite.overwrite = true;  // retries must be able to replace their own partial output
  if (c.atomic_outputs && !spec_.outputs.empty()) {
    a.temporaries =
        TemporaryOutputs(spec_.outputs, ctx_.identity.id + "-" + std::to_string(attempt_number_));
  }
  a.stall_timeout = Ms(spec_.stall_timeout_s.value_or(c.stall_timeout_s));
  if (spec_.timeout_s) a.timeout = Ms(*spec_.timeout_s);
  a.stop_timeout = Ms(c.stop_timeout_s);
  a.progress_log_period = Ms(c.progress_log_interval_s);
  a.probe_timeout = Ms(c.probe_timeout_s);
  a.input_hash_max_bytes = int64_t{c.input_hash_max_mib} << 20;
  a.slot = index_;
  a.job_id = spec_.id;
  a.attempt = attempt_number_;
  a.worker = ctx_.identity;
  a.log_fields = Fields();  // no trace yet: slot, job_id, attempt
  a.running_since = claimed_at_;
  a.span.job_id = spec_.id;
  a.span.attempt = attempt_number_;
  a.span.traceparent = spec_.traceparent;
  a.span.tracestate = spec_.tracestate;
  a.span.queue = owner_.queue(queue_).settings().queue;
  a.span.worker_id = ctx_.identity.id;
  a.enqueued_at = spec_.enqueued_at;
  a.claimed_at = claimed_wall_;
  return a;
}

void WorkerSlot::RunFfmpeg() {
  state_ = State::kRunning;
  owner_.OnSlotBusy();
  attempt_->Start([this](const ProgressView& v) { OnProgress(v); },
                  [this](ResultDoc result, const JobOutcome& outcome) {
                    OnFinished(std::move(result), outcome);
                  });
  if (const DrainClock* drain = owner_.drain()) {
    OnDrain(*drain, ctx_.service.signals_received());
  }
}

void WorkerSlot::OnProgress(const ProgressView& v) {
  progress_ratio_ = v.ratio;
  owner_.OnSlotProgress();
  // The state hash and the events channel, at most every 2 s.
  SteadyTime now = ctx_.clock.Now();
  if (now - last_published_ >= seconds(2) && owner_.redis_up()) {
    last_published_ = now;
    queue().PublishProgress(spec_.id, JsonText(ProgressFields(v)), [](const Status&) {});
  }
}

void WorkerSlot::OnFinished(ResultDoc result, const JobOutcome& outcome) {
  attempt_->trace().PublishStarted();
  result_ = std::move(result);
  spawned_at_ = outcome.spawned_steady;
  exited_at_ = outcome.exited_steady;
  if (fenced_) {
    RemoveTemporaries(attempt_->spec().temporaries);
    Record();
    return;
  }
  if (result_->reason != Reason::kOk) {
    Decide();  // the attempt removed its temporaries
    return;
  }
  Verify(outcome.expected_duration_us);
}

void WorkerSlot::Decide() {
  RetryPolicy policy;
  policy.max_attempts = spec_.max_attempts.value_or(ctx_.config.max_attempts);
  policy.base_s = ctx_.config.retry_base_s;
  policy.max_s = ctx_.config.retry_max_s;
  AttemptDisposition d =
      DecideAfterAttempt(result_->reason, attempt_number_, policy, owner_.Jitter());
  result_->status = d.status;
  result_->next_attempt_in_s = d.delay_s;
  // A route for the reason sends the job to another pool instead (the failed attempt counts).
  std::optional<std::string> route =
      ChooseRoute(spec_.routing, ctx_.config.reroute, result_->reason, queue().keys().q,
                  attempt_number_, policy.max_attempts);
  if (route && (d.status == ResultStatus::kRetrying || d.status == ResultStatus::kDead)) {
    fallback_ = d;
    result_->status = ResultStatus::kRerouted;
    result_->next_attempt_in_s.reset();
    result_->rerouted_to = *route;
  }
  Record();
}

void WorkerSlot::LogNotRerouted() {
  boost::json::object f = Fields();
  f["queue"] = result_->rerouted_to;
  f["status"] = ResultStatusName(fallback_.status);
  ctx_.logger.Warn(
      "the job's route names a queue that holds a live job with the same id: not "
      "rerouted, recorded as " +
          std::string(ResultStatusName(fallback_.status)) + " here",
      f);
  result_->status = fallback_.status;
  result_->rerouted_to.clear();
}

void WorkerSlot::Record() {
  state_ = State::kRecording;
  if (attempt_) result_->trace_id = attempt_->trace().trace_id();
  ctx_.service.StampAudit(*result_);
  if (fenced_) {
    result_->status = ResultStatus::kSuperseded;
    result_->reason = Reason::kWorkerLost;
    result_->message =
        "superseded: another worker took the job over after this worker's heartbeat expired; "
        "nothing of this attempt was published";
    result_->outputs.clear();
    result_->next_attempt_in_s.reset();
  }
  const ResultDoc& r = *result_;
  FinishRequest req = r.status == ResultStatus::kRerouted
                          ? MakeRerouteRequest(r, fallback_, document_, queue().keys().q, Token())
                          : MakeFinishRequest(r, document_, Token());
  req.start_token = start_token_;
  boost::json::object f = Fields();
  f["status"] = ResultStatusName(r.status);
  f["reason"] = ReasonName(r.reason);
  f["result"] = ResultToJson(r);
  ctx_.logger.Log(ResultSeverity(r), JobFinishedMessage(r), f);
  ctx_.service.metrics().RecordJobFinished(ResultStatusName(r.status), ReasonName(r.reason),
                                           r.duration_s);
  owner_.OnAttemptRecorded(r.status == ResultStatus::kPreempted);
  ctx_.service.metrics().ClearSlot(index_);
  ctx_.service.board().ClearJob(index_);
  retry_.Run(
      [this, req](const StepRetry::Next& next) {
        queue().Finish(req, [this, next](Result<FinishOutcome> outcome) {
          if (outcome.ok() && *outcome == FinishOutcome::kSuperseded && !fenced_) {
            fenced_ = true;
            LogFencedLate();
          }
          if (outcome.ok() && *outcome == FinishOutcome::kRecordedWithoutRoute) LogNotRerouted();
          // kRepeated: an earlier try of this step recorded it (its reply, or the WAIT after
          // it, was lost), and did not sweep.
          if (outcome.ok() && *outcome != FinishOutcome::kSuperseded &&
              (result_->status == ResultStatus::kSucceeded ||
               result_->status == ResultStatus::kDead ||
               result_->status == ResultStatus::kCancelled)) {
            SweepEndedJob();
          }
          next(outcome.status());
        });
      },
      [this] { OnRecorded(); });
}

void WorkerSlot::OnRecorded() {
  if (exited_at_ != SteadyTime{}) {
    // The worker's own share of a job: claim to spawn, and ffmpeg's exit to the recorded
    // result (docs/benchmarks.md).
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    boost::json::object f = Fields();
    f["claim_to_spawn_ms"] = std::round(ms(spawned_at_ - claimed_at_) * 1000) / 1000;
    f["exit_to_recorded_ms"] = std::round(ms(ctx_.clock.Now() - exited_at_) * 1000) / 1000;
    ctx_.logger.Debug("result recorded", f);
  }
  if (attempt_) attempt_->End(*result_);
  Done();
}

void WorkerSlot::Done() {
  if (attempt_) {
    // Destroyed after this turn: its handlers may still be on the stack.
    auto attempt = std::shared_ptr<JobAttempt>(std::move(attempt_));
    asio::post(ctx_.service.io(), [attempt] {});
  }
  state_ = State::kIdle;
  progress_ratio_.reset();
  spec_ = JobSpec{};
  attempt_number_ = 0;
  owner_.OnSlotIdle();
}

}  // namespace ffpod
