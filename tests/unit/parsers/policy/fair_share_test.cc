// The worker's queue list and its stride scheduler, driven by a fake set of queues: claims go
// to the queues with work in proportion to their weights, an idle queue keeps no credit, and a
// queue that gets a job while another holds a backlog is served within a claim or two.
#include "parsers/policy/fair_share.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

namespace ffpod {
namespace {

// Queues of jobs the scheduler claims from, as the worker does: it tries the lanes in Order()
// until one has a job, telling the scheduler what each try found.
struct FakeQueues {
  explicit FakeQueues(const std::vector<int>& weights) : share(weights), jobs(weights.size()) {}
  // The lane the next claim came from, or -1 when every lane was empty.
  int ClaimOne(const std::vector<bool>& eligible) {
    for (size_t lane : share.Order(eligible)) {
      if (jobs[lane] == 0) {
        share.Empty(lane);
        continue;
      }
      --jobs[lane];
      share.Claimed(lane);
      return static_cast<int>(lane);
    }
    return -1;
  }
  int ClaimOne() { return ClaimOne(std::vector<bool>(jobs.size(), true)); }
  FairShare share;
  std::vector<int> jobs;
};

TEST(FairShare, EqualWeightsAlternateWhileBothHaveWork) {
  FakeQueues q({1, 1});
  q.jobs = {10, 10};
  std::string order;
  for (int i = 0; i < 8; ++i) order += static_cast<char>('A' + q.ClaimOne());
  EXPECT_EQ(order, "ABABABAB");
}

TEST(FairShare, WeightsOneToThreeGiveOneInFour) {
  FakeQueues q({1, 3});
  q.jobs = {1000, 1000};
  std::map<int, int> claims;
  for (int i = 0; i < 100; ++i) ++claims[q.ClaimOne()];
  EXPECT_EQ(claims[0], 25);
  EXPECT_EQ(claims[1], 75);
}

TEST(FairShare, WeightsAreProportionalOverAnyWindowOfACycle) {
  FakeQueues q({2, 3, 5});
  q.jobs = {100000, 100000, 100000};
  for (int window = 0; window < 20; ++window) {
    std::map<int, int> claims;
    for (int i = 0; i < 10; ++i) ++claims[q.ClaimOne()];
    EXPECT_EQ(claims[0], 2) << "window " << window;
    EXPECT_EQ(claims[1], 3) << "window " << window;
    EXPECT_EQ(claims[2], 5) << "window " << window;
  }
}

// A backlog of 200 in A, then 5 jobs in B: each of B's is claimed within two of A's.
TEST(FairShare, AQueueThatGetsWorkLateIsServedWithinAClaimOfTheBacklog) {
  FakeQueues q({1, 1});
  q.jobs = {200, 0};
  for (int i = 0; i < 50; ++i) ASSERT_EQ(q.ClaimOne(), 0);
  q.jobs[1] = 5;
  std::vector<int> positions;  // claims since B's jobs arrived, at each of B's
  for (int claim = 1; positions.size() < 5 && claim < 100; ++claim) {
    if (q.ClaimOne() == 1) positions.push_back(claim);
  }
  ASSERT_EQ(positions.size(), 5u);
  int previous = 0;
  for (int p : positions) {
    EXPECT_LE(p - previous - 1, 2) << "A jobs claimed before B's job at claim " << p;
    previous = p;
  }
}

// Idle time is not credit: a lane that had no work while another took 1000 claims does not
// then take 1000 claims in a row.
TEST(FairShare, AnIdleLaneKeepsNoCredit) {
  FakeQueues q({1, 1});
  q.jobs = {2000, 0};
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(q.ClaimOne(), 0);
  q.jobs[1] = 1000;
  std::map<int, int> claims;
  for (int i = 0; i < 20; ++i) ++claims[q.ClaimOne()];
  EXPECT_EQ(claims[0], 10);
  EXPECT_EQ(claims[1], 10);
}

TEST(FairShare, OnlyEligibleLanesAreTriedAndEmptyOnesPassTheirTurn) {
  FakeQueues q({1, 1, 1});
  q.jobs = {5, 5, 0};
  EXPECT_EQ(q.share.Order({false, true, true}), (std::vector<size_t>{1, 2}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.ClaimOne({false, true, true}), 1);
  EXPECT_EQ(q.ClaimOne({false, true, true}), -1);
  EXPECT_TRUE(q.share.idle(2));
  EXPECT_EQ(q.ClaimOne(), 0);
}

TEST(FairShare, PassesStayBoundedOverLongRuns) {
  FakeQueues q({1, 1000});
  q.jobs = {10000000, 10000000};
  for (int i = 0; i < 2000000; ++i) q.ClaimOne();
  EXPECT_LT(q.share.pass(0), FairShare::kStrideUnit * 1002);
  EXPECT_LT(q.share.pass(1), FairShare::kStrideUnit * 1002);
}

TEST(ParseQueueList, NamesWithOptionalWeights) {
  auto q = ParseQueueList("acme,globex:3, shared");
  ASSERT_TRUE(q.ok()) << q.error().message;
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0].name, "acme");
  EXPECT_EQ((*q)[0].weight, 1);
  EXPECT_FALSE((*q)[0].weight_given);
  EXPECT_EQ((*q)[1].name, "globex");
  EXPECT_EQ((*q)[1].weight, 3);
  EXPECT_EQ((*q)[2].name, "shared");
  EXPECT_EQ(QueueListText(*q), "acme,globex:3,shared");
}

TEST(ParseQueueList, OneNameIsTheQueueOfToday) {
  for (const char* name : {"ffpod", "{acme}", "team:video", "a:b:7"}) {
    auto q = ParseQueueList(name);
    ASSERT_TRUE(q.ok()) << name << ": " << q.error().message;
    ASSERT_EQ(q->size(), 1u);
    EXPECT_EQ(QueueListText(*q), name);
  }
  EXPECT_EQ(ParseQueueList("a:b:7")->front().name, "a:b");
  EXPECT_EQ(ParseQueueList("a:b:7")->front().weight, 7);
  EXPECT_EQ(ParseQueueList("a:1000")->front().weight, 1000);
}

TEST(ParseQueueList, BadElementsAreNamed) {
  const std::map<std::string, std::string> bad = {
      {"a,globex:0", "(\"globex:0\" has weight \"0\")"},
      {"globex:1001", "(\"globex:1001\" has weight \"1001\")"},
      {"globex:-2", "(\"globex:-2\" has weight \"-2\")"},
      {"globex:", "(\"globex:\" has weight \"\")"},
      {"a,,b", "(element 2 is empty)"},
      {"", "(element 1 is empty)"},
      {"a,", "(element 2 is empty)"},
      {"a,b,a:2", "(\"a\" is listed twice)"},
      {":3", "(\":3\" is not one)"},
  };
  for (const auto& [text, named] : bad) {
    auto q = ParseQueueList(text);
    ASSERT_FALSE(q.ok()) << text;
    EXPECT_NE(q.error().message.find(named), std::string::npos)
        << text << ": " << q.error().message;
  }
}

}  // namespace
}  // namespace ffpod
