#include "parsers/documents/group_status.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ffpod {
namespace {

TEST(GroupStatusDocument, CountsMembersSortedAndTheOutcome) {
  HashFieldList group = {{"total", "3"},
                         {"succeeded", "2"},
                         {"dead", "1"},
                         {"running", "0"},
                         {"created_at", "2026-12-07T23:00:00.000Z"},
                         {"outcome", "partial"},
                         {"finished_at", "2026-12-07T23:01:00.000Z"},
                         {"result", R"({"id":"g","status":"partial"})"}};
  HashFieldList members = {
      {"r-2", R"({"state":"dead","reason":"input_missing","attempt":1,"finished_at":"t2"})"},
      {"r-1", R"({"state":"succeeded","reason":"ok","attempt":2,"finished_at":"t1"})"},
      {"r-3", "not json"}};
  auto doc = GroupStatusDocument("g", "ffpod", group, members);
  EXPECT_EQ(doc.at("id").as_string(), "g");
  EXPECT_EQ(doc.at("queue").as_string(), "ffpod");
  EXPECT_EQ(doc.at("outcome").as_string(), "partial");
  EXPECT_EQ(doc.at("total").as_int64(), 3);
  EXPECT_EQ(boost::json::serialize(doc.at("counts")),
            R"({"pending":0,"running":0,"delayed":0,"succeeded":2,"dead":1,"cancelled":0})");
  const auto& list = doc.at("members").as_array();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(boost::json::serialize(list[0]),
            R"({"id":"r-1","state":"succeeded","reason":"ok","attempt":2,"finished_at":"t1"})");
  EXPECT_EQ(list[1].at("reason").as_string(), "input_missing");
  EXPECT_TRUE(list[2].at("state").is_null());  // an unreadable record is shown, not dropped
  EXPECT_EQ(doc.at("result").at("status").as_string(), "partial");
  EXPECT_EQ(doc.at("reopened").as_int64(), 0);
  EXPECT_TRUE(doc.at("updated_at").is_null());
}

TEST(GroupStatusDocument, AnOpenGroupHasNoOutcomeOrResult) {
  auto doc = GroupStatusDocument("g", "q", {{"total", "1"}, {"pending", "1"}},
                                 {{"a", R"({"state":"pending"})"}});
  EXPECT_TRUE(doc.at("outcome").is_null());
  EXPECT_TRUE(doc.at("result").is_null());
  EXPECT_EQ(doc.at("counts").at("pending").as_int64(), 1);
  EXPECT_TRUE(doc.at("members").at(0).at("finished_at").is_null());
}

}  // namespace
}  // namespace ffpod
