// `ffpod run`: supervise one ffmpeg as a pod's entrypoint or a Kubernetes Job (docs/run.md and
// docs/queue.md).
//
// Starts the HTTP listener, learns the ffmpeg version and build (`ffmpeg -buildconf`, alongside
// the job), runs the job (one JobAttempt, which hashes the inputs meanwhile), drains on
// SIGTERM/SIGINT/SIGHUP within the grace period (docs/operations.md), and on exit writes the
// result: a log record, the termination log (when the file exists), optionally the Redis
// results stream, then exits with the policy's code.
//
// The program after `--` is ffmpeg or a wrapper around it (--command-kind; docs/run.md
// "Wrapping ffmpeg in a script"). On a terminal with --log-format text, run is interactive
// (docs/logs.md "On a terminal"): one live progress line, ffmpeg's warnings and errors only,
// and Ctrl-C stops ffmpeg gracefully at once (a second one kills it) and exits 130.
//
// Threading: one io_context thread (the Service's).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "parsers/config/config.h"
#include "parsers/config/redis_url.h"
#include "parsers/documents/job.h"
#include "parsers/policy/drain.h"
#include "probes/os/clock.h"
#include "supervisor/job/job_attempt.h"
#include "supervisor/job/output_verifier.h"
#include "supervisor/modes/service.h"
#include "supervisor/queue/job_queue.h"
#include "supervisor/queue/redis_client.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class RunMode {
 public:
  RunMode(const Config& config, Logger& logger);
  RunMode(const RunMode&) = delete;
  RunMode& operator=(const RunMode&) = delete;

  // Runs to completion; returns the process exit status.
  int Run();

 private:
  void StartJob();
  void OnSignal(int count, int signo);
  // Ctrl-C on the terminal of an interactive run: stop now, and kill at the second.
  void OnInterrupt();
  void DrainCheck();
  void OnFinished(ResultDoc result, const JobOutcome& outcome);
  // --output (run_mode_outputs.cc): each one is an output of the ffmpeg command; the
  // temporaries ffmpeg writes them to; publishing a successful run's, off the loop.
  Status CheckOutputs() const;
  std::map<std::string, std::string> MakeTemporaries() const;
  void Publish(ResultDoc result, JobOutcome outcome);
  void Rename(ResultDoc result, JobOutcome outcome, VerifyOutcome verified);
  void Finish(const ResultDoc& result, int exit_code);
  void ReportToRedis(const ResultDoc& result, std::function<void()> then);
  void DumpState();

  const Config& config_;
  Logger& logger_;
  Service service_;
  std::string job_id_;
  WorkerIdentity identity_;
  AsioClock clock_;
  boost::asio::thread_pool input_pool_{1};  // hashes the inputs; outlives attempt_, which cancels
  std::unique_ptr<JobAttempt> attempt_;
  std::optional<DrainClock> drain_;
  boost::asio::steady_timer exit_deadline_timer_;
  boost::asio::steady_timer linger_timer_;
  std::optional<ResultDoc> result_;
  int exit_code_ = 1;
  bool done_ = false;
  bool lingering_ = false;
  bool build_info_set_ = false;
  bool wrapper_ = false;                // the program is a wrapper around ffmpeg, not ffmpeg
  bool interactive_ = false;            // --log-format text on a terminal
  int interrupts_ = 0;                  // Ctrl-C (SIGINT) seen by an interactive run
  std::optional<RedisUrl> report_url_;  // --report-redis
  std::unique_ptr<RedisClient> report_client_;
  boost::asio::steady_timer report_timer_;
  bool reported_ = false;
  bool report_pending_ = false;
  // A signal after the job's result: exit (report and spans flushed or not) by then.
  std::optional<std::chrono::steady_clock::time_point>
      late_signal_exit_by_;                         // pushing the result to --report-redis
  std::function<void()> report_give_up_;            // stop pushing it and go on to exit
  std::map<std::string, std::string> temporaries_;  // --output: final -> temporary
  bool published_ = false;                          // Publish has run (or had nothing to do)
  bool publish_failed_ = false;                     // ffmpeg succeeded, publishing did not
  boost::asio::thread_pool publish_pool_{1};        // hashes outputs off the loop
};

}  // namespace ffpod
