#include "supervisor/net/https_sender.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <random>

#include "supervisor/net/https_connection.h"

namespace ffpod {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
// How long Shutdown waits, past its deadline, for the thread to stop after io.stop().
constexpr milliseconds kStopGrace{200};

// What an exception that ended the loop was, in one phrase.
std::string Describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

}  // namespace

class HttpsSender::State {
 public:
  State(HttpsSenderOptions o, std::shared_ptr<Delegate> d)
      : options(std::move(o)),
        delegate(std::move(d)),
        backoff_(options.backoff),
        rng_(std::random_device{}()) {}

  asio::awaitable<void> Run();
  // The loop's end, from its completion handler or from a handler that threw.
  void EndLoop(const std::exception_ptr& error) noexcept;
  // The thread's body.
  void RunThread() noexcept;
  void CancelWaits();

  const HttpsSenderOptions options;
  const std::shared_ptr<Delegate> delegate;  // outlives `io` and what its handlers hold
  asio::io_context io;
  asio::steady_timer wake{io};         // the idle wait; cancelled by Wake and Shutdown
  asio::steady_timer retry_timer{io};  // the backoff; cancelled by Shutdown
  std::unique_ptr<HttpsConnection> connection;
  std::atomic<bool> wake_posted{false};

  // Shared with Shutdown.
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  TimePoint shutdown_deadline = TimePoint::max();
  bool loop_done = false;
  bool thread_exited = false;

 private:
  asio::awaitable<void> Deliver(Message message);
  asio::awaitable<bool> WaitToRetry(TimePoint retry_at, TimePoint message_deadline,
                                    const std::string& error, milliseconds wait);
  TimePoint ShutdownDeadline();
  bool Stopping();

  // The sender's thread only.
  Backoff backoff_;
  std::mt19937_64 rng_;
  bool loop_ending_ = false;
};

HttpsSender::TimePoint HttpsSender::State::ShutdownDeadline() {
  std::lock_guard<std::mutex> lock(mu);
  return shutdown_deadline;
}

bool HttpsSender::State::Stopping() {
  std::lock_guard<std::mutex> lock(mu);
  return stopping;
}

void HttpsSender::State::CancelWaits() {
  boost::system::error_code ignored;
  wake.cancel(ignored);
  retry_timer.cancel(ignored);
}

asio::awaitable<void> HttpsSender::State::Run() {
  for (;;) {
    Next next = delegate->NextMessage();
    if (next.message) {
      co_await Deliver(std::move(*next.message));
      continue;
    }
    // Shutdown sets `stopping` before it cancels the wait, so nothing is missed in between.
    if (Stopping()) break;
    wake.expires_at(next.ask_again);
    co_await wake.async_wait(kUseAwaitable);
  }
  connection->Close();
}

asio::awaitable<void> HttpsSender::State::Deliver(Message message) {
  std::string why;
  for (int attempt = 1;; ++attempt) {
    const TimePoint deadline = std::min(message.deadline, ShutdownDeadline());
    if (Clock::now() >= deadline) {
      why = why.empty() ? "no time left to send" : why + "; no time left to retry";
      break;
    }
    Result<std::optional<HttpsRequest>> request = message.build();
    if (request.ok() && !request->has_value()) co_return;  // nothing needs sending any more
    Result<HttpAnswer> outcome = Error{};
    if (!request.ok()) {
      outcome = request.error();
    } else {
      const TimePoint request_deadline = std::min(deadline, Clock::now() + options.request_timeout);
      outcome = co_await connection->Send(**request, request_deadline);
    }
    const Verdict verdict = delegate->Judge(outcome);
    if (verdict.kind == Verdict::Kind::kDelivered) {
      backoff_.Restart();
      co_return;
    }
    why = verdict.error;
    if (verdict.kind == Verdict::Kind::kFinal) break;
    if (attempt >= message.max_attempts) {
      why += "; gave up after " + std::to_string(attempt) + " attempts";
      break;
    }
    const milliseconds backoff = backoff_.Next(rng_);  // grows even when the server says
    const milliseconds wait = verdict.wait ? *verdict.wait : backoff;
    const bool waited = co_await WaitToRetry(Clock::now() + wait, message.deadline, why, wait);
    if (!waited) {
      why += verdict.wait ? "; Retry-After is past the deadline" : "; no time left to retry";
      break;
    }
  }
  backoff_.Restart();
  delegate->OnGiveUp(why);
}

