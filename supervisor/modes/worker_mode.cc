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
#include "supervisor/job/outputs.h"
#include "supervisor/modes/worker_slot.h"
#include "supervisor/modes/worker_views.h"

namespace ffpod {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

milliseconds Ms(double seconds) {
  return milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

}  // namespace

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
  identity_ = DetectIdentity(config);
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

Status WorkerMode::StartPodCost() {
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
      return Error{"--pod-deletion-cost: cannot read " + dir +
                   "/namespace; set POD_NAMESPACE or mount the service account token"};
    }
    if (!IsKubernetesName(o.ns)) {
      return Error{"--pod-deletion-cost: " + dir + "/namespace holds \"" + o.ns +
                   "\", not a namespace name"};
    }
  }
  auto updater = PodCostUpdater::Create(o);
  if (!updater) return Error{"--pod-deletion-cost: " + updater.error().message};
  pod_cost_ = std::move(updater).value();
  logger_.Info("keeping this pod's pod-deletion-cost current",
               {{"pod", o.ns + "/" + o.pod}, {"api", o.host + ":" + std::to_string(o.port)}});
  // 0 at once: a restarted container may find the cost of its previous run on the pod.
  UpdatePodCost();
  return Status::Ok();
}

int WorkerMode::Run() {
  auto url = ParseRedisUrl(config_.redis_url);
  if (!url.ok()) {
    logger_.Error("--redis: " + url.error().message);
    return 2;
  }
  url_ = *url;
  if (auto failed = service_.StartTracingAndHttp()) return *failed;
  slot_owner_ = std::make_unique<SlotOwner>(*this);
  input_pool_ = std::make_unique<boost::asio::thread_pool>(config_.slots);
  WorkerSlot::Context context{.config = config_,
                              .identity = identity_,
                              .service = service_,
                              .logger = logger_,
                              .clock = clock_,
                              .hash_pool = hash_pool_,
                              .input_pool = *input_pool_};
  for (int i = 0; i < config_.slots; ++i) {
    slots_.push_back(std::make_unique<WorkerSlot>(context, *slot_owner_, i));
  }
  if (config_.pod_deletion_cost) {
    if (Status started = StartPodCost(); !started.ok()) {
      logger_.Error(started.error().message);
      return 2;
    }
  }
  StatusBoard& board = service_.board();
  board.SetCheck("draining", std::nullopt);
  board.SetCheck("paused", std::nullopt);
  board.SetCheck("redis", "connecting to " + url_->Redacted());
  board.SetCheck("redis_writes", std::nullopt);
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
        service_.io(), service_.processes(), service_.metrics(), board, logger_, config_.ffmpeg,
        config_.require_encoders, Ms(config_.probe_interval_s), Ms(config_.probe_timeout_s));
    encoder_watch_->OnUpdate(
        [this](bool) { service_.metrics().SetReady(service_.board().Readiness().Ready()); });
    encoder_watch_->Start();
  }

  ConnectQueue();
  logger_.Info("worker starting", {{"worker_id", identity_.id},
                                   {"queue", QueueListText(config_.queues)},
                                   {"slots", config_.slots},
                                   {"redis", url_->Redacted()}});
  redis_->Start([this](bool up, const std::string& reason) { OnRedisState(up, reason); });
  claim_redis_->Start([this](bool up, const std::string&) {
    if (up) MaybeClaim();
  });
  service_.io().run();
  auto deadline = steady_clock::now() + seconds(5);
  if (drain_) {
    deadline = std::min(deadline, drain_->ExitBy() - milliseconds(250));
  }
  service_.StopTracing(deadline);
  return exit_code_;
}

