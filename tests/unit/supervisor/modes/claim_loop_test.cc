// The claim loop on simulated time with a scripted queue: every step's answer is given by the
// test, so each branch (self-recovery first, lost replies, pause, blocked readiness, drain) is
// reached deterministically.
#include "supervisor/modes/claim_loop.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/fake_clock.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;

// A claimed document; none when the BLMOVE timed out.
using Doc = std::optional<ClaimLoop::Claimed>;
Doc D(std::string document) {
  return ClaimLoop::Claimed{.queue = 0, .document = std::move(document)};
}

class ScriptedQueue : public ClaimLoop::Queue {
 public:
  bool up() const override { return up_; }
  void RecoverOwn(ClaimLoop::Reply<long long> done) override {
    calls.push_back("recover");
    recover.push_back(std::move(done));
  }
  void ReturnUnheld(const std::vector<ClaimLoop::Claimed>& held,
                    ClaimLoop::Reply<long long> done) override {
    calls.push_back("return_unheld:" + std::to_string(held.size()));
    unheld.push_back(std::move(done));
  }
  void IsPaused(ClaimLoop::Reply<bool> done) override {
    calls.push_back("is_paused");
    paused.push_back(std::move(done));
  }
  void Claim(ClaimLoop::Reply<Doc> done) override {
    calls.push_back("claim");
    claim.push_back(std::move(done));
  }

  // Answers the oldest step of `q`: with `value`, or with `error` when it is not empty.
  template <typename T>
  static void Answer(std::deque<ClaimLoop::Reply<T>>& q, const std::string& error, T value) {
    ASSERT_FALSE(q.empty());
    auto done = std::move(q.front());
    q.pop_front();
    done(error.empty() ? Result<T>(std::move(value)) : Result<T>(Error{error}));
  }

  bool up_ = true;
  std::vector<std::string> calls;
  std::deque<ClaimLoop::Reply<long long>> recover, unheld;
  std::deque<ClaimLoop::Reply<bool>> paused;
  std::deque<ClaimLoop::Reply<Doc>> claim;
};

class FakeWorker : public ClaimLoop::Owner {
 public:
  bool HasIdleSlot() const override { return idle_slots > 0; }
  std::vector<ClaimLoop::Claimed> HeldDocuments() const override { return held; }
  bool ClaimsBlocked() const override { return blocked; }
  void OnClaimed(ClaimLoop::Claimed c) override {
    claimed.push_back(std::move(c.document));
    --idle_slots;
  }
  void OnPausedChanged(bool p) override { pause_changes.push_back(p); }
  void OnQueueError() override { ++errors; }
  void OnRecovered(long long own, long long unheld) override {
    recovered_own += own;
    returned += unheld;
  }

  int idle_slots = 1;
  bool blocked = false;
  std::vector<ClaimLoop::Claimed> held;
  std::vector<std::string> claimed;
  std::vector<bool> pause_changes;
  int errors = 0;
  long long recovered_own = 0, returned = 0;
};

class ClaimLoopTest : public ::testing::Test {
 protected:
  // Enables the loop and answers the start-up self-recovery; the pause check that follows is
  // in flight.
  void Started() {
    loop_.Enable();
    ASSERT_EQ(queue_.calls, (std::vector<std::string>{"recover"}));
    ScriptedQueue::Answer<long long>(queue_.recover, "", 0);
    ASSERT_EQ(queue_.calls.back(), "is_paused");
    queue_.calls.clear();
  }

  fakes::FakeClock clock_;
  ScriptedQueue queue_;
  FakeWorker worker_;
  ClaimLoop loop_{clock_, queue_, worker_};
};

TEST_F(ClaimLoopTest, NothingBeforeEnable) {
  loop_.Kick();
  EXPECT_TRUE(queue_.calls.empty());
}