// Waits until `retry_at`, re-checking whenever Shutdown cuts the wait short. False when the
// wait would end at or after the message's or Shutdown's deadline: the retry is not waited for.
asio::awaitable<bool> HttpsSender::State::WaitToRetry(TimePoint retry_at,
                                                      TimePoint message_deadline,
                                                      const std::string& error, milliseconds wait) {
  bool announced = false;
  for (;;) {
    const bool early = Clock::now() < retry_at;
    if (early && retry_at >= std::min(message_deadline, ShutdownDeadline())) co_return false;
    if (!announced) {
      announced = true;
      delegate->OnRetry(error, wait);
    }
    if (!early) co_return true;
    retry_timer.expires_at(retry_at);
    co_await retry_timer.async_wait(kUseAwaitable);
  }
}

void HttpsSender::State::EndLoop(const std::exception_ptr& error) noexcept {
  if (!loop_ending_) {
    loop_ending_ = true;
    try {
      delegate->OnStopped(error ? Status(Error{Describe(error)}) : Status());
    } catch (...) {
      // The delegate could not take the news; the loop is over all the same.
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    loop_done = true;
  }
  cv.notify_all();
}

void HttpsSender::State::RunThread() noexcept {
  try {
    io.run();
  } catch (...) {
    // Only a delegate's code can throw from a handler; nothing more runs on this thread.
    EndLoop(std::current_exception());
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    thread_exited = true;
  }
  cv.notify_all();
}

Result<std::unique_ptr<HttpsSender>> HttpsSender::Start(HttpsSenderOptions options,
                                                        std::shared_ptr<Delegate> delegate) {
  if (options.tls) {
    auto context = MakeClientTlsContext(options.tls_files);
    if (!context) return context.error();
  }
  options.request_timeout = std::max(milliseconds(1), options.request_timeout);
  if (options.lookup_error.empty()) options.lookup_error = "resolving " + options.host;
  if (options.send_error.empty()) options.send_error = "sending to " + options.host_header;
  if (options.read_error.empty()) {
    options.read_error = "reading the answer of " + options.host_header;
  }
  auto state = std::make_shared<State>(std::move(options), std::move(delegate));
  state->connection = std::make_unique<HttpsConnection>(state->io, state->options, state);
  asio::co_spawn(state->io, state->Run(),
                 [s = state.get()](const std::exception_ptr& e) { s->EndLoop(e); });
  std::unique_ptr<HttpsSender> sender(new HttpsSender(state));
  sender->thread_ = std::thread([state] { state->RunThread(); });
  return sender;
}

HttpsSender::HttpsSender(std::shared_ptr<State> state) : state_(std::move(state)) {}

HttpsSender::~HttpsSender() {
  if (!shut_down_) Shutdown(Clock::now());
}

void HttpsSender::Wake() {
  State& s = *state_;
  if (s.wake_posted.exchange(true)) return;
  asio::post(s.io, [st = &s] {
    st->wake_posted = false;
    boost::system::error_code ignored;
    st->wake.cancel(ignored);
  });
}

bool HttpsSender::Shutdown(TimePoint deadline) {
  if (shut_down_) return false;
  shut_down_ = true;
  State& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stopping = true;
    s.shutdown_deadline = deadline;
  }
  asio::post(s.io, [st = &s] { st->CancelWaits(); });
  bool finished;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    finished = s.cv.wait_until(lock, deadline, [&] { return s.loop_done; });
  }
  if (!finished) s.io.stop();  // whatever is in flight is abandoned
  bool exited;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    exited = s.cv.wait_until(lock, std::max(deadline, Clock::now()) + kStopGrace,
                             [&] { return s.thread_exited; });
  }
  if (exited) {
    thread_.join();
  } else {
    thread_.detach();  // it holds the state; the process is about to exit
  }
  return finished;
}

}  // namespace ffpod
