#include "supervisor/telemetry/otlp_exporter.h"

#include "supervisor/net/tls_client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <utility>

#include "parsers/telemetry/log_format.h"
#include "parsers/telemetry/redact.h"

namespace ffpod {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
// How long Shutdown waits, past its deadline, for the exporter thread to stop after io.stop().
constexpr milliseconds kStopGrace{200};
constexpr uint64_t kMaxResponseBytes = 1 << 20;
constexpr size_t kErrorBodyChars = 200;

// The TLS context for one connection (renewed certificate files are picked up on reconnect).
Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const OtlpExporterOptions& o) {
  TlsClientFiles files;
  files.ca_file = o.ca_file;
  files.cert_file = o.client_certificate_file;
  files.key_file = o.client_key_file;
  files.ca_label = "OTLP CA certificate file";
  files.cert_label = "OTLP client certificate file";
  files.key_label = "OTLP client key file";
  files.prefix = "OTLP TLS";
  return MakeClientTlsContext(files);
}

// The outcome of one HTTP request.
struct Attempt {
  bool delivered = false;  // 2xx
  bool retryable = false;
  bool timed_out = false;
  bool close = false;  // the connection cannot be reused
  int status = 0;      // 0: no response
  std::optional<milliseconds> retry_after;
  int64_t rejected = 0;  // partialSuccess.rejectedSpans
  std::string error;     // one phrase for the log
};

// A kept-alive connection to the endpoint.
struct Connection {
  std::shared_ptr<asio::ssl::context> tls_context;  // outlives `tls`, which refers to it
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
};

// The result of a name lookup done on a helper thread.
struct Lookup {
  explicit Lookup(asio::io_context& io) : done_timer(io) {}
  asio::steady_timer done_timer;  // cancelled when the lookup finished
  bool done = false;
  boost::system::error_code ec;
  std::vector<tcp::endpoint> endpoints;
};

}  // namespace

class OtlpExporter::State : public std::enable_shared_from_this<State> {
 public:
  explicit State(OtlpExporterOptions o)
      : options(std::move(o)), wake(io), retry_timer(io), rng(std::random_device{}()) {}

  asio::awaitable<void> Run();
  void OnLoopEnded(const std::exception_ptr& error);
  void CountDropped(uint64_t spans);

  OtlpExporterOptions options;
  asio::io_context io;
  asio::steady_timer wake;         // the batch wait; cancelled by Export and Shutdown
  asio::steady_timer retry_timer;  // the backoff wait; cancelled by Shutdown

  // Shared with Export and Shutdown.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<SpanData> queue;
  size_t in_flight = 0;  // spans of the batch being sent, not yet counted either way
  bool shutdown = false;
  Clock::time_point shutdown_deadline = Clock::time_point::max();
  bool abandoned = false;  // Shutdown counted what was left: count nothing more
  bool loop_done = false;
  bool thread_exited = false;
  bool queue_full_logged = false;
  std::atomic<bool> wake_posted{false};

