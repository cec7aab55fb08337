// What ffprobe tells of an input, read for the audit trail: recordings of the real ffprobe 4.3,
// 5.1 and 9.0 on one file (tests/fixtures/probe/README.md), and the shapes a hostile or odd
// file makes it print.
#include "parsers/documents/probe_facts.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

namespace json = boost::json;

class RecordedInputFacts : public ::testing::TestWithParam<const char*> {};

TEST_P(RecordedInputFacts, EveryFactOfTheFile) {
  std::string text = testing::ReadFile(
      testing::FixturePath(std::string("probe/") + GetParam() + "-input-facts.json"));
  auto probe = ParseInputProbe(text);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->format, "mov,mp4,m4a,3gp,3g2,mj2");
  ASSERT_TRUE(probe->duration_s);
  EXPECT_DOUBLE_EQ(*probe->duration_s, 2.002);
  EXPECT_EQ(probe->bit_rate, 925322);
  ASSERT_EQ(probe->streams.size(), 2u);
  const ProbedStream& v = probe->streams[0];
  EXPECT_EQ(v.index, 0);
  EXPECT_EQ(v.type, "video");
  EXPECT_EQ(v.codec, "h264");
  EXPECT_EQ(v.profile, "Constrained Baseline");
  EXPECT_EQ(v.width, 320);
  EXPECT_EQ(v.height, 240);
  EXPECT_EQ(v.pix_fmt, "yuv420p");
  EXPECT_EQ(v.frame_rate, 29.97);  // 30000/1001, to the millisecond frame
  EXPECT_EQ(v.bit_rate, 783572);
  const ProbedStream& a = probe->streams[1];
  EXPECT_EQ(a.index, 1);
  EXPECT_EQ(a.type, "audio");
  EXPECT_EQ(a.codec, "aac");
  EXPECT_EQ(a.channels, 2);
  EXPECT_EQ(a.sample_rate, 48000);
  EXPECT_EQ(a.channel_layout, "stereo");
  EXPECT_EQ(a.frame_rate, std::nullopt);  // "0/0"
  EXPECT_EQ(a.bit_rate, 127974);
}

INSTANTIATE_TEST_SUITE_P(Ffprobe, RecordedInputFacts, ::testing::Values("ff4.3", "ff5.1", "ff9.0"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

TEST(InputProbeJson, OnlyTheKeysAStreamsTypeHas) {
  auto probe =
      ParseInputProbe(testing::ReadFile(testing::FixturePath("probe/ff5.1-input-facts.json")));
  ASSERT_TRUE(probe);
  EXPECT_EQ(
      json::serialize(InputProbeJson(*probe)),
      R"({"format":"mov,mp4,m4a,3gp,3g2,mj2","duration_s":2.002E0,"bit_rate":925322,)"
      R"("streams":[{"index":0,"type":"video","codec":"h264","profile":"Constrained Baseline",)"
      R"("width":320,"height":240,"pix_fmt":"yuv420p","frame_rate":2.997E1,"bit_rate":783572},)"
      R"({"index":1,"type":"audio","codec":"aac","profile":"LC","channels":2,)"
      R"("sample_rate":48000,"channel_layout":"stereo","bit_rate":127974}]})");
}

// ffprobe's JSON writer leaves out what is N/A: an unknown stays unknown, never 0.
TEST(ParseInputProbe, WhatFfprobeLeavesOutStaysUnknown) {
  auto probe =
      ParseInputProbe(R"({"streams":[{"index":0,"codec_type":"video","avg_frame_rate":"0/0"},)"
                      R"({"index":1,"codec_type":"data"}],"format":{"format_name":"mpegts"}})");
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->duration_s, std::nullopt);
  EXPECT_EQ(probe->bit_rate, std::nullopt);
  ASSERT_EQ(probe->streams.size(), 2u);
  EXPECT_EQ(probe->streams[0].width, std::nullopt);
  EXPECT_EQ(probe->streams[0].frame_rate, std::nullopt);
  EXPECT_EQ(probe->streams[0].codec, "");
  json::object o = InputProbeJson(*probe);
  EXPECT_TRUE(o.at("duration_s").is_null());
  const json::object& s = o.at("streams").as_array()[0].as_object();
  EXPECT_TRUE(s.at("codec").is_null());
  EXPECT_TRUE(s.at("width").is_null());
  EXPECT_FALSE(o.at("streams").as_array()[1].as_object().contains("width"));
}

TEST(ParseInputProbe, NotFfprobesDocument) {
  EXPECT_EQ(ParseInputProbe(""), std::nullopt);
  EXPECT_EQ(ParseInputProbe("{"), std::nullopt);
  EXPECT_EQ(ParseInputProbe("[]"), std::nullopt);
  EXPECT_EQ(ParseInputProbe(R"({"streams":[]})"), std::nullopt);
  EXPECT_EQ(ParseInputProbe(R"({"format":"mp4"})"), std::nullopt);
  // Values of the wrong kind are unknown, not a crash.
  auto odd = ParseInputProbe(
      R"({"format":{"duration":"-3","bit_rate":"lots","format_name":7},"streams":[5,{"width":"x"}]})");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->duration_s, std::nullopt);
  EXPECT_EQ(odd->bit_rate, std::nullopt);
  EXPECT_EQ(odd->format, "");
  ASSERT_EQ(odd->streams.size(), 1u);
  EXPECT_EQ(odd->streams[0].width, std::nullopt);
}

// A file can hold any number of streams and name its codec anything: the result stays small.
TEST(InputProbeJson, BoundedWhateverTheFileHolds) {
  std::string streams;
  for (int i = 0; i < 40; ++i) {
    streams += std::string(i ? "," : "") + R"({"index":)" + std::to_string(i) +
               R"(,"codec_type":"audio","codec_name":")" + std::string(1000, 'x') + "\"}";
  }
  auto probe = ParseInputProbe(R"({"format":{},"streams":[)" + streams + "]}");
  ASSERT_TRUE(probe);
  ASSERT_EQ(probe->streams.size(), 40u);
  EXPECT_EQ(probe->streams[0].codec.size(), 128u);
  json::object o = InputProbeJson(*probe);
  EXPECT_EQ(o.at("streams").as_array().size(), kProbeMaxStreams);
  EXPECT_EQ(o.at("streams_omitted").to_number<int64_t>(),
            40 - static_cast<int64_t>(kProbeMaxStreams));
}

}  // namespace
}  // namespace ffpod
