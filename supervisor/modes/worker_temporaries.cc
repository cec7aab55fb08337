// WorkerMode, the temporaries' part: removing the temporary outputs of attempts that can never
// be published (a previous run of this worker id, attempts a recovery fenced). Both list
// directories: they run on the hash pool, off the event loop.
#include <boost/asio/post.hpp>

#include "parsers/documents/job.h"
#include "supervisor/job/outputs.h"
#include "supervisor/modes/worker_mode.h"

namespace ffpod {

// Every recovery fences the attempts it took over: their temporaries go with it, whichever of
// the worker's recoveries (a lost peer's, its own at start, its hand-back at exit) it was.
void WorkerMode::RecoverAndSweep(size_t queue, const std::string& worker, bool force,
                                 std::function<void(const Result<Recovered>&)> done) {
  queues_[queue]->Recover(worker, force,
                          [this, worker, done = std::move(done)](const Result<Recovered>& n) {
                            if (n.ok()) RemoveFencedTemporaries(worker, n->started);
                            done(n);
                          });
}

// This run has started nothing yet: every temporary this worker id wrote for the jobs in its
// active lists is its previous run's and can never be published. Removed before the recovery,
// so that a worker stopped in between finds them again at its next start.
void WorkerMode::RecoverOwnFrom(size_t queue, long long jobs,
                                std::function<void(Result<long long>)> done) {
  if (queue == queues_.size()) return done(jobs);
  queues_[queue]->ActiveDocuments(identity_.id, [this, queue, jobs, done = std::move(done)](
                                                    Result<std::vector<std::string>> docs) mutable {
    if (!docs.ok()) return done(docs.error());
    boost::asio::post(
        hash_pool_, [this, queue, jobs, docs = std::move(*docs), done = std::move(done)]() mutable {
          RemovePreviousRunTemporaries(docs);
          boost::asio::post(service_.io(), [this, queue, jobs, done = std::move(done)]() mutable {
            RecoverAndSweep(
                queue, identity_.id, true,
                [this, queue, jobs, done = std::move(done)](const Result<Recovered>& n) mutable {
                  if (!n.ok()) return done(n.error());
                  RecoverOwnFrom(queue + 1, jobs + n->jobs, std::move(done));
                });
          });
        });
  });
}

void WorkerMode::RemovePreviousRunTemporaries(const std::vector<std::string>& documents) {
  if (!config_.atomic_outputs) return;
  int removed = 0;
  for (const auto& document : documents) {
    auto job = ParseJob(document);
    if (job.ok()) removed += RemoveTemporariesOfWorker(job->outputs, identity_.id);
  }
  if (removed == 0) return;
  boost::asio::post(service_.io(), [this, removed] {
    logger_.Info("removed temporary outputs of this worker's previous run",
                 {{"temporaries", removed}});
  });
}

// The temporaries of attempts a recovery fenced: nothing can publish them any more (the worker
// that wrote them was killed, or comes back to find its claim fenced).
void WorkerMode::RemoveFencedTemporaries(const std::string& worker,
                                         const std::vector<FencedAttempt>& started) {
  if (!config_.atomic_outputs || started.empty()) return;
  boost::asio::post(hash_pool_, [this, worker, started] {
    int removed = 0;
    for (const auto& a : started) {
      auto job = ParseJob(a.document);
      if (!job.ok()) continue;
      // A job the recovery dead-lettered has ended: every temporary of it is garbage (also one a
      // fenced attempt's ffmpeg wrote after an earlier sweep).
      removed += a.ended ? RemoveOtherTemporaries(job->outputs, {})
                         : RemoveTemporaries(TemporaryOutputs(
                               job->outputs, worker + "-" + std::to_string(a.attempt)));
    }
    if (removed == 0) return;
    boost::asio::post(service_.io(), [this, worker, removed] {
      logger_.Info("removed temporary outputs of attempts fenced by a recovery",
                   {{"lost_worker", worker}, {"temporaries", removed}});
    });
  });
}

}  // namespace ffpod
