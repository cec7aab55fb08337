#include "supervisor/modes/fair_claim.h"

#include <utility>

namespace ffpod {

FairClaim::FairClaim(const std::vector<int>& weights, Lanes& lanes)
    : share_(weights), lanes_(lanes) {}

void FairClaim::Claim(const std::vector<bool>& paused, Done done) {
  std::vector<bool> eligible(share_.size(), true);
  for (size_t i = 0; i < eligible.size() && i < paused.size(); ++i) eligible[i] = !paused[i];
  std::vector<size_t> order = share_.Order(eligible);
  if (order.empty()) return done(std::optional<ClaimLoop::Claimed>());
  if (share_.size() == 1) {
    std::weak_ptr<bool> alive = alive_;
    lanes_.Claim(
        0, kSingleWait,
        [this, alive, done = std::move(done)](Result<std::optional<std::string>> claimed) mutable {
          if (!alive.expired()) Answer(0, std::move(claimed), done);
        });
    return;
  }
  Sweep(std::move(order), 0, std::move(done));
}

void FairClaim::Sweep(std::vector<size_t> order, size_t k, Done done) {
  if (k == order.size()) return Wait(order, std::move(done));
  size_t lane = order[k];
  std::weak_ptr<bool> alive = alive_;
  lanes_.Claim(lane, std::chrono::milliseconds(0),
               [this, alive, order = std::move(order), k, lane,
                done = std::move(done)](Result<std::optional<std::string>> claimed) mutable {
                 if (alive.expired()) return;
                 if (claimed.ok() && !claimed->has_value()) {
                   share_.Empty(lane);
                   return Sweep(std::move(order), k + 1, std::move(done));
                 }
                 Answer(lane, std::move(claimed), done);
               });
}

void FairClaim::Wait(const std::vector<size_t>& order, Done done) {
  size_t lane = order[next_wait_++ % order.size()];
  std::weak_ptr<bool> alive = alive_;
  lanes_.Claim(lane, kIdleWait,
               [this, alive, lane,
                done = std::move(done)](Result<std::optional<std::string>> claimed) mutable {
                 if (!alive.expired()) Answer(lane, std::move(claimed), done);
               });
}

void FairClaim::Answer(size_t lane, Result<std::optional<std::string>> claimed, Done& done) {
  if (!claimed.ok()) return done(claimed.error());
  if (!claimed->has_value()) {
    share_.Empty(lane);
    return done(std::optional<ClaimLoop::Claimed>());
  }
  share_.Claimed(lane);
  done(std::optional<ClaimLoop::Claimed>(
      ClaimLoop::Claimed{.queue = lane, .document = std::move(**claimed)}));
}

}  // namespace ffpod
