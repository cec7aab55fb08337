#include "parsers/documents/dead_entry.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "parsers/telemetry/log_format.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;

DeadFilter Filter(std::string id, std::string reason, std::optional<int64_t> older_than_s) {
  DeadFilter f;
  f.id = std::move(id);
  f.reason = std::move(reason);
  f.older_than_s = older_than_s;
  return f;
}

std::string Entry(const std::string& job_json_string, const std::string& result) {
  return "{\"job\":" + job_json_string + ",\"result\":" + result + "}";
}

TEST(DeadEntry, ReadsTheEntryAWorkerWrites) {
  std::string raw = Entry(
      R"("{\"id\":\"clip-1\",\"args\":[\"-i\",\"in.mp4\",\"out.mp4\"]}")",
      R"({"id":"clip-1","attempt":3,"status":"dead","reason":"network","message":"Connection refused","finished_at":"2026-12-01T10:00:00.000Z"})");
  auto e = ParseDeadEntry(raw);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->raw, raw);
  EXPECT_EQ(e->id, "clip-1");
  EXPECT_EQ(e->document, R"({"id":"clip-1","args":["-i","in.mp4","out.mp4"]})");
  EXPECT_EQ(e->reason, "network");
  EXPECT_EQ(e->message, "Connection refused");
  EXPECT_EQ(e->attempts, 3);
  EXPECT_EQ(e->dead_at, "2026-12-01T10:00:00.000Z");
  EXPECT_EQ(boost::json::serialize(DeadSummary(*e)),
            R"({"id":"clip-1","reason":"network","message":"Connection refused","attempts":3,)"
            R"("dead_at":"2026-12-01T10:00:00.000Z"})");
  auto whole = DeadEntryDocument(*e);
  EXPECT_EQ(whole.at("job").at("args").at(1).as_string(), "in.mp4");
  EXPECT_EQ(whole.at("result").at("attempt").as_int64(), 3);
}

TEST(DeadEntry, ABadJobKeepsItsDocumentAsText) {
  // A malformed document: the result has no id, the document is not JSON.
  auto e = ParseDeadEntry(
      Entry(R"("{not json")", R"({"id":"","attempt":0,"reason":"bad_job","finished_at":null})"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "");
  EXPECT_EQ(e->reason, "bad_job");
  EXPECT_FALSE(e->dead_at_time.has_value());
  EXPECT_EQ(DeadEntryDocument(*e).at("job").as_string(), "{not json");
  EXPECT_TRUE(DeadSummary(*e).at("dead_at").is_null());
  // The id comes from the document when the result has none.
  auto from_doc = ParseDeadEntry(Entry(R"("{\"id\":\"x-1\",\"args\":7}")", R"({"id":null})"));
  ASSERT_TRUE(from_doc.has_value());
  EXPECT_EQ(from_doc->id, "x-1");
}

TEST(DeadEntry, NotAnEntry) {
  for (const char* raw : {"", "[]", "{}", "{\"job\":7}", "{\"job\":\"x\"", "nope"}) {
    EXPECT_FALSE(ParseDeadEntry(raw).has_value()) << raw;
  }
}

TEST(DeadEntry, FiltersByIdReasonAndAge) {
  auto now = *ParseTimestamp("2026-12-07T12:00:00Z");
  auto e = *ParseDeadEntry(Entry(
      R"("{\"id\":\"a\"}")",
      R"({"id":"a","attempt":1,"reason":"timeout","finished_at":"2026-12-07T10:00:00.000Z"})"));
  EXPECT_TRUE(MatchesDeadFilter(e, DeadFilter(), now));
  EXPECT_TRUE(MatchesDeadFilter(e, Filter("a", "", std::nullopt), now));
  EXPECT_FALSE(MatchesDeadFilter(e, Filter("b", "", std::nullopt), now));
  EXPECT_TRUE(MatchesDeadFilter(e, Filter("", "timeout", std::nullopt), now));
  EXPECT_FALSE(MatchesDeadFilter(e, Filter("", "network", std::nullopt), now));
  EXPECT_TRUE(MatchesDeadFilter(e, Filter("", "", 7200), now));  // exactly 2 h old
  EXPECT_FALSE(MatchesDeadFilter(e, Filter("", "", 7201), now));
  EXPECT_TRUE(MatchesDeadFilter(e, Filter("a", "timeout", 60), now));
  EXPECT_FALSE(MatchesDeadFilter(e, Filter("a", "network", 60), now));
  // No readable time: never chosen by age.
  auto untimed = *ParseDeadEntry(Entry(R"("{}")", R"({"id":"u","finished_at":"soon"})"));
  EXPECT_FALSE(MatchesDeadFilter(untimed, Filter("", "", 0), now));
  EXPECT_TRUE(MatchesDeadFilter(untimed, Filter("u", "", std::nullopt), now));
}

}  // namespace
}  // namespace ffpod
