// FairClaim over scripted queues: the sweep of non-blocking claims in the scheduler's order,
// the idle wait on one queue at a time (in turn), paused queues skipped, errors passed on, and
// one queue claimed with the blocking claim of old.
#include "supervisor/modes/fair_claim.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace ffpod {
namespace {

using namespace std::chrono_literals;

// Queues of documents; every claim answers at once (a BLMOVE that would block answers empty).
class FakeLanes : public FairClaim::Lanes {
 public:
  explicit FakeLanes(size_t n) : pending(n) {}
  void Claim(size_t queue, std::chrono::milliseconds wait,
             FairClaim::Reply<std::optional<std::string>> done) override {
    calls.push_back(std::to_string(queue) +
                    (wait.count() == 0 ? "" : "@" + std::to_string(wait.count())));
    if (!error.empty()) return done(Error{error});
    if (pending[queue].empty()) return done(std::optional<std::string>());
    std::string doc = pending[queue].front();
    pending[queue].pop_front();
    done(std::optional<std::string>(doc));
  }
  std::vector<std::deque<std::string>> pending;
  std::vector<std::string> calls;
  std::string error;
};

// The documents claimed, "" for a claim that found nothing.
std::vector<std::string> ClaimN(FairClaim& fair, int n, const std::vector<bool>& paused = {}) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    fair.Claim(paused, [&](Result<std::optional<ClaimLoop::Claimed>> c) {
      ASSERT_TRUE(c.ok()) << c.error().message;
      out.push_back(c->has_value() ? (*c)->document : "");
      if (c->has_value()) {
        EXPECT_EQ((*c)->document[0], 'A' + static_cast<char>((*c)->queue));
      }
    });
  }
  return out;
}

void Fill(FakeLanes& lanes, size_t queue, int n, int first = 0) {
  for (int i = first; i < first + n; ++i) {
    lanes.pending[queue].push_back(std::string(1, static_cast<char>('A' + queue)) +
                                   std::to_string(i));
  }
}

TEST(FairClaim, OneQueueIsTheBlockingClaimOfOld) {
  FakeLanes lanes(1);
  FairClaim fair({1}, lanes);
  Fill(lanes, 0, 1);
  EXPECT_EQ(ClaimN(fair, 2), (std::vector<std::string>{"A0", ""}));
  EXPECT_EQ(lanes.calls, (std::vector<std::string>{"0@2000", "0@2000"}));
}

TEST(FairClaim, ABacklogDelaysALateQueueByOneClaim) {
  FakeLanes lanes(2);
  FairClaim fair({1, 1}, lanes);
  Fill(lanes, 0, 200);
  std::string order;
  for (const auto& d : ClaimN(fair, 20)) order += d[0];
  Fill(lanes, 1, 5);
  for (const auto& d : ClaimN(fair, 12)) order += d[0];
  EXPECT_EQ(order, std::string(20, 'A') + "BABABABABAAA");
}

TEST(FairClaim, EmptyQueuesAreSweptThenOneIsWaitedOnInTurn) {
  FakeLanes lanes(3);
  FairClaim fair({1, 1, 1}, lanes);
  EXPECT_EQ(ClaimN(fair, 3), (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(lanes.calls, (std::vector<std::string>{"0", "1", "2", "0@1000", "0", "1", "2", "1@1000",
                                                   "0", "1", "2", "2@1000"}));
}

TEST(FairClaim, PausedQueuesAreNotClaimedFrom) {
  FakeLanes lanes(2);
  FairClaim fair({1, 1}, lanes);
  Fill(lanes, 0, 3);
  Fill(lanes, 1, 3);
  EXPECT_EQ(ClaimN(fair, 3, {true, false}), (std::vector<std::string>{"B0", "B1", "B2"}));
  EXPECT_EQ(ClaimN(fair, 1, {true, true}), (std::vector<std::string>{""}));
  EXPECT_EQ(lanes.pending[0].size(), 3u);
}

TEST(FairClaim, AnErrorEndsTheClaim) {
  FakeLanes lanes(2);
  FairClaim fair({1, 3}, lanes);
  lanes.error = "connection reset";
  std::optional<Error> failed;
  fair.Claim({}, [&](const Result<std::optional<ClaimLoop::Claimed>>& c) {
    if (!c.ok()) failed = c.error();
  });
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->message, "connection reset");
  EXPECT_EQ(lanes.calls.size(), 1u);
}

TEST(FairClaim, WeightsShareTheClaims) {
  FakeLanes lanes(2);
  FairClaim fair({1, 3}, lanes);
  Fill(lanes, 0, 100);
  Fill(lanes, 1, 100);
  int a = 0;
  for (const auto& d : ClaimN(fair, 100)) a += d[0] == 'A' ? 1 : 0;
  EXPECT_EQ(a, 25);
}

}  // namespace
}  // namespace ffpod
