#include "supervisor/modes/worker_mode.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <fstream>

#include "parsers/common/json_text.h"
#include "parsers/ffmpeg/ffmpeg_args.h"
#include "parsers/policy/pod_cost.h"
#include "parsers/policy/retry_policy.h"
#include "parsers/telemetry/log_format.h"
#include "probes/cgroup.h"
#include "supervisor/job/ffmpeg_job.h"
#include "supervisor/job/job_drainer.h"
#include "supervisor/job/job_trace.h"
#include "supervisor/job/outputs.h"

namespace ffpod {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

milliseconds Ms(double seconds) {
  return milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

// Retries a Redis step with backoff until it succeeds or `give_up()` says stop.
constexpr milliseconds kFirstRetry{250};
constexpr milliseconds kMaxRetry{5000};

}  // namespace

// One slot: a claimed job from validation to its recorded result.
class WorkerSlot {
 public:
  WorkerSlot(WorkerMode& worker, int index)
      : w_(worker), index_(index), retry_timer_(worker.service().io()) {}

  bool idle() const { return !busy_; }
  // The document as claimed (meaningful while busy).
  const std::string& document() const { return document_; }
  // The running job's progress ratio, when known (for the pod-deletion-cost).
  std::optional<double> progress_ratio() const { return progress_ratio_; }
  bool running_ffmpeg() const { return job_ && job_->running(); }
  int index() const { return index_; }
  const std::string& job_id() const { return spec_.id; }

  void Begin(std::string document) {
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
    if (parsed.ok()) {
      spec_ = std::move(parsed).value();
      if (auto why = CheckJobOutputs(spec_)) parsed = Error{*why};
    }
    if (!parsed.ok()) {
      BadJob(parsed.error().message);
      return;
    }
    if (spec_.traceparent_ignored) {
      w_.logger().Warn("the job's traceparent is not valid W3C trace context; ignored", Fields());
    }
    StartAttempt();
  }

  void OnDrain(const DrainClock& clock, int signals) {
    if (!job_ || !job_->running()) return;
    if (!drainer_) {
      drainer_ = std::make_unique<JobDrainer>(
          w_.service().io(), w_.logger(), *job_, Fields(),
          [this](std::string_view name, const boost::json::object& a) { trace_->Event(name, a); });
    }
    drainer_->Check(clock, signals);
  }

  // A cancel was requested for the running job: the graceful stop, SIGKILL after
  // --stop-timeout; the attempt ends `cancelled` and is not retried.
  void Cancel() {
    if (!job_ || !job_->running() || job_->stopping()) return;
    w_.logger().Info("cancel requested: stopping the job", Fields());
    if (trace_) trace_->Event("cancel", {});
    job_->Stop(StopCause::kCancel, steady_clock::now() + Ms(w_.config().stop_timeout_s));
  }

  void KillNow() {
    if (job_ && job_->running()) {
      job_->Stop(StopCause::kDrain, steady_clock::now());
      job_->Kill();
    }
  }

  boost::json::object Describe() const {
    boost::json::object o{{"slot", index_}, {"busy", busy_}};
    if (busy_) {
      o["job_id"] = spec_.id;
      o["attempt"] = attempt_;
      o["phase"] = job_ ? (job_->running() ? "ffmpeg" : "reporting") : "starting";
    }
    return o;
  }

 private:
  boost::json::object Fields() const {
    boost::json::object f = trace_ ? trace_->LogFields() : boost::json::object{};
    f["slot"] = index_;
    if (!spec_.id.empty()) f["job_id"] = spec_.id;
    if (attempt_ > 0) f["attempt"] = attempt_;
    return f;
  }

