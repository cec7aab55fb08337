#include "supervisor/telemetry/tracer.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "parsers/ffmpeg/exit_status.h"
#include "parsers/ffmpeg/reasons.h"
#include "parsers/telemetry/redact.h"

namespace ffpod {

using std::chrono::system_clock;

namespace {

constexpr size_t kMaxAttributes = 128;
constexpr size_t kMaxEvents = 128;

uint64_t ToUnixNanos(system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return ns > 0 ? static_cast<uint64_t>(ns) : 0;
}

std::string LocalHostName() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

// Secrets never reach a span: every string goes through RedactText.
AttributeScalar RedactScalar(AttributeScalar v) {
  if (auto* s = std::get_if<std::string>(&v)) *s = RedactText(*s);
  return v;
}

KeyValue Redacted(KeyValue kv) {
  if (auto* s = std::get_if<std::string>(&kv.value)) {
    *s = RedactText(*s);
  } else if (auto* a = std::get_if<AttributeArray>(&kv.value)) {
    for (auto& e : *a) e = RedactScalar(std::move(e));
  }
  return kv;
}

// Adds or replaces `kv` in `list`, keeping at most `limit` entries; true when it was dropped.
bool Upsert(std::vector<KeyValue>& list, KeyValue kv, size_t limit) {
  for (auto& existing : list) {
    if (existing.key == kv.key) {
      existing.value = std::move(kv.value);
      return false;
    }
  }
  if (list.size() >= limit) return true;
  list.push_back(std::move(kv));
  return false;
}

std::optional<AttributeScalar> JsonScalar(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string:
      return AttributeScalar(std::string(v.get_string()));
    case boost::json::kind::bool_:
      return AttributeScalar(v.get_bool());
    case boost::json::kind::int64:
      return AttributeScalar(v.get_int64());
    case boost::json::kind::uint64:
      return AttributeScalar(v.get_uint64() > static_cast<uint64_t>(INT64_MAX)
                                 ? INT64_MAX
                                 : static_cast<int64_t>(v.get_uint64()));
    case boost::json::kind::double_:
      return AttributeScalar(v.get_double());
    default:
      return std::nullopt;
  }
}

AttributeValue ScalarValue(AttributeScalar s) {
  return std::visit([](auto&& x) -> AttributeValue { return std::forward<decltype(x)>(x); },
                    std::move(s));
}

void FlattenJson(const boost::json::object& fields, const std::string& prefix,
                 std::vector<KeyValue>& out) {
  for (const auto& kv : fields) {
    std::string key = prefix + std::string(kv.key());
    const boost::json::value& v = kv.value();
    if (v.is_object()) {
      FlattenJson(v.get_object(), key + ".", out);
    } else if (v.is_array()) {
      AttributeArray array;
      for (const auto& e : v.get_array()) {
        if (auto s = JsonScalar(e)) array.push_back(std::move(*s));
      }
      out.emplace_back(std::move(key), std::move(array));
    } else if (auto s = JsonScalar(v)) {
      out.emplace_back(std::move(key), ScalarValue(std::move(*s)));
    }
  }
}

}  // namespace

// --- Span ---

Span::Span(Span&& other) noexcept
    : tracer_(other.tracer_),
      data_(std::move(other.data_)),
      steady_start_(other.steady_start_),
      recording_(other.recording_),
      ended_(other.ended_) {
  other.tracer_ = nullptr;
  other.recording_ = false;
  other.ended_ = true;
}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    tracer_ = other.tracer_;
    data_ = std::move(other.data_);
    steady_start_ = other.steady_start_;
    recording_ = other.recording_;
    ended_ = other.ended_;
    other.tracer_ = nullptr;
    other.recording_ = false;
    other.ended_ = true;
  }
  return *this;
}

std::string Span::trace_id() const {
  return tracer_ == nullptr ? std::string() : ToHex(data_.context.trace_id);
}

std::string Span::span_id() const {
  return tracer_ == nullptr ? std::string() : ToHex(data_.context.span_id);
}

std::string Span::traceparent() const {
  return tracer_ == nullptr ? std::string() : FormatTraceparent(data_.context);
}

boost::json::object Span::LogFields() const {
  boost::json::object f;
  if (tracer_ == nullptr) return f;
  f["trace_id"] = trace_id();
  f["span_id"] = span_id();
  return f;
}

uint64_t Span::NowUnixNanos() const {
  auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - steady_start_)
                     .count();
  return data_.start_time_unix_nano + static_cast<uint64_t>(std::max<int64_t>(0, elapsed));
}

void Span::SetAttribute(KeyValue attribute) {
  if (!recording()) return;
  if (Upsert(data_.attributes, Redacted(std::move(attribute)), kMaxAttributes)) {
    ++data_.dropped_attributes_count;
  }
}

