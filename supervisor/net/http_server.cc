#include "supervisor/net/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/message_generator.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "supervisor/net/connection_table.h"
#include "supervisor/net/listen_socket.h"

namespace ffpod {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
constexpr std::string_view kJsonContentType = "application/json";

std::string Bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

HttpServerOptions Sanitized(HttpServerOptions options) {
  options.threads = std::clamp(options.threads, 1, 16);
  return options;
}

}  // namespace

// What every connection needs; outlives the io_context that runs the connections.
struct HttpServer::Shared {
  explicit Shared(HttpServerOptions o, HttpProviders p)
      : options(std::move(o)), providers(std::move(p)), table(options.max_connections) {}

  // Moves connection `id` to `phase`; false when it was evicted meanwhile (it must close).
  bool SetPhase(uint64_t id, ConnectionPhase phase) {
    std::lock_guard lock(mu);
    return table.SetPhase(id, phase);
  }
  void Remove(uint64_t id) {
    std::lock_guard lock(mu);
    table.Remove(id);
  }

  const HttpServerOptions options;
  const HttpProviders providers;
  std::mutex mu;
  ConnectionTable<std::weak_ptr<Session>> table;  // guarded by mu
  std::atomic<uint64_t> evicted{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> accept_errors{0};
};

struct HttpServer::State {
  explicit State(std::shared_ptr<Shared> s)
      : shared(std::move(s)),
        acceptor(net::make_strand(ioc)),
        retry_timer(acceptor.get_executor()) {}

  void Accept();
  void Admit(tcp::socket socket);
  void OnAcceptError(const beast::error_code& ec);
  // Removes the connection that matters least from the table and closes it on its strand
  // (none when every connection is being answered and none has stalled).
  void EvictOne();
  static void CloseEvicted(std::optional<std::weak_ptr<Session>> victim);

  // The pause before accepting again after an accept error.
  static constexpr std::chrono::milliseconds kAcceptBackoff{10};

