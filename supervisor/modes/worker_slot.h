// One worker slot: a claimed job from validation to its recorded result. The worker hands it a
// document (Begin); the slot validates it (a malformed one is dead-lettered as bad_job), starts
// the attempt with the queue's Start script, runs ffmpeg (a JobAttempt), publishes the outputs,
// decides what comes next (retry policy) and records the result with the Finish script,
// retrying each Redis step with backoff until it succeeds (StepRetry); then it is idle again
// and tells the worker.
//
// States (State below):
//
//   idle --Begin--> (validated at once)
//     malformed ---------------------> dead-lettering (DeadLetterBadJob script) --> idle
//     valid --> starting (Start script)
//                 paused, or gone from this worker's active list -----------------> idle
//                 cancelled before it ran ------------> recording (cancelled)
//                 claimed just as the drain began ----> recording (preempted)
//                 started --> running (ffmpeg)
//                               failed, stopped or preempted -----> recording
//                               succeeded --> publishing (hash off the loop; then, under the
//                                             claim's lease (Hold), rename into place)
//                                               --> recording (output_failed on a failure)
//   recording (Finish script; result stream, state hash, the job's next place) --> idle
//
// While running, the drain (OnDrain), a cancel (Cancel) or the backstop (KillNow) may stop
// ffmpeg; the attempt then ends like any other. A claim found fenced (Fenced, or Hold's answer,
// or the Finish script's) publishes nothing and is recorded as superseded.
//
// Threading: the worker's io_context thread.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "parsers/config/config.h"
#include "parsers/documents/job.h"
#include "parsers/policy/drain.h"
#include "parsers/policy/retry_policy.h"
#include "probes/os/clock.h"
#include "supervisor/job/job_attempt.h"
#include "supervisor/job/output_verifier.h"
#include "supervisor/job/outputs.h"
#include "supervisor/modes/service.h"
#include "supervisor/modes/step_retry.h"
#include "supervisor/queue/job_queue.h"

namespace ffpod {

class WorkerSlot {
 public:
  enum class State {
    kIdle,           // no job
    kDeadLettering,  // a malformed document on its way to Q:dead
    kStarting,       // the Start script: started, paused, gone or cancelled
    kRunning,        // ffmpeg runs
    kPublishing,     // renaming and hashing the outputs on the hash pool
    kRecording,      // the Finish script records the result
  };

  // What a slot needs from its worker.
  class Owner {
   public:
    virtual ~Owner() = default;
    // The queue of the worker's --queue list at `index` (the one a job was claimed from).
    virtual JobQueue& queue(size_t index) = 0;
    // True when the worker serves several queues: the slot's logs and gauges then name its queue.
    virtual bool several_queues() const = 0;
    virtual bool redis_up() const = 0;
    // Redis refuses writes (an episode the worker logs once): a slot's retries go to debug.
    virtual bool writes_refused() const = 0;
    // The drain's clock once a termination signal arrived; nullptr before.
    virtual const DrainClock* drain() const = 0;
    // Uniform in [0, 1): the retry delay's jitter.
    virtual double Jitter() = 0;
    // This slot's ffmpeg starts (the in-flight count and the pod-deletion-cost change).
    virtual void OnSlotBusy() = 0;
    // The running job's progress moved (the pod-deletion-cost).
    virtual void OnSlotProgress() = 0;
    // An attempt's result was logged and counted (before the Finish script runs).
    virtual void OnAttemptRecorded(bool preempted) = 0;
    // The slot is idle again.
    virtual void OnSlotIdle() = 0;
    // This worker's heartbeat document and its TTL: renewed with the claim's lease to publish.
    virtual std::string HeartbeatInfo() const = 0;
    virtual std::chrono::milliseconds HeartbeatTtl() const = 0;
  };

  // The worker-wide things every slot uses; all outlive the slot.
  struct Context {
    const Config& config;
    const WorkerIdentity& identity;
    Service& service;  // io, reaper, metrics, board, tracer, ffmpeg version, signals
    Logger& logger;
    Clock& clock;
    boost::asio::thread_pool& hash_pool;   // publishing and hashing outputs
    boost::asio::thread_pool& input_pool;  // hashing inputs while ffmpeg runs (JobAttempt)
  };