TEST_F(ClaimLoopTest, RecoversItsOwnListFirstAndRetriesThatUntilItWorks) {
  loop_.Enable();
  EXPECT_EQ(queue_.calls, (std::vector<std::string>{"recover"}));
  loop_.Kick();  // one step at a time
  EXPECT_EQ(queue_.calls.size(), 1u);
  ScriptedQueue::Answer<long long>(queue_.recover, "connection lost", 0);
  EXPECT_EQ(worker_.errors, 1);
  clock_.Advance(999ms);
  EXPECT_EQ(queue_.calls.size(), 1u);  // nothing claimed without the recovery
  clock_.Advance(1ms);
  ASSERT_EQ(queue_.calls.size(), 2u);
  EXPECT_EQ(queue_.calls[1], "recover");
  ScriptedQueue::Answer<long long>(queue_.recover, "", 3);
  EXPECT_EQ(worker_.recovered_own, 3);
  EXPECT_EQ(queue_.calls.back(), "is_paused");
}

TEST_F(ClaimLoopTest, ClaimsWhileSlotsAreFreeAndHandsEachDocumentOver) {
  worker_.idle_slots = 2;
  Started();
  ScriptedQueue::Answer(queue_.paused, "", false);
  ScriptedQueue::Answer<Doc>(queue_.claim, "", D("{\"id\":\"a\"}"));
  ScriptedQueue::Answer(queue_.paused, "", false);
  ScriptedQueue::Answer<Doc>(queue_.claim, "", Doc());  // the BLMOVE timed out: again
  ScriptedQueue::Answer(queue_.paused, "", false);
  ScriptedQueue::Answer<Doc>(queue_.claim, "", D("{\"id\":\"b\"}"));
  EXPECT_EQ(worker_.claimed, (std::vector<std::string>{"{\"id\":\"a\"}", "{\"id\":\"b\"}"}));
  // Both slots busy: the loop rests until a slot frees.
  EXPECT_FALSE(loop_.claiming());
  EXPECT_EQ(queue_.calls.size(), 5u);  // claim, is_paused, claim, is_paused, claim
  clock_.Advance(1min);
  EXPECT_EQ(queue_.calls.size(), 5u);
  worker_.idle_slots = 1;
  loop_.Kick();
  EXPECT_EQ(queue_.calls.back(), "return_unheld:0");  // 30 s have passed: reconcile first
}

// `LPUSH Q:pending ""`: the empty string is a document (the slot dead-letters it as bad_job),
// not a timed-out claim to be found again by the reconcile every 30 s.
TEST_F(ClaimLoopTest, AnEmptyDocumentIsHandedOverNotTakenForATimeout) {
  worker_.idle_slots = 2;
  Started();
  ScriptedQueue::Answer(queue_.paused, "", false);
  ScriptedQueue::Answer<Doc>(queue_.claim, "", D(""));
  EXPECT_EQ(worker_.claimed, (std::vector<std::string>{""}));
}

TEST_F(ClaimLoopTest, AFailedClaimIsReconciledBeforeTheNextOne) {
  worker_.held = {{.queue = 0, .document = "{\"id\":\"running\"}"}};
  Started();
  ScriptedQueue::Answer(queue_.paused, "", false);
  ScriptedQueue::Answer<Doc>(queue_.claim, "connection reset", Doc());
  EXPECT_EQ(worker_.errors, 1);
  clock_.Advance(1s);
  // The BLMOVE may have moved a document whose reply was lost: hand back what no slot holds.
  ASSERT_EQ(queue_.calls.back(), "return_unheld:1");
  ScriptedQueue::Answer<long long>(queue_.unheld, "", 1);
  EXPECT_EQ(worker_.returned, 1);
  EXPECT_EQ(queue_.calls.back(), "is_paused");
  ScriptedQueue::Answer(queue_.paused, "", false);
  ScriptedQueue::Answer<Doc>(queue_.claim, "", Doc());
  EXPECT_EQ(queue_.calls.back(), "is_paused");  // no second reconcile until 30 s have passed
}

