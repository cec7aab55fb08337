#include "supervisor/queue/redis_client.h"

#include "supervisor/net/tls_client.h"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <deque>
#include <new>
#include <random>
#include <variant>

namespace ffpod {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using UnixSocket = asio::local::stream_protocol::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;
using Clock = std::chrono::steady_clock;
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
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    sha1_ += kHex[md[i] >> 4];
    sha1_ += kHex[md[i] & 15];
  }
}

// ---------------------------------------------------------------------------------------------
// Connection: one transport (TCP, unix or TLS) with its read state and the write in progress.
// Held by shared_ptr: every asynchronous operation on it holds a reference, so the stream (and
// for TLS its engine) outlives the operations even after the client dropped it.

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kCoalesceBelow = 16 * 1024;  // commands smaller than this share a buffer
constexpr size_t kCoalescedChunkMax = 256 * 1024;

struct HiredisCommandFree {
  void operator()(char* p) const { redisFreeCommand(p); }
};
using HiredisCommand = std::unique_ptr<char, HiredisCommandFree>;

// Formatted command bytes waiting to be written: small commands coalesced into one string
// (one TLS record / one write for a pipeline), large ones kept in hiredis's buffer (no copy).
struct OutChunk {
  std::string small;
  HiredisCommand large;
  size_t large_size = 0;

  asio::const_buffer Buffer() const {
    return large ? asio::const_buffer(large.get(), large_size) : asio::buffer(small);
  }
};

struct Connection {
  explicit Connection(asio::io_context& io) : resolver(io), read_buffer(kReadChunk) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  template <typename F>
  void Visit(F&& f) {
    std::visit(
        [&](auto& s) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) f(s);
        },
        stream);
  }

  tcp::socket* Tcp() {
    if (auto* s = std::get_if<tcp::socket>(&stream)) return s;
    if (auto* s = std::get_if<TlsStream>(&stream)) return &s->next_layer();
    return nullptr;
  }

  void Close() {
    resolver.cancel();  // never throws
    boost::system::error_code ignored;
    if (auto* s = Tcp()) s->close(ignored);
    if (auto* s = std::get_if<UnixSocket>(&stream)) s->close(ignored);
  }

  std::shared_ptr<asio::ssl::context> tls_context;  // outlives `stream`, which refers to it
  std::variant<std::monostate, tcp::socket, UnixSocket, TlsStream> stream;
  tcp::resolver resolver;
  RedisReplyReader reader;
  std::vector<char> read_buffer;
  std::vector<OutChunk> writing;  // the write in progress
  std::vector<asio::const_buffer> write_buffers;
  bool write_in_progress = false;
};

// The TLS context for one connection attempt (renewed certificate files are picked up on
// reconnect).
std::shared_ptr<asio::ssl::context> MakeTlsContext(const RedisTlsOptions& o, std::string* error) {
  TlsClientFiles files;
  files.ca_file = o.ca_file;
  files.cert_file = o.cert_file;
  files.key_file = o.key_file;
  files.verify = !o.insecure_skip_verify;
  files.ca_label = "TLS ca_file";
  files.cert_label = "TLS cert_file";
  files.key_label = "TLS key_file";
  return MakeClientTlsContext(files, error);
}