  void BadJob(const std::string& why) {
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
        [this, id, result_json](std::function<void(const std::string&)> next) {
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

  void StartAttempt() {
    Retry(
        [this](std::function<void(const std::string&)> next) {
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

  ResultDoc BaseResult() const {
    ResultDoc r;
    r.id = spec_.id;
    r.attempt = attempt_;
    r.worker = w_.identity();
    r.ffmpeg_path = w_.config().ffmpeg;
    return r;
  }

  ResultDoc PreemptedBeforeStart() const {
    ResultDoc r = BaseResult();
    r.status = ResultStatus::kPreempted;
    r.reason = Reason::kPreempted;
    r.message = "stopped by the drain before ffmpeg started";
    r.started_at = r.finished_at = FormatTimestamp(std::chrono::system_clock::now());
    return r;
  }

  std::string Token() const {
    return w_.identity().id + ":" + std::to_string(index_) + ":" + std::to_string(attempt_) + ":" +
           std::to_string(claimed_at_.time_since_epoch().count());
  }

  void RunFfmpeg() {
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
    job_ =
        std::make_unique<FfmpegJob>(w_.service().io(), w_.service().reaper(), w_.logger(), o, cb);
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

  void OnProgress() {
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

  void OnFinished(const JobOutcome& outcome) {
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

  void Decide() {
    RetryPolicy policy;
    policy.max_attempts = spec_.max_attempts.value_or(w_.config().max_attempts);
    policy.base_s = w_.config().retry_base_s;
    policy.max_s = w_.config().retry_max_s;
    AttemptDisposition d = DecideAfterAttempt(result_->reason, attempt_, policy, w_.Jitter());
    result_->status = d.status;
    result_->next_attempt_in_s = d.delay_s;
    Record();
  }

  void Record() {
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
        [this, req](std::function<void(const std::string&)> next) {
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
            f["exit_to_recorded_ms"] =
                std::round(ms(steady_clock::now() - exited_at_) * 1000) / 1000;
            w_.logger().Debug("result recorded", f);
          }
          if (trace_) {
            trace_->PublishEnded();
            trace_->Finish(*result_);
          }
          Done();
        });
  }

  // Runs `step` until it reports success, with backoff; `then` afterwards. While Redis is down
  // the claimed job stays in this worker's active list, so nothing is lost if ffpod dies.
  void Retry(std::function<void(std::function<void(const std::string&)>)> step,
             std::function<void()> then, milliseconds delay = kFirstRetry) {
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

  void Done() {
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

  WorkerMode& w_;
  int index_;
  bool busy_ = false;
  std::optional<double> progress_ratio_;
  std::string start_token_;     // unique per claim (the Start script's repeat check)
  bool dead_lettered_ = false;  // BadJob: this worker's script moved the document to Q:dead
  JobQueue::StartOutcome start_outcome_ = JobQueue::StartOutcome::kPaused;
  std::string document_;
  JobSpec spec_;
  int attempt_ = 0;
  steady_clock::time_point claimed_at_;
  std::chrono::system_clock::time_point claimed_wall_;
  steady_clock::time_point spawned_at_;
  steady_clock::time_point exited_at_;
  steady_clock::time_point last_published_;
  std::map<std::string, std::string> temporaries_;
  std::optional<ResultDoc> result_;
  std::unique_ptr<JobTrace> trace_;  // declared before job_: outlives it
  std::unique_ptr<FfmpegJob> job_;
  std::unique_ptr<JobDrainer> drainer_;
  asio::steady_timer retry_timer_;
};

WorkerMode::WorkerMode(const Config& config, Logger& logger)
    : config_(config),
      logger_(logger),
      service_(config, logger, "worker"),
      clock_(service_.io()),
      heartbeat_timer_(service_.io()),
      recover_timer_(service_.io()),
      promote_timer_(service_.io()),
      length_timer_(service_.io()),
      cancel_timer_(service_.io()),
      exit_timer_(service_.io()) {
  identity_ = DetectIdentity(config.worker_id);
}

WorkerMode::~WorkerMode() { hash_pool_.join(); }

double WorkerMode::Jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

void WorkerMode::CountRedisError() { service_.metrics().CountRedisError(); }

void WorkerMode::UpdateInFlight() {
  int64_t busy = 0;
  for (const auto& s : slots_) busy += s->idle() ? 0 : 1;
  service_.metrics().SetJobsInFlight(busy);
  ServiceState state = drain_     ? ServiceState::kDraining
                       : busy > 0 ? ServiceState::kRunning
                                  : ServiceState::kIdle;
  service_.board().SetState(state);
  UpdatePodCost();
}

void WorkerMode::UpdatePodCost() {
  if (!pod_cost_ || drain_) return;  // a draining pod is on its way out: nothing to rank
  std::vector<std::optional<double>> busy;
  for (const auto& s : slots_) {
    if (!s->idle()) busy.push_back(s->progress_ratio());
  }
  pod_cost_->Set(PodDeletionCost(busy));
}

// --pod-deletion-cost: the updater, or why it cannot run.
std::optional<std::string> WorkerMode::StartPodCost() {
  PodCostUpdaterOptions o;
  o.host = config_.kube_api_host;
  o.port = config_.kube_api_port;
  o.pod = config_.pod_name;
  o.ns = config_.pod_namespace;
  const std::string dir = config_.serviceaccount_dir;
  o.ca_file = dir + "/ca.crt";
  o.token_file = dir + "/token";
  o.logger = &logger_;
  if (o.ns.empty()) {
    std::ifstream in(dir + "/namespace");
    std::getline(in, o.ns);
    if (!in && o.ns.empty()) {
      return "--pod-deletion-cost: cannot read " + dir +
             "/namespace; set POD_NAMESPACE or mount the service account token";
    }
    if (!IsKubernetesName(o.ns)) {
      return "--pod-deletion-cost: " + dir + "/namespace holds \"" + o.ns +
             "\", not a namespace name";
    }
  }
  auto updater = PodCostUpdater::Create(o);
  if (!updater) return "--pod-deletion-cost: " + updater.error().message;
  pod_cost_ = std::move(updater).value();
  logger_.Info("keeping this pod's pod-deletion-cost current",
               {{"pod", o.ns + "/" + o.pod}, {"api", o.host + ":" + std::to_string(o.port)}});
  // 0 at once: a restarted container may find the cost of its previous run on the pod.
  UpdatePodCost();
  return std::nullopt;
}

int WorkerMode::Run() {
  auto url = ParseRedisUrl(config_.redis_url);
  if (!url.ok()) {
    logger_.Error("--redis: " + url.error().message);
    return 2;
  }
  url_ = *url;
  if (auto failed = service_.StartTracingAndHttp()) return *failed;
  for (int i = 0; i < config_.slots; ++i) slots_.push_back(std::make_unique<WorkerSlot>(*this, i));
  if (config_.pod_deletion_cost) {
    if (auto error = StartPodCost()) {
      logger_.Error(*error);
      return 2;
    }
  }
  StatusBoard& board = service_.board();
  board.SetCheck("draining", std::nullopt);
  board.SetCheck("paused", std::nullopt);
  board.SetCheck("redis", "connecting to " + url_->Redacted());
  board.SetCheck("ffmpeg", "checking that " + config_.ffmpeg + " runs");
  service_.metrics().SetRedisUp(false);
  service_.HandleSignals([this](int count, int) { OnSignal(count); }, [this] { DumpState(); });
  service_.ProbeFfmpeg(config_.ffmpeg, [this](Result<FfmpegVersion> v) {
    if (!v) {
      logger_.Error("ffmpeg cannot run; not ready", {{"error", v.error().message}});
    } else {
      logger_.Info("ffmpeg found", {{"version", v->text}, {"ffmpeg", config_.ffmpeg}});
    }
  });

  if (!config_.require_encoders.empty()) {
    encoder_watch_ = std::make_unique<EncoderWatch>(
        service_.io(), service_.reaper(), service_.metrics(), board, logger_, config_.ffmpeg,
        config_.require_encoders, Ms(config_.probe_interval_s), Ms(config_.probe_timeout_s));
    encoder_watch_->OnUpdate(
        [this](bool) { service_.metrics().SetReady(service_.board().Readiness().Ready()); });
    encoder_watch_->Start();
  }

  RedisClientOptions options;
  options.client_name = "ffpod-" + identity_.id;
  redis_ = std::make_unique<RedisClient>(service_.io(), *url_, options);
  RedisClientOptions claim_options = options;
  claim_options.client_name = "ffpod-claim-" + identity_.id;
  claim_redis_ = std::make_unique<RedisClient>(service_.io(), *url_, claim_options);
  JobQueue::Settings settings;
  settings.queue = config_.queue;
  settings.worker_id = identity_.id;
  settings.result_ttl_s = static_cast<int64_t>(config_.result_ttl_s);
  settings.results_maxlen = config_.results_maxlen;
  settings.default_max_attempts = config_.max_attempts;
  queue_ = std::make_unique<JobQueue>(*redis_, settings);
  claim_queue_ = std::make_unique<ClaimQueue>(*this);
  claim_owner_ = std::make_unique<ClaimOwner>(*this);
  claims_ = std::make_unique<ClaimLoop>(clock_, *claim_queue_, *claim_owner_);
  logger_.Info("worker starting", {{"worker_id", identity_.id},
                                   {"queue", config_.queue},
                                   {"slots", config_.slots},
                                   {"redis", url_->Redacted()}});
  redis_->Start([this](bool up, const std::string& reason) { OnRedisState(up, reason); });
  claim_redis_->Start([this](bool up, const std::string&) {
    if (up) MaybeClaim();
  });
  service_.io().run();
  auto deadline = steady_clock::now() + seconds(5);
  if (drain_) {
    deadline =
        std::min(deadline,
                 steady_clock::time_point(std::chrono::microseconds(drain_->ExitByUs() - 250'000)));
  }
  service_.StopTracing(deadline);
  return exit_code_;
}

void WorkerMode::OnRedisState(bool up, const std::string& reason) {
  service_.metrics().SetRedisUp(up);
  service_.board().SetCheck("redis", up ? std::nullopt : std::optional<std::string>(reason));
  service_.metrics().SetReady(service_.board().Readiness().Ready());
  if (!up) {
    CountRedisError();
    logger_.Warn("Redis unavailable; running jobs continue, results wait", {{"error", reason}});
    return;
  }
  logger_.Info("Redis connected", {{"redis", url_->Redacted()}});
  if (!connected_once_) {
    connected_once_ = true;
    OnFirstConnect();
  } else {
    Heartbeat();
  }
  MaybeClaim();
}

void WorkerMode::OnFirstConnect() {
  Heartbeat();
  RecoverScan();
  Promote();
  PollQueueLength();
  PollCancels();
  claims_->Enable();  // recovers this worker's own active list before the first claim
}

void WorkerMode::Heartbeat() {
  heartbeat_timer_.cancel();
  if (!redis_ || exiting_) return;
  boost::json::object info{{"worker", identity_.id},
                           {"slots", config_.slots},
                           {"draining", drain_.has_value()},
                           {"at", FormatTimestamp(std::chrono::system_clock::now())}};
  if (!identity_.pod.empty()) info["pod"] = identity_.pod;
  if (!identity_.node.empty()) info["node"] = identity_.node;
  queue_->Heartbeat(JsonText(info), Ms(config_.heartbeat_s * 3), [this](const std::string& err) {
    if (!err.empty()) CountRedisError();
  });
  heartbeat_timer_.expires_after(Ms(config_.heartbeat_s));
  heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Heartbeat();
  });
}

void WorkerMode::RecoverScan() {
  recover_timer_.expires_after(Ms(config_.heartbeat_s));
  recover_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !exiting_) RecoverScan();
  });
  if (!redis_->up()) return;
  queue_->Workers([this](const std::string& err, std::vector<std::string> workers) {
    if (!err.empty()) {
      CountRedisError();
      return;
    }
    for (const auto& other : workers) {
      if (other == identity_.id) continue;
      queue_->Recover(other, false, [this, other](const std::string& e, long long n) {
        if (!e.empty()) {
          CountRedisError();
        } else if (n > 0) {
          logger_.Warn("recovered the jobs of a worker whose heartbeat expired",
                       {{"lost_worker", other}, {"jobs", n}});
        }
      });
    }
  });
}

void WorkerMode::Promote() {
  promote_timer_.expires_after(seconds(1));
  promote_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !exiting_) Promote();
  });
  if (!redis_->up()) return;
  queue_->PromoteDelayed([this](const std::string& err, long long moved) {
    if (!err.empty()) {
      CountRedisError();
    } else if (moved > 0) {
      logger_.Debug("due retries moved to pending", {{"jobs", moved}});
      MaybeClaim();
    }
  });
}

void WorkerMode::PollCancels() {
  cancel_timer_.expires_after(seconds(1));
  cancel_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !exiting_) PollCancels();
  });
  if (!redis_->up()) return;
  std::vector<std::string> ids;
  std::vector<int> slots;
  for (const auto& s : slots_) {
    if (s->running_ffmpeg()) {
      ids.push_back(s->job_id());
      slots.push_back(s->index());
    }
  }
  queue_->CancelRequested(ids, [this, ids, slots](const std::string& err, std::vector<bool> asked) {
    if (!err.empty()) {
      CountRedisError();
      return;
    }
    for (size_t i = 0; i < asked.size() && i < slots.size(); ++i) {
      auto& slot = slots_[static_cast<size_t>(slots[i])];
      if (asked[i] && slot->running_ffmpeg() && slot->job_id() == ids[i]) slot->Cancel();
    }
  });
}

void WorkerMode::PollQueueLength() {
  length_timer_.expires_after(seconds(5));
  length_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !exiting_) PollQueueLength();
  });
  if (!redis_->up()) {
    service_.metrics().ClearQueuePendingJobs();
    return;
  }
  queue_->PendingLength([this](const std::string& err, long long n) {
    if (err.empty()) {
      service_.metrics().SetQueuePendingJobs(n);
    } else {
      service_.metrics().ClearQueuePendingJobs();
      CountRedisError();
    }
  });
}