  std::atomic<uint64_t> exported{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failed_requests{0};

 private:
  asio::awaitable<void> ExportBatch(std::vector<SpanData> batch);
  asio::awaitable<Attempt> SendOnce(const std::string& body, Clock::time_point deadline);
  template <typename Stream>
  asio::awaitable<Attempt> Exchange(Stream& stream, beast::flat_buffer& buffer,
                                    const std::string& body, Clock::time_point deadline);
  asio::awaitable<std::string> Connect(Clock::time_point deadline);
  asio::awaitable<std::string> Resolve(Clock::time_point deadline);
  void FinishBatch(size_t spans, uint64_t dropped_spans, const std::string& why);
  Clock::time_point ShutdownDeadline();
  milliseconds Jitter(milliseconds backoff);
  std::string Where() const;

  // Exporter thread only.
  std::unique_ptr<Connection> conn_;
  std::vector<tcp::endpoint> endpoints_;
  bool failing_ = false;
  uint64_t dropped_while_failing_ = 0;
  bool rejection_logged_ = false;
  std::mt19937_64 rng;
};

std::string OtlpExporter::State::Where() const { return RedactUrl(options.endpoint.url); }

Clock::time_point OtlpExporter::State::ShutdownDeadline() {
  std::lock_guard<std::mutex> lock(mu);
  return shutdown_deadline;
}

milliseconds OtlpExporter::State::Jitter(milliseconds backoff) {
  int64_t b = std::max<int64_t>(1, backoff.count());
  return milliseconds(std::uniform_int_distribution<int64_t>(b / 2, b)(rng));
}

void OtlpExporter::State::CountDropped(uint64_t spans) {
  if (spans == 0) return;
  dropped += spans;
  if (options.on_dropped) options.on_dropped(spans);
}

asio::awaitable<void> OtlpExporter::State::Run() {
  // When the spans waiting now are sent even if no full batch forms.
  std::optional<Clock::time_point> batch_due;
  for (;;) {
    bool stopping;
    size_t queued;
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = shutdown;
      queued = queue.size();
    }
    if (!stopping && queued < options.max_export_batch_size) {
      // Nothing queued: sleep until Export wakes us. Some: wait out the schedule delay (cut
      // short by a full batch or Shutdown). Every wake-up looks at the queue again.
      if (queued == 0) {
        batch_due.reset();
        wake.expires_at(Clock::time_point::max());
        co_await wake.async_wait(kUseAwaitable);
        continue;
      }
      if (!batch_due) batch_due = Clock::now() + options.schedule_delay;
      if (Clock::now() < *batch_due) {
        wake.expires_at(*batch_due);
        co_await wake.async_wait(kUseAwaitable);
        continue;
      }
    }
    batch_due.reset();
    std::vector<SpanData> batch;
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = shutdown;
      size_t n = std::min(queue.size(), options.max_export_batch_size);
      if (n == 0 && stopping) break;
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      in_flight = n;
      if (queue.size() < options.max_queue_size / 2) queue_full_logged = false;
    }
    if (!batch.empty()) co_await ExportBatch(std::move(batch));
  }
  conn_.reset();
}

void OtlpExporter::State::OnLoopEnded(const std::exception_ptr& error) {
  // Only an allocation failure or a thread that cannot start ends the loop early.
  if (error && options.logger) {
    options.logger->Error("OTLP exporter stopped by an unexpected error; spans are dropped",
                          {{"endpoint", Where()}});
  }
  uint64_t left;
  {
    std::lock_guard<std::mutex> lock(mu);
    loop_done = true;
    shutdown = true;  // Export drops from now on
    left = abandoned ? 0 : queue.size() + in_flight;
    queue.clear();
    in_flight = 0;
  }
  CountDropped(left);
  cv.notify_all();
}

void OtlpExporter::State::FinishBatch(size_t spans, uint64_t dropped_spans,
                                      const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (abandoned) return;  // Shutdown already counted this batch
    in_flight = 0;
  }
  exported += spans - dropped_spans;
  CountDropped(dropped_spans);
  Logger* log = options.logger;
  if (dropped_spans == spans) {
    dropped_while_failing_ += dropped_spans;
    if (!failing_ && log) {
      log->Warn("OTLP export failing; spans are dropped until it recovers",
                {{"endpoint", Where()}, {"error", why}, {"spans", spans}});
    }
    failing_ = true;
    return;
  }
  if (dropped_spans > 0 && !rejection_logged_ && log) {
    rejection_logged_ = true;
    log->Warn("OTLP receiver rejected spans",
              {{"endpoint", Where()}, {"rejected", dropped_spans}, {"error", why}});
  }
  if (failing_ && log) {
    log->Info("OTLP export recovered",
              {{"endpoint", Where()}, {"dropped_spans", dropped_while_failing_}});
  }
  failing_ = false;
  dropped_while_failing_ = 0;
}