// Keepalive so that a peer that vanished without a FIN/RST is noticed within about a minute
// even when no command is waiting.
void TuneTcp(tcp::socket& s) {
  boost::system::error_code ignored;
  s.set_option(tcp::no_delay(true), ignored);
  s.set_option(asio::socket_base::keep_alive(true), ignored);
  int idle = 30, interval = 10, count = 3;
  ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl

class RedisClient::Impl : public std::enable_shared_from_this<RedisClient::Impl> {
 public:
  Impl(asio::io_context& io, RedisUrl url, RedisClientOptions options)
      : io_(io),
        url_(std::move(url)),
        options_(std::move(options)),
        connect_timer_(io),
        reconnect_timer_(io),
        watchdog_(io),
        rng_(std::random_device{}()) {}

  void Start(StateCallback on_state);
  void Command(const std::vector<std::string>& argv, Callback callback, milliseconds blocks_for);
  void Eval(const RedisScript& script, std::vector<std::string> keys, std::vector<std::string> args,
            Callback callback);
  void Close();
  void Destroy();

  bool up() const { return state_ == State::kUp; }
  const std::string& last_error() const { return last_error_; }
  size_t in_flight() const { return pending_.size(); }
  const RedisClientStats& stats() const { return stats_; }
  const RedisUrl& url() const { return url_; }

 private:
  enum class State { kIdle, kConnecting, kUp, kBackoff, kClosed };
  enum class Reported { kNothing, kUp, kDown };

  struct Pending {
    Callback callback;
    milliseconds blocks_for{0};
    bool user = true;  // false for the connection handshake's own commands
  };
  using ConnPtr = std::shared_ptr<Connection>;

  void Connect();
  void OnTransportConnected(const ConnPtr& conn, const boost::system::error_code& ec);
  void StartSession(const ConnPtr& conn);
  void OnReady(const ConnPtr& conn);
  void Drop(const ConnPtr& conn, const std::string& reason);
  void ScheduleReconnect();

  void Enqueue(const std::vector<std::string>& argv, Pending pending);
  void Flush();
  void OnWrite(const ConnPtr& conn, const boost::system::error_code& ec);
  void Read(const ConnPtr& conn);
  void OnRead(const ConnPtr& conn, const boost::system::error_code& ec, size_t n);
  void ArmWatchdog(const ConnPtr& conn);
  void CheckReplies(const ConnPtr& conn);

  void FailLater(Callback callback, RedisErrc code);
  void Report(bool up, const std::string& reason);
  bool Live(const ConnPtr& conn) const { return !destroyed_ && conn == conn_; }

  asio::io_context& io_;
  const RedisUrl url_;
  const RedisClientOptions options_;
  asio::steady_timer connect_timer_;
  asio::steady_timer reconnect_timer_;
  asio::steady_timer watchdog_;
  std::minstd_rand rng_;

  State state_ = State::kIdle;
  Reported reported_ = Reported::kNothing;
  bool destroyed_ = false;
  StateCallback on_state_;
  std::string last_error_;
  RedisClientStats stats_;
  int failures_ = 0;  // consecutive failed attempts since the last "up"

  ConnPtr conn_;                 // the current attempt or live connection
  std::deque<Pending> pending_;  // commands awaiting replies, in order; the last `unsent_`
  size_t unsent_ = 0;            // of them are still in out_queue_, the others were written
  std::vector<OutChunk> out_queue_;
  Clock::time_point head_since_;     // when pending_.front() became the oldest command
  Clock::time_point last_progress_;  // last bytes read or last write completed
};

void RedisClient::Impl::Start(StateCallback on_state) {
  if (state_ != State::kIdle) return;
  on_state_ = std::move(on_state);
  state_ = State::kConnecting;
  asio::post(io_, [self = shared_from_this()] {
    if (self->state_ == State::kConnecting && !self->conn_ && !self->destroyed_) self->Connect();
  });
}

void RedisClient::Impl::Connect() {
  state_ = State::kConnecting;
  ++stats_.connect_attempts;
  auto conn = std::make_shared<Connection>(io_);
  conn_ = conn;
  auto self = shared_from_this();

  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self, conn](const boost::system::error_code& ec) {
    if (ec || !self->Live(conn) || self->state_ != State::kConnecting) return;
    self->Drop(conn, "connect to " + self->url_.Address() + " timed out after " +
                         std::to_string(self->options_.connect_timeout.count()) + " ms");
  });

  if (url_.transport == RedisTransport::kUnix) {
    auto& socket = conn->stream.emplace<UnixSocket>(io_);
    socket.async_connect(asio::local::stream_protocol::endpoint(url_.path),
                         [self, conn](const boost::system::error_code& ec) {
                           self->OnTransportConnected(conn, ec);
                         });
    return;
  }
  tcp::socket* socket = nullptr;
  if (url_.transport == RedisTransport::kTls) {
    std::string error;
    conn->tls_context = MakeTlsContext(url_.tls, &error);
    if (!conn->tls_context) {
      // Reported from the loop like any other failed attempt.
      asio::post(io_, [self, conn, error] {
        if (self->Live(conn)) self->Drop(conn, error);
      });
      return;
    }
    socket = &conn->stream.emplace<TlsStream>(io_, *conn->tls_context).next_layer();
  } else {
    socket = &conn->stream.emplace<tcp::socket>(io_);
  }
  conn->resolver.async_resolve(
      url_.host, std::to_string(url_.port),
      [self, conn, socket](const boost::system::error_code& ec,
                           const tcp::resolver::results_type& r) {
        if (!self->Live(conn)) return;
        if (ec) {
          self->Drop(conn, "resolve " + self->url_.host + ": " + DescribeNetError(ec));
          return;
        }
        asio::async_connect(
            *socket, r, [self, conn](const boost::system::error_code& ec, const tcp::endpoint&) {
              self->OnTransportConnected(conn, ec);
            });
      });
}

