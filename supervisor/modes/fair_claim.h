// The claim of a worker that serves several queues (`--queue acme,globex:3,shared`): which
// queue's pending list the next job comes from, in the order of a stride scheduler
// (parsers/policy/fair_share.h), so that each queue with work gets claims in proportion to its
// weight.
//
// One BLMOVE cannot wait on several lists, so a claim sweeps: a non-blocking LMOVE on each
// queue that is not paused, best first, until one yields a job. When every one was empty it
// blocks up to kIdleWait on one of them (a different one each time, in turn) and answers with
// what that brought. A job pushed to the queue being waited on is claimed at once; one pushed
// to another queue is claimed at the next sweep, at most kIdleWait later. Each step touches one
// queue's keys only (Redis Cluster: each queue may live in its own slot).
//
// With one queue there is nothing to choose: the claim is the BLMOVE of one queue with
// kSingleWait, as it always was.
//
// Threading: the io_context thread; at most one Claim in flight (the claim loop's rule).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/policy/fair_share.h"
#include "supervisor/modes/claim_loop.h"

namespace ffpod {

class FairClaim {
 public:
  template <typename T>
  using Reply = std::function<void(Result<T>)>;

  // The queues' claim steps (JobQueue::Claim in production), each calling its reply once.
  struct Lanes {
    virtual ~Lanes() = default;
    // Moves the head of queue `queue`'s pending list to this worker's active list: LMOVE when
    // `wait` is 0, else BLMOVE waiting up to `wait`. No document when there was none.
    virtual void Claim(size_t queue, std::chrono::milliseconds wait,
                       Reply<std::optional<std::string>> done) = 0;
  };

  static constexpr std::chrono::milliseconds kSingleWait{2000};
  static constexpr std::chrono::milliseconds kIdleWait{1000};

  // One lane per weight, in the order of the --queue list.
  FairClaim(const std::vector<int>& weights, Lanes& lanes);
  FairClaim(const FairClaim&) = delete;
  FairClaim& operator=(const FairClaim&) = delete;

  // The next claim, from the queues whose `paused[i]` is false (size() entries). Answers with
  // the document and its queue, nothing when every such queue stayed empty (or none may be
  // claimed from), or the first step's error (its claim may have run: the loop reconciles).
  void Claim(const std::vector<bool>& paused, Reply<std::optional<ClaimLoop::Claimed>> done);

  size_t size() const { return share_.size(); }
  const FairShare& share() const { return share_; }

 private:
  using Done = Reply<std::optional<ClaimLoop::Claimed>>;
  // Tries order[k], then the next ones; blocks on one when all were empty.
  void Sweep(std::vector<size_t> order, size_t k, Done done);
  void Wait(const std::vector<size_t>& order, Done done);
  // A lane's answer: the scheduler told, `done` answered (with the error as it came).
  void Answer(size_t lane, Result<std::optional<std::string>> claimed, Done& done);

  FairShare share_;
  Lanes& lanes_;
  size_t next_wait_ = 0;  // which of the sweep's lanes the next idle wait blocks on
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ffpod
