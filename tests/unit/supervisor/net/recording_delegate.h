// An HttpsSender::Delegate for tests: it sends the messages a test queues, judges answers by a
// rule the test may replace (2xx delivered; 429, 5xx and no answer retried; the rest final), and
// records every call with its time. Thread-safe: the sender calls it on its thread while the test
// reads it on its own.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "supervisor/net/https_sender.h"

namespace ffpod::testing {

using SenderClock = std::chrono::steady_clock;

// A POST of `body` to /v1/test with one header of the test's own.
inline HttpsRequest TestPost(std::string body) {
  HttpsRequest r;
  r.method = boost::beast::http::verb::post;
  r.target = "/v1/test";
  r.headers = {{"User-Agent", "ffpod-test"}, {"X-Test", "1"}};
  r.body = std::move(body);
  return r;
}

// A message whose every attempt sends the same POST.
inline HttpsSender::Message TestMessage(
    std::string body, SenderClock::time_point deadline = SenderClock::time_point::max(),
    int max_attempts = std::numeric_limits<int>::max()) {
  HttpsSender::Message m;
  m.deadline = deadline;
  m.max_attempts = max_attempts;
  m.build = [body = std::move(body)]() -> Result<std::optional<HttpsRequest>> {
    return std::optional<HttpsRequest>(TestPost(body));
  };
  return m;
}

class RecordingDelegate : public HttpsSender::Delegate {
 public:
  struct Attempt {
    int status = 0;     // 0: no answer
    std::string error;  // without an answer: why
    std::string body;
    SenderClock::time_point at;
  };
  struct Retry {
    std::string error;
    std::chrono::milliseconds wait;
  };

  // The default rule; a test may replace it before the first message.
  std::function<Verdict(const Result<HttpAnswer>&)> judge = [](const Result<HttpAnswer>& a) {
    if (!a.ok()) return Verdict::Retry(a.error().message);
    if (a->status >= 200 && a->status < 300) return Verdict::Delivered();
    const std::string error = "HTTP " + std::to_string(a->status);
    if (a->status == 429 || a->status >= 500) return Verdict::Retry(error);
    return Verdict::Final(error);
  };

  void Add(HttpsSender::Message m) {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.push_back(std::move(m));
  }
  // The next time there is no message: ask again at `when` (once).
  void AskAgainAt(SenderClock::time_point when) {
    std::lock_guard<std::mutex> lock(mu_);
    ask_again_ = when;
  }

  HttpsSender::Next NextMessage() override {
    std::lock_guard<std::mutex> lock(mu_);
    asked_.push_back(SenderClock::now());
    if (messages_.empty()) {
      return {std::nullopt, std::exchange(ask_again_, SenderClock::time_point::max())};
    }
    HttpsSender::Message m = std::move(messages_.front());
    messages_.pop_front();
    return {std::move(m)};
  }
  Verdict Judge(const Result<HttpAnswer>& attempt) override {
    Attempt a;
    a.at = SenderClock::now();
    if (attempt.ok()) {
      a.status = attempt->status;
      a.body = attempt->body;
    } else {
      a.error = attempt.error().message;
    }
    std::lock_guard<std::mutex> lock(mu_);
    attempts_.push_back(a);
    return judge(attempt);
  }
  void OnRetry(const std::string& error, std::chrono::milliseconds wait) override {
    std::lock_guard<std::mutex> lock(mu_);
    retries_.push_back({error, wait});
  }
  void OnGiveUp(const std::string& why) override {
    std::lock_guard<std::mutex> lock(mu_);
    give_ups_.push_back(why);
  }
  void OnStopped(const Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++stopped_;
    EXPECT_TRUE(status.ok()) << status.error().message;
  }

  std::vector<Attempt> attempts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_;
  }
  std::vector<Retry> retries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return retries_;
  }
  std::vector<std::string> give_ups() const {
    std::lock_guard<std::mutex> lock(mu_);
    return give_ups_;
  }
  std::vector<SenderClock::time_point> asked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }
  int stopped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  size_t delivered() const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& a : attempts_) n += a.status >= 200 && a.status < 300 ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::deque<HttpsSender::Message> messages_;
  SenderClock::time_point ask_again_ = SenderClock::time_point::max();
  std::vector<SenderClock::time_point> asked_;
  std::vector<Attempt> attempts_;
  std::vector<Retry> retries_;
  std::vector<std::string> give_ups_;
  int stopped_ = 0;
};

}  // namespace ffpod::testing
