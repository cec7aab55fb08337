// Tracing for ffpod's jobs (docs/tracing.md): builds the spans of a job attempt (`ffpod.job`
// and its children `ffpod.queue_wait`, `ffprobe`, `ffmpeg`, `ffpod.publish`) and hands finished
// spans to the OTLP exporter.
//
// The Tracer is created once per process from the configuration's environment (Config): the
// OTEL_* variables (parsers/config/otel_config.h), the Kubernetes Downward API variables
// POD_NAME, POD_NAMESPACE, NODE_NAME and POD_UID; and from the host name and the process id.
// Its resource: service.name
// (OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else "ffpod"),
// service.version, telemetry.sdk.*, host.name, process.pid, process.executable.name, k8s.pod.name,
// k8s.namespace.name, k8s.node.name, k8s.pod.uid; OTEL_RESOURCE_ATTRIBUTES replaces any of them
// except service.name's precedence above.
//
// Spans always get W3C ids, so logs and results carry trace_id/span_id even when nothing is
// exported (tracing off, or a parent that is not sampled: ffpod follows the parent's sampled
// flag, as OpenTelemetry's default parent-based sampler does). Times are Unix nanoseconds from
// the system clock at the start; a span's duration comes from the steady clock, so a wall-clock
// step never makes a negative or stretched span. Every string that reaches a span (attributes,
// event attributes, status message) goes through RedactText.
//
// Threading: the Tracer's methods are thread-safe. A Span is used by one thread at a time (the
// event loop's); it keeps a pointer to its Tracer, which must outlive it.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/config/otel_config.h"
#include "parsers/documents/job.h"
#include "parsers/telemetry/otlp_json.h"
#include "parsers/telemetry/trace_context.h"
#include "supervisor/telemetry/logger.h"
#include "supervisor/telemetry/otlp_exporter.h"

namespace ffpod {

class Tracer;

// One span being recorded. Move-only. Destroying a span that was not ended discards it.
class Span {
 public:
  Span() = default;  // inert: no ids, records nothing
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() = default;

  const SpanContext& context() const { return data_.context; }
  std::string trace_id() const;     // 32 hex digits; empty for an inert span
  std::string span_id() const;      // 16 hex digits; empty for an inert span
  std::string traceparent() const;  // "00-<trace_id>-<span_id>-<flags>" for propagation
  // {"trace_id": ..., "span_id": ...}: the fields for log records and the result.
  boost::json::object LogFields() const;
  // Started, not ended, sampled and exported somewhere.
  bool recording() const { return recording_ && !ended_; }
  bool ended() const { return ended_; }

  // Adds or replaces an attribute (at most 128; more are counted as dropped).
  void SetAttribute(KeyValue attribute);
  // An event at `time` (default: now), at most 128 per span (more are counted as dropped).
  void AddEvent(std::string_view name, std::vector<KeyValue> attributes = {},
                std::optional<std::chrono::system_clock::time_point> time = std::nullopt);
  // ERROR with a message, or OK; an UNSET span stays UNSET.
  void SetStatus(SpanStatusCode code, std::string_view message = {});
  // Ends the span (at `time`, default now; never before its start) and exports it. Later calls
  // do nothing.
  void End(std::optional<std::chrono::system_clock::time_point> time = std::nullopt);

 private:
  friend class Tracer;
  uint64_t NowUnixNanos() const;

