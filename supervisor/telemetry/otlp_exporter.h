// The OTLP/HTTP trace exporter: a batch span processor in front of the background HTTP(S)
// sender (supervisor/net/https_sender.h) that POSTs ExportTraceServiceRequest JSON bodies
// (parsers/telemetry/otlp_json.h) to a Collector, Tempo, Jaeger, Honeycomb or any other OTLP/HTTP
// receiver (docs/tracing.md).
//
// Export(span) only appends to a bounded queue; it never waits for the network. A span that
// finds the queue full is dropped. The sender's own thread (its own io_context, never the main
// loop's) sends a batch when `max_export_batch_size` spans are waiting or `schedule_delay` has
// passed, one request at a time, over a kept-alive HTTP/1.1 connection (Boost.Beast; TLS with
// OpenSSL, verifying the server's name, optional client certificate).
//
// Each request must complete within `request_timeout` (resolving, connecting, TLS handshake,
// writing and reading together). A batch that fails with 429, 502, 503, 504 or a network error
// is retried with exponential backoff (1 s doubling to 5 s by default, with jitter) or after
// the server's Retry-After, as long as the batch's `export_timeout` and `max_attempts` allow; any
// other answer drops it. Names are resolved on a detached helper thread, so a hanging DNS lookup
// delays nothing beyond its deadline.
//
// Every span that is not delivered is counted once through `on_dropped`: a full queue, a
// batch given up, spans a receiver reports as rejected (partialSuccess), spans exported after
// Shutdown, and whatever is still queued or in flight when Shutdown's deadline passes.
// Failures are logged once when exports start failing and once when they recover.
//
// Threading: Export and stats() are thread-safe; Shutdown is called by the owner, once.
// `on_dropped` and the logger are called from the sender's thread and from the threads calling
// Export or Shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/config/otel_config.h"
#include "parsers/telemetry/otlp_json.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class HttpsSender;

struct OtlpExporterOptions {
  OtlpEndpoint endpoint;
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
  std::string ca_file;                                       // PEM CA bundle; empty: the system's
  std::string client_certificate_file;                       // mTLS, with client_key_file
  std::string client_key_file;
  std::string user_agent = "ffpod";

  std::vector<KeyValue> resource;  // resource attributes of every span
  InstrumentationScope scope{"ffpod", ""};

  size_t max_queue_size = 2048;
  size_t max_export_batch_size = 512;
  std::chrono::milliseconds schedule_delay{5000};
  std::chrono::milliseconds request_timeout{10000};  // one HTTP request, all phases
  std::chrono::milliseconds export_timeout{30000};   // one batch, retries included
  int max_attempts = 5;                              // requests per batch
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};

  std::function<void(uint64_t spans)> on_dropped;  // e.g. FfpodMetrics::CountOtlpSpansDropped
  Logger* logger = nullptr;                        // optional
};

// The exporter's options from the parsed OTEL_* settings (endpoint, headers, TLS files, timeouts,
// batch sizes); resource, scope, callbacks and logger are the caller's to fill.
OtlpExporterOptions ExporterOptionsFromConfig(const OtelConfig& config);

class OtlpExporter {
 public:
  struct Stats {
    uint64_t spans_exported = 0;   // accepted by the receiver
    uint64_t spans_dropped = 0;    // every span counted through on_dropped
    uint64_t requests = 0;         // HTTP requests that got a response
    uint64_t failed_requests = 0;  // responses other than 2xx, and network errors
  };

  // Starts the sender's thread. Fails (one sentence) without an endpoint or when the TLS files
  // cannot be loaded.
  static Result<std::unique_ptr<OtlpExporter>> Create(OtlpExporterOptions options);

  // Shutdown(now) when not done yet: whatever is queued is dropped and counted.
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queues a finished span; never blocks on I/O. Dropped (and counted) when the queue is full
  // or after Shutdown.
  void Export(SpanData span);

  // Sends everything queued, stopping at `deadline`; what is not delivered by then is dropped
  // and counted. Blocks the caller until done or the deadline (plus at most 200 ms to stop the
  // thread). Returns true when every span still queued or in flight was delivered in time.
  // Call it from one thread; later calls return the first call's answer at once.
  bool Shutdown(std::chrono::steady_clock::time_point deadline);

  Stats stats() const;

  class State;  // the queue and the batches; the sender's delegate

 private:
  explicit OtlpExporter(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  std::unique_ptr<HttpsSender> sender_;
  bool shut_down_ = false;
  bool shutdown_result_ = false;
};

}  // namespace ffpod
