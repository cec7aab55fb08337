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
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "parsers/common/text.h"

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

std::string ListenError(std::string_view text, std::string_view expected) {
  return "--listen expects " + std::string(expected) + ", got \"" + std::string(text) + "\"";
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  constexpr std::string_view kExpected = "HOST:PORT (e.g. 0.0.0.0:9464 or [::]:9464)";
  size_t colon = text.rfind(':');
  if (text.empty() || colon == std::string_view::npos) return Error{ListenError(text, kExpected)};
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  std::optional<uint64_t> port =
      port_text.size() <= 5 ? ParseUint64(port_text) : std::optional<uint64_t>();
  if (!port || *port > 65535) {
    return Error{ListenError(text, "HOST:PORT with a port from 0 to 65535")};
  }
  if (host.starts_with('[') || host.ends_with(']')) {
    if (host.size() < 3 || !host.starts_with('[') || !host.ends_with(']')) {
      return Error{ListenError(text, "HOST:PORT with an IPv6 HOST in brackets, e.g. [::1]:9464")};
    }
    host = host.substr(1, host.size() - 2);
  }
  ListenAddress address;
  address.host = host.empty() ? "0.0.0.0" : std::string(host);
  address.port = static_cast<uint16_t>(*port);
  return address;
}

// What every connection needs; outlives the io_context that runs the connections.
struct HttpServer::Shared {
  HttpServerOptions options;
  HttpProviders providers;
  std::atomic<size_t> connections{0};
};

struct HttpServer::State {
  explicit State(std::shared_ptr<Shared> s)
      : shared(std::move(s)),
        acceptor(net::make_strand(ioc)),
        retry_timer(acceptor.get_executor()) {}

  void Accept();

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
      : stream_(std::move(socket)), shared_(std::move(shared)) {}
  ~Session() { shared_->connections.fetch_sub(1); }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  const HttpServerOptions& options() const { return shared_->options; }

  void Read() {
    parser_.emplace();
    parser_->header_limit(options().max_header_bytes);
    parser_->body_limit(options().max_body_bytes);
    stream_.expires_after(options().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t /*bytes*/) {
    if (ec) {
      // A clean close between requests, a timeout or a socket error: nothing to answer.
      if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
          ec == http::error::end_of_stream || ec == http::error::partial_message) {
        Close();
        return;
      }
      // The request itself is bad: say why, then close (the stream is out of step).
      http::status status = http::status::bad_request;
      if (ec == http::error::header_limit) status = http::status::request_header_fields_too_large;
      if (ec == http::error::body_limit) status = http::status::payload_too_large;
      http::response<http::string_body> res{status, 11};
      res.set(http::field::content_type, kTextContentType);
      res.body() = std::string(http::obsolete_reason(status)) + "\n";
      res.keep_alive(false);
      res.prepare_payload();
      Write(http::message_generator(std::move(res)), false, /*linger=*/true);
      return;
    }
    ++requests_;
    const auto& req = parser_->get();
    bool keep_alive = req.keep_alive() && requests_ < options().max_requests_per_connection;
    Write(Respond(req, keep_alive), keep_alive);
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

  // `linger`: the client may still be sending (a rejected request); see Linger().
  void Write(http::message_generator message, bool keep_alive, bool linger = false) {
    stream_.expires_after(options().write_timeout);
    beast::async_write(
        stream_, std::move(message),
        [self = shared_from_this(), keep_alive, linger](beast::error_code ec, size_t) {
          if (!ec && linger) {
            self->Linger();
          } else if (ec || !keep_alive) {
            self->Close();
          } else {
            self->Read();
          }
        });
  }

  // After an error response to a client that may still be sending: closing a socket with unread
  // input sends a reset, which can destroy the response before the client reads it. So send
  // FIN, then read and discard input (bounded in time and bytes) until the client closes.
  void Linger() {
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

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  static constexpr std::chrono::milliseconds kLingerTime{2000};
  static constexpr size_t kLingerMaxBytes = 1 << 20;

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Shared> shared_;
  unsigned requests_ = 0;
  size_t lingered_bytes_ = 0;
};

void HttpServer::State::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or similar: keep the listener, try again shortly.
      retry_timer.expires_after(std::chrono::milliseconds(50));
      retry_timer.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    if (shared->connections.load() >= shared->options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);  // over the limit: refuse at once rather than queue
    } else {
      shared->connections.fetch_add(1);
      std::make_shared<Session>(std::move(socket), shared)->Start();
    }
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, HttpProviders providers)
    : shared_(std::make_shared<HttpServer::Shared>()) {
  shared_->options = std::move(options);
  shared_->options.threads = std::clamp(shared_->options.threads, 1, 16);
  shared_->providers = std::move(providers);
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
  beast::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  net::ip::address literal = net::ip::make_address(parsed->host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, parsed->port);
  } else {
    tcp::resolver resolver(state->ioc);
    auto results = resolver.resolve(parsed->host, std::to_string(parsed->port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) {
      return Error{"cannot listen on " + listen + ": cannot resolve \"" + parsed->host +
                   "\": " + ec.message()};
    }
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    if (endpoints.empty()) {
      return Error{"cannot listen on " + listen + ": \"" + parsed->host + "\" has no address"};
    }
  }

  // Bind the first address that works (a name may resolve to IPv6 and IPv4).
  beast::error_code bind_ec;
  for (const tcp::endpoint& endpoint : endpoints) {
    beast::error_code e;
    tcp::acceptor& a = state->acceptor;
    if (a.is_open()) a.close(e);
    a.open(endpoint.protocol(), e);
    if (!e) a.set_option(net::socket_base::reuse_address(true), e);
    if (!e) a.bind(endpoint, e);
    if (!e) a.listen(net::socket_base::max_listen_connections, e);
    if (!e) {
      bind_ec = {};
      break;
    }
    bind_ec = e;
  }
  if (bind_ec) return Error{"cannot listen on " + listen + ": " + bind_ec.message()};

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
