// An asynchronous Redis client on ffpod's one io_context: pipelined RESP2 commands over TCP,
// TLS or a unix socket, with AUTH/SELECT on connect, automatic reconnection and Lua scripts.
//
// Threading: every member function must be called on the thread running the io_context, and
// every callback runs there, never from inside the call that was given it. Nothing blocks: a
// command's callback runs when its reply arrives.
//
// Delivery: commands are written in the order they are issued on one connection and their
// replies are matched in order (pipelining; any number may be in flight). A server-side error
// (`-ERR`, `-WRONGTYPE`, a Lua error) arrives as a RedisReply of type kError with no
// error_code. An error_code means the reply will never come:
//   RedisErrc::kNotConnected    not sent: the client was down (or still connecting). Commands
//                               issued while the client is not up fail at once this way.
//   RedisErrc::kConnectionLost  sent (or being written) when the connection dropped: the
//                               command may or may not have run. Nothing is retried; the
//                               caller decides (a Lua step is atomic: it ran fully or not at all).
//   RedisErrc::kClosed          Close() was called before the reply arrived.
//   RedisErrc::kInvalidCommand  empty argv; nothing was sent.
//
// Connection lifecycle: Start() connects (resolve, connect, TLS handshake, AUTH, CLIENT
// SETNAME, SELECT, ROLE with `require_primary`, PING) within `connect_timeout`. On success the
// client is up. When the connection drops (EOF, reset, a protocol error: a malformed reply or one
// over the bounds of RedisReplyLimits, or no reply within `reply_timeout`), the state callback
// reports down, then every command already written fails with kConnectionLost (any not yet written
// with kNotConnected), and the client reconnects by itself after an exponential backoff with jitter
// (RedisReconnectDelay), forever, until Close() or destruction. A failed attempt (refused, timed
// out, TLS verification, WRONGPASS, NOAUTH, LOADING) is retried the same way. Only transitions are
// reported: down once (also when the very first attempt fails), up once; the latest failure is in
// last_error(). Host names are resolved by Asio's resolver (its own helper thread runs getaddrinfo;
// the handlers run on the loop).
//
// Failover: a reply that says the node is no longer a usable primary (READONLY, MASTERDOWN,
// LOADING, CLUSTERDOWN, TRYAGAIN: supervisor/queue/redis_failover.h decides) drops the
// connection like a lost one (down reported, the other commands in flight fail with
// kConnectionLost), then that reply reaches its callback as Redis' error: the command did not
// run. The client reconnects with backoff and, with `require_primary`, uses a node only once
// ROLE says it is a primary, so a demoted primary stays down until it is promoted again (or the
// address leads to the new primary). Where the primary is looked for is Connect()'s one step:
// the URL's host today.
//
// Blocking commands (BLMOVE, BLPOP, XREAD BLOCK): replies come in order, so a blocking command
// delays every command issued after it on the same client until it returns. Run them on a
// client of their own, and pass the blocking time as `blocks_for` so the reply timeout allows
// for it.
//
// Not supported: SUBSCRIBE/PSUBSCRIBE/MONITOR (their pushes do not match commands; PUBLISH is a
// normal command), RESP3 (HELLO 3).
//
// Close() and destruction: Close() stops reconnecting, closes the connection, and fails every
// pending command with kClosed (callbacks run later from the io_context, never inside Close()).
// The destructor does the same but drops the pending callbacks without calling them (they are
// destroyed, not invoked), and the state callback is never called again; it is safe to destroy
// the client from inside one of its own callbacks. Asynchronous operations still queued in the
// io_context keep internal state alive until they run, so the io_context must outlive them
// (run it, or destroy it after the client).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "parsers/config/redis_url.h"
#include "supervisor/queue/redis_reply.h"