asio::awaitable<void> OtlpExporter::State::ExportBatch(std::vector<SpanData> batch) {
  const size_t spans = batch.size();
  const std::string body = EncodeOtlpJson(options.resource, options.scope, batch);
  batch.clear();
  batch.shrink_to_fit();
  const Clock::time_point batch_deadline = Clock::now() + options.export_timeout;
  milliseconds backoff = options.initial_backoff;
  std::string why;
  for (int attempt = 1;; ++attempt) {
    Clock::time_point deadline = std::min(batch_deadline, ShutdownDeadline());
    if (Clock::now() >= deadline) {
      why = why.empty() ? "no time left to send" : why + "; no time left to retry";
      break;
    }
    // (GCC 12 coroutines: no temporaries or conditional operators around co_await.)
    const Clock::time_point request_deadline =
        std::min(deadline, Clock::now() + options.request_timeout);
    Attempt a = co_await SendOnce(body, request_deadline);
    if (a.status != 0) ++requests;
    if (a.delivered) {
      uint64_t rejected = std::min<uint64_t>(static_cast<uint64_t>(a.rejected), spans);
      FinishBatch(spans, rejected, a.error);
      co_return;
    }
    ++failed_requests;
    why = a.error;
    if (!a.retryable) break;
    if (attempt >= options.max_attempts) {
      why += "; gave up after " + std::to_string(attempt) + " attempts";
      break;
    }
    const Clock::time_point retry_at =
        Clock::now() + (a.retry_after ? *a.retry_after : Jitter(backoff));
    backoff = std::min(backoff * 2, options.max_backoff);
    bool give_up = false;
    while (Clock::now() < retry_at) {
      // A retry that would start after the batch's or Shutdown's deadline is not waited for.
      if (retry_at >= std::min(batch_deadline, ShutdownDeadline())) {
        why += a.retry_after ? "; Retry-After is past the deadline" : "; no time left to retry";
        give_up = true;
        break;
      }
      retry_timer.expires_at(retry_at);
      co_await retry_timer.async_wait(kUseAwaitable);  // cut short by Shutdown
    }
    if (give_up) break;
  }
  FinishBatch(spans, spans, why);
}

asio::awaitable<Attempt> OtlpExporter::State::SendOnce(const std::string& body,
                                                       Clock::time_point deadline) {
  for (int round = 0;; ++round) {
    const bool reused = conn_ != nullptr;
    if (!conn_) {
      std::string error = co_await Connect(deadline);
      if (!error.empty()) {
        Attempt a;
        a.retryable = true;
        a.error = std::move(error);
        co_return a;
      }
    }
    Connection& c = *conn_;
    Attempt a;
    if (c.tls) {
      a = co_await Exchange(*c.tls, c.buffer, body, deadline);
    } else {
      a = co_await Exchange(*c.plain, c.buffer, body, deadline);
    }
    if (a.close || a.status == 0) conn_.reset();
    // A kept-alive connection the receiver closed while idle fails before any answer: one more
    // go on a fresh connection is not a retry.
    if (a.status == 0 && reused && !a.timed_out && round == 0 && Clock::now() < deadline) {
      continue;
    }
    co_return a;
  }
}

template <typename Stream>
asio::awaitable<Attempt> OtlpExporter::State::Exchange(Stream& stream, beast::flat_buffer& buffer,
                                                       const std::string& body,
                                                       Clock::time_point deadline) {
  Attempt a;
  http::request<http::string_body> req{http::verb::post, options.endpoint.target, 11};
  req.set(http::field::host, options.endpoint.HostHeader());
  req.set(http::field::user_agent, options.user_agent);
  req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : options.headers) req.set(name, value);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();

  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [wec, written] = co_await http::async_write(stream, req, kUseAwaitable);
  (void)written;
  if (wec) {
    a.retryable = true;
    a.timed_out = wec == beast::error::timeout;
    a.error = "sending to " + Where() + ": " + DescribeNetError(wec);
    co_return a;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, kUseAwaitable);
  (void)read;
  if (rec) {
    a.retryable = true;
    a.timed_out = rec == beast::error::timeout;
    a.error = "reading the answer of " + Where() + ": " + DescribeNetError(rec);
    co_return a;
  }
  const auto& res = parser.get();
  a.status = static_cast<int>(res.result_int());
  a.close = !res.keep_alive();
  if (a.status >= 200 && a.status < 300) {
    a.delivered = true;
    if (auto partial = ParseExportTraceResponse(res.body())) {
      a.rejected = partial->rejected_spans;
      a.error = partial->error_message;
    }
    co_return a;
  }
  a.retryable = IsRetryableOtlpStatus(a.status);
  if (auto it = res.find(http::field::retry_after); it != res.end()) {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    a.retry_after = ParseRetryAfter(std::string_view(it->value().data(), it->value().size()), now);
  }
  a.error = Where() + " answered HTTP " + std::to_string(a.status);
  if (!res.body().empty()) a.error += ": " + BodySnippet(res.body(), kErrorBodyChars);
  co_return a;
}

