#include "probes/os/clock.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "tests/fakes/fake_clock.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using fakes::FakeClock;

TEST(FakeClock, FiresInExpiryOrderWithNowAtEachExpiry) {
  FakeClock clock;
  SteadyTime t0 = clock.Now();
  std::vector<std::pair<std::string, Duration>> fired;
  auto a = clock.MakeTimer();
  auto b = clock.MakeTimer();
  auto c = clock.MakeTimer();
  a->ArmAfter(3s, [&] { fired.emplace_back("a", clock.Now() - t0); });
  b->ArmAfter(1s, [&] { fired.emplace_back("b", clock.Now() - t0); });
  c->ArmAfter(2s, [&] { fired.emplace_back("c", clock.Now() - t0); });
  clock.Advance(2500ms);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], std::make_pair(std::string("b"), Duration(1s)));
  EXPECT_EQ(fired[1], std::make_pair(std::string("c"), Duration(2s)));
  EXPECT_EQ(clock.Now() - t0, 2500ms);
  EXPECT_TRUE(a->armed());
  clock.Advance(1s);
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[2].first, "a");
  EXPECT_FALSE(a->armed());
}

TEST(FakeClock, RearmReplacesCancelAndDestroyPrevent) {
  FakeClock clock;
  int a = 0, b = 0, c = 0;
  auto ta = clock.MakeTimer();
  ta->ArmAfter(1s, [&] { a = 1; });
  ta->ArmAfter(5s, [&] { a = 5; });  // replaces the 1 s arming
  auto tb = clock.MakeTimer();
  tb->ArmAfter(1s, [&] { ++b; });
  tb->Cancel();
  {
    auto tc = clock.MakeTimer();
    tc->ArmAfter(1s, [&] { ++c; });
  }
  clock.Advance(2s);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(c, 0);
  clock.Advance(3s);
  EXPECT_EQ(a, 5);
  EXPECT_EQ(clock.pending(), 0u);
}

TEST(FakeClock, CallbackThatRearmsFiresAgainWithinTheSameAdvance) {
  FakeClock clock;
  auto t = clock.MakeTimer();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    t->ArmAfter(1s, tick);
  };
  t->ArmAfter(1s, tick);
  clock.Advance(10s);
  EXPECT_EQ(ticks, 10);
  EXPECT_TRUE(t->armed());
}

TEST(FakeClock, WallTimeMovesWithSteadyTime) {
  FakeClock clock;
  WallTime w0 = clock.WallNow();
  clock.Advance(90s);
  EXPECT_EQ(clock.WallNow() - w0, 90s);
}

TEST(AsioClock, FiresOnceAndCancelOrRearmSilencesTheEarlierArming) {
  boost::asio::io_context io;
  AsioClock clock(io);
  std::vector<std::string> fired;
  auto a = clock.MakeTimer();
  auto b = clock.MakeTimer();
  auto c = clock.MakeTimer();
  a->ArmAfter(1ms, [&] { fired.push_back("a-first"); });
  a->ArmAfter(2ms, [&] { fired.push_back("a"); });
  b->ArmAfter(1ms, [&] { fired.push_back("b"); });
  b->Cancel();
  c->ArmAfter(3ms, [&] {
    fired.push_back("c");
    c.reset();  // destroying the timer from its own callback is allowed
  });
  EXPECT_TRUE(a->armed());
  EXPECT_FALSE(b->armed());
  io.run();
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "c"}));
  EXPECT_FALSE(a->armed());
}

TEST(AsioClock, DestroyedTimerNeverCalls) {
  boost::asio::io_context io;
  AsioClock clock(io);
  bool called = false;
  auto t = clock.MakeTimer();
  t->ArmAfter(1ms, [&] { called = true; });
  t.reset();
  io.run();
  EXPECT_FALSE(called);
}

TEST(Seconds, RoundsToMicrosecondsAndClampsNegative) {
  EXPECT_EQ(Seconds(1.5), Duration(1500ms));
  EXPECT_EQ(Seconds(0.0000014), Duration(1us));
  EXPECT_EQ(Seconds(-3), Duration::zero());
  EXPECT_EQ(Seconds(0), Duration::zero());
}

}  // namespace
}  // namespace ffpod
