// WorkerMode, the periodic queue steps: heartbeats, recovery of lost workers, promotion of due
// retries, the pending gauges and the cancel/fence watch. Each runs on every queue of the
// --queue list, one queue's keys per step (docs/queue.md "Several queues").
#include <boost/json.hpp>
#include <chrono>
#include <map>

#include "supervisor/modes/worker_mode.h"
#include "supervisor/modes/worker_slot.h"

namespace ffpod {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

milliseconds Ms(double s) { return milliseconds(static_cast<int64_t>(std::llround(s * 1000))); }

}  // namespace

void WorkerMode::Heartbeat() {
  heartbeat_timer_.cancel();
  if (!redis_ || exiting_) return;
  for (auto& queue : queues_) {
    queue->Heartbeat(HeartbeatInfo(), HeartbeatTtl(), [this](const Status& sent) {
      if (!sent.ok()) CountRedisError();
    });
  }
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
  for (size_t q = 0; q < queues_.size(); ++q) {
    queues_[q]->Workers([this, q](const Result<std::vector<std::string>>& workers) {
      if (!workers.ok()) {
        CountRedisError();
        return;
      }
      for (const auto& other : *workers) {
        if (other == identity_.id) continue;
        RecoverAndSweep(q, other, false, [this, q, other](const Result<Recovered>& n) {
          if (!n.ok()) {
            CountRedisError();
          } else if (n->jobs > 0) {
            boost::json::object f{{"lost_worker", other}, {"jobs", n->jobs}};
            if (queues_.size() > 1) f["queue"] = queues_[q]->settings().queue;
            logger_.Warn("recovered the jobs of a worker whose heartbeat expired", f);
          }
        });
      }
    });
  }
}

void WorkerMode::Promote() {
  promote_timer_.expires_after(seconds(1));
  promote_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !exiting_) Promote();
  });
  if (!redis_->up()) return;
  for (auto& queue : queues_) {
    queue->PromoteDelayed([this](const Result<long long>& moved) {
      if (!moved.ok()) {
        CountRedisError();
      } else if (*moved > 0) {
        logger_.Debug("due retries moved to pending", {{"jobs", *moved}});
        MaybeClaim();
      }
    });
  }
}

// Every second: a cancel requested for a running job, or its claim fenced (a recovery took the
// job while this worker's heartbeat had expired, e.g. the worker was frozen or Redis away).
void WorkerMode::PollCancels() {
  cancel_timer_.expires_after(seconds(1));
  cancel_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !exiting_) PollCancels();
  });
  if (!redis_->up()) return;
  // By queue: each queue's job hashes are read with that queue's step.
  std::map<size_t, WatchedSlots> by_queue;
  for (const auto& s : slots_) {
    if (s->running_ffmpeg()) {
      WatchedSlots& w = by_queue[s->queue_index()];
      w.jobs.push_back({.id = s->job_id(), .start_token = s->start_token()});
      w.slots.push_back(s->index());
    }
  }
  for (auto& [q, watched] : by_queue) {
    queues_[q]->Watch(watched.jobs, [this, watched = watched](
                                        const Result<std::vector<JobQueue::WatchedState>>& st) {
      if (!st.ok()) {
        CountRedisError();
        return;
      }
      OnWatched(watched, *st);
    });
  }
}

void WorkerMode::OnWatched(const WatchedSlots& watched,
                           const std::vector<JobQueue::WatchedState>& states) {
  for (size_t i = 0; i < states.size() && i < watched.slots.size(); ++i) {
    auto& slot = slots_[static_cast<size_t>(watched.slots[i])];
    if (!slot->running_ffmpeg() || slot->start_token() != watched.jobs[i].start_token) continue;
    if (states[i].fenced) {
      slot->Fenced();
    } else if (states[i].cancel_requested) {
      slot->Cancel();
    }
  }
}

// Every 5 s: each queue's pending length and the age of its oldest job.
void WorkerMode::PollQueueLength() {
  length_timer_.expires_after(seconds(5));
  length_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !exiting_) PollQueueLength();
  });
  for (auto& queue : queues_) {
    const std::string name = queue->settings().queue;
    if (!redis_->up()) {
      service_.metrics().ClearQueuePending(name);
      continue;
    }
    queue->PendingHead([this, name](const Result<JobQueue::Pending>& p) {
      if (!p.ok()) {
        service_.metrics().ClearQueuePending(name);
        CountRedisError();
        return;
      }
      std::optional<double> age;
      if (p->jobs == 0) {
        age = 0.0;
      } else if (p->oldest_enqueued_at) {
        age = std::chrono::duration<double>(clock_.WallNow() - *p->oldest_enqueued_at).count();
      }
      service_.metrics().SetQueuePending(name, p->jobs, age);
    });
  }
}

}  // namespace ffpod