  std::shared_ptr<Shared> shared;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;  // backs off after accept errors such as EMFILE
  std::vector<std::thread> threads;
};

// One connection: read a request, answer it, repeat while keep-alive allows; then close.
// All of a session's handlers run on its own strand.
class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)),
        stall_timer_(stream_.get_executor()),
        shared_(std::move(shared)),
        accepted_(std::chrono::steady_clock::now()) {}
  ~Session() { shared_->Remove(id_); }

  // `id`: its place in the connection table (in ConnectionPhase::kReading).
  void Start(uint64_t id) {
    id_ = id;
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->ReadRequest(self->accepted_ + self->options().read_timeout);
    });
  }

  // The table chose this connection to make room: close it (on its strand).
  void Evict() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->shared_->evicted.fetch_add(1);
      self->Close();
    });
  }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  const HttpServerOptions& options() const { return shared_->options; }

  // Records the phase in the table; when the connection was evicted meanwhile, closes it.
  bool Enter(ConnectionPhase phase) {
    if (shared_->SetPhase(id_, phase)) return true;
    Close();
    return false;
  }

  // Reads one request, which must be complete by `deadline`: bytes arriving do not extend it.
  void ReadRequest(SteadyTime deadline) {
    if (!Enter(ConnectionPhase::kReading)) return;
    parser_.emplace();
    parser_->header_limit(options().max_header_bytes);
    parser_->body_limit(options().max_body_bytes);
    stream_.expires_at(deadline);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  // Kept alive after a response: a request already received (pipelined) is read at once;
  // otherwise wait up to the idle timeout for the next request's first byte, which starts
  // that request's read deadline.
  void AwaitNextRequest() {
    if (buffer_.size() > 0) {
      ReadRequest(std::chrono::steady_clock::now() + options().read_timeout);
      return;
    }
    if (!Enter(ConnectionPhase::kIdle)) return;
    stream_.expires_after(options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kIdleReadBytes), [self = shared_from_this()](
                                                                 beast::error_code ec, size_t n) {
      if (ec) {
        self->Close();  // the idle limit, a close, an eviction
        return;
      }
      self->buffer_.commit(n);
      self->ReadRequest(std::chrono::steady_clock::now() + self->options().read_timeout);
    });
  }

  void OnRead(beast::error_code ec, size_t /*bytes*/) {
    if (ec) {
      // A clean close between requests, a timeout or a socket error: nothing to answer.
      if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
          ec == http::error::end_of_stream || ec == http::error::partial_message) {
        Close();
        return;
      }
      if (!Enter(ConnectionPhase::kResponding)) return;
      // The request itself is bad: say why, then close (the stream is out of step).
      http::status status = http::status::bad_request;
      if (ec == http::error::header_limit) status = http::status::request_header_fields_too_large;
      if (ec == http::error::body_limit) status = http::status::payload_too_large;
      http::response<http::string_body> res{status, 11};
      res.set(http::field::content_type, kTextContentType);
      res.body() = std::string(http::obsolete_reason(status)) + "\n";
      res.keep_alive(false);
      res.prepare_payload();
      Write(http::message_generator(std::move(res)), /*linger=*/true);
      return;
    }
    if (!Enter(ConnectionPhase::kResponding)) return;
    ++requests_;
    const auto& req = parser_->get();
    bool keep_alive = req.keep_alive() && requests_ < options().max_requests_per_connection;
    Write(Respond(req, keep_alive));
  }

  http::message_generator Respond(const http::request<http::string_body>& req, bool keep_alive) {
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    const HttpProviders& p = shared_->providers;

    http::status status = http::status::ok;
    std::string_view content_type = kTextContentType;
    std::string body;
    bool known = (path == "/metrics" && p.metrics) || (path == "/healthz" && p.healthy) ||
                 (path == "/readyz" && p.readiness) || (path == "/status" && p.status);
    bool readable = req.method() == http::verb::get || req.method() == http::verb::head;
    if (!known) {
      status = http::status::not_found;
      body = "not found\n";
    } else if (!readable) {
      status = http::status::method_not_allowed;
      body = "method not allowed\n";
    } else if (path == "/metrics") {
      content_type = kMetricsContentType;
      body = p.metrics();
    } else if (path == "/healthz") {
      bool healthy = p.healthy();
      status = healthy ? http::status::ok : http::status::service_unavailable;
      body = healthy ? "ok\n" : "unhealthy\n";
    } else if (path == "/readyz") {
      Readiness r = p.readiness();
      status = r.ready ? http::status::ok : http::status::service_unavailable;
      content_type = kJsonContentType;
      body = std::move(r.body);
    } else {
      content_type = kJsonContentType;
      body = p.status();
    }

    size_t length = body.size();
    auto fill = [&](auto& res) {
      res.set(http::field::content_type, content_type);
      res.set(http::field::cache_control, "no-store");
      if (status == http::status::method_not_allowed) res.set(http::field::allow, "GET, HEAD");
      res.keep_alive(keep_alive);
    };
    if (req.method() == http::verb::head && status != http::status::method_not_allowed) {
      http::response<http::empty_body> res{status, req.version()};
      fill(res);
      res.content_length(length);
      return http::message_generator(std::move(res));
    }
    http::response<http::string_body> res{status, req.version()};
    fill(res);
    res.body() = std::move(body);
    res.prepare_payload();
    return http::message_generator(std::move(res));
  }

  // Writes the answer chunk by chunk, as beast::async_write would, to see progress: all of it
  // within the write timeout; while the socket takes no byte for kStallTime the connection is
  // kStalledWrite (evictable). `linger`: the client may still be sending; see Linger().
  void Write(http::message_generator message, bool linger = false) {
    stream_.expires_after(options().write_timeout);
    message_.emplace(std::move(message));
    linger_ = linger;
    WriteSome();
  }

  void WriteSome() {
    beast::error_code ec;
    auto buffers = message_->prepare(ec);
    if (ec) {
      Close();
      return;
    }
    stall_timer_.expires_after(kStallTime);
    stall_timer_.async_wait([self = shared_from_this(), chunk = ++chunks_](beast::error_code e) {
      if (e || chunk != self->chunks_ || !self->message_ || self->stalled_) return;
      self->stalled_ = true;
      self->Enter(ConnectionPhase::kStalledWrite);
    });
    stream_.async_write_some(buffers,
                             beast::bind_front_handler(&Session::OnWritten, shared_from_this()));
  }

  void OnWritten(beast::error_code ec, size_t bytes) {
    ++chunks_;  // a stall timer that fired meanwhile is for a chunk that is done
    stall_timer_.cancel();
    if (ec) {
      Close();  // the write timeout, a reset, an eviction
      return;
    }
    if (stalled_) {
      stalled_ = false;
      if (!Enter(ConnectionPhase::kResponding)) return;
    }
    message_->consume(bytes);
    if (!message_->is_done()) {
      WriteSome();
      return;
    }
    bool keep_alive = message_->keep_alive();  // as Respond decided
    message_.reset();
    if (linger_) {
      Linger();
    } else if (!keep_alive) {
      Close();
    } else {
      AwaitNextRequest();
    }
  }

  // After an error response to a client that may still be sending: closing a socket with unread
  // input sends a reset, which can destroy the response before the client reads it. So send
  // FIN, then read and discard input (bounded in time and bytes) until the client closes.
  void Linger() {
    if (!Enter(ConnectionPhase::kClosing)) return;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    buffer_.clear();
    LingerRead();
  }

  void LingerRead() {
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->lingered_bytes_ += n;
                              if (ec || self->lingered_bytes_ > kLingerMaxBytes) {
                                self->stream_.close();
                                return;
                              }
                              self->LingerRead();
                            });
  }

  // Leaves the table at once (its place is free for the next connection) and closes; a stalled
  // answer is reset rather than left in the kernel to time out.
  void Close() {
    shared_->Remove(id_);
    beast::error_code ignored;
    stall_timer_.cancel();
    if (stalled_) stream_.socket().set_option(net::socket_base::linger(true, 0), ignored);
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  static constexpr std::chrono::milliseconds kLingerTime{2000};
  static constexpr std::chrono::milliseconds kStallTime{1000};  // no byte taken: evictable
  static constexpr size_t kLingerMaxBytes = 1 << 20;
  static constexpr size_t kIdleReadBytes = 4096;

  beast::tcp_stream stream_;
  net::steady_timer stall_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::message_generator> message_;  // the answer being written
  bool linger_ = false;
  bool stalled_ = false;  // in kStalledWrite
  uint64_t chunks_ = 0;   // counts writes started and finished: tells a stale stall timer
  std::shared_ptr<Shared> shared_;
  SteadyTime accepted_;
  uint64_t id_ = 0;  // 0: not in the table
  unsigned requests_ = 0;
  size_t lingered_bytes_ = 0;
};

