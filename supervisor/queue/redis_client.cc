#include "supervisor/queue/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <new>

#include "parsers/common/text.h"
#include "supervisor/queue/redis_client_impl.h"

namespace ffpod {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;
using redis_internal::HiredisCommand;
using redis_internal::kCoalesceBelow;
using redis_internal::kCoalescedChunkMax;
using redis_internal::OutChunk;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// Errors

namespace {

class RedisCategoryImpl : public std::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int ev) const override {
    switch (static_cast<RedisErrc>(ev)) {
      case RedisErrc::kNotConnected:
        return "not connected to Redis; the command was not sent";
      case RedisErrc::kConnectionLost:
        return "connection to Redis lost before the reply; the command may or may not have run";
      case RedisErrc::kClosed:
        return "Redis client closed before the reply";
      case RedisErrc::kInvalidCommand:
        return "empty Redis command";
    }
    return "unknown Redis client error";
  }
};

}  // namespace

const std::error_category& RedisCategory() {
  static const RedisCategoryImpl category;
  return category;
}

std::error_code make_error_code(RedisErrc e) { return {static_cast<int>(e), RedisCategory()}; }

// ---------------------------------------------------------------------------------------------
// Pure helpers

milliseconds RedisReconnectDelay(int failures, milliseconds initial, milliseconds max,
                                 double jitter01) {
  double base = static_cast<double>(initial.count()) * std::ldexp(1.0, std::clamp(failures, 0, 40));
  base = std::min(base, static_cast<double>(max.count()));
  double factor = 0.5 + std::clamp(jitter01, 0.0, 1.0) / 2;
  return milliseconds(static_cast<milliseconds::rep>(base * factor));
}

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(source_.data(), source_.size(), md, &len, EVP_sha1(), nullptr) != 1) {
    throw std::bad_alloc();  // EVP_Digest with SHA-1 fails only when out of memory
  }
  sha1_ = LowerHex(std::span<const uint8_t>(md, len));
}

// ---------------------------------------------------------------------------------------------

void RedisClient::Impl::Start(StateCallback on_state) {
  if (state_ != State::kIdle) return;
  on_state_ = std::move(on_state);
  state_ = State::kConnecting;
  asio::post(io_, [self = shared_from_this()] {
    if (self->state_ == State::kConnecting && !self->conn_ && !self->destroyed_) self->Connect();
  });
}

// Tears down `conn` (the current attempt or live connection): reports down if that is news,
// fails every pending command, and schedules the next attempt.
void RedisClient::Impl::Drop(const ConnPtr& conn, const std::string& reason) {
  if (!Live(conn)) return;
  if (asking_sentinel_) {
    SentinelFailed(conn, reason);
    return;
  }
  primary_named_ = false;  // the next attempt asks the Sentinels again
  bool was_up = state_ == State::kUp;
  conn->Close();
  conn_.reset();
  connect_timer_.cancel();
  watchdog_.cancel();
  if (was_up) ++stats_.disconnects;
  last_error_ = reason;
  state_ = State::kBackoff;
  ScheduleReconnect();

  std::deque<Pending> failed = std::move(pending_);
  pending_.clear();
  size_t written = failed.size() - unsent_;
  unsent_ = 0;
  out_queue_.clear();

  if (reported_ != Reported::kDown) {
    reported_ = Reported::kDown;
    Report(false, reason);
  }
  for (size_t i = 0; i < failed.size() && !destroyed_; ++i) {
    Pending p = std::move(failed[i]);
    if (p.user) ++stats_.commands_failed;
    p.callback(i < written ? RedisErrc::kConnectionLost : RedisErrc::kNotConnected, {});
  }
}

void RedisClient::Impl::ScheduleReconnect() {
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  milliseconds delay = RedisReconnectDelay(failures_, options_.reconnect_initial,
                                           options_.reconnect_max, jitter(rng_));
  failures_ = std::min(failures_ + 1, 40);
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->destroyed_ || self->state_ != State::kBackoff) return;
    self->Connect();
  });
}

void RedisClient::Impl::Command(const std::vector<std::string>& argv, Callback callback,
                                milliseconds blocks_for) {
  if (argv.empty()) {
    FailLater(std::move(callback), RedisErrc::kInvalidCommand);
    return;
  }
  if (state_ != State::kUp) {
    ++stats_.commands_failed;
    FailLater(std::move(callback),
              state_ == State::kClosed ? RedisErrc::kClosed : RedisErrc::kNotConnected);
    return;
  }
  ++stats_.commands_sent;
  Enqueue(argv, Pending{std::move(callback), blocks_for, true});
}

