#include "parsers/telemetry/log_format.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ffpod {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

const system_clock::time_point kTs = system_clock::time_point(milliseconds(1795463387123));

TEST(SanitizeUtf8, KeepsValidText) {
  EXPECT_EQ(SanitizeUtf8("plain"), "plain");
  EXPECT_EQ(SanitizeUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\xA5"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8E\xA5");
}

TEST(SanitizeUtf8, ReplacesInvalidBytes) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8(std::string_view("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xC3"), "\xEF\xBF\xBD");                  // truncated sequence
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(FormatTimestamp, Rfc3339WithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(kTs), "2026-11-23T19:49:47.123Z");
  EXPECT_EQ(FormatTimestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(ParseTimestamp, Rfc3339RoundTrip) {
  EXPECT_EQ(ParseTimestamp(FormatTimestamp(kTs)), kTs);
  EXPECT_EQ(ParseTimestamp("2026-11-23T19:49:47Z"), kTs - milliseconds(123));
  EXPECT_EQ(ParseTimestamp("2026-11-23T19:49:47.123456+00:00"),
            kTs + std::chrono::microseconds(456));
  for (const char* bad : {"", "2026-11-23", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-23T19:49:47+02:00", "2026-11-23T19:49:47.Z", "garbage"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

TEST(FormatLogRecord, JsonLineWithFieldsInOrder) {
  boost::json::object fields;
  fields["job_id"] = "clip-42";
  fields["attempt"] = 2;
  std::string line =
      FormatLogRecord(LogFormat::kJson, kTs, Severity::kWarning, "ffmpeg stalled", fields);
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-23T19:49:47.123Z\",\"level\":\"warning\",\"msg\":\"ffmpeg "
            "stalled\",\"job_id\":\"clip-42\",\"attempt\":2}\n");
}

TEST(FormatLogRecord, JsonStaysValidForBinaryNoise) {
  boost::json::object fields;
  fields["line"] = std::string("\x01\xFE\xFF\n\"x", 6);
  std::string line = FormatLogRecord(LogFormat::kJson, kTs, Severity::kInfo, "\xFF", fields);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  ASSERT_FALSE(ec) << line;
  EXPECT_EQ(v.at("msg").as_string(), "\xEF\xBF\xBD");
  EXPECT_EQ(v.at("line").as_string(), "\x01\xEF\xBF\xBD\xEF\xBF\xBD\n\"x");
}

TEST(FormatLogRecord, TextForPeople) {
  boost::json::object fields;
  fields["job_id"] = "clip-42";
  fields["path"] = "a b.mp4";
  fields["percent"] = 12.5;
  EXPECT_EQ(FormatLogRecord(LogFormat::kText, kTs, Severity::kInfo, "progress", fields),
            "2026-11-23T19:49:47.123Z INFO progress job_id=clip-42 path=\"a b.mp4\" "
            "percent=12.5\n");
}

}  // namespace
}  // namespace ffpod