// The two Redis clients (commands, and claims that block), the queue and the claim loop.
void WorkerMode::ConnectQueue() {
  RedisClientOptions options;
  options.client_name = "ffpod-" + identity_.id;
  options.require_primary = true;  // a replica (a demoted primary) is not used: it is down
  redis_ = std::make_unique<RedisClient>(service_.io(), *url_, options);
  RedisClientOptions claim_options = options;
  claim_options.client_name = "ffpod-claim-" + identity_.id;
  claim_redis_ = std::make_unique<RedisClient>(service_.io(), *url_, claim_options);
  std::vector<int> weights;
  for (const WeightedQueue& q : config_.queues) {
    JobQueue::Settings settings;
    settings.queue = q.name;
    settings.worker_id = identity_.id;
    settings.result_ttl_s = static_cast<int64_t>(config_.result_ttl_s);
    settings.results_maxlen = config_.results_maxlen;
    settings.default_max_attempts = config_.max_attempts;
    settings.dead_max = config_.dead_max;
    settings.wait_replicas = config_.redis_wait_replicas;
    settings.wait_timeout = Ms(config_.redis_wait_timeout_s);
    auto queue = std::make_unique<JobQueue>(*redis_, settings);
    queue->ObserveDeadTrimmed([this, name = q.name](long long dropped) {
      service_.metrics().CountDeadTrimmed(static_cast<uint64_t>(dropped));
      boost::json::object f{{"dropped", dropped}, {"dead_max", config_.dead_max}};
      if (config_.queues.size() > 1) f["queue"] = name;
      logger_.Warn("dead list full: oldest entries dropped", f);
    });
    queue->ObserveWrites(
        [this](const std::optional<std::string>& refused) { OnWritesRefused(refused); });
    queues_.push_back(std::move(queue));
    weights.push_back(q.weight);
  }
  paused_.assign(queues_.size(), false);
  claim_queue_ = std::make_unique<ClaimQueue>(*this);
  claim_owner_ = std::make_unique<ClaimOwner>(*this);
  claim_lanes_ = std::make_unique<ClaimLanes>(*this);
  fair_claim_ = std::make_unique<FairClaim>(weights, *claim_lanes_);
  claims_ = std::make_unique<ClaimLoop>(clock_, *claim_queue_, *claim_owner_);
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

// One episode of refused writes (maxmemory, a read-only replica): logged when it begins and
// when it ends, not ready in between. Claims go on meanwhile: the first accepted one ends it.
void WorkerMode::OnWritesRefused(const std::optional<std::string>& refused) {
  if (refused.has_value() == writes_refused_) return;
  writes_refused_ = refused.has_value();
  StatusBoard& board = service_.board();
  if (refused) {
    logger_.Warn("Redis refuses writes; not ready until it takes them again",
                 {{"error", *refused}});
    board.SetCheck("redis_writes", "Redis refuses writes: " + *refused);
  } else {
    logger_.Info("Redis takes writes again");
    board.SetCheck("redis_writes", std::nullopt);
  }
  service_.metrics().SetReady(board.Readiness().Ready());
}

void WorkerMode::OnFirstConnect() {
  Heartbeat();
  RecoverScan();
  Promote();
  PollQueueLength();
  PollCancels();
  claims_->Enable();  // recovers this worker's own active list before the first claim
}

std::string WorkerMode::HeartbeatInfo() const {
  boost::json::object info{{"worker", identity_.id},
                           {"slots", config_.slots},
                           {"draining", drain_.has_value()},
                           {"at", FormatTimestamp(std::chrono::system_clock::now())}};
  if (!identity_.pod.empty()) info["pod"] = identity_.pod;
  if (!identity_.node.empty()) info["node"] = identity_.node;
  return JsonText(info);
}

std::chrono::milliseconds WorkerMode::HeartbeatTtl() const { return Ms(config_.heartbeat_s * 3); }

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

void WorkerMode::OnSignal(int count) {
  if (!drain_) {
    DrainClock clock;
    clock.t0 = clock_.Now();
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
    exit_timer_.expires_after(clock.ExitBy() - clock.t0 - milliseconds(500));
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
    if (Status written = WriteExistingFile(config_.termination_log, summary); !written.ok()) {
      logger_.Warn("termination log not written", {{"error", written.error().message}});
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
  LeaveFrom(0, 0, finish);
}

// Started ones are a previous run's (a worker drained before its start-up recovery); the hash
// pool finishes removing their temporaries before the worker exits.
void WorkerMode::LeaveFrom(size_t queue, long long jobs, const std::function<void()>& finish) {
  if (queue == queues_.size()) {
    if (jobs > 0) logger_.Info("handed claimed jobs back to pending", {{"jobs", jobs}});
    finish();
    return;
  }
  RecoverAndSweep(queue, identity_.id, true,
                  [this, queue, jobs, finish](const Result<Recovered>& n) {
                    if (!n.ok()) {
                      // Keep the heartbeat and the membership: they are how the other workers
                      // find this active list and recover it once the heartbeat expires.
                      logger_.Warn(
                          "claimed jobs not handed back; other workers recover them when this "
                          "worker's heartbeat expires",
                          {{"error", n.error().message}});
                      finish();
                      return;
                    }
                    queues_[queue]->Leave([this, queue, jobs, n = n->jobs, finish](const Status&) {
                      LeaveFrom(queue + 1, jobs + n, finish);
                    });
                  });
}

void WorkerMode::DumpState() {
  boost::json::array slots;
  for (const auto& s : slots_) slots.push_back(s->Describe());
  logger_.Info("state dump (SIGUSR1)", {{"worker_id", identity_.id},
                                        {"draining", drain_.has_value()},
                                        {"paused", claims_ && claims_->paused()},
                                        {"redis_up", redis_ && redis_->up()},
                                        {"slots", std::move(slots)},
                                        {"status", service_.board().StatusValue()}});
}

}  // namespace ffpod
