// Finished spans and their OTLP/HTTP JSON encoding: the body of `POST /v1/traces` with
// `Content-Type: application/json`, an `ExportTraceServiceRequest` in the protobuf JSON mapping,
// written field for field as the official OpenTelemetry JS exporter (`@opentelemetry/
// otlp-transformer`'s JsonTraceSerializer) writes it, so every OTLP receiver that accepts that
// exporter accepts ffpod:
//
//   {"resourceSpans":[{"resource":{"attributes":[...],"droppedAttributesCount":0},
//     "scopeSpans":[{"scope":{"name":"ffpod","version":"0.1.0"},"spans":[
//       {"traceId":"<32 lowercase hex>","spanId":"<16 hex>","parentSpanId":"<16 hex>",
//        "traceState":"k=v","name":"ffmpeg","kind":1,
//        "startTimeUnixNano":"1767225600000000000","endTimeUnixNano":"...",
//        "attributes":[{"key":"k","value":{"stringValue":"v"}}],"droppedAttributesCount":0,
//        "events":[{"attributes":[],"name":"stall","timeUnixNano":"...",
//                   "droppedAttributesCount":0}],"droppedEventsCount":0,
//        "status":{"code":2,"message":"..."},"links":[],"droppedLinksCount":0,"flags":769}]}]}]}
//
// Ids are lowercase hex; times are decimal strings of Unix nanoseconds; `kind` and
// `status.code` are the protobuf enum numbers; `parentSpanId` is absent on a root span and
// `traceState` when there is none; `status.message` is sent with ERROR only; `flags` holds the
// W3C trace flags plus the OTLP "has is_remote" bit (0x100) and, for a span whose parent came
// from another process, "is_remote" (0x200). Attribute values: `stringValue`, `boolValue`,
// `intValue` (a JSON number; beyond +-(2^53-1), where a JSON number loses precision, the
// decimal string the mapping also allows), `doubleValue` (shortest round-trip decimal;
// non-finite values as the mapping's "NaN", "Infinity", "-Infinity"), `arrayValue`.
// Strings are made valid UTF-8 (invalid bytes become U+FFFD).
//
// Pure; thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "parsers/telemetry/trace_context.h"

namespace ffpod {

using AttributeScalar = std::variant<std::string, bool, int64_t, double>;
using AttributeArray = std::vector<AttributeScalar>;  // homogeneous, as OpenTelemetry requires
using AttributeValue = std::variant<std::string, bool, int64_t, double, AttributeArray>;

// One attribute. The constructors pick the value's type from the argument's: text is a string,
// `bool` a bool, any other integer an int (unsigned values above INT64_MAX saturate), floating
// point a double.
struct KeyValue {
  std::string key;
  AttributeValue value;

  KeyValue(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  KeyValue(std::string k, std::string_view v) : key(std::move(k)), value(std::string(v)) {}
  KeyValue(std::string k, const char* v) : key(std::move(k)), value(std::string(v)) {}
  KeyValue(std::string k, bool v) : key(std::move(k)), value(v) {}
  KeyValue(std::string k, double v) : key(std::move(k)), value(v) {}
  KeyValue(std::string k, AttributeArray v) : key(std::move(k)), value(std::move(v)) {}
  KeyValue(std::string k, AttributeValue v) : key(std::move(k)), value(std::move(v)) {}
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  KeyValue(std::string k, T v) : key(std::move(k)), value(SaturatingInt(v)) {}

  bool operator==(const KeyValue&) const = default;

 private:
  template <typename T>
  static int64_t SaturatingInt(T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      return v > static_cast<T>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
    } else {
      return static_cast<int64_t>(v);
    }
  }
};

// OTLP Span.SpanKind (the protobuf numbers).
enum class SpanKind : int {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};

// OTLP Status.StatusCode.
enum class SpanStatusCode : int { kUnset = 0, kOk = 1, kError = 2 };

struct SpanEvent {
  std::string name;
  uint64_t time_unix_nano = 0;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
};

// One finished span.
struct SpanData {
  SpanContext context;                   // trace id, span id, flags, tracestate
  std::optional<SpanId> parent_span_id;  // absent for a root span
  bool parent_remote = false;            // the parent came from another process
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  std::vector<KeyValue> attributes;
  uint32_t dropped_attributes_count = 0;
  std::vector<SpanEvent> events;
  uint32_t dropped_events_count = 0;
  SpanStatusCode status_code = SpanStatusCode::kUnset;
  std::string status_message;  // sent with kError only
};

// The instrumentation scope of every ffpod span (InstrumentationScope name and version).
struct InstrumentationScope {
  std::string name;
  std::string version;  // omitted when empty
};

// The `flags` field of a span: W3C trace flags | 0x100 | (parent_remote ? 0x200 : 0).
uint32_t OtlpSpanFlags(const SpanData& span);

// The ExportTraceServiceRequest for `spans` (one resource, one scope), as JSON text.
std::string EncodeOtlpJson(const std::vector<KeyValue>& resource_attributes,
                           const InstrumentationScope& scope, const std::vector<SpanData>& spans);

// What an OTLP/HTTP JSON receiver answered with 2xx: ExportTraceServiceResponse's
// `partialSuccess` (absent or zero when everything was accepted).
struct ExportTraceResponse {
  int64_t rejected_spans = 0;
  std::string error_message;
};

// Parses a 2xx response body (empty, `{}`, or with `partialSuccess`; `rejectedSpans` as a
// number or a decimal string). A body that is not such JSON (e.g. a proxy's HTML page) yields
// nullopt: the caller treats it as accepted.
std::optional<ExportTraceResponse> ParseExportTraceResponse(std::string_view body);

// OTLP/HTTP's retryable answers: 429, 502, 503 and 504. Every other non-2xx status drops the
// batch.
bool IsRetryableOtlpStatus(int http_status);

// The wait a `Retry-After` header asks for, given the current Unix time: delta-seconds
// ("120") or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"; a date in the past is zero).
// nullopt when the value is neither.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         int64_t now_unix_seconds);

}  // namespace ffpod