void HttpServer::State::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      OnAcceptError(ec);
      return;
    }
    Admit(std::move(socket));
    Accept();
  });
}

// A full table makes room by evicting; only when every connection is being answered (none
// stalled) is the new one refused (closed at once rather than queued).
void HttpServer::State::Admit(tcp::socket socket) {
  auto session = std::make_shared<Session>(std::move(socket), shared);
  std::optional<std::weak_ptr<Session>> victim;
  uint64_t id = 0;
  {
    std::lock_guard lock(shared->mu);
    if (shared->table.full()) victim = shared->table.Evict();
    id = shared->table.Add(session);
  }
  CloseEvicted(std::move(victim));
  if (id == 0) {
    shared->refused.fetch_add(1);
    return;  // destroying the session closes the socket
  }
  session->Start(id);
}

// Out of descriptors (EMFILE, ENFILE) or kernel memory: the connection stays in the backlog, so
// accepting again at once would spin. Free a descriptor by shedding the connection that matters
// least, then accept again after a short pause. Other errors: only the pause.
void HttpServer::State::OnAcceptError(const beast::error_code& ec) {
  namespace errc = boost::system::errc;
  shared->accept_errors.fetch_add(1);
  if (ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
      ec == errc::no_buffer_space || ec == errc::not_enough_memory) {
    EvictOne();
  }
  retry_timer.expires_after(kAcceptBackoff);
  retry_timer.async_wait([this](beast::error_code wait_ec) {
    if (!wait_ec) Accept();
  });
}

void HttpServer::State::EvictOne() {
  std::optional<std::weak_ptr<Session>> victim;
  {
    std::lock_guard lock(shared->mu);
    victim = shared->table.Evict();
  }
  CloseEvicted(std::move(victim));
}

// Called without the mutex held: the last reference may go here, and ~Session takes it.
void HttpServer::State::CloseEvicted(std::optional<std::weak_ptr<Session>> victim) {
  if (!victim) return;
  if (std::shared_ptr<Session> session = victim->lock()) session->Evict();
}

HttpServer::HttpServer(HttpServerOptions options, HttpProviders providers)
    : shared_(std::make_shared<HttpServer::Shared>(Sanitized(std::move(options)),
                                                   std::move(providers))) {}

HttpServer::Counters HttpServer::counters() const {
  return Counters{.evicted = shared_->evicted.load(),
                  .refused = shared_->refused.load(),
                  .accept_errors = shared_->accept_errors.load()};
}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Start() {
  const std::string& listen = shared_->options.listen;
  if (started_) return Error{"the HTTP listener was already started"};
  started_ = true;
  if (listen.empty()) return 0;
  Result<ListenAddress> parsed = ParseListenAddress(listen);
  if (!parsed.ok()) return parsed.error();

  auto state = std::make_unique<State>(shared_);
  Result<ListenPlan> plan = PlanListen(listen, *parsed, state->ioc);
  if (!plan.ok()) return plan.error();
  Result<size_t> bound = BindFirst(listen, *plan, BindAcceptor(state->acceptor));
  if (!bound.ok()) return bound.error();

  beast::error_code ec;
  tcp::endpoint local = state->acceptor.local_endpoint(ec);
  if (ec) return Error{"cannot listen on " + listen + ": " + ec.message()};
  port_ = local.port();
  address_ = Bracketed(local.address().to_string()) + ":" + std::to_string(port_);

  state->Accept();
  for (int i = 0; i < shared_->options.threads; ++i) {
    state->threads.emplace_back([s = state.get()] { s->ioc.run(); });
  }
  state_ = std::move(state);
  running_ = true;
  return port_;
}

void HttpServer::Stop() {
  if (!state_) return;
  state_->ioc.stop();
  for (std::thread& t : state_->threads) t.join();
  // Destroying the io_context destroys every pending handler and with it every connection.
  state_.reset();
  running_ = false;
}

}  // namespace ffpod
