#include "parsers/otlp_json.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "parsers/json_text.h"
#include "parsers/log_format.h"

namespace ffpod {

namespace json = boost::json;

namespace {

constexpr int64_t kMaxSafeJsonInteger = (int64_t{1} << 53) - 1;
constexpr uint32_t kSpanFlagsHasIsRemote = 0x100;
constexpr uint32_t kSpanFlagsIsRemote = 0x200;

json::value Text(std::string_view s) { return json::value(SanitizeUtf8(s)); }

json::value Nanos(uint64_t n) { return json::value(std::to_string(n)); }

json::object ScalarToJson(const AttributeScalar& v) {
  json::object out;
  if (const auto* s = std::get_if<std::string>(&v)) {
    out["stringValue"] = Text(*s);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out["boolValue"] = *b;
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    if (*i >= -kMaxSafeJsonInteger && *i <= kMaxSafeJsonInteger) {
      out["intValue"] = *i;
    } else {
      out["intValue"] = std::to_string(*i);
    }
  } else {
    double d = std::get<double>(v);
    if (std::isnan(d)) {
      out["doubleValue"] = "NaN";
    } else if (std::isinf(d)) {
      out["doubleValue"] = d > 0 ? "Infinity" : "-Infinity";
    } else {
      out["doubleValue"] = d;
    }
  }
  return out;
}

json::object ValueToJson(const AttributeValue& v) {
  if (const auto* array = std::get_if<AttributeArray>(&v)) {
    json::array values;
    values.reserve(array->size());
    for (const auto& e : *array) values.emplace_back(ScalarToJson(e));
    json::object inner;
    inner["values"] = std::move(values);
    json::object out;
    out["arrayValue"] = std::move(inner);
    return out;
  }
  if (const auto* s = std::get_if<std::string>(&v)) return ScalarToJson(*s);
  if (const auto* b = std::get_if<bool>(&v)) return ScalarToJson(*b);
  if (const auto* i = std::get_if<int64_t>(&v)) return ScalarToJson(*i);
  return ScalarToJson(std::get<double>(v));
}

json::array AttributesToJson(const std::vector<KeyValue>& attributes) {
  json::array out;
  out.reserve(attributes.size());
  for (const auto& kv : attributes) {
    json::object item;
    item["key"] = Text(kv.key);
    item["value"] = ValueToJson(kv.value);
    out.emplace_back(std::move(item));
  }
  return out;
}

json::object EventToJson(const SpanEvent& event) {
  json::object out;
  out["attributes"] = AttributesToJson(event.attributes);
  out["name"] = Text(event.name);
  out["timeUnixNano"] = Nanos(event.time_unix_nano);
  out["droppedAttributesCount"] = event.dropped_attributes_count;
  return out;
}

json::object SpanToJson(const SpanData& span) {
  json::object out;
  out["traceId"] = ToHex(span.context.trace_id);
  out["spanId"] = ToHex(span.context.span_id);
  if (span.parent_span_id) out["parentSpanId"] = ToHex(*span.parent_span_id);
  if (!span.context.trace_state.empty()) out["traceState"] = Text(span.context.trace_state);
  out["name"] = Text(span.name);
  out["kind"] = static_cast<int>(span.kind);
  out["startTimeUnixNano"] = Nanos(span.start_time_unix_nano);
  out["endTimeUnixNano"] = Nanos(span.end_time_unix_nano);
  out["attributes"] = AttributesToJson(span.attributes);
  out["droppedAttributesCount"] = span.dropped_attributes_count;
  json::array events;
  events.reserve(span.events.size());
  for (const auto& e : span.events) events.emplace_back(EventToJson(e));
  out["events"] = std::move(events);
  out["droppedEventsCount"] = span.dropped_events_count;
  json::object status;
  status["code"] = static_cast<int>(span.status_code);
  if (span.status_code == SpanStatusCode::kError && !span.status_message.empty()) {
    status["message"] = Text(span.status_message);
  }
  out["status"] = std::move(status);
  out["links"] = json::array();
  out["droppedLinksCount"] = 0;
  out["flags"] = OtlpSpanFlags(span);
  return out;
}

// A non-negative count given as a JSON integer or a decimal string (int64 in the mapping).
std::optional<int64_t> Int64Field(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    return v.get_uint64() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX
                                                             : static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (std::isfinite(d) && d >= 0 && d < 9.2e18) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.is_string()) {
    const json::string& s = v.get_string();
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size()) return n;
  }
  return std::nullopt;
}

}  // namespace

uint32_t OtlpSpanFlags(const SpanData& span) {
  uint32_t flags = span.context.trace_flags | kSpanFlagsHasIsRemote;
  if (span.parent_remote) flags |= kSpanFlagsIsRemote;
  return flags;
}

std::string EncodeOtlpJson(const std::vector<KeyValue>& resource_attributes,
                           const InstrumentationScope& scope, const std::vector<SpanData>& spans) {
  json::object request;
  json::array resource_spans_array;
  if (spans.empty()) {
    request["resourceSpans"] = std::move(resource_spans_array);
    return JsonText(request);
  }
  json::object resource;
  resource["attributes"] = AttributesToJson(resource_attributes);
  resource["droppedAttributesCount"] = 0;

  json::object scope_json;
  scope_json["name"] = Text(scope.name);
  if (!scope.version.empty()) scope_json["version"] = Text(scope.version);

  json::array span_array;
  span_array.reserve(spans.size());
  for (const auto& s : spans) span_array.emplace_back(SpanToJson(s));

  json::object scope_spans;
  scope_spans["scope"] = std::move(scope_json);
  scope_spans["spans"] = std::move(span_array);

  json::object resource_spans;
  resource_spans["resource"] = std::move(resource);
  json::array scope_spans_array;
  scope_spans_array.emplace_back(std::move(scope_spans));
  resource_spans["scopeSpans"] = std::move(scope_spans_array);

  resource_spans_array.emplace_back(std::move(resource_spans));
  request["resourceSpans"] = std::move(resource_spans_array);
  return JsonText(request);
}

std::optional<ExportTraceResponse> ParseExportTraceResponse(std::string_view body) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return ExportTraceResponse{};
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) return std::nullopt;
  ExportTraceResponse out;
  const json::value* partial = root.get_object().if_contains("partialSuccess");
  if (partial == nullptr || partial->is_null()) return out;
  if (!partial->is_object()) return std::nullopt;
  if (const json::value* r = partial->get_object().if_contains("rejectedSpans")) {
    auto n = Int64Field(*r);
    if (!n || *n < 0) return std::nullopt;
    out.rejected_spans = *n;
  }
  if (const json::value* m = partial->get_object().if_contains("errorMessage")) {
    if (m->is_string()) out.error_message = SanitizeUtf8(m->get_string());
  }
  return out;
}

}  // namespace ffpod