void Span::AddEvent(std::string_view name, std::vector<KeyValue> attributes,
                    std::optional<system_clock::time_point> time) {
  if (!recording()) return;
  if (data_.events.size() >= kMaxEvents) {
    ++data_.dropped_events_count;
    return;
  }
  SpanEvent e;
  e.name = RedactText(name);
  e.time_unix_nano = time ? ToUnixNanos(*time) : NowUnixNanos();
  for (auto& kv : attributes) {
    if (Upsert(e.attributes, Redacted(std::move(kv)), kMaxAttributes)) {
      ++e.dropped_attributes_count;
    }
  }
  data_.events.push_back(std::move(e));
}

void Span::SetStatus(SpanStatusCode code, std::string_view message) {
  if (!recording() || code == SpanStatusCode::kUnset) return;
  if (data_.status_code == SpanStatusCode::kOk) return;  // OK is final, as in OpenTelemetry
  data_.status_code = code;
  data_.status_message = code == SpanStatusCode::kError ? RedactText(message) : std::string();
}

void Span::End(std::optional<system_clock::time_point> time) {
  if (ended_) return;
  ended_ = true;
  if (!recording_ || tracer_ == nullptr) return;
  data_.end_time_unix_nano =
      std::max(data_.start_time_unix_nano, time ? ToUnixNanos(*time) : NowUnixNanos());
  SpanContext context = data_.context;  // the ids stay readable after End
  tracer_->Export(std::move(data_));
  data_ = SpanData();
  data_.context = std::move(context);
}

// --- Tracer ---

Result<std::unique_ptr<Tracer>> Tracer::Create(TracerOptions options) {
  auto config = ParseOtelConfig(options.otel_env);
  if (!config) return config.error();
  return Start(std::move(options), std::move(*config));
}

std::unique_ptr<Tracer> Tracer::CreateOrOff(TracerOptions options) {
  auto tracer = Create(options);
  if (tracer) return std::move(tracer).value();
  // The sentence names the variable and what is wrong, never its value (otel_config.h).
  if (options.logger) {
    options.logger->Warn("tracing: " + tracer.error().message + "; spans are not exported");
  }
  OtelConfig off;
  off.disabled_because = tracer.error().message;
  // With tracing off nothing is started, so nothing can fail.
  return std::move(Start(std::move(options), std::move(off))).value();
}

Result<std::unique_ptr<Tracer>> Tracer::Start(TracerOptions options, OtelConfig config) {
  std::unique_ptr<Tracer> t(new Tracer());
  t->config_ = std::move(config);
  {
    std::random_device rd;
    std::seed_seq seed{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    t->rng_.seed(seed);
  }

  // Resource: ffpod's own attributes, then OTEL_RESOURCE_ATTRIBUTES over them, then the
  // service name's precedence (OTEL_SERVICE_NAME > service.name attribute > "ffpod").
  std::vector<KeyValue>& r = t->resource_;
  r.emplace_back("service.name", t->config_.service_name);
  if (!options.service_version.empty()) r.emplace_back("service.version", options.service_version);
  r.emplace_back("telemetry.sdk.name", "ffpod");
  r.emplace_back("telemetry.sdk.language", "cpp");
  if (!options.service_version.empty()) {
    r.emplace_back("telemetry.sdk.version", options.service_version);
  }
  std::string host = options.host_name.empty() ? LocalHostName() : options.host_name;
  if (!host.empty()) r.emplace_back("host.name", host);
  r.emplace_back("process.pid", static_cast<int64_t>(::getpid()));
  r.emplace_back("process.executable.name", "ffpod");
  const std::pair<const char*, const std::string*> kDownward[] = {
      {"k8s.pod.name", &options.pod_name},
      {"k8s.namespace.name", &options.pod_namespace},
      {"k8s.node.name", &options.node_name},
      {"k8s.pod.uid", &options.pod_uid}};
  for (const auto& [key, value] : kDownward) {
    if (!value->empty()) r.emplace_back(key, *value);
  }
  for (const auto& [k, v] : t->config_.resource_attributes) {
    if (k == "service.name") continue;  // resolved into config_.service_name above
    Upsert(r, KeyValue(k, v), SIZE_MAX);
  }

  if (options.logger) {
    for (const auto& w : t->config_.warnings) options.logger->Warn("tracing: " + w);
  }
  if (!t->config_.enabled) {
    if (options.logger) {
      options.logger->Debug("tracing: not exporting spans",
                            {{"reason", t->config_.disabled_because}});
    }
    return t;
  }
  OtlpExporterOptions eo = ExporterOptionsFromConfig(t->config_);
  eo.resource = r;
  eo.scope = {"ffpod", options.service_version};
  eo.user_agent = options.service_version.empty() ? "ffpod" : "ffpod/" + options.service_version;
  eo.on_dropped = options.on_dropped;
  eo.logger = options.logger;
  if (options.adjust_exporter) options.adjust_exporter(eo);
  auto exporter = OtlpExporter::Create(std::move(eo));
  if (!exporter) return exporter.error();
  t->exporter_ = std::move(*exporter);
  if (options.logger) {
    options.logger->Info("tracing: exporting spans over OTLP/HTTP",
                         {{"endpoint", RedactUrl(t->config_.endpoint.url)},
                          {"service_name", t->config_.service_name}});
  }
  return t;
}

Tracer::~Tracer() {
  if (exporter_) exporter_->Shutdown(std::chrono::steady_clock::now());
}

SpanId Tracer::NewSpanId() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return MakeSpanId(rng_());
}