asio::awaitable<std::string> OtlpExporter::State::Resolve(Clock::time_point deadline) {
  const OtlpEndpoint& ep = options.endpoint;
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(ep.host, ec);
  if (!ec) {
    endpoints_ = {tcp::endpoint(address, ep.port)};
    co_return std::string();
  }
  // getaddrinfo cannot be cancelled, and with an unreachable DNS server it can take tens of
  // seconds: it runs on a detached thread, and this waits only until the deadline.
  auto lookup = std::make_shared<Lookup>(io);
  lookup->done_timer.expires_at(deadline);
  std::thread([self = shared_from_this(), lookup, host = ep.host, port = ep.port] {
    asio::io_context local;
    tcp::resolver resolver(local);
    boost::system::error_code rec;
    auto results =
        resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, rec);
    std::vector<tcp::endpoint> found;
    for (const auto& r : results) found.push_back(r.endpoint());
    asio::post(self->io, [lookup, rec, found = std::move(found)]() mutable {
      lookup->done = true;
      lookup->ec = rec;
      lookup->endpoints = std::move(found);
      lookup->done_timer.cancel();
    });
  }).detach();
  co_await lookup->done_timer.async_wait(kUseAwaitable);
  if (!lookup->done) co_return "resolving " + ep.host + ": timed out";
  if (lookup->ec) co_return "resolving " + ep.host + ": " + lookup->ec.message();
  if (lookup->endpoints.empty()) co_return "resolving " + ep.host + ": no addresses";
  endpoints_ = std::move(lookup->endpoints);
  co_return std::string();
}

asio::awaitable<std::string> OtlpExporter::State::Connect(Clock::time_point deadline) {
  const OtlpEndpoint& ep = options.endpoint;
  if (endpoints_.empty()) {
    std::string error = co_await Resolve(deadline);
    if (!error.empty()) co_return error;
  }
  beast::tcp_stream stream(io);
  stream.expires_at(deadline);
  auto [ec, connected] = co_await stream.async_connect(endpoints_, kUseAwaitable);
  (void)connected;
  if (ec) {
    endpoints_.clear();  // look the name up again next time
    co_return "connecting to " + ep.HostHeader() + ": " + DescribeNetError(ec);
  }
  boost::system::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  auto c = std::make_unique<Connection>();
  if (!ep.tls) {
    c->plain.emplace(std::move(stream));
    conn_ = std::move(c);
    co_return std::string();
  }
  auto tls_context = MakeTlsContext(options);
  if (!tls_context) co_return tls_context.error().message;
  c->tls_context = std::move(*tls_context);
  c->tls.emplace(std::move(stream), *c->tls_context);
  SSL* ssl = c->tls->native_handle();
  SetServerIdentity(ssl, ep.host);
  auto [hec] = co_await c->tls->async_handshake(asio::ssl::stream_base::client, kUseAwaitable);
  if (hec) {
    std::string why = HandshakeFailure(ssl, DescribeNetError(hec));
    co_return "TLS handshake with " + ep.HostHeader() + ": " + why;
  }
  conn_ = std::move(c);
  co_return std::string();
}

OtlpExporterOptions ExporterOptionsFromConfig(const OtelConfig& config) {
  OtlpExporterOptions o;
  o.endpoint = config.endpoint;
  o.headers = config.headers;
  o.ca_file = config.ca_file;
  o.client_certificate_file = config.client_certificate_file;
  o.client_key_file = config.client_key_file;
  o.max_queue_size = config.max_queue_size;
  o.max_export_batch_size = config.max_export_batch_size;
  o.schedule_delay = config.schedule_delay;
  o.request_timeout = config.request_timeout;
  o.export_timeout = config.export_timeout;
  return o;
}