  Tracer* tracer_ = nullptr;
  SpanData data_;
  std::chrono::steady_clock::time_point steady_start_{};
  bool recording_ = false;
  bool ended_ = true;
};

// What the job span is made from.
struct JobSpanInfo {
  std::string job_id;
  int attempt = 1;
  std::string traceparent;  // the job's (or, for `ffpod run`, $TRACEPARENT); may be empty
  std::string tracestate;
  std::string queue;      // worker: the queue name Q (the span is a consumer of Q:pending)
  std::string worker_id;  // worker: its id
};

struct TracerOptions {
  std::map<std::string, std::string> otel_env;  // the OTEL_* variables (Config::otel_env)
  // This pod (Config's Downward API fields); each becomes a k8s.* resource attribute when set.
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string node_name;
  std::string service_version;                     // ffpod's version
  std::string host_name;                           // empty: gethostname()
  Logger* logger = nullptr;                        // warnings and the exporter's records
  std::function<void(uint64_t spans)> on_dropped;  // FfpodMetrics::CountOtlpSpansDropped
  // Tests: exporter settings to use instead of those derived from `otel_env` (endpoint etc.).
  std::function<void(OtlpExporterOptions&)> adjust_exporter;
};

class Tracer {
 public:
  // Reads the configuration, logs its warnings, and starts the exporter when tracing is on.
  // Fails with one sentence for an OTEL_* setting ffpod cannot export with (see
  // parsers/config/otel_config.h) or unreadable TLS files.
  static Result<std::unique_ptr<Tracer>> Create(TracerOptions options);
  // Create, except that a setting ffpod cannot export with never stops the caller: it is logged
  // once as a warning ("tracing: <the sentence>; spans are not exported") and the tracer comes
  // back with tracing off (ids are still made for logs and results). What `ffpod run` and the
  // worker use: exporting spans is best-effort and never fails a job.
  static std::unique_ptr<Tracer> CreateOrOff(TracerOptions options);
  ~Tracer();  // Shutdown(now) when not done: queued spans are dropped and counted
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // Spans are exported somewhere.
  bool exporting() const { return exporter_ != nullptr; }
  const OtelConfig& config() const { return config_; }
  const std::vector<KeyValue>& resource() const { return resource_; }
  // The exporter (its counters), or nullptr when tracing is off.
  const OtlpExporter* exporter() const { return exporter_.get(); }

  // A span under `parent` (a span's context, or a remote context from ParseTraceparent), or the
  // root of a new trace when `parent` is null or invalid. `start` defaults to now.
  Span StartSpan(std::string_view name, const SpanContext* parent,
                 SpanKind kind = SpanKind::kInternal,
                 std::optional<std::chrono::system_clock::time_point> start = std::nullopt);

  // `ffpod.job` for one attempt: the parent from `info.traceparent`/`tracestate` (a new trace
  // when absent or invalid), kind CONSUMER with messaging.* attributes when `info.queue` is
  // set (worker), INTERNAL otherwise (`ffpod run`); ffpod.job.id and ffpod.job.attempt.
  Span StartJobSpan(const JobSpanInfo& info,
                    std::optional<std::chrono::system_clock::time_point> start = std::nullopt);

  // Flushes the exporter, giving up at `deadline` (the drain budget). True when everything
  // was delivered in time, or nothing is exported.
  bool Shutdown(std::chrono::steady_clock::time_point deadline);

 private:
  friend class Span;
  Tracer() = default;
  // The tracer for an OtelConfig already read (Create, CreateOrOff). Fails only when the config
  // has tracing on and the exporter cannot start.
  static Result<std::unique_ptr<Tracer>> Start(TracerOptions options, OtelConfig config);
  SpanId NewSpanId();
  TraceId NewTraceId();
  void Export(SpanData span);

  OtelConfig config_;
  std::vector<KeyValue> resource_;
  std::unique_ptr<OtlpExporter> exporter_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

// Records a finished attempt on its job span: ffpod.job.reason, ffpod.job.status,
// ffpod.job.retryable, process.exit.code / ffpod.exit.signal when ffmpeg ran, and status ERROR
// with "<reason>: <message>" for every outcome but `ok` and `preempted` (a drained attempt is
// requeued, not failed).
void SetJobResult(Span& job_span, const ResultDoc& result);

// Attributes of the `ffmpeg` (or `ffprobe`) span, after semantic conventions: process.pid,
// process.executable.path, process.executable.name, process.command_args (through RedactArgs).
std::vector<KeyValue> ProcessAttributes(const std::string& executable,
                                        const std::vector<std::string>& args, int pid);

// Span attributes from a log-style JSON object (FfmpegJob's event attributes): strings, numbers
// and booleans as they are, arrays of those as arrays, nested objects flattened as "a.b",
// nulls skipped; every key prefixed with `prefix`.
std::vector<KeyValue> AttributesFromJson(const boost::json::object& fields,
                                         std::string_view prefix = {});

}  // namespace ffpod