void WorkerMode::OnSlotIdle() {
  if (drain_) {
    MaybeExit();
    return;
  }
  MaybeClaim();
}

void WorkerMode::MaybeClaim() {
  if (claims_ && !exiting_) claims_->Kick();
}

// The claim loop's view of the queue: JobQueue's steps, claims on the blocking connection.
class WorkerMode::ClaimQueue final : public ClaimLoop::Queue {
 public:
  explicit ClaimQueue(WorkerMode& w) : w_(w) {}
  bool up() const override { return w_.redis_->up() && w_.claim_redis_->up(); }
  void RecoverOwn(ClaimLoop::Reply<long long> done) override {
    w_.queue_->Recover(w_.identity_.id, true, std::move(done));
  }
  void ReturnUnheld(const std::vector<std::string>& held,
                    ClaimLoop::Reply<long long> done) override {
    w_.queue_->ReturnUnheld(held, std::move(done));
  }
  void IsPaused(ClaimLoop::Reply<bool> done) override { w_.queue_->IsPaused(std::move(done)); }
  void Claim(ClaimLoop::Reply<std::string> done) override {
    w_.queue_->Claim(*w_.claim_redis_, seconds(2), std::move(done));
  }

 private:
  WorkerMode& w_;
};

// The claim loop's view of the worker: its slots, readiness, and where events go.
class WorkerMode::ClaimOwner final : public ClaimLoop::Owner {
 public:
  explicit ClaimOwner(WorkerMode& w) : w_(w) {}
  bool HasIdleSlot() const override {
    for (const auto& s : w_.slots_) {
      if (s->idle()) return true;
    }
    return false;
  }
  std::vector<std::string> HeldDocuments() const override {
    std::vector<std::string> held;
    for (const auto& s : w_.slots_) {
      if (!s->idle()) held.push_back(s->document());
    }
    return held;
  }
  bool ClaimsBlocked() const override {
    ReadinessChecks checks = w_.service_.board().Readiness();
    for (const char* check : {"ffmpeg", EncoderWatch::kCheckName}) {
      auto it = checks.checks.find(check);
      if (it != checks.checks.end() && it->second) return true;
    }
    return false;
  }
  void OnClaimed(std::string document) override {
    for (auto& s : w_.slots_) {
      if (s->idle()) {
        s->Begin(std::move(document));
        return;
      }
    }
  }
  void OnPausedChanged(bool paused) override {
    StatusBoard& board = w_.service_.board();
    board.SetCheck("paused",
                   paused ? std::optional<std::string>("the queue is paused") : std::nullopt);
    w_.service_.metrics().SetReady(board.Readiness().Ready());
    w_.logger_.Info(paused ? "queue paused: not claiming" : "queue resumed");
  }
  void OnQueueError() override { w_.CountRedisError(); }
  void OnRecovered(long long own, long long unheld) override {
    if (own > 0) w_.logger_.Warn("recovered jobs from this worker's previous run", {{"jobs", own}});
    if (unheld > 0) {
      w_.logger_.Warn(
          "handed back claimed jobs that no slot was running (a claim's reply was lost)",
          {{"jobs", unheld}});
    }
  }

