#include "supervisor/modes/slot_result.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ffpod {
namespace {

namespace json = boost::json;

ResultDoc Rerouted() {
  ResultDoc r;
  r.id = "clip-7";
  r.attempt = 1;
  r.status = ResultStatus::kRerouted;
  r.reason = Reason::kOomKilled;
  r.rerouted_to = "highmem";
  r.finished_at = "2026-12-07T22:00:00.000Z";
  return r;
}

const std::string kDocument = R"({"id":"clip-7","args":["-i","a.mp4","b.mp4"],"x":1})";

TEST(SlotResult, ARerouteRequestCarriesTheMoveAndWhatIsRecordedInstead) {
  FinishRequest req = MakeRerouteRequest(
      Rerouted(), {.status = ResultStatus::kRetrying, .delay_s = 2.5}, kDocument, "default", "t1");
  EXPECT_EQ(req.status, "rerouted");
  EXPECT_EQ(req.token, "t1");
  EXPECT_EQ(req.reroute_queue, "highmem");
  json::object result = json::parse(req.result_json).as_object();
  EXPECT_EQ(result.at("status"), "rerouted");
  EXPECT_EQ(result.at("rerouted_to"), "highmem");
  EXPECT_EQ(req.fallback_status, "retrying");
  json::object fallback = json::parse(req.fallback_result_json).as_object();
  EXPECT_EQ(fallback.at("status"), "retrying");
  EXPECT_FALSE(fallback.contains("rerouted_to"));
  EXPECT_EQ(req.delay_ms, 2500);
  json::object move = json::parse(req.reroute_record_json).as_object();
  EXPECT_EQ(move, (json::object{{"reason", "oom_killed"},
                                {"from", "default"},
                                {"to", "highmem"},
                                {"at", "2026-12-07T22:00:00.000Z"}}));
  json::object moved = json::parse(req.reroute_document).as_object();
  EXPECT_EQ(moved.at("x"), 1);
  EXPECT_EQ(moved.at("reroutes"), json::array({move}));
}

TEST(SlotResult, ADeadFallbackCarriesItsDeadEntry) {
  FinishRequest req = MakeRerouteRequest(Rerouted(), {.status = ResultStatus::kDead, .delay_s = {}},
                                         kDocument, "default", "t2");
  EXPECT_EQ(req.fallback_status, "dead");
  json::object entry = json::parse(req.dead_entry_json).as_object();
  EXPECT_EQ(entry.at("job").as_string(), kDocument);
  EXPECT_EQ(entry.at("result").at("status"), "dead");
  EXPECT_EQ(req.delay_ms, 0);
}

}  // namespace
}  // namespace ffpod