TEST_F(ClaimLoopTest, PausedQueueIsPolledEverySecondAndTheChangesReported) {
  Started();
  ScriptedQueue::Answer(queue_.paused, "", true);
  EXPECT_EQ(worker_.pause_changes, (std::vector<bool>{true}));
  EXPECT_TRUE(loop_.paused());
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(1s);
    ScriptedQueue::Answer(queue_.paused, "", true);
  }
  EXPECT_EQ(worker_.pause_changes.size(), 1u);  // reported once
  EXPECT_TRUE(queue_.claim.empty());
  // An error while paused changes nothing but the error count.
  clock_.Advance(1s);
  ScriptedQueue::Answer(queue_.paused, "LOADING", false);
  EXPECT_EQ(worker_.errors, 1);
  EXPECT_TRUE(loop_.paused());
  clock_.Advance(1s);
  ScriptedQueue::Answer(queue_.paused, "", false);
  EXPECT_EQ(worker_.pause_changes, (std::vector<bool>{true, false}));
  EXPECT_EQ(queue_.calls.back(), "claim");
}

TEST_F(ClaimLoopTest, BlockedReadinessWaitsAndRechecksEverySecond) {
  Started();
  ScriptedQueue::Answer(queue_.paused, "", false);
  ScriptedQueue::Answer<Doc>(queue_.claim, "", D("{\"id\":\"a\"}"));
  worker_.idle_slots = 1;
  worker_.blocked = true;
  size_t before = queue_.calls.size();
  loop_.Kick();
  clock_.Advance(5s);
  EXPECT_EQ(queue_.calls.size(), before);  // no claim while ffmpeg or an encoder cannot run
  worker_.blocked = false;
  clock_.Advance(1s);
  EXPECT_EQ(queue_.calls.size(), before + 1);
}

TEST_F(ClaimLoopTest, RedisDownMeansNoStepUntilKickedAgain) {
  queue_.up_ = false;
  loop_.Enable();
  clock_.Advance(1min);
  EXPECT_TRUE(queue_.calls.empty());
  queue_.up_ = true;
  loop_.Kick();  // the worker kicks when Redis is back
  EXPECT_EQ(queue_.calls, (std::vector<std::string>{"recover"}));
}

TEST_F(ClaimLoopTest, StopEndsClaimingButADocumentAlreadyMovedStillReachesTheWorker) {
  Started();
  ScriptedQueue::Answer(queue_.paused, "", false);
  ASSERT_EQ(queue_.claim.size(), 1u);
  loop_.Stop();
  ScriptedQueue::Answer<Doc>(queue_.claim, "", D("{\"id\":\"late\"}"));
  EXPECT_EQ(worker_.claimed, (std::vector<std::string>{"{\"id\":\"late\"}"}));
  worker_.idle_slots = 1;
  loop_.Kick();
  clock_.Advance(1min);
  EXPECT_EQ(queue_.calls.back(), "claim");  // nothing after it
  EXPECT_EQ(clock_.pending(), 0u);
}

TEST_F(ClaimLoopTest, StopWhileRetryingCancelsTheRetry) {
  Started();
  ScriptedQueue::Answer(queue_.paused, "timeout", false);
  EXPECT_EQ(clock_.pending(), 1u);
  loop_.Stop();
  EXPECT_EQ(clock_.pending(), 0u);
  size_t n = queue_.calls.size();
  clock_.Advance(1min);
  EXPECT_EQ(queue_.calls.size(), n);
}

TEST_F(ClaimLoopTest, RepliesAfterTheLoopIsGoneAreIgnored) {
  std::deque<ClaimLoop::Reply<long long>> left;
  {
    ClaimLoop loop(clock_, queue_, worker_);
    loop.Enable();
    left = std::move(queue_.recover);
  }
  left.front()(2LL);  // must not touch the destroyed loop
  EXPECT_EQ(worker_.recovered_own, 0);
}

}  // namespace
}  // namespace ffpod