void RedisClient::Impl::OnTransportConnected(const ConnPtr& conn,
                                             const boost::system::error_code& ec) {
  if (!Live(conn)) return;
  if (ec) {
    Drop(conn, "connect to " + url_.Address() + ": " + DescribeNetError(ec));
    return;
  }
  if (auto* socket = conn->Tcp()) TuneTcp(*socket);
  auto* tls = std::get_if<TlsStream>(&conn->stream);
  if (tls == nullptr) {
    StartSession(conn);
    return;
  }
  SetServerIdentity(tls->native_handle(),
                    url_.tls.server_name.empty() ? url_.host : url_.tls.server_name,
                    !url_.tls.insecure_skip_verify);
  tls->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(),
                                                        conn](const boost::system::error_code& ec) {
    if (!self->Live(conn)) return;
    if (ec) {
      auto& s = std::get<TlsStream>(conn->stream);
      std::string why = HandshakeFailure(s.native_handle(), DescribeNetError(ec));
      self->Drop(conn, "TLS handshake with " + self->url_.Address() + ": " + why);
      return;
    }
    self->StartSession(conn);
  });
}

// Reads from now on, and pipelines the handshake: AUTH, CLIENT SETNAME, SELECT, PING. Any error
// reply fails the attempt with that reply's message; PING's reply makes the client ready.
void RedisClient::Impl::StartSession(const ConnPtr& conn) {
  Read(conn);
  std::vector<std::vector<std::string>> steps;
  if (!url_.password.empty()) {
    if (url_.user.empty()) {
      steps.push_back({"AUTH", url_.password});
    } else {
      steps.push_back({"AUTH", url_.user, url_.password});
    }
  }
  if (!options_.client_name.empty()) {
    // Redis refuses names with spaces, newlines or non-ASCII bytes; such a name must not keep
    // the client from connecting.
    std::string name = options_.client_name;
    for (char& ch : name) {
      if (ch < '!' || ch > '~') ch = '_';
    }
    steps.push_back({"CLIENT", "SETNAME", name});
  }
  if (url_.db != 0) steps.push_back({"SELECT", std::to_string(url_.db)});
  steps.push_back({"PING"});
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string what = steps[i][0] == "CLIENT" ? "CLIENT SETNAME" : steps[i][0];
    bool last = i + 1 == steps.size();
    // Runs from OnRead or a failure path of this Impl, so `this` is alive.
    Enqueue(steps[i],
            Pending{[this, conn, what, last](std::error_code ec, const RedisReply& reply) {
                      if (ec || !Live(conn)) return;
                      if (reply.IsError()) {
                        Drop(conn, what + " failed: " + reply.str);
                      } else if (last) {
                        OnReady(conn);
                      }
                    },
                    milliseconds(0), false});
  }
}

void RedisClient::Impl::OnReady(const ConnPtr& conn) {
  connect_timer_.cancel();
  state_ = State::kUp;
  failures_ = 0;
  ++stats_.connects;
  last_progress_ = Clock::now();
  if (options_.reply_timeout.count() > 0) ArmWatchdog(conn);
  if (reported_ != Reported::kUp) {
    reported_ = Reported::kUp;
    Report(true, "");
  }
}