namespace ffpod {

enum class RedisErrc {
  kNotConnected = 1,
  kConnectionLost,
  kClosed,
  kInvalidCommand,
};
const std::error_category& RedisCategory();
std::error_code make_error_code(RedisErrc e);

struct RedisClientOptions {
  // Resolve + connect + TLS handshake + AUTH/SELECT/PING must finish within this, else the
  // attempt fails and is retried after the backoff.
  std::chrono::milliseconds connect_timeout{5000};
  // When the oldest command in flight has had no reply and no bytes arrived for this long (plus
  // its `blocks_for`), the connection is considered dead and dropped. Zero disables the check
  // (TCP keepalive then detects a dead peer, after about a minute).
  std::chrono::milliseconds reply_timeout{30000};
  // Reconnect backoff: the first retry waits about `reconnect_initial`, each consecutive
  // failure doubles it, up to `reconnect_max`; each delay is scaled by a random factor in
  // [0.5, 1].
  std::chrono::milliseconds reconnect_initial{200};
  std::chrono::milliseconds reconnect_max{10000};
  // ROLE in the handshake: a node that is not a primary (a replica, a Sentinel) fails the
  // attempt (RoleRefusal in supervisor/queue/redis_failover.h), which is retried like any other.
  // A node that refuses ROLE itself is used. For clients that write (the worker).
  bool require_primary = false;
  // CLIENT SETNAME after connecting (shown by CLIENT LIST); empty: none. Bytes Redis refuses
  // in a name (spaces, control characters, non-ASCII) are sent as '_'.
  std::string client_name;
};

// Counters since construction, for tests and metrics.
struct RedisClientStats {
  uint64_t connect_attempts = 0;  // connection attempts started
  uint64_t connects = 0;          // attempts that reached "up"
  uint64_t disconnects = 0;       // times an up connection dropped
  uint64_t commands_sent = 0;     // user commands written (scripts count once per EVAL/EVALSHA)
  uint64_t commands_failed = 0;   // user commands that got an error_code
  uint64_t primary_lost = 0;      // replies that said the node is no longer a usable primary
};

// The delay before reconnect attempt number `failures` (0 for the first retry after a drop or
// a failed attempt): min(max, initial * 2^failures) * (0.5 + jitter01 / 2), where jitter01 is
// uniform in [0, 1). Pure.
std::chrono::milliseconds RedisReconnectDelay(int failures, std::chrono::milliseconds initial,
                                              std::chrono::milliseconds max, double jitter01);

// A Lua script and its SHA1, computed once. Share one instance per script.
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }  // 40 lowercase hex digits

 private:
  std::string source_;
  std::string sha1_;
};

class RedisClient {
 public:
  using Callback = std::function<void(std::error_code ec, RedisReply reply)>;
  // up: true when the client became ready (after AUTH/SELECT), false when it went down or the
  // first attempt failed. reason: empty when up; otherwise one sentence (the OS or TLS error,
  // "WRONGPASS ...", "connect to host:6379 timed out after 5000 ms", "TLS handshake with
  // host:6380 did not complete in 5 s: is it a TLS port?", "Redis at host:6379: protocol error:
  // array of 2147483647 elements exceeds the limit of 1048576"), with no password.
  using StateCallback = std::function<void(bool up, const std::string& reason)>;

  // Marker for `blocks_for`: a command that may block without limit (BLMOVE ... 0).
  static constexpr std::chrono::milliseconds kBlockForever = std::chrono::milliseconds::max();

  RedisClient(boost::asio::io_context& io, RedisUrl url, RedisClientOptions options = {});
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Starts connecting; `on_state` receives every up/down transition until Close() or
  // destruction. Call once.
  void Start(StateCallback on_state = {});

  // Sends one command (binary-safe arguments, any size). `blocks_for`: how long the server may
  // hold the reply back (a blocking command's timeout), added to the reply timeout.
  void Command(const std::vector<std::string>& argv, Callback callback,
               std::chrono::milliseconds blocks_for = std::chrono::milliseconds(0));

  // Runs a Lua script: EVALSHA, and when the server answers NOSCRIPT (its script cache is empty
  // after a restart or SCRIPT FLUSH), EVAL with the source, which also caches it. The callback
  // gets the script's reply. The fallback EVAL is sent when the NOSCRIPT reply arrives, so
  // commands issued after Eval() may run before the script does; chain on the callback when
  // order matters.
  void Eval(const RedisScript& script, std::vector<std::string> keys, std::vector<std::string> args,
            Callback callback);

  // Stops the client for good (see the header comment). Idempotent.
  void Close();

  bool up() const;
  // The reason of the latest failure or drop ("" before any).
  const std::string& last_error() const;
  // Commands written or queued whose replies have not arrived.
  size_t in_flight() const;
  const RedisClientStats& stats() const;
  const RedisUrl& url() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ffpod

template <>
struct std::is_error_code_enum<ffpod::RedisErrc> : std::true_type {};
