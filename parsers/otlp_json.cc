#include "parsers/otlp_json.h"

#include <algorithm>
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

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> Digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" -> Unix seconds.
std::optional<int64_t> ParseImfFixdate(std::string_view v) {
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29 || v.substr(3, 2) != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
      v[19] != ':' || v[22] != ':' || v.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (std::find(std::begin(kDays), std::end(kDays), v.substr(0, 3)) == std::end(kDays)) {
    return std::nullopt;
  }
  auto month = std::find(std::begin(kMonths), std::end(kMonths), v.substr(8, 3));
  if (month == std::end(kMonths)) return std::nullopt;
  auto day = Digits(v.substr(5, 2)), year = Digits(v.substr(12, 4)), hour = Digits(v.substr(17, 2)),
       minute = Digits(v.substr(20, 2)), second = Digits(v.substr(23, 2));
  if (!day || !year || !hour || !minute || !second || *day < 1 || *day > 31 || *hour > 23 ||
      *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  unsigned m = static_cast<unsigned>(month - std::begin(kMonths)) + 1;
  return DaysFromCivil(*year, m, static_cast<unsigned>(*day)) * 86400 + *hour * 3600 +
         *minute * 60 + *second;
}

}  // namespace

bool IsRetryableOtlpStatus(int http_status) {
  return http_status == 429 || http_status == 502 || http_status == 503 || http_status == 504;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         int64_t now_unix_seconds) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (auto seconds = Digits(value)) {
    constexpr int64_t kMaxSeconds = 365LL * 24 * 3600;  // beyond any deadline ffpod has
    return std::chrono::seconds(std::min(*seconds, kMaxSeconds));
  }
  if (auto when = ParseImfFixdate(value)) {
    return std::chrono::seconds(std::max<int64_t>(0, *when - now_unix_seconds));
  }
  return std::nullopt;
}

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
