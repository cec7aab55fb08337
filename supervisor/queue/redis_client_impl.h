// RedisClient's insides, shared by its two source files: redis_client.cc (commands, pipeline
// bookkeeping, failure and close) and redis_connection.cc (the transport: resolve, connect, TLS,
// the handshake, reads and writes, the reply watchdog). Not for use outside them.
//
// Threading: the io_context thread of the client.
#pragma once

#include <hiredis/hiredis.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "parsers/config/redis_url.h"

#include "supervisor/queue/redis_client.h"
#include "supervisor/queue/redis_reply.h"

namespace ffpod {
namespace redis_internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using UnixSocket = asio::local::stream_protocol::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;

// Connection: one transport (TCP, unix or TLS) with its read state and the write in progress.
// Held by shared_ptr: every asynchronous operation on it holds a reference, so the stream (and
// for TLS its engine) outlives the operations even after the client dropped it.

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
  // How far the connection attempt got: what a connect timeout names.
  enum class Phase { kTransport, kTlsHandshake, kRedisHandshake };

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
  uint64_t writing_first_seq = 0;  // the first command of the write in progress
  Phase phase = Phase::kTransport;
};

// AUTH with a password alone (the default user) or as an ACL user.
inline std::vector<std::string> AuthCommand(const std::string& user, const std::string& password) {
  if (user.empty()) return {"AUTH", password};
  return {"AUTH", user, password};
}

}  // namespace redis_internal

class RedisClient::Impl : public std::enable_shared_from_this<RedisClient::Impl> {
  using milliseconds = std::chrono::milliseconds;

 public:
  Impl(boost::asio::io_context& io, RedisUrl url, RedisClientOptions options)
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
    uint64_t seq = 0;  // order of issue (Enqueue numbers them)
  };
  using Connection = redis_internal::Connection;
  using OutChunk = redis_internal::OutChunk;
  using ConnPtr = std::shared_ptr<Connection>;
  using SteadyClock = std::chrono::steady_clock;

  void Connect();
  // Where the attempt connects (sets target_): the URL's host, the Sentinel to ask, or the
  // primary a Sentinel named.
  void ChooseTarget();
  // The Sentinel handshake: AUTH with the sentinel credentials, SENTINEL get-master-addr-by-name.
  std::vector<std::vector<std::string>> SentinelSteps() const;
  // A Sentinel's answer: the primary's address (then connects to it), or why not.
  void OnSentinelAnswer(const ConnPtr& conn, const RedisReply& reply);
  // This Sentinel failed (`why`): asks the next one now, or, when every one of this attempt
  // failed, fails the attempt naming them all.
  void SentinelFailed(const ConnPtr& conn, const std::string& why);
  // Closes `conn` without reporting anything: the attempt goes on elsewhere.
  void Discard(const ConnPtr& conn);
  // target_ for messages: "127.0.0.1:6379", "sentinel 10.0.0.8:26379", "primary mymaster at
  // 10.0.0.9:6379".
  std::string TargetAddress() const;
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
  // When `reply` says the node is no longer a usable primary (PrimaryLostCode): drops the
  // connection, which reconnects (and, with require_primary, verifies the role again). True
  // when it dropped.
  bool DropIfPrimaryLost(const ConnPtr& conn, const RedisReply& reply);

  void FailLater(Callback callback, RedisErrc code);
  void Report(bool up, const std::string& reason);
  bool Live(const ConnPtr& conn) const { return !destroyed_ && conn == conn_; }

  boost::asio::io_context& io_;
  const RedisUrl url_;
  const RedisClientOptions options_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer watchdog_;
  std::minstd_rand rng_;

  State state_ = State::kIdle;
  Reported reported_ = Reported::kNothing;
  bool destroyed_ = false;
  StateCallback on_state_;
  std::string last_error_;
  RedisClientStats stats_;
  int failures_ = 0;  // consecutive failed attempts since the last "up"

  // Where the current attempt connects, and with Sentinels how far it got: asking the Sentinel
  // at sentinel_index_ (asking_sentinel_), then connecting to the primary it named
  // (primary_named_; cleared by Drop, so that every new attempt asks again).
  RedisHostPort target_;
  bool asking_sentinel_ = false;
  bool primary_named_ = false;
  size_t sentinel_index_ = 0;   // the Sentinel to ask next (the last one that answered first)
  size_t sentinels_asked_ = 0;  // in this attempt
  std::string sentinel_errors_;

  ConnPtr conn_;                 // the current attempt or live connection
  std::deque<Pending> pending_;  // commands awaiting replies, in order; the last `unsent_`
  size_t unsent_ = 0;            // of them are still in out_queue_, the others were written
  std::vector<OutChunk> out_queue_;
  uint64_t next_seq_ = 0;  // Pending::seq of the next command
  // When pending_.front() became the oldest command, or its bytes were all written if that was
  // later: the reply timeout runs from there.
  SteadyClock::time_point head_since_;
  // Last bytes read (a long reply arriving). Writes of later commands do not count: a server
  // that stopped answering still lets the kernel take small writes for a long time.
  SteadyClock::time_point last_progress_;
};

}  // namespace ffpod