 private:
  WorkerMode& w_;
};

void WorkerMode::OnSignal(int count) {
  if (!drain_) {
    DrainClock clock;
    clock.t0_us = JobDrainer::NowUs();
    clock.grace_s = config_.grace_period_s;
    clock.margin_s = config_.drain_margin_s;
    drain_ = clock;
    service_.board().SetCheck("draining", "a termination signal was received");
    service_.metrics().SetDraining(true);
    service_.metrics().SetReady(false);
    UpdateInFlight();
    claims_->Stop();
    // A BLMOVE in flight is cut short; a job it already moved is handed back by the final
    // recovery of this worker's own active list.
    claim_redis_->Close();
    logger_.Info("draining", {{"grace_period_s", config_.grace_period_s},
                              {"drain_margin_s", config_.drain_margin_s}});
    // Whatever happens, ffpod is gone before the kubelet's SIGKILL.
    exit_timer_.expires_after(std::chrono::microseconds(clock.ExitByUs() - clock.t0_us - 500'000));
    exit_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      logger_.Error("grace period almost over; killing what still runs and exiting");
      for (auto& s : slots_) s->KillNow();
      exiting_ = true;
      service_.Shutdown();
      service_.io().stop();
    });
    Heartbeat();  // tells operators this worker is draining
  }
  for (auto& s : slots_) s->OnDrain(*drain_, count);
  MaybeExit();
}