  WorkerSlot(const Context& context, Owner& owner, int index);
  WorkerSlot(const WorkerSlot&) = delete;
  WorkerSlot& operator=(const WorkerSlot&) = delete;

  State state() const { return state_; }
  bool idle() const { return state_ == State::kIdle; }
  // The document as claimed (meaningful while busy).
  const std::string& document() const { return document_; }
  // The running job's progress ratio, when known (for the pod-deletion-cost).
  std::optional<double> progress_ratio() const { return progress_ratio_; }
  bool running_ffmpeg() const { return attempt_ && attempt_->running(); }
  int index() const { return index_; }
  const std::string& job_id() const { return spec_.id; }

  // Takes a document claimed from the worker's queue at `queue` (the slot must be idle).
  void Begin(size_t queue, std::string document);
  // The index of the queue the slot's job came from (meaningful while busy).
  size_t queue_index() const { return queue_; }
  // The drain's decision for the running job after the `signals`-th signal.
  void OnDrain(const DrainClock& drain, int signals);
  // A cancel was requested for the running job: the graceful stop, SIGKILL after
  // --stop-timeout; the attempt ends `cancelled` and is not retried.
  void Cancel();
  // The backstop before the kubelet's SIGKILL: ffmpeg is killed now (reported preempted).
  void KillNow();
  // The claim was fenced (a recovery took the job while this worker's heartbeat had expired):
  // ffmpeg is stopped, nothing is published, and the result is recorded as superseded.
  void Fenced();
  // The claim's fencing token (meaningful once started).
  const std::string& start_token() const { return start_token_; }
  // For the state dump: slot, busy, job id, attempt and phase.
  boost::json::object Describe() const;

 private:
  boost::json::object Fields() const;
  JobQueue& queue() { return owner_.queue(queue_); }
  ResultDoc BaseResult() const;
  std::string Token() const;

  void DeadLetter(const std::string& why);
  void StartAttempt();
  void OnStarted();
  void BeginAttempt();  // the attempt and its ffmpeg, once the claim is known to hold the job
  void SweepEndedJob();
  AttemptSpec MakeAttemptSpec() const;
  void RunFfmpeg();
  void OnProgress(const ProgressView& view);
  void OnFinished(ResultDoc result, const JobOutcome& outcome);
  // Verification (worker_slot_outputs.cc), then publishing.
  void Verify(std::optional<int64_t> expected_us);
  void OnVerified(VerifyOutcome outcome);
  void Publish();
  void OnHashed(PublishedOutputs hashed);
  void HoldAndRename();
  void RenameWithinLease(SteadyTime lease_until);
  void RemoveOtherTemporaries();
  void LogFencedLate();
  void Decide();
  void Record();
  // Finish's answer for a rerouted result that could not move (kRecordedWithoutRoute).
  void LogNotRerouted();
  void OnRecorded();
  void Done();

  Context ctx_;
  Owner& owner_;
  int index_;
  size_t queue_ = 0;  // Owner::queue index of the job's queue
  State state_ = State::kIdle;
  StepRetry retry_;
  std::optional<double> progress_ratio_;
  std::string start_token_;     // unique per claim (the Start script's repeat check)
  bool dead_lettered_ = false;  // this worker's script moved the document to Q:dead
  bool fenced_ = false;         // another claim holds the job: publish nothing, record superseded
  bool held_ = false;           // the last Hold's answer
  SteadyTime hold_sent_;        // when the last Hold was sent (its lease counts from then)
  SteadyTime start_sent_;       // when the last Start was sent
  std::map<std::string, std::string> unpublished_;  // temporaries not renamed yet
  VerifyOutcome verified_;                          // what Verify found
  JobQueue::StartOutcome start_outcome_ = JobQueue::StartOutcome::kPaused;
  std::string document_;
  JobSpec spec_;
  int attempt_number_ = 0;
  SteadyTime claimed_at_;
  WallTime claimed_wall_;
  SteadyTime spawned_at_;
  SteadyTime exited_at_;
  SteadyTime last_published_;
  std::optional<ResultDoc> result_;
  // For a rerouted result: what the attempt gets when the destination cannot take the job.
  AttemptDisposition fallback_;
  std::unique_ptr<JobAttempt> attempt_;
};

}  // namespace ffpod
