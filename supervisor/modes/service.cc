#include "supervisor/modes/service.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "ffpod_version.h"
#include "parsers/ffmpeg/encoders.h"
#include "parsers/telemetry/redact.h"
#include "probes/os/fd_limit.h"
#include "supervisor/storage/sha256.h"

namespace ffpod {

namespace asio = boost::asio;

namespace {

bool ReapsOrphans(const Config& config) {
  if (config.subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  return ::getpid() == 1 || config.subreaper;
}

// What `ffpod --version` prints after "ffpod ".
std::string FfpodVersionText() {
  std::string v = kVersion;
  if (kGitDescribe[0] != '\0') v += std::string(" (") + kGitDescribe + ")";
  return v;
}

// The library versions in `text` (`ffmpeg -version`'s output, or the banner), when it has any.
std::optional<std::vector<std::pair<std::string, std::string>>> Libraries(std::string_view text) {
  FfmpegBuild build = ParseBuildInfo(text);
  if (build.libraries.empty()) return std::nullopt;
  return build.libraries;
}

}  // namespace

Status WriteExistingFile(const std::string& path, const std::string& line) {
  if (path.empty()) return Status::Ok();
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();
    return Error{"cannot open " + path + ": " + std::strerror(errno)};
  }
  Status status;
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = Error{"cannot write " + path + ": " + std::strerror(errno)};
      break;
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  return status;
}

boost::json::object OwnResourceUsage() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
  return {{"cpu_s", std::round(cpu * 1000) / 1000}, {"max_rss_kib", ru.ru_maxrss}};
}

WorkerIdentity DetectIdentity(const Config& config) {
  WorkerIdentity id;
  id.pod = config.pod_name;
  id.node = config.node_name;
  id.id = config.worker_id;
  if (id.id.empty() && IsValidJobId(id.pod)) id.id = id.pod;
  if (id.id.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0 && IsValidJobId(host)) id.id = host;
  }
  if (id.id.empty()) id.id = "ffpod-" + std::to_string(::getpid());
  return id;
}

Service::Service(const Config& config, Logger& logger, std::string mode)
    : config_(config),
      logger_(logger),
      reaper_(io_, ReapsOrphans(config)),
      processes_(io_, reaper_, config.ffmpeg_env),
      metrics_(FfpodMetricsOptions{
          .job_id_label = config.metrics_job_label,
          .queue_label = config.command == Command::kWorker && config.queues.size() > 1}),
      board_(std::move(mode)),
      beat_timer_(io_),
      signals_(io_, SIGTERM, SIGINT, SIGHUP) {
  image_ = ImageAudit{config.image, FfpodVersionText(), config.node_name, config.pod_name};
  signals_.add(SIGUSR1);
  // main() blocked them until this set could take them: one that arrived meanwhile is
  // delivered now, as a loop event like any other.
  sigset_t termination;
  sigemptyset(&termination);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&termination, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &termination, nullptr);
  loop_watch_.Beat(std::chrono::steady_clock::now());
  Beat();
}

Service::~Service() { Shutdown(); }

void Service::Beat() {
  loop_watch_.Beat(std::chrono::steady_clock::now());
  metrics_.SetReady(board_.Readiness().Ready());  // ffpod_ready mirrors /readyz
  beat_timer_.expires_after(LoopWatch::kBeatPeriod);
  beat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Beat();
  });
}

Result<int> Service::StartHttp() {
  if (config_.listen.empty()) return 0;
  HttpServerOptions options;
  options.listen = config_.listen;
  // Hostile clients can hold hundreds of connections: the cap must fit the descriptor limit.
  FdLimit fd_limit = RaiseFdLimit();
  options.max_connections = ConnectionCapForFdLimit(options.max_connections, fd_limit.soft);
  HttpProviders providers;
  // ffpod_ready is what /readyz would answer at this scrape, not the last state change's
  // copy: a check that just passed (the first Redis write, a resumed queue) shows in both.
  providers.metrics = [this] {
    metrics_.SetReady(board_.Readiness().Ready());
    return metrics_.Render();
  };
  providers.healthy = [this] { return loop_watch_.Healthy(std::chrono::steady_clock::now()); };
  providers.readiness = [this] {
    ReadinessChecks checks = board_.Readiness();
    return Readiness{checks.Ready(), checks.Body()};
  };
  providers.status = [this] { return board_.StatusJson(); };
  http_ = std::make_unique<HttpServer>(options, providers);
  auto port = http_->Start();
  if (!port) return port;
  logger_.Info("listening", {{"address", http_->address()},
                             {"port", *port},
                             {"max_connections", static_cast<uint64_t>(options.max_connections)},
                             {"fd_limit", fd_limit.soft}});
  return port;
}

