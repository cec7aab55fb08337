#include "supervisor/telemetry/otlp_exporter.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "parsers/telemetry/log_format.h"
#include "parsers/telemetry/redact.h"
#include "supervisor/net/https_sender.h"

namespace ffpod {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr uint64_t kMaxResponseBytes = 1 << 20;
constexpr size_t kErrorBodyChars = 200;

// What the sender needs to reach the endpoint: one kept-alive connection, the OTLP TLS files,
// and error sentences that name the endpoint by its (redacted) URL.
HttpsSenderOptions SenderOptions(const OtlpExporterOptions& o) {
  HttpsSenderOptions s;
  s.host = o.endpoint.host;
  s.port = o.endpoint.port;
  s.tls = o.endpoint.tls;
  s.tls_files.ca_file = o.ca_file;
  s.tls_files.cert_file = o.client_certificate_file;
  s.tls_files.key_file = o.client_key_file;
  s.tls_files.ca_label = "OTLP CA certificate file";
  s.tls_files.cert_label = "OTLP client certificate file";
  s.tls_files.key_label = "OTLP client key file";
  s.tls_files.prefix = "OTLP TLS";
  s.host_header = o.endpoint.HostHeader();
  s.keep_alive = true;
  s.request_timeout = o.request_timeout;
  s.max_response_bytes = kMaxResponseBytes;
  s.backoff = {o.initial_backoff, o.max_backoff, BackoffJitter::kEqual};
  const std::string where = RedactUrl(o.endpoint.url);
  s.lookup_error = "resolving " + o.endpoint.host;
  s.send_error = "sending to " + where;
  s.read_error = "reading the answer of " + where;
  return s;
}

}  // namespace

class OtlpExporter::State : public HttpsSender::Delegate {
 public:
  explicit State(OtlpExporterOptions o) : options(std::move(o)) {}

  // Export's part: queues the span or counts it dropped. True when the sender should look at
  // the queue now (the first span, or a full batch).
  bool Queue(SpanData span);
  // Shutdown's part: what was still queued or in flight is dropped and counted, and nothing is
  // counted after this.
  uint64_t Abandon();
  void CountDropped(uint64_t spans);

  // HttpsSender::Delegate, on the sender's thread.
  HttpsSender::Next NextMessage() override;
  Verdict Judge(const Result<HttpAnswer>& attempt) override;
  void OnGiveUp(const std::string& why) override { FinishBatch(sending_, sending_, why); }
  void OnStopped(const Status& status) override;

  const OtlpExporterOptions options;

  // Shared with Export and Shutdown.
  std::mutex mu;
  std::deque<SpanData> queue;
  size_t in_flight = 0;  // spans of the batch being sent, not yet counted either way
  bool shutdown = false;
  bool abandoned = false;  // Shutdown counted what was left: count nothing more
  bool loop_done = false;
  bool queue_full_logged = false;

  std::atomic<uint64_t> exported{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failed_requests{0};

 private:
  HttpsRequest Request(const std::string& body) const;
  void FinishBatch(size_t spans, uint64_t dropped_spans, const std::string& why);
  std::string Where() const { return RedactUrl(options.endpoint.url); }

  // The sender's thread only.
  std::optional<Clock::time_point> batch_due_;  // when the spans waiting now go out anyway
  size_t sending_ = 0;                          // spans in the batch being sent
  bool failing_ = false;
  uint64_t dropped_while_failing_ = 0;
  bool rejection_logged_ = false;
};

void OtlpExporter::State::CountDropped(uint64_t spans) {
  if (spans == 0) return;
  dropped += spans;
  if (options.on_dropped) options.on_dropped(spans);
}

bool OtlpExporter::State::Queue(SpanData span) {
  bool refused = false;
  bool log_full = false;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (shutdown) {
      refused = true;
    } else if (queue.size() >= options.max_queue_size) {
      refused = true;
      log_full = !queue_full_logged;
      queue_full_logged = true;
    } else {
      queue.push_back(std::move(span));
      wake = queue.size() == 1 || queue.size() >= options.max_export_batch_size;
    }
  }
  if (refused) {
    CountDropped(1);
    if (log_full && options.logger) {
      options.logger->Warn("OTLP export queue full; spans are dropped",
                           {{"max_queue_size", options.max_queue_size}});
    }
  }
  return wake;
}

