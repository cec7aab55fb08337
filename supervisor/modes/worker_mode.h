// `ffpod worker`: take jobs from the Redis queue until drained (docs/queue.md, docs/operations.md).
//
// Claims with BLMOVE on a client of its own, runs up to --slots jobs in parallel (each an
// FfmpegJob), publishes outputs atomically (temporary names, rename on success, size and
// sha256), and records every attempt with one atomic script (result stream, state hash,
// events, and the job's next place: done, delayed for a retry, dead, or back at the head of
// pending after a drain). Heartbeats with a TTL; recovers the jobs of workers whose heartbeat
// expired; promotes due retries. When Redis goes away nothing crashes: readiness turns 503,
// running jobs keep running, and their results are delivered once Redis is back. A failover
// is such an outage: a node that is no longer a usable primary (READONLY and the like) drops
// the connection, and the worker uses a node again only once it says it is a primary. When the
// primary refuses writes (maxmemory, failing snapshots) readiness is 503 (`redis_writes`) until
// a write is accepted again, with one log line at each end of the episode.
//
// Threading: one io_context thread (the Service's); sha256 of outputs runs on a small pool.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/config/config.h"
#include "parsers/config/redis_url.h"
#include "parsers/documents/job.h"
#include "parsers/policy/drain.h"
#include "probes/os/clock.h"
#include "supervisor/modes/claim_loop.h"
#include "supervisor/modes/encoder_watch.h"
#include "supervisor/modes/fair_claim.h"
#include "supervisor/modes/pod_cost_updater.h"
#include "supervisor/modes/service.h"
#include "supervisor/queue/job_queue.h"
#include "supervisor/queue/redis_client.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class WorkerSlot;

class WorkerMode {
 public:
  WorkerMode(const Config& config, Logger& logger);
  ~WorkerMode();
  WorkerMode(const WorkerMode&) = delete;
  WorkerMode& operator=(const WorkerMode&) = delete;

  // Runs until drained; returns the process exit status.
  int Run();

 private:
  class SlotOwner;
  double Jitter();
  void OnSlotIdle();
  void CountRedisError();
  void UpdateInFlight();
  void UpdatePodCost();  // --pod-deletion-cost: the cost from the slots' current state
  void ConnectQueue();
  void OnRedisState(bool up, const std::string& reason);
  void OnFirstConnect();
  // What the queue saw of writes: Redis' refusal, or nullopt for an accepted write.
  void OnWritesRefused(const std::optional<std::string>& refused);
  class ClaimQueue;
  class ClaimOwner;
  class ClaimLanes;
  void MaybeClaim();  // kicks the claim loop
  // The periodic steps, each on every queue of the --queue list (worker_queues.cc).
  void Heartbeat();
  void RecoverScan();
  void Promote();
  void PollQueueLength();
  void PollCancels();
  // The running jobs PollCancels watches on one queue: their claims and their slots.
  struct WatchedSlots {
    std::vector<JobQueue::Watched> jobs;
    std::vector<int> slots;
  };
  void OnWatched(const WatchedSlots& watched, const std::vector<JobQueue::WatchedState>& states);
  // queues_[queue]->Recover, then the fenced attempts' temporaries removed
  // (RemoveFencedTemporaries).
  void RecoverAndSweep(size_t queue, const std::string& worker, bool force,
                       std::function<void(const Result<Recovered>&)> done);
  // RecoverAndSweep of this worker's own active list on queues_[queue] and the ones after it,
  // one after the other (`done` with the jobs handed back, or the first error).
  void RecoverOwnFrom(size_t queue, long long jobs, std::function<void(Result<long long>)> done);
  // At exit: this worker's active lists handed back and its heartbeats removed, queue by queue.
  void LeaveFrom(size_t queue, long long jobs, const std::function<void()>& finish);
  // Off the loop (it lists directories): the temporaries of this worker id's previous run.
  void RemovePreviousRunTemporaries(const std::vector<std::string>& documents);
  void RemoveFencedTemporaries(const std::string& worker,
                               const std::vector<FencedAttempt>& started);
  std::string HeartbeatInfo() const;
  std::chrono::milliseconds HeartbeatTtl() const;
  void OnSignal(int count);
  void MaybeExit();
  void DumpState();
  // --pod-deletion-cost: starts the updater, or fails with why it cannot run.
  Status StartPodCost();

  const Config& config_;
  Logger& logger_;
  Service service_;
  WorkerIdentity identity_;
  std::optional<RedisUrl> url_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisClient> claim_redis_;
  std::vector<std::unique_ptr<JobQueue>> queues_;  // the --queue list, in order
  std::vector<bool> paused_;                       // Q:paused of each, as last read
  AsioClock clock_;
  std::unique_ptr<ClaimQueue> claim_queue_;  // the claim loop's views of the queue and of
  std::unique_ptr<ClaimOwner> claim_owner_;  // this worker
  std::unique_ptr<ClaimLanes> claim_lanes_;  // the queues' claims, for fair_claim_
  std::unique_ptr<FairClaim> fair_claim_;    // which queue the next claim comes from
  std::unique_ptr<ClaimLoop> claims_;
  std::unique_ptr<SlotOwner> slot_owner_;        // the slots' view of this worker
  std::unique_ptr<EncoderWatch> encoder_watch_;  // --require-encoders
  std::unique_ptr<PodCostUpdater> pod_cost_;     // --pod-deletion-cost
  // Before the slots: destroyed after them (their attempts cancel the hashing first).
  std::unique_ptr<boost::asio::thread_pool> input_pool_;  // one thread per slot
  std::vector<std::unique_ptr<WorkerSlot>> slots_;
  boost::asio::thread_pool hash_pool_{2};
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer recover_timer_;
  boost::asio::steady_timer promote_timer_;
  boost::asio::steady_timer length_timer_;
  boost::asio::steady_timer cancel_timer_;
  boost::asio::steady_timer exit_timer_;
  std::optional<DrainClock> drain_;
  bool connected_once_ = false;
  bool writes_refused_ = false;  // an episode of refused writes is under way
  bool exiting_ = false;
  int exit_code_ = 0;
  int64_t jobs_finished_ = 0;
  int64_t jobs_preempted_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace ffpod