void Service::StopHttp() {
  if (http_) http_->Stop();
}

std::optional<int> Service::StartTracingAndHttp() {
  StartTracing();
  if (auto port = StartHttp(); !port.ok()) {
    logger_.Error(port.error().message);
    return 1;
  }
  return std::nullopt;
}

void Service::StartTracing() {
  TracerOptions options;
  options.otel_env = config_.otel_env;
  options.pod_name = config_.pod_name;
  options.pod_namespace = config_.pod_namespace;
  options.pod_uid = config_.pod_uid;
  options.node_name = config_.node_name;
  options.service_version = kVersion;
  options.logger = &logger_;
  options.on_dropped = [this](uint64_t n) { metrics_.CountOtlpSpansDropped(n); };
  tracer_ = Tracer::CreateOrOff(std::move(options));
  if (tracer_->exporting()) {
    logger_.Info("exporting traces", {{"endpoint", RedactUrl(tracer_->config().endpoint.url)}});
  }
}

void Service::StopTracing(std::chrono::steady_clock::time_point deadline) {
  if (!tracer_) return;
  if (!tracer_->Shutdown(deadline)) {
    logger_.Warn("not every span could be exported before the exit deadline");
  }
}

void Service::HandleSignals(std::function<void(int, int)> drain, std::function<void()> dump) {
  on_drain_ = std::move(drain);
  on_dump_ = std::move(dump);
  WaitSignal();
}

void Service::WaitSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGUSR1) {
      if (on_dump_) on_dump_();
    } else {
      ++signal_count_;
      logger_.Info("signal received", {{"signal", SignalName(signo)}, {"count", signal_count_}});
      if (on_drain_) on_drain_(signal_count_, signo);
    }
    WaitSignal();
  });
}

void Service::StopSignals() {
  boost::system::error_code ignored;
  signals_.cancel(ignored);
}

void Service::ProbeFfmpeg(const std::string& ffmpeg,
                          std::function<void(Result<FfmpegVersion>)> done) {
  processes_.Run(
      ffmpeg, {"-hide_banner", "-version"}, std::chrono::seconds(15),
      [this, ffmpeg, done = std::move(done)](const CommandOutput& out) {
        if (!out.exit.Succeeded()) {
          std::string why;
          if (out.exit.kind == ExitStatus::Kind::kNotStarted) {
            why = out.err.empty() ? "cannot execute " + ffmpeg : out.err;
          } else if (out.timed_out) {
            why = ffmpeg + " -version did not answer within 15 s";
          } else {
            why = ffmpeg + " -version exited with status " + std::to_string(out.exit.ShellCode());
          }
          board_.SetCheck("ffmpeg", why);
          ffmpeg_build_ = FfmpegBuildAudit{};
          done(Error{why});
          return;
        }
        std::string first = out.out.substr(0, out.out.find('\n'));
        ffmpeg_version_ = ParseFfmpegVersion(first);
        ffmpeg_build_.libraries = Libraries(out.out);
        metrics_.SetBuildInfo(ffmpeg_version_.text.empty() ? "unknown" : ffmpeg_version_.text);
        board_.SetCheck("ffmpeg", std::nullopt);
        ProbeBuildconf(ffmpeg);
        done(ffmpeg_version_);
      });
}

void Service::ProbeBuildconf(const std::string& ffmpeg) {
  // Without -hide_banner: the banner (with the library versions) goes to stderr, the build
  // configuration alone to stdout.
  processes_.Run(ffmpeg, {"-buildconf"}, std::chrono::seconds(15),
                 [this, ffmpeg](const CommandOutput& out) {
                   if (!out.exit.Succeeded() || out.out.empty()) {
                     ffmpeg_build_.buildconf_sha256.reset();
                     logger_.Debug("ffmpeg -buildconf failed: results have no buildconf_sha256",
                                   {{"ffmpeg", ffmpeg}, {"exit_code", out.exit.ShellCode()}});
                     return;
                   }
                   ffmpeg_build_.buildconf_sha256 = Sha256Hex(out.out);
                   if (!ffmpeg_build_.libraries) ffmpeg_build_.libraries = Libraries(out.err);
                 });
}

void Service::StampAudit(ResultDoc& result) const {
  result.audit.build = ffmpeg_build_;
  result.audit.image = image_;
}

void Service::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  StopSignals();
  beat_timer_.cancel();
  StopHttp();
}

}  // namespace ffpod
