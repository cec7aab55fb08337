#include "parsers/telemetry/otlp_json.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "parsers/common/json_text.h"
#include "parsers/common/text.h"
#include "parsers/telemetry/log_format.h"

namespace ffpod {

namespace json = boost::json;

namespace {

constexpr int64_t kMaxSafeJsonInteger = (int64_t{1} << 53) - 1;
constexpr uint32_t kSpanFlagsHasIsRemote = 0x100;
constexpr uint32_t kSpanFlagsIsRemote = 0x200;

// The encoder writes the JSON text directly (no document tree): one pass, one growing string.

// Appends `s` as a JSON string: valid UTF-8 (invalid bytes become U+FFFD), with the escapes
// Boost.JSON's serializer uses (\" \\ \b \f \n \r \t, other control characters \u00XX).
void AppendString(std::string& out, std::string_view s) {
  bool ascii = std::all_of(
      s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80 && c != '\0'; });
  std::string sanitized;
  if (!ascii) {
    sanitized = SanitizeUtf8(s);
    s = sanitized;
  }
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += LowerHexDigit(c >> 4);
        out += LowerHexDigit(c);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// `"key":` for keys that need no escaping.
void AppendKey(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

void AppendNanos(std::string& out, uint64_t n) {
  out += '"';
  out += std::to_string(n);
  out += '"';
}

void AppendScalar(std::string& out, const AttributeScalar& v) {
  out += '{';
  if (const auto* s = std::get_if<std::string>(&v)) {
    AppendKey(out, "stringValue");
    AppendString(out, *s);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    AppendKey(out, "boolValue");
    out += *b ? "true" : "false";
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    AppendKey(out, "intValue");
    if (*i >= -kMaxSafeJsonInteger && *i <= kMaxSafeJsonInteger) {
      out += std::to_string(*i);
    } else {
      out += '"';
      out += std::to_string(*i);
      out += '"';
    }
  } else {
    AppendKey(out, "doubleValue");
    double d = std::get<double>(v);
    if (std::isnan(d)) {
      out += "\"NaN\"";
    } else if (std::isinf(d)) {
      out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
      AppendJsonText(out, json::value(d));
    }
  }
  out += '}';
}

void AppendValue(std::string& out, const AttributeValue& v) {
  if (const auto* array = std::get_if<AttributeArray>(&v)) {
    out += "{\"arrayValue\":{\"values\":[";
    for (size_t i = 0; i < array->size(); ++i) {
      if (i > 0) out += ',';
      AppendScalar(out, (*array)[i]);
    }
    out += "]}}";
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    AppendScalar(out, *s);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    AppendScalar(out, *b);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    AppendScalar(out, *i);
  } else {
    AppendScalar(out, std::get<double>(v));
  }
}

void AppendAttributes(std::string& out, const std::vector<KeyValue>& attributes) {
  AppendKey(out, "attributes");
  out += '[';
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"key\":";
    AppendString(out, attributes[i].key);
    out += ",\"value\":";
    AppendValue(out, attributes[i].value);
    out += '}';
  }
  out += ']';
}

void AppendEvent(std::string& out, const SpanEvent& event) {
  out += '{';
  AppendAttributes(out, event.attributes);
  out += ',';
  AppendKey(out, "name");
  AppendString(out, event.name);
  out += ',';
  AppendKey(out, "timeUnixNano");
  AppendNanos(out, event.time_unix_nano);
  out += ',';
  AppendKey(out, "droppedAttributesCount");
  out += std::to_string(event.dropped_attributes_count);
  out += '}';
}

void AppendSpan(std::string& out, const SpanData& span) {
  out += '{';
  AppendKey(out, "traceId");
  out += '"' + ToHex(span.context.trace_id) + '"';
  out += ',';
  AppendKey(out, "spanId");
  out += '"' + ToHex(span.context.span_id) + '"';
  if (span.parent_span_id) {
    out += ',';
    AppendKey(out, "parentSpanId");
    out += '"' + ToHex(*span.parent_span_id) + '"';
  }
  if (!span.context.trace_state.empty()) {
    out += ',';
    AppendKey(out, "traceState");
    AppendString(out, span.context.trace_state);
  }
  out += ',';
  AppendKey(out, "name");
  AppendString(out, span.name);
  out += ',';
  AppendKey(out, "kind");
  out += std::to_string(static_cast<int>(span.kind));
  out += ',';
  AppendKey(out, "startTimeUnixNano");
  AppendNanos(out, span.start_time_unix_nano);
  out += ',';
  AppendKey(out, "endTimeUnixNano");
  AppendNanos(out, span.end_time_unix_nano);
  out += ',';
  AppendAttributes(out, span.attributes);
  out += ',';
  AppendKey(out, "droppedAttributesCount");
  out += std::to_string(span.dropped_attributes_count);
  out += ',';
  AppendKey(out, "events");
  out += '[';
  for (size_t i = 0; i < span.events.size(); ++i) {
    if (i > 0) out += ',';
    AppendEvent(out, span.events[i]);
  }
  out += "],";
  AppendKey(out, "droppedEventsCount");
  out += std::to_string(span.dropped_events_count);
  out += ',';
  AppendKey(out, "status");
  out += "{\"code\":";
  out += std::to_string(static_cast<int>(span.status_code));
  if (span.status_code == SpanStatusCode::kError && !span.status_message.empty()) {
    out += ",\"message\":";
    AppendString(out, span.status_message);
  }
  out += "},\"links\":[],\"droppedLinksCount\":0,";
  AppendKey(out, "flags");
  out += std::to_string(OtlpSpanFlags(span));
  out += '}';
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
    if (auto n = ParseInt64(v.get_string())) return n;
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

// 1-18 decimal digits (no sign): always within int64.
std::optional<int64_t> Digits(std::string_view s) {
  if (s.size() > 18) return std::nullopt;
  std::optional<uint64_t> n = ParseUint64(s);
  if (!n) return std::nullopt;
  return static_cast<int64_t>(*n);
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
  value = Trim(value, " \t");
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
  std::string out;
  if (spans.empty()) return "{\"resourceSpans\":[]}";
  out.reserve(512 + spans.size() * 1024);
  out += "{\"resourceSpans\":[{\"resource\":{";
  AppendAttributes(out, resource_attributes);
  out += ",\"droppedAttributesCount\":0},\"scopeSpans\":[{\"scope\":{\"name\":";
  AppendString(out, scope.name);
  if (!scope.version.empty()) {
    out += ",\"version\":";
    AppendString(out, scope.version);
  }
  out += "},\"spans\":[";
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out += ',';
    AppendSpan(out, spans[i]);
  }
  out += "]}]}]}";
  return out;
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