Result<std::unique_ptr<OtlpExporter>> OtlpExporter::Create(OtlpExporterOptions options) {
  if (options.endpoint.host.empty() || options.endpoint.port == 0) {
    return Error{"the OTLP exporter has no endpoint"};
  }
  options.max_queue_size = std::max<size_t>(1, options.max_queue_size);
  options.max_export_batch_size =
      std::clamp<size_t>(options.max_export_batch_size, 1, options.max_queue_size);
  options.max_attempts = std::max(1, options.max_attempts);
  options.request_timeout = std::max(milliseconds(1), options.request_timeout);
  options.export_timeout = std::max(milliseconds(1), options.export_timeout);
  options.schedule_delay = std::max(milliseconds(0), options.schedule_delay);
  options.initial_backoff = std::max(milliseconds(1), options.initial_backoff);
  options.max_backoff = std::max(options.initial_backoff, options.max_backoff);
  if (options.endpoint.tls) {
    if (auto tls_context = MakeTlsContext(options); !tls_context) return tls_context.error();
  }
  auto state = std::make_shared<State>(std::move(options));
  asio::co_spawn(state->io, state->Run(),
                 [s = state.get()](const std::exception_ptr& e) { s->OnLoopEnded(e); });
  std::unique_ptr<OtlpExporter> exporter(new OtlpExporter(state));
  exporter->thread_ = std::thread([state] {
    state->io.run();
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->thread_exited = true;
    }
    state->cv.notify_all();
  });
  return exporter;
}

OtlpExporter::OtlpExporter(std::shared_ptr<State> state) : state_(std::move(state)) {}

OtlpExporter::~OtlpExporter() {
  if (!shut_down_) Shutdown(Clock::now());
}

void OtlpExporter::Export(SpanData span) {
  State& s = *state_;
  bool refused = false;
  bool log_full = false;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.shutdown) {
      refused = true;
    } else if (s.queue.size() >= s.options.max_queue_size) {
      refused = true;
      log_full = !s.queue_full_logged;
      s.queue_full_logged = true;
    } else {
      s.queue.push_back(std::move(span));
      wake = s.queue.size() == 1 || s.queue.size() >= s.options.max_export_batch_size;
    }
  }
  if (refused) {
    s.CountDropped(1);
    if (log_full && s.options.logger) {
      s.options.logger->Warn("OTLP export queue full; spans are dropped",
                             {{"max_queue_size", s.options.max_queue_size}});
    }
    return;
  }
  if (wake && !s.wake_posted.exchange(true)) {
    asio::post(s.io, [st = &s] {
      st->wake_posted = false;
      st->wake.cancel();
    });
  }
}

bool OtlpExporter::Shutdown(Clock::time_point deadline) {
  if (shut_down_) return shutdown_result_;
  shut_down_ = true;
  State& s = *state_;
  const uint64_t dropped_before = s.dropped;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.shutdown = true;
    s.shutdown_deadline = deadline;
  }
  asio::post(s.io, [st = &s] {
    st->wake.cancel();
    st->retry_timer.cancel();
  });
  bool finished;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    finished = s.cv.wait_until(lock, deadline, [&] { return s.loop_done; });
  }
  if (!finished) s.io.stop();  // whatever is in flight is abandoned
  uint64_t left;
  bool exited;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    exited = s.cv.wait_until(lock, std::max(deadline, Clock::now()) + kStopGrace,
                             [&] { return s.thread_exited; });
    left = s.abandoned || s.loop_done ? 0 : s.queue.size() + s.in_flight;
    s.queue.clear();
    s.in_flight = 0;
    s.abandoned = true;
  }
  s.CountDropped(left);
  if (left > 0 && s.options.logger) {
    s.options.logger->Warn("OTLP spans not delivered before the exit deadline",
                           {{"endpoint", RedactUrl(s.options.endpoint.url)}, {"spans", left}});
  }
  if (exited) {
    thread_.join();
  } else {
    thread_.detach();  // it holds the state; the process is about to exit
  }
  shutdown_result_ = finished && s.dropped == dropped_before;
  return shutdown_result_;
}

OtlpExporter::Stats OtlpExporter::stats() const {
  Stats st;
  st.spans_exported = state_->exported;
  st.spans_dropped = state_->dropped;
  st.requests = state_->requests;
  st.failed_requests = state_->failed_requests;
  return st;
}

}  // namespace ffpod
