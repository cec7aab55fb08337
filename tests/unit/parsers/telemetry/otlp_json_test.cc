#include "parsers/telemetry/otlp_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace ffpod {
namespace {

namespace json = boost::json;

SpanData JobSpan() {
  SpanData s;
  s.context = *ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                "congo=t61rcWkgMzE");
  s.parent_span_id = s.context.span_id;
  s.parent_remote = true;
  s.context = ChildContext(s.context, *SpanIdFromHex("1a2b3c4d5e6f7081"));
  s.name = "ffpod.job";
  s.kind = SpanKind::kConsumer;
  s.start_time_unix_nano = 1767225600123456789ULL;
  s.end_time_unix_nano = 1767225612000000001ULL;
  s.attributes = {
      {"ffpod.job.id", "clip-42"}, {"ffpod.job.attempt", 2}, {"speed", 2.5}, {"ok", false}};
  SpanEvent e;
  e.name = "progress";
  e.time_unix_nano = 1767225603000000000ULL;
  e.attributes = {{"ffpod.progress.percent", 25}};
  s.events.push_back(e);
  s.status_code = SpanStatusCode::kError;
  s.status_message = "disk_full: No space left on device";
  return s;
}

TEST(OtlpJson, ExactRequestText) {
  SpanData root;
  root.context = NewRootContext(*TraceIdFromHex("0af7651916cd43dd8448eb211c80319c"),
                                *SpanIdFromHex("b7ad6b7169203331"));
  root.name = "root";
  root.start_time_unix_nano = 1;
  root.end_time_unix_nano = 2;
  root.status_code = SpanStatusCode::kOk;
  root.status_message = "not sent with OK";

  std::string got = EncodeOtlpJson({{"service.name", "ffpod"}, {"process.pid", 42}},
                                   {"ffpod", "0.1.0"}, {JobSpan(), root});
  std::string want =
      R"({"resourceSpans":[{"resource":{"attributes":[)"
      R"({"key":"service.name","value":{"stringValue":"ffpod"}},)"
      R"({"key":"process.pid","value":{"intValue":42}}],"droppedAttributesCount":0},)"
      R"("scopeSpans":[{"scope":{"name":"ffpod","version":"0.1.0"},"spans":[)"
      R"({"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"1a2b3c4d5e6f7081",)"
      R"("parentSpanId":"00f067aa0ba902b7","traceState":"congo=t61rcWkgMzE","name":"ffpod.job",)"
      R"("kind":5,"startTimeUnixNano":"1767225600123456789","endTimeUnixNano":"1767225612000000001",)"
      R"("attributes":[{"key":"ffpod.job.id","value":{"stringValue":"clip-42"}},)"
      R"({"key":"ffpod.job.attempt","value":{"intValue":2}},)"
      R"({"key":"speed","value":{"doubleValue":2.5}},{"key":"ok","value":{"boolValue":false}}],)"
      R"("droppedAttributesCount":0,"events":[{"attributes":[{"key":"ffpod.progress.percent",)"
      R"("value":{"intValue":25}}],"name":"progress","timeUnixNano":"1767225603000000000",)"
      R"("droppedAttributesCount":0}],"droppedEventsCount":0,)"
      R"("status":{"code":2,"message":"disk_full: No space left on device"},"links":[],)"
      R"("droppedLinksCount":0,"flags":769},)"
      R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"root",)"
      R"("kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[],)"
      R"("droppedAttributesCount":0,"events":[],"droppedEventsCount":0,"status":{"code":1},)"
      R"("links":[],"droppedLinksCount":0,"flags":257}]}]}]})";
  EXPECT_EQ(got, want);
}

TEST(OtlpJson, NoSpansIsAnEmptyRequest) {
  EXPECT_EQ(EncodeOtlpJson({{"service.name", "ffpod"}}, {"ffpod", ""}, {}),
            R"({"resourceSpans":[]})");
}

TEST(OtlpJson, ScopeVersionOmittedWhenEmpty) {
  std::string got = EncodeOtlpJson({}, {"ffpod", ""}, {JobSpan()});
  EXPECT_NE(got.find(R"("scope":{"name":"ffpod"},"spans")"), std::string::npos) << got;
  EXPECT_NE(got.find(R"("resource":{"attributes":[],"droppedAttributesCount":0})"),
            std::string::npos);
}

// The value object of the one attribute of an encoded span.
json::object EncodedValue(const KeyValue& kv) {
  SpanData s = JobSpan();
  s.attributes = {kv};
  json::value doc = json::parse(EncodeOtlpJson({}, {"ffpod", ""}, {s}));
  return doc.at("resourceSpans")
      .at(0)
      .at("scopeSpans")
      .at(0)
      .at("spans")
      .at(0)
      .at("attributes")
      .at(0)
      .at("value")
      .as_object();
}

