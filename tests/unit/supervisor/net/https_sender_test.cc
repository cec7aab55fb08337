// The sender's loop against a real local HTTP server (tests/harness/otlp_receiver.h): messages
// asked for when idle and on Wake, retries with backoff and their jitter, the backoff's restart,
// Retry-After, attempts and deadlines, rebuilt requests, and what Shutdown drains or abandons.
#include "supervisor/net/https_sender.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/harness.h"
#include "tests/harness/otlp_receiver.h"
#include "tests/unit/supervisor/net/recording_delegate.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using testing::Answer;
using testing::ReceivedRequest;
using testing::Receiver;
using testing::RecordingDelegate;
using testing::Reply;
using testing::TestMessage;
using testing::WaitFor;
using Clock = std::chrono::steady_clock;

HttpsSenderOptions Plain(int port) {
  HttpsSenderOptions o;
  o.host = "127.0.0.1";
  o.port = static_cast<uint16_t>(port);
  o.host_header = "127.0.0.1:" + std::to_string(port);
  o.request_timeout = 2s;
  o.backoff = {50ms, 200ms, BackoffJitter::kEqual};
  return o;
}

std::unique_ptr<HttpsSender> Start(const HttpsSenderOptions& o,
                                   const std::shared_ptr<RecordingDelegate>& d) {
  auto sender = HttpsSender::Start(o, d);
  EXPECT_TRUE(sender.ok()) << sender.error().message;
  return sender.ok() ? std::move(*sender) : nullptr;
}

// A receiver that answers `failures` requests with 503, then 200.
Receiver FailingFirst(size_t failures) {
  return Receiver([failures](const ReceivedRequest&, size_t i) {
    return i < failures ? Answer(503, "busy") : Reply{};
  });
}

TEST(HttpsSender, SendsWhatTheDelegateHasAndAsksAgainWhenWokenOrDue) {
  Receiver receiver;
  auto d = std::make_shared<RecordingDelegate>();
  d->AskAgainAt(Clock::now() + 300ms);
  auto sender = Start(Plain(receiver.port()), d);
  // Asked at once, and again when the delegate said.
  ASSERT_TRUE(WaitFor([&] { return d->asked().size() >= 2; }, 5s));
  auto asked = d->asked();
  EXPECT_GE(asked[1] - asked[0], 250ms);
  // Now asked only when woken: a message added meanwhile waits for Wake.
  d->Add(TestMessage("one"));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(receiver.count(), 0u);
  const auto woken = Clock::now();
  sender->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(1, 5s));
  EXPECT_LT(receiver.requests()[0].at - woken, 1s);
  EXPECT_EQ(receiver.requests()[0].body, "one");
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 5s));
  EXPECT_EQ(d->stopped(), 1);
  EXPECT_TRUE(d->give_ups().empty());
}

TEST(HttpsSender, RetriesWithEqualJitterBackoffThatDoublesUpToItsMaximum) {
  Receiver receiver = FailingFirst(4);
  auto d = std::make_shared<RecordingDelegate>();
  HttpsSenderOptions o = Plain(receiver.port());
  o.backoff = {100ms, 300ms, BackoffJitter::kEqual};
  auto sender = Start(o, d);
  d->Add(TestMessage("x"));
  sender->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(5, 10s));
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 5s));
  EXPECT_EQ(receiver.count(), 5u);  // four 503s, then delivered; nothing after
  auto retries = d->retries();
  ASSERT_EQ(retries.size(), 4u);
  // Backoff 100, 200, 300 (capped), 300 ms; each wait between half of it and all of it.
  const milliseconds backoff[] = {100ms, 200ms, 300ms, 300ms};
  auto requests = receiver.requests();
  for (size_t i = 0; i < retries.size(); ++i) {
    EXPECT_EQ(retries[i].error, "HTTP 503");
    EXPECT_GE(retries[i].wait, backoff[i] / 2) << i;
    EXPECT_LE(retries[i].wait, backoff[i]) << i;
    EXPECT_GE(requests[i + 1].at - requests[i].at, retries[i].wait) << i;
  }
  EXPECT_EQ(d->delivered(), 1u);
  EXPECT_TRUE(d->give_ups().empty());
}