void WorkerMode::MaybeExit() {
  if (!drain_ || exiting_) return;
  for (auto& s : slots_) {
    if (!s->idle()) return;
  }
  exiting_ = true;
  auto finish = [this] {
    if (encoder_watch_) encoder_watch_->Stop();
    logger_.Info("drained; exiting", {{"jobs_finished", jobs_finished_},
                                      {"jobs_preempted", jobs_preempted_},
                                      {"ffpod", OwnResourceUsage()}});
    std::string summary = "drained: worker " + identity_.id + " finished " +
                          std::to_string(jobs_finished_) + " job attempts (" +
                          std::to_string(jobs_preempted_) + " preempted and requeued)\n";
    if (std::string err = WriteExistingFile(config_.termination_log, summary); !err.empty()) {
      logger_.Warn("termination log not written", {{"error", err}});
    }
    exit_timer_.cancel();
    heartbeat_timer_.cancel();
    recover_timer_.cancel();
    promote_timer_.cancel();
    length_timer_.cancel();
    cancel_timer_.cancel();
    service_.Shutdown();
    if (redis_) redis_->Close();
    service_.io().stop();
  };
  if (!redis_->up()) {
    // Our active list is recovered by the other workers once the heartbeat expires.
    finish();
    return;
  }
  queue_->Recover(identity_.id, true, [this, finish](const std::string& error, long long n) {
    if (!error.empty()) {
      // Keep the heartbeat and the membership: they are how the other workers find this
      // active list and recover it once the heartbeat expires.
      logger_.Warn(
          "claimed jobs not handed back; other workers recover them when this "
          "worker's heartbeat expires",
          {{"error", error}});
      finish();
      return;
    }
    if (n > 0) logger_.Info("handed claimed jobs back to pending", {{"jobs", n}});
    queue_->Leave([finish](const std::string&) { finish(); });
  });
}

void WorkerMode::DumpState() {
  boost::json::array slots;
  for (const auto& s : slots_) slots.push_back(s->Describe());
  logger_.Info("state dump (SIGUSR1)",
               {{"worker_id", identity_.id},
                {"draining", drain_.has_value()},
                {"paused", claims_ && claims_->paused()},
                {"redis_up", redis_ && redis_->up()},
                {"slots", std::move(slots)},
                {"status", boost::json::parse(service_.board().StatusJson())}});
}

}  // namespace ffpod