void RedisClient::Impl::Eval(const RedisScript& script, std::vector<std::string> keys,
                             std::vector<std::string> args, Callback callback) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(std::to_string(keys.size()));
  for (auto& k : keys) argv.push_back(std::move(k));
  for (auto& a : args) argv.push_back(std::move(a));
  if (state_ != State::kUp) {
    Command(argv, std::move(callback), milliseconds(0));  // fails at once
    return;
  }
  ++stats_.commands_sent;
  // The arguments stay here until the reply, in case the fallback needs them (one copy: the
  // formatted command is the other). The callback runs from OnRead or a failure path of this
  // Impl, so `this` is alive; it runs at most once, so it may move the arguments out.
  auto saved = std::make_shared<std::vector<std::string>>(std::move(argv));
  auto fallback = [this, source = script.source(), saved, callback = std::move(callback)](
                      std::error_code ec, RedisReply reply) mutable {
    if (ec || !reply.IsErrorCode("NOSCRIPT")) {
      callback(ec, std::move(reply));
      return;
    }
    std::vector<std::string> eval = std::move(*saved);
    eval[0] = "EVAL";
    eval[1] = std::move(source);
    Command(eval, std::move(callback), milliseconds(0));
  };
  Enqueue(*saved, Pending{std::move(fallback), milliseconds(0), true});
}

void RedisClient::Impl::Enqueue(const std::vector<std::string>& argv, Pending pending) {
  std::vector<const char*> ptrs(argv.size());
  std::vector<size_t> lens(argv.size());
  for (size_t i = 0; i < argv.size(); ++i) {
    ptrs[i] = argv[i].data();
    lens[i] = argv[i].size();
  }
  char* raw = nullptr;
  int len = redisFormatCommandArgv(&raw, static_cast<int>(argv.size()), ptrs.data(), lens.data());
  HiredisCommand formatted(raw);
  if (len < 0 || !formatted) throw std::bad_alloc();
  auto size = static_cast<size_t>(len);
  if (size < kCoalesceBelow) {
    if (out_queue_.empty() || out_queue_.back().large ||
        out_queue_.back().small.size() + size > kCoalescedChunkMax) {
      out_queue_.emplace_back();
    }
    out_queue_.back().small.append(formatted.get(), size);
  } else {
    OutChunk chunk;
    chunk.large = std::move(formatted);
    chunk.large_size = size;
    out_queue_.push_back(std::move(chunk));
  }
  if (pending_.empty()) head_since_ = SteadyClock::now();
  pending.seq = next_seq_++;
  pending_.push_back(std::move(pending));
  ++unsent_;
  Flush();
}

void RedisClient::Impl::FailLater(Callback callback, RedisErrc code) {
  asio::post(io_, [self = shared_from_this(), callback = std::move(callback), code]() {
    if (!self->destroyed_) callback(code, {});
  });
}

void RedisClient::Impl::Report(bool up, const std::string& reason) {
  if (!on_state_ || destroyed_) return;
  StateCallback callback = on_state_;  // the callback may destroy the client
  callback(up, reason);
}

void RedisClient::Impl::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  boost::system::error_code ignored;  // the non-throwing overloads: Close runs in destructors
  connect_timer_.cancel(ignored);
  reconnect_timer_.cancel(ignored);
  watchdog_.cancel(ignored);
  if (conn_) conn_->Close();
  conn_.reset();
  out_queue_.clear();
  unsent_ = 0;
  if (pending_.empty()) return;
  std::deque<Pending> failed = std::move(pending_);
  pending_.clear();
  asio::post(io_, [self = shared_from_this(), failed = std::move(failed)]() mutable {
    for (auto& p : failed) {
      if (self->destroyed_) return;
      Pending mine = std::move(p);
      if (mine.user) ++self->stats_.commands_failed;
      mine.callback(RedisErrc::kClosed, {});
    }
  });
}

void RedisClient::Impl::Destroy() {
  destroyed_ = true;
  on_state_ = nullptr;
  pending_.clear();
  Close();
}

// ---------------------------------------------------------------------------------------------
// RedisClient

RedisClient::RedisClient(asio::io_context& io, RedisUrl url, RedisClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(url), std::move(options))) {}

RedisClient::~RedisClient() { impl_->Destroy(); }

void RedisClient::Start(StateCallback on_state) { impl_->Start(std::move(on_state)); }

void RedisClient::Command(const std::vector<std::string>& argv, Callback callback,
                          milliseconds blocks_for) {
  impl_->Command(argv, std::move(callback), blocks_for);
}

void RedisClient::Eval(const RedisScript& script, std::vector<std::string> keys,
                       std::vector<std::string> args, Callback callback) {
  impl_->Eval(script, std::move(keys), std::move(args), std::move(callback));
}

void RedisClient::Close() { impl_->Close(); }
bool RedisClient::up() const { return impl_->up(); }
const std::string& RedisClient::last_error() const { return impl_->last_error(); }
size_t RedisClient::in_flight() const { return impl_->in_flight(); }
const RedisClientStats& RedisClient::stats() const { return impl_->stats(); }
const RedisUrl& RedisClient::url() const { return impl_->url(); }

}  // namespace ffpod
