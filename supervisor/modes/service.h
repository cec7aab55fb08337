// What `run` and `worker` share: the io_context, the child reaper (PID 1 duties), signal
// handling, the metrics, the /status board, the HTTP listener and its loop-health heartbeat,
// the `ffmpeg -version` and `ffmpeg -buildconf` probes, and the audit fields every result of
// this process carries (the ffmpeg build, the image).
//
// Signals arrive as loop events (asio::signal_set): SIGTERM, SIGINT and SIGHUP start (and,
// repeated, hurry) the drain; SIGUSR1 asks for a state dump. None is forwarded to ffmpeg
// (FFmpeg dies on SIGHUP without writing its trailer).
//
// Threading: one io_context thread; the HTTP listener's threads only read the metrics, the
// board and the loop watch, which are thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "parsers/common/result.h"
#include "parsers/config/config.h"
#include "parsers/documents/job.h"
#include "parsers/ffmpeg/ffmpeg_version.h"
#include "probes/os/process.h"
#include "supervisor/net/http_server.h"
#include "supervisor/telemetry/ffpod_metrics.h"
#include "supervisor/telemetry/health.h"
#include "supervisor/telemetry/logger.h"
#include "supervisor/telemetry/tracer.h"

namespace ffpod {

// ffpod's own resource use so far (not its children's): CPU seconds and peak RSS, for the
// final log record and the overhead benchmark.
boost::json::object OwnResourceUsage();

// Writes `line` to `path` only if the file already exists (Kubernetes mounts the termination
// log); never creates a file. OK when written, when `path` is empty and when the file is absent;
// otherwise the error says what could not be opened or written and why.
Status WriteExistingFile(const std::string& path, const std::string& line);

// Who this process is: `id` is --worker-id, else POD_NAME, else the hostname; `pod` is POD_NAME
// and `node` NODE_NAME (the Downward API), when set.
WorkerIdentity DetectIdentity(const Config& config);

class Service {
 public:
  Service(const Config& config, Logger& logger, std::string mode);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  boost::asio::io_context& io() { return io_; }
  ChildReaper& reaper() { return reaper_; }
  Processes& processes() { return processes_; }
  FfpodMetrics& metrics() { return metrics_; }
  StatusBoard& board() { return board_; }
  Logger& logger() { return logger_; }
  const Config& config() const { return config_; }

  // Binds --listen and starts serving; logs the bound address. Returns the port (0 when
  // disabled) or one sentence naming the address and the cause.
  Result<int> StartHttp();
  void StopHttp();

  // `drain(count, signo)` on every SIGTERM/SIGINT/SIGHUP (count = how many so far);
  // `dump()` on SIGUSR1.
  void HandleSignals(std::function<void(int count, int signo)> drain, std::function<void()> dump);
  void StopSignals();
  int signals_received() const { return signal_count_; }

  // Runs `ffmpeg -version` and records the version (build info metric, readiness check
  // "ffmpeg") and the library versions, then ProbeBuildconf. `done` gets the version, or the
  // sentence saying why ffmpeg cannot run (the build is then unknown again).
  void ProbeFfmpeg(const std::string& ffmpeg, std::function<void(Result<FfmpegVersion>)> done);
  const FfmpegVersion& ffmpeg_version() const { return ffmpeg_version_; }
  // Runs `ffmpeg -buildconf` in the background and records the sha256 of its standard output,
  // and the library versions of the banner it prints on stderr when they are not known yet.
  // Fails nothing: when it cannot run, the build stays unknown (null in results).
  void ProbeBuildconf(const std::string& ffmpeg);
  const FfmpegBuildAudit& ffmpeg_build() const { return ffmpeg_build_; }
  // Sets what this process knows of `result`'s audit trail: the ffmpeg build and the image.
  void StampAudit(ResultDoc& result) const;

  // Reads the configuration's OTEL_* variables and starts the exporter (tracing is off without
  // an endpoint). Never fails: settings ffpod cannot export with are one warning and tracing is
  // off (Tracer::CreateOrOff).
  void StartTracing();
  Tracer& tracer() { return *tracer_; }
  // StartTracing, then StartHttp, as run and worker begin: on failure logs why and returns the
  // exit status (1: the listener cannot bind).
  std::optional<int> StartTracingAndHttp();
  // Flushes the spans still queued, until `deadline` at the latest.
  void StopTracing(std::chrono::steady_clock::time_point deadline);

  // Stops every timer and the listener so that io().run() can return.
  void Shutdown();

 private:
  void Beat();
  void WaitSignal();

  const Config& config_;
  Logger& logger_;
  boost::asio::io_context io_;
  ChildReaper reaper_;
  OsProcesses processes_;
  FfpodMetrics metrics_;
  StatusBoard board_;
  LoopWatch loop_watch_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<Tracer> tracer_;
  boost::asio::steady_timer beat_timer_;
  boost::asio::signal_set signals_;
  std::function<void(int, int)> on_drain_;
  std::function<void()> on_dump_;
  int signal_count_ = 0;
  FfmpegVersion ffmpeg_version_;
  FfmpegBuildAudit ffmpeg_build_;
  ImageAudit image_;
  bool shut_down_ = false;
};

}  // namespace ffpod
