// ffpod's HTTP listener (docs/metrics.md): GET /metrics, /healthz, /readyz and /status.
//
// The server knows nothing of ffpod's state: its owner passes providers that produce each
// response body, and the server only serves the strings. It runs on its own threads (an Asio
// io_context with `threads` threads, Boost.Beast for HTTP/1.1), so Start and Stop return at once
// and a busy event loop never delays a scrape or a probe.
//
// Routes: `GET` (and `HEAD`, same headers without a body) of
//   /metrics  200, `text/plain; version=0.0.4; charset=utf-8`, the metrics provider's text
//   /healthz  200 `ok` or 503 `unhealthy` (text/plain), from the healthy provider
//   /readyz   200 or 503 with the readiness provider's JSON body (names each failing check)
//   /status   200 with the status provider's JSON body
// A query string is ignored. Any other path: 404. A known path with another method: 405 with
// `Allow: GET, HEAD`. A path whose provider is empty is not served (404).
//
// Misbehaving clients cannot starve the others (docs/metrics.md, "Limits"): connections are
// served asynchronously, so an idle or slow connection holds no thread; a request must arrive
// whole within `read_timeout` of the accept (or, kept alive, of its first byte), however
// slowly its bytes trickle in; a kept-alive connection waits at most `idle_timeout` for its
// next request; each response must be written within `write_timeout`; request headers larger
// than `max_header_bytes` get 431 and a close, malformed requests 400 and a close; a connection
// serves at most `max_requests_per_connection`. At most `max_connections` are open at once:
// when a new one arrives and the table is full, the one that matters least is closed to make
// room (supervisor/net/connection_table.h: an idle one first, then one whose answer the socket
// has taken no byte of for a second (a client that does not read), then the oldest still
// sending its request, never one whose answer progresses); only when every open connection's
// answer progresses is the new one closed at once. Running out of descriptors on accept (EMFILE,
// ENFILE) sheds one the same way and accepts again after a short pause, so the listener neither
// spins nor stops.
//
// Threading: Start and Stop are called from one owning thread (never from a provider).
// Providers run on the server's threads, possibly concurrently with each other: they must be
// thread-safe, quick (no blocking I/O), and must not throw.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "parsers/common/result.h"

namespace ffpod {

// The answer of the readiness provider.
struct Readiness {
  bool ready = false;
  // JSON object served as the /readyz body, e.g. {"ready":false,"failing":["redis"]}.
  std::string body{};
};

struct HttpProviders {
  std::function<std::string()> metrics{};  // Prometheus text (FfpodMetrics::Render)
  std::function<bool()> healthy{};         // false: /healthz answers 503
  std::function<Readiness()> readiness{};
  std::function<std::string()> status{};  // JSON document of docs/metrics.md
};

struct HttpServerOptions {
  // `HOST:PORT` as given to --listen. Port 0 picks a free port (see HttpServer::port());
  // an empty string disables the listener. HOST may be a name, an IPv4 address, an IPv6
  // address in brackets, or empty (the same as `[::]`: every interface, IPv6 and IPv4, or IPv4
  // alone where the kernel has no IPv6).
  std::string listen = "[::]:9464";
  int threads = 2;                                 // serving threads (clamped to 1..16)
  size_t max_connections = 512;                    // open connections at once (see above)
  std::chrono::milliseconds read_timeout{2000};    // to receive one whole request, not extended
  std::chrono::milliseconds idle_timeout{5000};    // kept alive, to the next request's first byte
  std::chrono::milliseconds write_timeout{10000};  // to send one whole response
  unsigned max_requests_per_connection = 100;      // keep-alive limit
  uint32_t max_header_bytes = 8 * 1024;            // request line plus headers
  uint64_t max_body_bytes = 4 * 1024;              // request bodies (GET has none)
};

struct ListenAddress {
  std::string host;  // without brackets; "::" when the text had none
  uint16_t port = 0;
};

// Parses --listen's `HOST:PORT` (`[::]:9464`, `0.0.0.0:9464`, `[::1]:0`, `localhost:9464`,
// `:9464`).
// On failure: one sentence naming --listen and what was expected. Empty text is an error here:
// whether empty means "disabled" is the caller's decision.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// The connection cap that fits a descriptor limit of `fd_soft_limit`: `wanted`, lowered to leave
// kReservedFds for the rest of ffpod (ffmpeg's pipes, Redis, OTLP, outputs), never below 8.
inline constexpr uint64_t kReservedFds = 64;
size_t ConnectionCapForFdLimit(size_t wanted, uint64_t fd_soft_limit);

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpProviders providers);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listen address and starts serving on the server's own threads. Returns the
  // bound port (the chosen one when the listen port is 0), or 0 without listening when the
  // listen string is empty. On failure (bad address, unknown host, port in use, permission)
  // returns one sentence naming the address and the cause, and nothing runs. Call once.
  Result<int> Start();

  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void Stop();

  // What the connection table did since Start: connections closed to make room, new ones
  // closed at once (every open one's answer progressed), accepts that failed.
  struct Counters {
    uint64_t evicted = 0;
    uint64_t refused = 0;
    uint64_t accept_errors = 0;
  };
  Counters counters() const;

  bool running() const { return running_; }
  // The bound port and `HOST:PORT` (IPv6 in brackets) for the log; 0 and "" until started.
  int port() const { return port_; }
  const std::string& address() const { return address_; }

 private:
  struct Shared;  // options, providers, connection table: shared with every connection
  struct State;   // io_context, acceptor, threads: exists while running
  class Session;

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<State> state_;
  bool running_ = false;
  bool started_ = false;
  int port_ = 0;
  std::string address_;
};

}  // namespace ffpod
