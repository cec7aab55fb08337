#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>

#include "supervisor/net/tls_client.h"
#include "supervisor/queue/redis_client_impl.h"
#include "supervisor/queue/redis_failover.h"

namespace ffpod {

namespace asio = boost::asio;
using redis_internal::kCoalesceBelow;
using redis_internal::kCoalescedChunkMax;
using redis_internal::kReadChunk;
using redis_internal::TlsStream;
using redis_internal::UnixSocket;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

// The TLS context for one connection attempt (renewed certificate files are picked up on
// reconnect).
Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const RedisTlsOptions& o) {
  TlsClientFiles files;
  files.ca_file = o.ca_file;
  files.cert_file = o.cert_file;
  files.key_file = o.key_file;
  files.verify = !o.insecure_skip_verify;
  files.ca_label = "TLS ca_file";
  files.cert_label = "TLS cert_file";
  files.key_label = "TLS key_file";
  return MakeClientTlsContext(files);
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

// "5 s", "1.5 s", "0.3 s".
std::string Seconds(milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(ms.count()) / 1000);
  return buf;
}

// What a connect timeout says: a stalled TLS handshake is most often a TLS client talking to a
// plain port (which waits for a line ending that never comes).
std::string ConnectTimedOut(const std::string& address, redis_internal::Connection::Phase phase,
                            milliseconds timeout) {
  if (phase == redis_internal::Connection::Phase::kTlsHandshake) {
    return "TLS handshake with " + address + " did not complete in " + Seconds(timeout) +
           ": is it a TLS port?";
  }
  return "connect to " + address + " timed out after " + std::to_string(timeout.count()) + " ms";
}

}  // namespace

// Where the primary is looked for: the URL's address, or the address a Sentinel names
// (ChooseTarget, supervisor/queue/redis_sentinel.cc). Every reconnection, failovers included,
// passes through here.
void RedisClient::Impl::Connect() {
  state_ = State::kConnecting;
  ++stats_.connect_attempts;
  ChooseTarget();
  auto conn = std::make_shared<Connection>(io_);
  conn_ = conn;
  auto self = shared_from_this();

  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self, conn](const boost::system::error_code& ec) {
    if (ec || !self->Live(conn) || self->state_ != State::kConnecting) return;
    self->Drop(conn,
               ConnectTimedOut(self->TargetAddress(), conn->phase, self->options_.connect_timeout));
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
    auto tls_context = MakeTlsContext(url_.tls);
    if (!tls_context) {
      // Reported from the loop like any other failed attempt.
      asio::post(io_, [self, conn, error = tls_context.error().message] {
        if (self->Live(conn)) self->Drop(conn, error);
      });
      return;
    }
    conn->tls_context = std::move(*tls_context);
    socket = &conn->stream.emplace<TlsStream>(io_, *conn->tls_context).next_layer();
  } else {
    socket = &conn->stream.emplace<tcp::socket>(io_);
  }
  conn->resolver.async_resolve(
      target_.host, std::to_string(target_.port),
      [self, conn, socket](const boost::system::error_code& ec,
                           const tcp::resolver::results_type& r) {
        if (!self->Live(conn)) return;
        if (ec) {
          self->Drop(conn, "resolve " + self->target_.host + ": " + DescribeNetError(ec));
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
    Drop(conn, "connect to " + TargetAddress() + ": " + DescribeNetError(ec));
    return;
  }
  if (auto* socket = conn->Tcp()) TuneTcp(*socket);
  auto* tls = std::get_if<TlsStream>(&conn->stream);
  if (tls == nullptr) {
    StartSession(conn);
    return;
  }
  conn->phase = Connection::Phase::kTlsHandshake;
  SetServerIdentity(tls->native_handle(),
                    url_.tls.server_name.empty() ? target_.host : url_.tls.server_name,
                    !url_.tls.insecure_skip_verify);
  tls->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(),
                                                        conn](const boost::system::error_code& ec) {
    if (!self->Live(conn)) return;
    if (ec) {
      auto& s = std::get<TlsStream>(conn->stream);
      std::string why = HandshakeFailure(s.native_handle(), DescribeNetError(ec));
      // What OpenSSL says when the answer was plain text (a Redis error line).
      if (why.find("wrong version number") != std::string::npos ||
          why.find("packet length too long") != std::string::npos) {
        why += ": is it a TLS port?";
      }
      self->Drop(conn, "TLS handshake with " + self->TargetAddress() + ": " + why);
      return;
    }
    self->StartSession(conn);
  });
}