std::string EncodedValueText(const KeyValue& kv) {
  SpanData s = JobSpan();
  s.attributes = {kv};
  std::string body = EncodeOtlpJson({}, {"ffpod", ""}, {s});
  size_t at = body.find(R"("value":)");
  size_t end = body.find(R"(}],"droppedAttributesCount")", at);
  return body.substr(at + 8, end - at - 8);
}

TEST(OtlpJson, IntegersAreNumbersWhileExactElseDecimalStrings) {
  constexpr int64_t kSafe = (int64_t{1} << 53) - 1;
  EXPECT_EQ(EncodedValueText({"k", kSafe}), R"({"intValue":9007199254740991})");
  EXPECT_EQ(EncodedValueText({"k", -kSafe}), R"({"intValue":-9007199254740991})");
  EXPECT_EQ(EncodedValueText({"k", kSafe + 1}), R"({"intValue":"9007199254740992"})");
  EXPECT_EQ(EncodedValueText({"k", std::numeric_limits<int64_t>::min()}),
            R"({"intValue":"-9223372036854775808"})");
  EXPECT_EQ(EncodedValueText({"k", uint64_t{18446744073709551615ULL}}),
            R"({"intValue":"9223372036854775807"})");
  EXPECT_EQ(EncodedValueText({"k", 0}), R"({"intValue":0})");
  EXPECT_EQ(EncodedValueText({"k", size_t{7}}), R"({"intValue":7})");
}

TEST(OtlpJson, DoublesShortestAndNonFiniteAsMappingStrings) {
  EXPECT_EQ(EncodedValueText({"k", 0.1}), R"({"doubleValue":0.1})");
  EXPECT_EQ(EncodedValueText({"k", 12.5}), R"({"doubleValue":12.5})");
  EXPECT_EQ(EncodedValueText({"k", 2.0}), R"({"doubleValue":2})");
  EXPECT_EQ(EncodedValueText({"k", 1e-7}), R"({"doubleValue":1e-07})");
  EXPECT_EQ(EncodedValueText({"k", std::nan("")}), R"({"doubleValue":"NaN"})");
  EXPECT_EQ(EncodedValueText({"k", std::numeric_limits<double>::infinity()}),
            R"({"doubleValue":"Infinity"})");
  EXPECT_EQ(EncodedValueText({"k", -std::numeric_limits<double>::infinity()}),
            R"({"doubleValue":"-Infinity"})");
  EXPECT_EQ(EncodedValue({"k", 1e300}).at("doubleValue").as_double(), 1e300);
}

TEST(OtlpJson, TextBoolAndArrays) {
  EXPECT_EQ(EncodedValueText({"k", true}), R"({"boolValue":true})");
  EXPECT_EQ(EncodedValueText({"k", std::string("a\"b\\c\n")}), R"({"stringValue":"a\"b\\c\n"})");
  EXPECT_EQ(EncodedValueText({"k", std::string_view("view")}), R"({"stringValue":"view"})");
  EXPECT_EQ(EncodedValueText({"k", AttributeArray{std::string("-i"), std::string("in.mp4")}}),
            R"({"arrayValue":{"values":[{"stringValue":"-i"},{"stringValue":"in.mp4"}]}})");
  EXPECT_EQ(EncodedValueText({"k", AttributeArray{int64_t{1}, int64_t{2}}}),
            R"({"arrayValue":{"values":[{"intValue":1},{"intValue":2}]}})");
  EXPECT_EQ(EncodedValueText({"k", AttributeArray{}}), R"({"arrayValue":{"values":[]}})");
}

TEST(OtlpJson, StringEscapes) {
  const std::string text = "q\" b\\ \b\f\n\r\t \x01\x1f \x7f / caf\xc3\xa9";
  EXPECT_EQ(EncodedValueText({"k", text}),
            "{\"stringValue\":\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f \x7f / caf\xc3\xa9\"}");
  EXPECT_EQ(EncodedValue({"k", text}).at("stringValue").as_string(), text);
  // NUL is not kept (as in ffpod's logs): it becomes U+FFFD.
  EXPECT_EQ(EncodedValue({"k", std::string("a\0b", 3)}).at("stringValue").as_string(),
            "a\xef\xbf\xbd"
            "b");
}

TEST(OtlpJson, InvalidUtf8BecomesReplacementCharacter) {
  json::object v = EncodedValue({"k", std::string("caf\xe9 \xff")});
  EXPECT_EQ(v.at("stringValue").as_string(), "caf\xef\xbf\xbd \xef\xbf\xbd");
  SpanData s = JobSpan();
  s.name = "bad\xc3";
  s.status_message = "x\x80y";
  std::string body = EncodeOtlpJson({{"k\xfe", "v"}}, {"ffpod", ""}, {s});
  json::value doc = json::parse(body);  // valid JSON
  const json::value& span = doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("name").as_string(), "bad\xef\xbf\xbd");
  EXPECT_EQ(span.at("status").at("message").as_string(), "x\xef\xbf\xbdy");
  EXPECT_EQ(doc.at("resourceSpans").at(0).at("resource").at("attributes").at(0).at("key"),
            "k\xef\xbf\xbd");
}