// Tears down `conn` (the current attempt or live connection): reports down if that is news,
// fails every pending command, and schedules the next attempt.
void RedisClient::Impl::Drop(const ConnPtr& conn, const std::string& reason) {
  if (!Live(conn)) return;
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
  if (pending_.empty()) head_since_ = Clock::now();
  pending_.push_back(std::move(pending));
  ++unsent_;
  Flush();
}

void RedisClient::Impl::Flush() {
  if (!conn_ || conn_->write_in_progress || out_queue_.empty()) return;
  ConnPtr conn = conn_;
  conn->writing = std::move(out_queue_);
  out_queue_.clear();
  conn->write_buffers.clear();
  for (const auto& chunk : conn->writing) conn->write_buffers.push_back(chunk.Buffer());
  unsent_ = 0;
  conn->write_in_progress = true;
  conn->Visit([&](auto& stream) {
    asio::async_write(stream, conn->write_buffers,
                      [self = shared_from_this(), conn](const boost::system::error_code& ec,
                                                        size_t) { self->OnWrite(conn, ec); });
  });
}

void RedisClient::Impl::OnWrite(const ConnPtr& conn, const boost::system::error_code& ec) {
  conn->write_in_progress = false;
  conn->writing.clear();
  if (!Live(conn)) return;
  if (ec) {
    Drop(conn, "write to " + url_.Address() + ": " + DescribeNetError(ec));
    return;
  }
  last_progress_ = Clock::now();
  Flush();
}

void RedisClient::Impl::Read(const ConnPtr& conn) {
  conn->Visit([&](auto& stream) {
    stream.async_read_some(
        asio::buffer(conn->read_buffer),
        [self = shared_from_this(), conn](const boost::system::error_code& ec, size_t n) {
          self->OnRead(conn, ec, n);
        });
  });
}

void RedisClient::Impl::OnRead(const ConnPtr& conn, const boost::system::error_code& ec, size_t n) {
  if (!Live(conn)) return;
  if (ec) {
    Drop(conn, "read from " + url_.Address() + ": " + DescribeNetError(ec));
    return;
  }
  Clock::time_point now = Clock::now();
  last_progress_ = now;
  conn->reader.Feed(conn->read_buffer.data(), n);
  for (;;) {
    auto next = conn->reader.Next();
    if (!next.ok()) {
      Drop(conn, next.error().message);
      return;
    }
    if (!next->has_value()) break;
    if (pending_.size() <= unsent_) {
      Drop(conn, "protocol error: a reply arrived with no command waiting for it");
      return;
    }
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    head_since_ = now;
    p.callback({}, std::move(**next));
    // The callback may have closed or destroyed the client.
    if (!Live(conn) || state_ == State::kClosed) return;
  }
  Read(conn);
}

void RedisClient::Impl::ArmWatchdog(const ConnPtr& conn) {
  milliseconds tick = std::clamp(options_.reply_timeout / 4, milliseconds(10), milliseconds(1000));
  watchdog_.expires_after(tick);
  watchdog_.async_wait([self = shared_from_this(), conn](const boost::system::error_code& ec) {
    if (ec || !self->Live(conn) || self->state_ != State::kUp) return;
    self->CheckReplies(conn);
  });
}

// Drops the connection when the oldest written command has waited too long with no bytes
// moving: the server or the path to it is gone without a FIN or RST.
void RedisClient::Impl::CheckReplies(const ConnPtr& conn) {
  if (pending_.size() > unsent_) {
    const Pending& head = pending_.front();
    // A blocks_for too large to add is as good as forever.
    if (head.blocks_for <= milliseconds::max() - options_.reply_timeout) {
      milliseconds allowed = options_.reply_timeout + head.blocks_for;
      auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() -
                                                             std::max(head_since_, last_progress_));
      if (waited > allowed) {
        Drop(conn, "no reply from " + url_.Address() + " within " +
                       std::to_string(allowed.count()) + " ms");
        return;
      }
    }
  }
  ArmWatchdog(conn);
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