// Reads from now on, and pipelines the handshake: AUTH, CLIENT SETNAME, SELECT, ROLE (with
// require_primary), PING. Any error reply fails the attempt with that reply's message (ROLE's
// only when RoleRefusal says the node is not a primary); PING's reply makes the client ready.
void RedisClient::Impl::StartSession(const ConnPtr& conn) {
  conn->phase = Connection::Phase::kRedisHandshake;
  Read(conn);
  if (asking_sentinel_) {
    std::vector<std::vector<std::string>> steps = SentinelSteps();
    for (size_t i = 0; i < steps.size(); ++i) {
      bool last = i + 1 == steps.size();
      Enqueue(steps[i], Pending{[this, conn, last](std::error_code ec, const RedisReply& reply) {
                                  if (ec || !Live(conn)) return;
                                  if (last) {
                                    OnSentinelAnswer(conn, reply);
                                  } else if (reply.IsError()) {
                                    SentinelFailed(conn, "AUTH failed: " + reply.str);
                                  }
                                },
                                milliseconds(0), false});
    }
    return;
  }
  std::vector<std::vector<std::string>> steps;
  if (!url_.password.empty())
    steps.push_back(redis_internal::AuthCommand(url_.user, url_.password));
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
  // A primary a Sentinel named is verified too: the Sentinel may not know of a failover yet.
  if (options_.require_primary || url_.sentinel()) steps.push_back({"ROLE"});
  steps.push_back({"PING"});
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string what = steps[i][0] == "CLIENT" ? "CLIENT SETNAME" : steps[i][0];
    bool last = i + 1 == steps.size();
    // Runs from OnRead or a failure path of this Impl, so `this` is alive.
    Enqueue(steps[i],
            Pending{[this, conn, what, last](std::error_code ec, const RedisReply& reply) {
                      if (ec || !Live(conn)) return;
                      if (what == "ROLE") {
                        if (auto refused = RoleRefusal(reply, TargetAddress())) {
                          Drop(conn, *refused);
                        }
                      } else if (reply.IsError()) {
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
  last_progress_ = SteadyClock::now();
  if (options_.reply_timeout.count() > 0) ArmWatchdog(conn);
  if (reported_ != Reported::kUp) {
    reported_ = Reported::kUp;
    Report(true, "");
  }
}

void RedisClient::Impl::Flush() {
  if (!conn_ || conn_->write_in_progress || out_queue_.empty()) return;
  ConnPtr conn = conn_;
  conn->writing = std::move(out_queue_);
  out_queue_.clear();
  conn->write_buffers.clear();
  for (const auto& chunk : conn->writing) conn->write_buffers.push_back(chunk.Buffer());
  conn->writing_first_seq = next_seq_ - unsent_;
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
    Drop(conn, "write to " + TargetAddress() + ": " + DescribeNetError(ec));
    return;
  }
  // The oldest command's reply can come only once its bytes are out: its wait starts then.
  if (!pending_.empty() && pending_.front().seq >= conn->writing_first_seq) {
    head_since_ = SteadyClock::now();
  }
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
    Drop(conn, "read from " + TargetAddress() + ": " + DescribeNetError(ec));
    return;
  }
  SteadyClock::time_point now = SteadyClock::now();
  last_progress_ = now;
  conn->reader.Feed(conn->read_buffer.data(), n);
  for (;;) {
    auto next = conn->reader.Next();
    if (!next.ok()) {
      // Reconnects: the stream cannot be trusted past this point.
      Drop(conn, "Redis at " + TargetAddress() + ": " + next.error().message);
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
    if (p.user && DropIfPrimaryLost(conn, **next)) {
      // Down is reported and the other commands failed first: the caller sees Redis' error
      // while the client already looks for a primary again.
      p.callback({}, std::move(**next));
      return;
    }
    p.callback({}, std::move(**next));
    // The callback may have closed or destroyed the client.
    if (!Live(conn) || state_ == State::kClosed) return;
  }
  Read(conn);
}

bool RedisClient::Impl::DropIfPrimaryLost(const ConnPtr& conn, const RedisReply& reply) {
  if (!PrimaryLostCode(reply)) return false;
  ++stats_.primary_lost;
  Drop(conn, "Redis at " + TargetAddress() + " is not a usable primary: " + reply.str);
  return true;
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
      auto waited = std::chrono::duration_cast<milliseconds>(SteadyClock::now() -
                                                             std::max(head_since_, last_progress_));
      if (waited > allowed) {
        Drop(conn, "no reply from " + TargetAddress() + " within " +
                       std::to_string(allowed.count()) + " ms");
        return;
      }
    }
  }
  ArmWatchdog(conn);
}

}  // namespace ffpod