TEST(OtlpJson, StatusMessageWithErrorOnly) {
  SpanData s = JobSpan();
  s.status_code = SpanStatusCode::kUnset;
  EXPECT_NE(EncodeOtlpJson({}, {"ffpod", ""}, {s}).find(R"("status":{"code":0})"),
            std::string::npos);
  s.status_code = SpanStatusCode::kError;
  s.status_message.clear();
  EXPECT_NE(EncodeOtlpJson({}, {"ffpod", ""}, {s}).find(R"("status":{"code":2})"),
            std::string::npos);
}

TEST(OtlpJson, Flags) {
  SpanData s = JobSpan();
  EXPECT_EQ(OtlpSpanFlags(s), 0x301u);
  s.parent_remote = false;
  EXPECT_EQ(OtlpSpanFlags(s), 0x101u);
  s.context.trace_flags = 0;
  EXPECT_EQ(OtlpSpanFlags(s), 0x100u);
}

TEST(OtlpJson, DroppedCountsAndEventOrder) {
  SpanData s = JobSpan();
  s.dropped_attributes_count = 3;
  s.dropped_events_count = 4;
  s.events.push_back({"stall", 1767225604000000000ULL, {}, 2});
  json::value doc = json::parse(EncodeOtlpJson({}, {"ffpod", ""}, {s}));
  const json::value& span = doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("droppedAttributesCount").as_int64(), 3);
  EXPECT_EQ(span.at("droppedEventsCount").as_int64(), 4);
  ASSERT_EQ(span.at("events").as_array().size(), 2u);
  EXPECT_EQ(span.at("events").at(1).at("name"), "stall");
  EXPECT_EQ(span.at("events").at(1).at("droppedAttributesCount").as_int64(), 2);
  EXPECT_EQ(span.at("events").at(1).at("attributes").as_array().size(), 0u);
}

TEST(OtlpJson, ResponseParsing) {
  auto r = ParseExportTraceResponse("");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rejected_spans, 0);
  r = ParseExportTraceResponse("{}");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rejected_spans, 0);
  r = ParseExportTraceResponse(R"({"partialSuccess":{}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rejected_spans, 0);
  r = ParseExportTraceResponse(
      R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"span too large"}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rejected_spans, 3);
  EXPECT_EQ(r->error_message, "span too large");
  r = ParseExportTraceResponse(R"({"partialSuccess":{"rejectedSpans":5}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rejected_spans, 5);
  EXPECT_FALSE(ParseExportTraceResponse("<html>ok</html>").has_value());
  EXPECT_FALSE(ParseExportTraceResponse(R"({"partialSuccess":{"rejectedSpans":"x"}})"));
  EXPECT_FALSE(ParseExportTraceResponse(R"({"partialSuccess":{"rejectedSpans":-1}})"));
  EXPECT_FALSE(ParseExportTraceResponse(R"({"partialSuccess":7})"));
}

TEST(OtlpJson, RetryableStatuses) {
  for (int s : {429, 502, 503, 504}) EXPECT_TRUE(IsRetryableOtlpStatus(s)) << s;
  for (int s : {200, 400, 401, 403, 404, 408, 413, 500, 501, 505}) {
    EXPECT_FALSE(IsRetryableOtlpStatus(s)) << s;
  }
}

TEST(OtlpJson, RetryAfter) {
  using std::chrono::milliseconds;
  constexpr int64_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("0", 0), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter(" 3 ", 0), milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter("120", 0), milliseconds(120000));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample - 7), milliseconds(7000));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample + 100), milliseconds(0));
  // 2026-01-01T00:00:00Z is 1767225600.
  EXPECT_EQ(ParseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", 1767225600), milliseconds(10000));
  EXPECT_EQ(ParseRetryAfter("Sun, 29 Feb 2032 12:00:00 GMT", 1961668800 - 1), milliseconds(1000));
  // Huge values are capped at a year; anything else is not a Retry-After.
  EXPECT_EQ(ParseRetryAfter("999999999999", 0), milliseconds(365LL * 24 * 3600 * 1000));
  for (const char* bad : {"", "-1", "1.5", "soon", "Sunday, 06-Nov-94 08:49:37 GMT",
                          "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
                          "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT"}) {
    EXPECT_FALSE(ParseRetryAfter(bad, 0).has_value()) << bad;
  }
}

}  // namespace
}  // namespace ffpod
