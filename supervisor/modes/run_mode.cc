#include "supervisor/modes/run_mode.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "parsers/ffmpeg/program_name.h"
#include "parsers/ffmpeg/progress_line.h"
#include "parsers/telemetry/log_format.h"
#include "parsers/telemetry/redact.h"
#include "probes/cgroup.h"

namespace ffpod {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

milliseconds Ms(double seconds) {
  return milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

bool IsWrapper(const Config& config) {
  switch (config.command_kind) {
    case CommandKind::kFfmpeg:
      return false;
    case CommandKind::kWrapper:
      return true;
    case CommandKind::kAuto:
      break;
  }
  return !LooksLikeFfmpeg(config.ffmpeg_argv.front());
}

// The exit status of an interactive run that Ctrl-C stopped, as shells report a SIGINT.
constexpr int kInterruptedExit = 130;

}  // namespace

RunMode::RunMode(const Config& config, Logger& logger)
    : config_(config),
      logger_(logger),
      service_(config, logger, "run"),
      clock_(service_.io()),
      exit_deadline_timer_(service_.io()),
      linger_timer_(service_.io()),
      report_timer_(service_.io()) {
  identity_ = DetectIdentity(config);
  job_id_ = config.job_id.empty() ? identity_.id : config.job_id;
  wrapper_ = IsWrapper(config);
  interactive_ = config.log_format == LogFormat::kText && logger.terminal();
}

int RunMode::Run() {
  if (!config_.report_redis.empty()) {
    auto url = ParseRedisUrl(config_.report_redis);
    if (!url.ok()) {
      logger_.Error("--report-redis: " + url.error().message);
      return 2;
    }
    report_url_ = *url;
  }
  if (Status outputs = CheckOutputs(); !outputs.ok()) {
    logger_.Error(outputs.error().message);
    return 2;
  }
  if (auto failed = service_.StartTracingAndHttp()) return *failed;
  service_.board().SetCheck("draining", std::nullopt);
  service_.HandleSignals([this](int count, int signo) { OnSignal(count, signo); },
                         [this] { DumpState(); });
  StartJob();
  // The version comes from ffmpeg's banner for free; only when the user's options may hide it
  // does a separate `ffmpeg -version` run (it costs as much CPU as starting ffmpeg). A wrapper's
  // ffmpeg is --ffmpeg's (the one on PATH), whose banner the script may not forward. The build
  // configuration's hash (for the result's audit) takes one `ffmpeg -buildconf`, alongside.
  FfmpegCommand cmd = AnalyzeFfmpegArgs(
      std::vector<std::string>(config_.ffmpeg_argv.begin() + 1, config_.ffmpeg_argv.end()));
  if (wrapper_ || cmd.has_hide_banner || cmd.has_loglevel) {
    std::string ffmpeg = wrapper_ ? config_.ffmpeg : config_.ffmpeg_argv.front();
    service_.ProbeFfmpeg(ffmpeg, [this](const Result<FfmpegVersion>& version) {
      if (!version) logger_.Debug("ffmpeg -version failed", {{"error", version.error().message}});
    });
  } else {
    service_.ProbeBuildconf(config_.ffmpeg_argv.front());
  }
  service_.io().run();
  // Spans go out within the drain budget (or 5 s), never past the kubelet's SIGKILL.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  if (drain_) {
    deadline = std::min(deadline, drain_->ExitBy() - milliseconds(250));
  }
  if (late_signal_exit_by_) deadline = std::min(deadline, *late_signal_exit_by_);
  service_.StopTracing(deadline);
  return exit_code_;
}

void RunMode::StartJob() {
  AttemptSpec spec;
  spec.ffmpeg = config_.ffmpeg_argv.front();
  spec.ffprobe = config_.ffprobe;
  spec.args.assign(config_.ffmpeg_argv.begin() + 1, config_.ffmpeg_argv.end());
  spec.version = service_.ffmpeg_version();
  spec.pass_stdout = true;
  spec.rewrite.overwrite = false;  // neither -y nor -n given: -n, never the prompt
  temporaries_ = MakeTemporaries();
  spec.temporaries = temporaries_;
  spec.wrapper = wrapper_;
  spec.stall_timeout = Ms(config_.stall_timeout_s);
  spec.stop_timeout = Ms(config_.stop_timeout_s);
  spec.progress_log_period = Ms(config_.progress_log_interval_s);
  if (interactive_) {
    // The live line replaces the progress records; of ffmpeg's lines, warnings and errors show.
    spec.progress_log_period = milliseconds(0);
    spec.stderr_log_level = Severity::kWarning;
  }
  spec.input_hash_max_bytes = int64_t{config_.input_hash_max_mib} << 20;
  spec.slot = 0;
  spec.job_id = job_id_;
  spec.attempt = 1;
  spec.worker = identity_;
  spec.log_fields["job_id"] = job_id_;
  spec.span.job_id = job_id_;
  spec.span.attempt = 1;
  // A Job's parent trace comes from the environment (TRACEPARENT / TRACESTATE).
  spec.span.traceparent = config_.run_traceparent;
  spec.span.tracestate = config_.run_tracestate;
  AttemptEnv env{.io = service_.io(),
                 .input_pool = input_pool_,
                 .clock = clock_,
                 .processes = service_.processes(),
                 .logger = logger_,
                 .metrics = service_.metrics(),
                 .board = service_.board(),
                 .tracer = service_.tracer()};
  attempt_ = std::make_unique<JobAttempt>(env, std::move(spec));
  service_.board().SetState(ServiceState::kRunning);
  service_.metrics().SetJobsInFlight(1);
  service_.metrics().SetReady(service_.board().Readiness().Ready());
  attempt_->Start(
      [this](const ProgressView& view) {
        if (interactive_) logger_.SetLiveLine(FormatProgressLine(view));
        if (!build_info_set_ && attempt_->job()->version().known) {
          build_info_set_ = true;
          service_.metrics().SetBuildInfo(attempt_->job()->version().text);
        }
      },
      [this](ResultDoc result, const JobOutcome& outcome) {
        OnFinished(std::move(result), outcome);
      });
}

