// One worker slot: a claimed job from validation to its recorded result. The worker hands it a
// document (Begin); the slot validates it (a malformed one is dead-lettered as bad_job), starts
// the attempt with the queue's Start script, runs ffmpeg, publishes the outputs, decides what
// comes next (retry policy) and records the result with the Finish script, retrying each Redis
// step with backoff until it succeeds; then it is idle again and tells the worker.
//
// States: idle -> validating -> starting (Start script) -> running (ffmpeg) -> publishing
// (rename and hash, off the loop) -> recording (Finish script) -> idle. A bad job goes
// validating -> dead-lettering -> idle; a job found paused or gone at the start goes back to
// idle; one cancelled before it started, or claimed just as the drain began, goes starting ->
// recording.
//
// Threading: the worker's io_context thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "parsers/documents/job.h"
#include "parsers/policy/drain.h"
#include "supervisor/job/ffmpeg_job.h"
#include "supervisor/job/job_drainer.h"
#include "supervisor/job/job_trace.h"
#include "supervisor/queue/job_queue.h"

namespace ffpod {

class WorkerMode;

// One slot: a claimed job from validation to its recorded result.
class WorkerSlot {
 public:
  WorkerSlot(WorkerMode& worker, int index);

  bool idle() const { return !busy_; }
  // The document as claimed (meaningful while busy).
  const std::string& document() const { return document_; }
  // The running job's progress ratio, when known (for the pod-deletion-cost).
  std::optional<double> progress_ratio() const { return progress_ratio_; }
  bool running_ffmpeg() const { return job_ && job_->running(); }
  int index() const { return index_; }
  const std::string& job_id() const { return spec_.id; }

  void Begin(std::string document);

  void OnDrain(const DrainClock& clock, int signals);

  // A cancel was requested for the running job: the graceful stop, SIGKILL after
  // --stop-timeout; the attempt ends `cancelled` and is not retried.
  void Cancel();

  void KillNow();

  boost::json::object Describe() const;

 private:
  boost::json::object Fields() const;

  void BadJob(const std::string& why);

  void StartAttempt();

  ResultDoc BaseResult() const;

  ResultDoc PreemptedBeforeStart() const;

  std::string Token() const;

  void RunFfmpeg();

  void OnProgress();

  void OnFinished(const JobOutcome& outcome);

  void Decide();

  void Record();

  // Runs `step` until it reports success, with backoff; `then` afterwards. While Redis is down
  // the claimed job stays in this worker's active list, so nothing is lost if ffpod dies.
  void Retry(const std::function<void(std::function<void(const std::string&)>)>& step,
             const std::function<void()>& then,
             std::chrono::milliseconds delay = std::chrono::milliseconds(250));

  void Done();

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
  std::chrono::steady_clock::time_point claimed_at_;
  std::chrono::system_clock::time_point claimed_wall_;
  std::chrono::steady_clock::time_point spawned_at_;
  std::chrono::steady_clock::time_point exited_at_;
  std::chrono::steady_clock::time_point last_published_;
  std::map<std::string, std::string> temporaries_;
  std::optional<ResultDoc> result_;
  std::unique_ptr<JobTrace> trace_;  // declared before job_: outlives it
  std::unique_ptr<FfmpegJob> job_;
  std::unique_ptr<JobDrainer> drainer_;
  boost::asio::steady_timer retry_timer_;
};

}  // namespace ffpod