TraceId Tracer::NewTraceId() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  uint64_t hi = rng_();
  uint64_t lo = rng_();
  return MakeTraceId(hi, lo);
}

void Tracer::Export(SpanData span) {
  if (exporter_) exporter_->Export(std::move(span));
}

Span Tracer::StartSpan(std::string_view name, const SpanContext* parent, SpanKind kind,
                       std::optional<system_clock::time_point> start) {
  Span s;
  s.tracer_ = this;
  s.ended_ = false;
  if (parent != nullptr && parent->valid()) {
    s.data_.context = ChildContext(*parent, NewSpanId());
    s.data_.parent_span_id = parent->span_id;
    s.data_.parent_remote = parent->remote;
  } else {
    s.data_.context = NewRootContext(NewTraceId(), NewSpanId());
  }
  s.recording_ = exporting() && s.data_.context.sampled();
  s.data_.name = std::string(name);
  s.data_.kind = kind;
  auto now_system = system_clock::now();
  auto now_steady = std::chrono::steady_clock::now();
  s.data_.start_time_unix_nano = ToUnixNanos(start.value_or(now_system));
  // The steady origin that corresponds to the start time (an explicit start in the past
  // moves it back accordingly).
  s.steady_start_ = now_steady - std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     now_system - start.value_or(now_system));
  return s;
}

Span Tracer::StartJobSpan(const JobSpanInfo& info, std::optional<system_clock::time_point> start) {
  std::optional<SpanContext> remote;
  if (!info.traceparent.empty()) remote = ParseTraceparent(info.traceparent, info.tracestate);
  bool worker = !info.queue.empty();
  Span s = StartSpan("ffpod.job", remote ? &*remote : nullptr,
                     worker ? SpanKind::kConsumer : SpanKind::kInternal, start);
  s.SetAttribute({"ffpod.job.id", info.job_id});
  s.SetAttribute({"ffpod.job.attempt", info.attempt});
  if (worker) {
    s.SetAttribute({"messaging.system", "redis"});
    s.SetAttribute({"messaging.operation.type", "process"});
    s.SetAttribute({"messaging.operation.name", "process"});
    s.SetAttribute({"messaging.destination.name", info.queue + ":pending"});
    s.SetAttribute({"messaging.message.id", info.job_id});
    if (!info.worker_id.empty()) s.SetAttribute({"messaging.client.id", info.worker_id});
  }
  return s;
}

bool Tracer::Shutdown(std::chrono::steady_clock::time_point deadline) {
  return exporter_ ? exporter_->Shutdown(deadline) : true;
}

// --- helpers ---

void SetJobResult(Span& job_span, const ResultDoc& result) {
  const std::string_view reason = ReasonName(result.reason);
  job_span.SetAttribute({"ffpod.job.reason", reason});
  job_span.SetAttribute({"ffpod.job.status", ResultStatusName(result.status)});
  if (result.reason != Reason::kOk) {
    job_span.SetAttribute({"ffpod.job.retryable", GetReasonInfo(result.reason).retryable});
  }
  if (result.exit && result.exit->kind != ExitStatus::Kind::kSignaled) {
    job_span.SetAttribute({"process.exit.code", result.exit->code});
  } else if (result.exit) {
    job_span.SetAttribute({"ffpod.exit.signal", SignalName(result.exit->signal)});
  }
  if (result.reason != Reason::kOk && result.reason != Reason::kPreempted) {
    std::string message(reason);
    if (!result.message.empty()) message += ": " + result.message;
    job_span.SetStatus(SpanStatusCode::kError, message);
  }
}

std::vector<KeyValue> ProcessAttributes(const std::string& executable,
                                        const std::vector<std::string>& args, int pid) {
  std::vector<KeyValue> out;
  if (pid > 0) out.emplace_back("process.pid", pid);
  out.emplace_back("process.executable.path", RedactText(executable));
  size_t slash = executable.rfind('/');
  out.emplace_back("process.executable.name",
                   slash == std::string::npos ? executable : executable.substr(slash + 1));
  AttributeArray argv;
  argv.push_back(std::string(RedactText(executable)));
  for (auto& a : RedactArgs(args)) argv.push_back(std::move(a));
  out.emplace_back("process.command_args", std::move(argv));
  return out;
}

std::vector<KeyValue> AttributesFromJson(const boost::json::object& fields,
                                         std::string_view prefix) {
  std::vector<KeyValue> out;
  FlattenJson(fields, std::string(prefix), out);
  return out;
}

}  // namespace ffpod