void RunMode::OnSignal(int count, int signo) {
  (void)signo;
  if (done_) {
    // After the result: whatever is left (the report, the spans' flush) ends inside this
    // signal's grace period.
    if (!late_signal_exit_by_) {
      late_signal_exit_by_ = std::chrono::steady_clock::now() +
                             std::chrono::milliseconds(std::max<int64_t>(
                                 0, static_cast<int64_t>(config_.grace_period_s * 1000) - 250));
    }
    // Lingering after the result: a signal means leave now.
    if (lingering_) {
      linger_timer_.cancel();
    }
    // Still pushing the result to Redis: give up in time to exit within this grace period.
    if (report_pending_ && report_give_up_) {
      auto by = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(std::max<int64_t>(
                    0, static_cast<int64_t>((config_.grace_period_s - 1) * 1000)));
      if (by < report_timer_.expiry()) {
        report_timer_.expires_at(by);
        report_timer_.async_wait([give_up = report_give_up_](const boost::system::error_code& ec) {
          if (!ec) give_up();
        });
      }
    }
    return;
  }
  if (interactive_ && signo == SIGINT) {
    OnInterrupt();
    return;
  }
  if (!drain_) {
    DrainClock clock;
    clock.t0 = clock_.Now();
    clock.grace_s = config_.grace_period_s;
    clock.margin_s = config_.drain_margin_s;
    drain_ = clock;
    service_.board().SetState(ServiceState::kDraining);
    service_.board().SetCheck("draining", "a termination signal was received");
    service_.metrics().SetDraining(true);
    service_.metrics().SetReady(false);
    // Whatever happens, ffpod is gone before the kubelet's SIGKILL.
    exit_deadline_timer_.expires_after(clock.ExitBy() - clock.t0 - milliseconds(500));
    exit_deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || done_) return;
      logger_.Error("grace period almost over; killing ffmpeg and exiting");
      if (attempt_) attempt_->KillNow();  // preempted, not killed
    });
  }
  (void)count;
  DrainCheck();
}

void RunMode::OnInterrupt() {
  if (!attempt_) return;
  ++interrupts_;
  if (interrupts_ == 1) {
    logger_.Warn("interrupted: stopping ffmpeg (Ctrl-C again to kill it)");
    attempt_->StopNow(StopCause::kCancel, clock_.Now() + Ms(config_.stop_timeout_s));
  } else {
    attempt_->KillNow(StopCause::kCancel);
  }
}

void RunMode::DrainCheck() {
  if (!drain_ || !attempt_ || done_) return;
  attempt_->Drain(*drain_, service_.signals_received());
}

void RunMode::OnFinished(ResultDoc r, const JobOutcome& outcome) {
  if (!published_) {
    Publish(std::move(r), outcome);  // comes back here, with the outputs in place (or not)
    return;
  }
  if (!attempt_->job()->version().known) r.ffmpeg_version = service_.ffmpeg_version().text;
  service_.StampAudit(r);
  if (r.reason == Reason::kOk) {
    r.status = ResultStatus::kSucceeded;
  } else if (r.reason == Reason::kPreempted) {
    r.status = ResultStatus::kPreempted;
  } else {
    r.status = ResultStatus::kFailed;
  }
  int code;
  if (!outcome.spawned) {
    code = outcome.exit.code;  // 127 not found / 126 not executable, whatever the policy
  } else {
    code = RunExitCode(config_.exit_codes == ExitCodePolicy::kClassified, outcome.exit, r.reason);
  }
  if (publish_failed_ && code == 0) code = 1;  // ffmpeg's 0, but the outputs are not in place
  if (interrupts_ > 0 && r.reason == Reason::kCancelled) code = kInterruptedExit;
  if (interactive_) logger_.EndLiveLine();  // the last progress stays above the summary
  // The final progress stays on the slot while ffpod lingers: run mode has one job, and its
  // last state is what the final scrape should see; jobs_in_flight says it is over.
  service_.metrics().SetJobsInFlight(0);
  service_.metrics().RecordJobFinished(ResultStatusName(r.status), ReasonName(r.reason),
                                       outcome.duration_s);
  Finish(r, code);
}