TEST(HttpsSender, QuarterMoreJitterAndTheBackoffRestartsOnlyAfterADelivery) {
  // Message 1 fails twice and is then no longer wanted; message 2 fails once and is delivered;
  // message 3 fails once. The streak goes on across message 1's end, restarts after message 2.
  auto twos = std::make_shared<std::atomic<int>>(0);
  Receiver receiver([twos](const ReceivedRequest& r, size_t) {
    if (r.body == "two" && (*twos)++ > 0) return Reply{};
    return Answer(503);
  });
  auto d = std::make_shared<RecordingDelegate>();
  HttpsSenderOptions o = Plain(receiver.port());
  o.backoff = {100ms, 1000ms, BackoffJitter::kUpToAQuarterMore};
  auto sender = Start(o, d);
  auto builds = std::make_shared<std::atomic<int>>(0);
  HttpsSender::Message one;
  one.build = [builds]() -> Result<std::optional<HttpsRequest>> {
    if (++*builds > 2) return std::optional<HttpsRequest>();  // nothing to send any more
    return std::optional<HttpsRequest>(testing::TestPost("one"));
  };
  d->Add(std::move(one));
  d->Add(TestMessage("two"));
  d->Add(TestMessage("three", Clock::now() + 10s, 2));
  sender->Wake();
  ASSERT_TRUE(WaitFor([&] { return d->give_ups().size() == 1; }, 10s));
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 5s));
  EXPECT_EQ(receiver.count(), 6u);  // one, one, two, two, three, three
  auto retries = d->retries();
  ASSERT_EQ(retries.size(), 4u);
  const milliseconds backoff[] = {100ms, 200ms, 400ms, 100ms};
  for (size_t i = 0; i < retries.size(); ++i) {
    EXPECT_GE(retries[i].wait, backoff[i]) << i;
    EXPECT_LE(retries[i].wait, backoff[i] + backoff[i] / 4) << i;
  }
  EXPECT_EQ(d->give_ups()[0], "HTTP 503; gave up after 2 attempts");
}

TEST(HttpsSender, GivesUpAfterMaxAttemptsAndAtOnceOnAFinalVerdict) {
  Receiver receiver([](const ReceivedRequest& r, size_t) {
    return r.body == "final" ? Answer(400, "no") : Answer(503, "busy");
  });
  auto d = std::make_shared<RecordingDelegate>();
  HttpsSenderOptions o = Plain(receiver.port());
  o.backoff = {10ms, 20ms, BackoffJitter::kEqual};
  auto sender = Start(o, d);
  d->Add(TestMessage("busy", Clock::time_point::max(), 3));
  d->Add(TestMessage("final"));
  sender->Wake();
  ASSERT_TRUE(WaitFor([&] { return d->give_ups().size() == 2; }, 10s));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 5s));
  EXPECT_EQ(receiver.count(), 4u);
  EXPECT_EQ(d->retries().size(), 2u);
  auto give_ups = d->give_ups();
  EXPECT_EQ(give_ups[0], "HTTP 503; gave up after 3 attempts");
  EXPECT_EQ(give_ups[1], "HTTP 400");
  EXPECT_EQ(d->attempts().back().body, "no");
}

TEST(HttpsSender, AServersWaitReplacesTheBackoffUnlessItEndsPastTheDeadline) {
  Receiver receiver = FailingFirst(2);
  auto d = std::make_shared<RecordingDelegate>();
  d->judge = [](const Result<HttpAnswer>& a) {
    if (a.ok() && a->status == 200) return Verdict::Delivered();
    return Verdict::Retry("HTTP 503", a.ok() ? std::optional<milliseconds>(1500ms) : std::nullopt);
  };
  HttpsSenderOptions o = Plain(receiver.port());
  o.backoff = {10ms, 10ms, BackoffJitter::kEqual};
  auto sender = Start(o, d);
  d->Add(TestMessage("late", Clock::now() + 1s));  // 1.5 s would end past its deadline
  d->Add(TestMessage("waits"));
  sender->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(3, 10s));
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 5s));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, "late");
  EXPECT_EQ(requests[1].body, "waits");
  EXPECT_GE(requests[2].at - requests[1].at, 1490ms);
  ASSERT_EQ(d->give_ups().size(), 1u);
  EXPECT_EQ(d->give_ups()[0], "HTTP 503; Retry-After is past the deadline");
  ASSERT_EQ(d->retries().size(), 1u);
  EXPECT_EQ(d->retries()[0].wait, 1500ms);
}

TEST(HttpsSender, NoAttemptStartsAndNoBackoffIsWaitedForPastTheDeadline) {
  Receiver receiver([](const ReceivedRequest&, size_t) { return Answer(503); });
  auto d = std::make_shared<RecordingDelegate>();
  HttpsSenderOptions o = Plain(receiver.port());
  o.backoff = {2000ms, 2000ms, BackoffJitter::kUpToAQuarterMore};
  auto sender = Start(o, d);
  d->Add(TestMessage("a", Clock::now() + 1500ms));
  d->Add(TestMessage("b", Clock::now() - 1ms));
  sender->Wake();
  ASSERT_TRUE(WaitFor([&] { return d->give_ups().size() == 2; }, 5s));
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 5s));
  EXPECT_EQ(receiver.count(), 1u);
  EXPECT_TRUE(d->retries().empty());
  EXPECT_EQ(d->give_ups()[0], "HTTP 503; no time left to retry");
  EXPECT_EQ(d->give_ups()[1], "no time left to send");
}

