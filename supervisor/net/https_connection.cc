#include "supervisor/net/https_connection.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <thread>
#include <utility>

namespace ffpod {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

// The result of a name lookup done on a helper thread.
struct Lookup {
  explicit Lookup(asio::io_context& io) : done_timer(io) {}
  asio::steady_timer done_timer;  // cancelled when the lookup finished
  bool done = false;
  boost::system::error_code ec;
  std::vector<tcp::endpoint> endpoints;
};

// Looks `host` up and posts the answer to `lookup` on `io`. Runs on a detached thread, which
// keeps the owner of `io` alive until this returns. Nothing may escape it: an allocation failure
// only loses the answer (the waiting side times out).
void LookUp(asio::io_context& io, const std::shared_ptr<Lookup>& lookup, const std::string& host,
            uint16_t port) {
  try {
    asio::io_context local;
    tcp::resolver resolver(local);
    boost::system::error_code ec;
    auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
    std::vector<tcp::endpoint> found;
    for (const auto& r : results) found.push_back(r.endpoint());
    asio::post(io, [lookup, ec, found = std::move(found)]() mutable {
      lookup->done = true;
      lookup->ec = ec;
      lookup->endpoints = std::move(found);
      boost::system::error_code ignored;
      lookup->done_timer.cancel(ignored);
    });
  } catch (...) {
    // The waiting side times out.
  }
}

}  // namespace

// An open connection, plain or TLS.
struct HttpsConnection::Stream {
  std::shared_ptr<asio::ssl::context> tls_context;  // outlives `tls`, which refers to it
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
};

// One request and answer on an open connection.
struct HttpsConnection::Exchanged {
  Result<HttpAnswer> answer = Error{};
  bool timed_out = false;
  bool close = false;  // the connection cannot be reused
};

HttpsConnection::HttpsConnection(asio::io_context& io, const HttpsSenderOptions& options,
                                 std::weak_ptr<void> io_owner)
    : io_(io), options_(options), io_owner_(std::move(io_owner)) {}

HttpsConnection::~HttpsConnection() = default;

void HttpsConnection::Close() { stream_.reset(); }

asio::awaitable<Result<HttpAnswer>> HttpsConnection::Send(const HttpsRequest& request,
                                                          TimePoint deadline) {
  for (int round = 0;; ++round) {
    const bool reused = stream_ != nullptr;
    if (!stream_) {
      Status connected = co_await Connect(deadline);
      if (!connected.ok()) co_return connected.error();
    }
    Stream& s = *stream_;
    // (GCC 12 coroutines: no temporaries or conditional operators around co_await.)
    Exchanged x;
    if (s.tls) {
      x = co_await Exchange(*s.tls, s.buffer, request, deadline);
    } else {
      x = co_await Exchange(*s.plain, s.buffer, request, deadline);
    }
    if (x.close || !x.answer.ok() || !options_.keep_alive) stream_.reset();
    // A kept-alive connection the server closed while idle fails before any answer: one more
    // go on a fresh connection is not a new attempt.
    if (!x.answer.ok() && reused && !x.timed_out && round == 0 && Clock::now() < deadline) {
      continue;
    }
    co_return std::move(x.answer);
  }
}

template <typename S>
asio::awaitable<HttpsConnection::Exchanged> HttpsConnection::Exchange(S& stream,
                                                                      beast::flat_buffer& buffer,
                                                                      const HttpsRequest& request,
                                                                      TimePoint deadline) {
  Exchanged x;
  http::request<http::string_body> req{request.method, request.target, 11};
  req.set(http::field::host, options_.host_header);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (options_.keep_alive) {
    req.keep_alive(true);
  } else {
    req.set(http::field::connection, "close");
  }
  req.body() = request.body;
  req.prepare_payload();

  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [wec, written] = co_await http::async_write(stream, req, kUseAwaitable);
  (void)written;
  if (wec) {
    x.timed_out = wec == beast::error::timeout;
    x.answer = Error{options_.send_error + ": " + DescribeNetError(wec)};
    co_return x;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_response_bytes);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, kUseAwaitable);
  (void)read;
  if (rec) {
    x.timed_out = rec == beast::error::timeout;
    x.answer = Error{options_.read_error + ": " + DescribeNetError(rec)};
    co_return x;
  }
  auto& res = parser.get();
  HttpAnswer answer;
  answer.status = static_cast<int>(res.result_int());
  answer.reason = std::string(res.reason());
  if (auto it = res.find(http::field::retry_after); it != res.end()) {
    answer.retry_after = std::string(it->value().data(), it->value().size());
  }
  if (auto it = res.find(http::field::etag); it != res.end()) {
    answer.etag = std::string(it->value().data(), it->value().size());
  }
  answer.body = std::move(res.body());
  x.close = !res.keep_alive();
  x.answer = std::move(answer);
  co_return x;
}

asio::awaitable<Status> HttpsConnection::Resolve(TimePoint deadline) {
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoints_ = {tcp::endpoint(address, options_.port)};
    co_return Status();
  }
  // getaddrinfo cannot be cancelled, and with an unreachable DNS server it can take tens of
  // seconds: it runs on a detached thread, and this waits only until the deadline.
  auto lookup = std::make_shared<Lookup>(io_);
  lookup->done_timer.expires_at(deadline);
  std::thread([owner = io_owner_.lock(), &io = io_, lookup, host = options_.host,
               port = options_.port] {
    LookUp(io, lookup, host, port);
  }).detach();
  co_await lookup->done_timer.async_wait(kUseAwaitable);
  const std::string& what = options_.lookup_error;
  if (!lookup->done) co_return Error{what + ": timed out"};
  if (lookup->ec) co_return Error{what + ": " + DescribeNetError(lookup->ec)};
  if (lookup->endpoints.empty()) co_return Error{what + ": no addresses"};
  endpoints_ = std::move(lookup->endpoints);
  co_return Status();
}

asio::awaitable<Status> HttpsConnection::Connect(TimePoint deadline) {
  auto s = std::make_unique<Stream>();
  if (options_.tls) {
    auto context = MakeClientTlsContext(options_.tls_files);
    if (!context) co_return context.error();
    s->tls_context = std::move(*context);
  }
  if (endpoints_.empty() || !options_.keep_alive) {
    Status resolved = co_await Resolve(deadline);
    if (!resolved.ok()) co_return resolved;
  }
  beast::tcp_stream stream(io_);
  stream.expires_at(deadline);
  auto [ec, connected] = co_await stream.async_connect(endpoints_, kUseAwaitable);
  (void)connected;
  if (ec) {
    endpoints_.clear();  // look the name up again next time
    co_return Error{"connecting to " + options_.host_header + ": " + DescribeNetError(ec)};
  }
  boost::system::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  if (!options_.tls) {
    s->plain.emplace(std::move(stream));
    stream_ = std::move(s);
    co_return Status();
  }
  s->tls.emplace(std::move(stream), *s->tls_context);
  SSL* ssl = s->tls->native_handle();
  SetServerIdentity(ssl, options_.host);
  auto [hec] = co_await s->tls->async_handshake(asio::ssl::stream_base::client, kUseAwaitable);
  if (hec) {
    co_return Error{"TLS handshake with " + options_.host_header + ": " +
                    HandshakeFailure(ssl, DescribeNetError(hec))};
  }
  stream_ = std::move(s);
  co_return Status();
}

}  // namespace ffpod