void RunMode::Finish(const ResultDoc& result, int exit_code) {
  done_ = true;
  result_ = result;
  exit_code_ = exit_code;
  service_.board().SetState(ServiceState::kStopped);
  service_.board().SetCheck("running", "the job has ended");
  service_.metrics().SetReady(false);

  boost::json::object f = attempt_->trace().LogFields();
  f["job_id"] = result.id;
  boost::json::object more{{"status", ResultStatusName(result.status)},
                           {"reason", ReasonName(result.reason)},
                           {"exit_code", exit_code}};
  for (auto& kv : more) f[kv.key()] = kv.value();
  f["result"] = ResultToJson(result);
  f["orphans_reaped"] = service_.reaper().orphans_reaped();
  f["ffpod"] = OwnResourceUsage();
  logger_.Log(ResultSeverity(result), JobFinishedMessage(result), f);
  attempt_->trace().PublishStarted();
  if (Status written = WriteExistingFile(config_.termination_log, TerminationSummary(result));
      !written.ok()) {
    logger_.Warn("termination log not written", {{"error", written.error().message}});
  }
  ReportToRedis(result, [this, result] {
    attempt_->End(result);
    double linger = config_.linger_s;
    if (linger > 0 && service_.signals_received() == 0) {
      lingering_ = true;
      linger_timer_.expires_after(
          std::chrono::milliseconds(static_cast<int64_t>(std::llround(linger * 1000))));
      linger_timer_.async_wait([this](const boost::system::error_code&) {
        service_.Shutdown();
        service_.io().stop();
      });
      return;
    }
    service_.Shutdown();
    service_.io().stop();
  });
}

void RunMode::ReportToRedis(const ResultDoc& result, std::function<void()> then) {
  if (!report_url_) {
    then();
    return;
  }
  // Bounded: a dead Redis delays the exit by at most 10 s, and never past the drain deadline.
  auto budget = std::chrono::milliseconds(10000);
  if (drain_) {
    auto left = std::chrono::duration_cast<milliseconds>(drain_->ExitBy() - clock_.Now() -
                                                         std::chrono::seconds(1));
    budget = std::min(budget, std::max(milliseconds(0), left));
  }
  auto shared_then = std::make_shared<std::function<void()>>(std::move(then));
  auto once = [shared_then] {
    if (*shared_then) {
      auto f = std::move(*shared_then);
      *shared_then = nullptr;
      f();
    }
  };
  report_client_ = std::make_unique<RedisClient>(service_.io(), *report_url_);
  report_pending_ = true;
  report_give_up_ = [this, once] {
    if (!report_pending_) return;
    report_pending_ = false;
    logger_.Warn("result not pushed to Redis in time",
                 {{"redis", report_url_->Redacted()}, {"error", report_client_->last_error()}});
    report_client_->Close();
    once();
  };
  report_timer_.expires_after(budget);
  report_timer_.async_wait([give_up = report_give_up_](const boost::system::error_code& ec) {
    if (!ec) give_up();
  });
  std::string json = SerializeResult(result);
  std::string status(ResultStatusName(result.status));
  report_client_->Start([this, json, status, id = result.id, once](bool up, const std::string&) {
    if (!up || reported_) return;
    reported_ = true;
    QueueKeys keys(config_.queue);
    report_client_->Command(
        ResultsStreamAdd(keys, kDefaultResultsMaxlen, id, status, json),
        [this, once](std::error_code ec, RedisReply reply) {
          if (ec || reply.IsError()) {
            logger_.Warn("result not pushed to Redis", {{"error", ec ? ec.message() : reply.str}});
          } else {
            logger_.Info("result pushed to Redis",
                         {{"stream", QueueKeys(config_.queue).Results()}, {"entry", reply.str}});
          }
          report_pending_ = false;
          report_timer_.cancel();
          report_client_->Close();
          once();
        });
  });
}

void RunMode::DumpState() {
  boost::json::object f;
  f["state"] = ServiceStateName(service_.board().state());
  f["status"] = service_.board().StatusValue();
  f["draining"] = drain_.has_value();
  f["signals"] = service_.signals_received();
  if (attempt_ && attempt_->job()) {
    f["pid"] = attempt_->job()->pid();
    f["stopping"] = attempt_->job()->stopping();
  }
  logger_.Info("state dump (SIGUSR1)", f);
}

}  // namespace ffpod