HttpsSender::Next OtlpExporter::State::NextMessage() {
  const Clock::time_point now = Clock::now();
  std::vector<SpanData> batch;
  {
    std::lock_guard<std::mutex> lock(mu);
    const size_t queued = queue.size();
    if (!shutdown && queued < options.max_export_batch_size) {
      // Nothing queued: sleep until Export wakes the sender. Some: wait out the schedule delay
      // (cut short by a full batch or Shutdown). Every wake-up looks at the queue again.
      if (queued == 0) {
        batch_due_.reset();
        return {};
      }
      if (!batch_due_) batch_due_ = now + options.schedule_delay;
      if (now < *batch_due_) return {std::nullopt, *batch_due_};
    }
    batch_due_.reset();
    const size_t n = std::min(queued, options.max_export_batch_size);
    if (n == 0) return {};  // after Shutdown, the end of the loop
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    in_flight = n;
    if (queue.size() < options.max_queue_size / 2) queue_full_logged = false;
  }
  sending_ = batch.size();
  std::string body = EncodeOtlpJson(options.resource, options.scope, batch);
  HttpsSender::Message message;
  message.deadline = Clock::now() + options.export_timeout;
  message.max_attempts = options.max_attempts;
  message.build = [this, body = std::move(body)]() -> Result<std::optional<HttpsRequest>> {
    return std::optional<HttpsRequest>(Request(body));
  };
  return {std::move(message)};
}

HttpsRequest OtlpExporter::State::Request(const std::string& body) const {
  HttpsRequest r;
  r.method = boost::beast::http::verb::post;
  r.target = options.endpoint.target;
  r.headers = {{"User-Agent", options.user_agent}, {"Content-Type", "application/json"}};
  r.headers.insert(r.headers.end(), options.headers.begin(), options.headers.end());
  r.body = body;
  return r;
}

Verdict OtlpExporter::State::Judge(const Result<HttpAnswer>& attempt) {
  if (attempt.ok()) ++requests;
  if (attempt.ok() && attempt->status >= 200 && attempt->status < 300) {
    uint64_t rejected = 0;
    std::string note;
    if (auto partial = ParseExportTraceResponse(attempt->body)) {
      rejected = std::min<uint64_t>(static_cast<uint64_t>(partial->rejected_spans), sending_);
      note = partial->error_message;
    }
    FinishBatch(sending_, rejected, note);
    return Verdict::Delivered();
  }
  ++failed_requests;
  if (!attempt.ok()) return Verdict::Retry(attempt.error().message);
  const HttpAnswer& answer = *attempt;
  std::string error = Where() + " answered HTTP " + std::to_string(answer.status);
  if (!answer.body.empty()) error += ": " + BodySnippet(answer.body, kErrorBodyChars);
  if (!IsRetryableOtlpStatus(answer.status)) return Verdict::Final(error);
  std::optional<milliseconds> retry_after;
  if (answer.retry_after) {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    retry_after = ParseRetryAfter(*answer.retry_after, now);
  }
  return Verdict::Retry(error, retry_after);
}

void OtlpExporter::State::OnStopped(const Status& status) {
  // Only an allocation failure ends the loop early.
  if (!status.ok() && options.logger) {
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
}

uint64_t OtlpExporter::State::Abandon() {
  uint64_t left;
  {
    std::lock_guard<std::mutex> lock(mu);
    left = abandoned || loop_done ? 0 : queue.size() + in_flight;
    queue.clear();
    in_flight = 0;
    abandoned = true;
  }
  CountDropped(left);
  return left;
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
  auto state = std::make_shared<State>(std::move(options));
  auto sender = HttpsSender::Start(SenderOptions(state->options), state);
  if (!sender) return sender.error();
  std::unique_ptr<OtlpExporter> exporter(new OtlpExporter(state));
  exporter->sender_ = std::move(*sender);
  return exporter;
}

OtlpExporter::OtlpExporter(std::shared_ptr<State> state) : state_(std::move(state)) {}

OtlpExporter::~OtlpExporter() {
  if (!shut_down_) Shutdown(Clock::now());
}

void OtlpExporter::Export(SpanData span) {
  if (state_->Queue(std::move(span))) sender_->Wake();
}

bool OtlpExporter::Shutdown(Clock::time_point deadline) {
  if (shut_down_) return shutdown_result_;
  shut_down_ = true;
  State& s = *state_;
  const uint64_t dropped_before = s.dropped;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.shutdown = true;
  }
  const bool finished = sender_->Shutdown(deadline);
  const uint64_t left = s.Abandon();
  if (left > 0 && s.options.logger) {
    s.options.logger->Warn("OTLP spans not delivered before the exit deadline",
                           {{"endpoint", RedactUrl(s.options.endpoint.url)}, {"spans", left}});
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