TEST(HttpsSender, EveryAttemptIsBuiltAgainAndAFailedBuildIsAFailedAttempt) {
  Receiver receiver;
  auto d = std::make_shared<RecordingDelegate>();
  auto sender = Start(Plain(receiver.port()), d);
  auto builds = std::make_shared<std::atomic<int>>(0);
  HttpsSender::Message m;
  m.build = [builds]() -> Result<std::optional<HttpsRequest>> {
    int n = ++*builds;
    if (n == 1) return Error{"cannot read the token"};
    return std::optional<HttpsRequest>(testing::TestPost("build " + std::to_string(n)));
  };
  d->Add(std::move(m));
  sender->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(1, 5s));
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 5s));
  EXPECT_EQ(receiver.requests()[0].body, "build 2");
  auto attempts = d->attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].error, "cannot read the token");
  EXPECT_EQ(attempts[1].status, 200);
  ASSERT_EQ(d->retries().size(), 1u);
  EXPECT_EQ(d->retries()[0].error, "cannot read the token");
}

TEST(HttpsSender, ShutdownSendsWhatIsLeftThenEndsTheLoop) {
  Receiver receiver = FailingFirst(1);
  auto d = std::make_shared<RecordingDelegate>();
  auto sender = Start(Plain(receiver.port()), d);
  for (int i = 0; i < 3; ++i) d->Add(TestMessage("m" + std::to_string(i)));
  // No Wake: Shutdown asks the delegate again itself.
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 5s));
  EXPECT_EQ(receiver.count(), 4u);  // the first retried once
  EXPECT_EQ(d->delivered(), 3u);
  EXPECT_EQ(d->stopped(), 1);
}

TEST(HttpsSender, ShutdownCutsABackoffShortWhenItWouldEndPastTheDeadline) {
  Receiver receiver([](const ReceivedRequest&, size_t) { return Answer(503); });
  auto d = std::make_shared<RecordingDelegate>();
  HttpsSenderOptions o = Plain(receiver.port());
  o.backoff = {60s, 60s, BackoffJitter::kEqual};
  auto sender = Start(o, d);
  d->Add(TestMessage("x"));
  sender->Wake();
  ASSERT_TRUE(WaitFor([&] { return d->retries().size() == 1; }, 5s));
  const auto before = Clock::now();
  EXPECT_TRUE(sender->Shutdown(Clock::now() + 3s));
  EXPECT_LT(Clock::now() - before, 1s);
  ASSERT_EQ(d->give_ups().size(), 1u);
  EXPECT_EQ(d->give_ups()[0], "HTTP 503; no time left to retry");
  EXPECT_EQ(d->stopped(), 1);
}

TEST(HttpsSender, ShutdownAbandonsARequestInFlightAtItsDeadline) {
  Receiver receiver([](const ReceivedRequest&, size_t) { return testing::Hang(); });
  auto d = std::make_shared<RecordingDelegate>();
  HttpsSenderOptions o = Plain(receiver.port());
  o.request_timeout = 60s;
  auto sender = Start(o, d);
  d->Add(TestMessage("x"));
  sender->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(1, 5s));
  auto before = Clock::now();
  EXPECT_FALSE(sender->Shutdown(Clock::now() + 300ms));
  auto took = Clock::now() - before;
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 300ms + 400ms);
  EXPECT_TRUE(d->attempts().empty());  // never judged
  EXPECT_TRUE(d->give_ups().empty());
  EXPECT_EQ(d->stopped(), 0);
}

TEST(HttpsSender, ShutdownNowStopsAtOnceAndTheDestructorShutsDown) {
  Receiver receiver([](const ReceivedRequest&, size_t) { return testing::Hang(); });
  auto d = std::make_shared<RecordingDelegate>();
  auto sender = Start(Plain(receiver.port()), d);
  d->Add(TestMessage("x"));
  sender->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(1, 5s));
  auto before = Clock::now();
  EXPECT_FALSE(sender->Shutdown(Clock::now()));
  EXPECT_LT(Clock::now() - before, 250ms);
  EXPECT_FALSE(sender->Shutdown(Clock::now() + 5s));  // once only

  auto idle = Start(Plain(receiver.port()), std::make_shared<RecordingDelegate>());
  before = Clock::now();
  idle.reset();
  EXPECT_LT(Clock::now() - before, 250ms);
}

}  // namespace
}  // namespace ffpod
