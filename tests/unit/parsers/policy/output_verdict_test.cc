// The verification's pure half: the decode-error kinds, the `verify` field, what an output must
// hold and the evidence when it does not.
#include "parsers/policy/output_verdict.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "parsers/policy/retry_policy.h"

namespace ffpod {
namespace {

using Args = std::vector<std::string>;

TEST(DecodeErrorKind, RealFfmpegLinesByKind) {
  struct Case {
    const char* line;
    const char* kind;
  };
  for (const Case& c : {
           Case{"Error while decoding stream #0:0: Invalid data found when processing input",
                "stream"},
           Case{"Decoding error: Invalid data found when processing input", "stream"},
           Case{"error while decoding MB 12 4, bytestream -7", "macroblock"},
           Case{"corrupt decoded frame in stream 0", "corrupt_frame"},
           Case{"Invalid NAL unit size (29 > 4).", "invalid_nal"},
           Case{"concealing 120 DC, 120 AC, 120 MV errors in P frame", "concealed"},
           Case{"Packet corrupt (stream = 0, dts = 1234).", "corrupt_packet"},
       }) {
    EXPECT_EQ(DecodeErrorKind(c.line).value_or("none"), c.kind) << c.line;
  }
  for (const char* other : {"Error opening input file in.mp4.", "frame=  100 fps=25 q=28.0",
                            "Stream #0:0: Video: h264", "concealing is not a thing here"}) {
    EXPECT_FALSE(DecodeErrorKind(other).has_value()) << other;
  }
  DecodeErrorCounts counts;
  counts.Observe("error while decoding MB 1 2, bytestream -3");
  counts.Observe("error while decoding MB 3 4, bytestream -3");
  counts.Observe("Invalid NAL unit 0, skipping.");
  counts.Observe("Press [q] to stop");
  EXPECT_EQ(counts.total(), 3u);
  EXPECT_EQ(counts.by_kind(),
            (std::map<std::string, uint64_t>{{"invalid_nal", 1}, {"macroblock", 2}}));
  VerifyPolicy strict;
  strict.max_decode_errors = 2;
  EXPECT_EQ(JudgeDecodeErrors(counts, strict).value_or(""),
            "ffmpeg reported 3 decode errors while encoding (invalid_nal 1, macroblock 2), more "
            "than max_decode_errors 2");
  strict.max_decode_errors = 3;
  EXPECT_FALSE(JudgeDecodeErrors(counts, strict).has_value());
}

Result<std::optional<VerifyPolicy>> Verify(const char* json) {
  return ParseVerifyField(boost::json::parse(json).as_object());
}

TEST(VerifyField, ParsesAndNamesWhatIsWrong) {
  EXPECT_FALSE(Verify(R"({})")->has_value());
  EXPECT_FALSE(Verify(R"({"verify": null})")->has_value());
  EXPECT_FALSE((*Verify(R"({"verify": false})"))->enabled);
  EXPECT_TRUE((*Verify(R"({"verify": true})"))->enabled);
  auto full = Verify(
      R"({"verify": {"duration_tolerance_s": 2.5, "max_decode_errors": 0, "require": ["audio", "video", "audio"]}})");
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ((*full)->duration_tolerance_s, 2.5);
  EXPECT_EQ((*full)->max_decode_errors, 0u);
  EXPECT_EQ((*full)->require, (std::vector<std::string>{"audio", "video"}));
  EXPECT_EQ(
      VerifyPolicyToJson(**full),
      boost::json::parse(
          R"({"duration_tolerance_s": 2.5, "max_decode_errors": 0, "require": ["audio", "video"]})"));
  EXPECT_EQ(VerifyPolicyToJson(**Verify(R"({"verify": false})")), boost::json::value(false));

  struct Case {
    const char* json;
    const char* error;
  };
  for (
      const Case& c : {
          Case{R"({"verify": "yes"})", R"(field "verify" must be false, true or an object)"},
          Case{R"({"verify": {"require": ["video", "sound"]}})",
               R"(field "verify.require[1]" must be one of video, audio, subtitle)"},
          Case{R"({"verify": {"max_decode_errors": -1}})",
               R"(field "verify.max_decode_errors" must be an integer from 0)"},
          Case{R"({"verify": {"max_decode_errors": 1.5}})",
               R"(field "verify.max_decode_errors" must be an integer from 0)"},
          Case{R"({"verify": {"duration_tolerance_s": -1}})",
               R"(field "verify.duration_tolerance_s" must be a number of seconds from 0 to 3600)"},
          Case{
              R"({"verify": {"tolerance": 1}})",
              R"(field "verify" has an unknown key "tolerance" (known: duration_tolerance_s, max_decode_errors, require))"},
      }) {
    auto r = Verify(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.error().message, c.error);
  }
}

TEST(ParseProbedOutput, ReadsDurationAndStreamKinds) {
  auto p = ParseProbedOutput(R"({"programs": [], "streams": [{"codec_type": "video"},
      {"codec_type": "audio"}], "format": {"duration": "12.040000"}})");
  ASSERT_TRUE(p.ok());
  EXPECT_DOUBLE_EQ(*p->duration_s, 12.04);
  EXPECT_EQ(p->stream_kinds, (std::vector<std::string>{"video", "audio"}));
  auto no_duration = ParseProbedOutput(R"({"streams": [{"codec_type": "video"}], "format": {}})");
  ASSERT_TRUE(no_duration.ok());
  EXPECT_FALSE(no_duration->duration_s.has_value());
  EXPECT_FALSE(ParseProbedOutput("Invalid data found when processing input").ok());
}

OutputExpectation ExpectationOf(const Args& args, std::optional<int64_t> expected_us,
                                const VerifyPolicy& policy = {}) {
  FfmpegCommand cmd = AnalyzeFfmpegArgs(args);
  return ExpectationFor(cmd, cmd.outputs.at(0), expected_us, policy);
}

TEST(ExpectationFor, TheMapsThePolicyAndTheDuration) {
  auto e = ExpectationOf({"-i", "a.mp4", "-map", "0:v:0", "-map", "0:a?", "-map", "[out]", "-map",
                          "0:1", "-map", "-0:s", "o.mp4"},
                         6'000'000);
  EXPECT_EQ(e.kinds, (std::vector<std::string>{"video"}));
  EXPECT_EQ(e.duration_s, 6.0);
  VerifyPolicy policy;
  policy.require = {"audio"};
  EXPECT_EQ(ExpectationOf({"-i", "a.mp4", "-map", "0:V", "o.mp4"}, std::nullopt, policy).kinds,
            (std::vector<std::string>{"video", "audio"}));
  EXPECT_FALSE(ExpectationOf({"-i", "a", "-frames:v", "10", "o.mp4"}, 6'000'000).duration_s);
  EXPECT_FALSE(ExpectationOf({"-i", "a", "o.mp4", "p.mkv"}, 6'000'000).duration_s);
}

TEST(JudgeOutput, GivesTheEvidence) {
  VerifyPolicy policy;
  OutputExpectation hour{.duration_s = 3677.0, .kinds = {"video", "audio"}};
  ProbedOutput cut{.duration_s = 3512.4, .stream_kinds = {"video", "audio"}};
  EXPECT_EQ(JudgeOutput("/out/a.mp4", cut, hour, policy).value_or(""),
            "output /out/a.mp4 is 3512.4 s, the input declares 3677.0 s (tolerance 36.8 s)");
  ProbedOutput close{.duration_s = 3660.0, .stream_kinds = {"audio", "video"}};
  EXPECT_FALSE(JudgeOutput("/out/a.mp4", close, hour, policy).has_value());
  ProbedOutput silent{.duration_s = 3677.0, .stream_kinds = {"video"}};
  EXPECT_EQ(JudgeOutput("/out/a.mp4", silent, hour, policy).value_or(""),
            "output /out/a.mp4 has no audio stream (its streams: video)");
  // Short outputs: at least half a second either way.
  OutputExpectation two{.duration_s = 2.0, .kinds = {}};
  EXPECT_FALSE(JudgeOutput("o", {.duration_s = 2.45, .stream_kinds = {}}, two, policy));
  EXPECT_TRUE(JudgeOutput("o", {.duration_s = 2.55, .stream_kinds = {}}, two, policy));
  policy.duration_tolerance_s = 0.1;
  EXPECT_TRUE(JudgeOutput("o", {.duration_s = 2.15, .stream_kinds = {}}, two, policy));
  EXPECT_EQ(
      JudgeOutput("o", {.duration_s = std::nullopt, .stream_kinds = {}}, two, policy).value_or(""),
      "output o has no duration ffprobe can read (expected 2.0 s)");
}

TEST(JudgeHlsOutputs, APlaylistWithAHoleIsInvalid) {
  OutputFile mp4{.path = "/out/a.mp4",
                 .bytes = 10,
                 .sha256 = "",
                 .duration_s = 1.0,
                 .streams = {},
                 .hls = std::nullopt};
  OutputFile whole = mp4;
  whole.path = "/out/hls/index.m3u8";
  whole.hls = HlsSummary{};
  whole.hls->segments = 10;
  whole.hls->bytes = 1000;
  whole.hls->duration_s = 10;
  EXPECT_FALSE(JudgeHlsOutputs({mp4, whole}));
  OutputFile holed = whole;
  holed.hls->missing = 2;
  holed.hls->first_missing = "index3.ts";
  EXPECT_EQ(JudgeHlsOutputs({mp4, whole, holed}).value_or(""),
            "playlist /out/hls/index.m3u8 lists 2 files that do not exist (first: index3.ts)");
  holed.hls->missing = 1;
  EXPECT_EQ(JudgeHlsOutputs({holed}).value_or(""),
            "playlist /out/hls/index.m3u8 lists 1 file that does not exist (first: index3.ts)");
}

TEST(RetryPolicy, AnInvalidOutputIsRetriedOnce) {
  RetryPolicy policy;
  policy.max_attempts = 5;
  EXPECT_EQ(DecideAfterAttempt(Reason::kOutputInvalid, 1, policy, 0).status,
            ResultStatus::kRetrying);
  EXPECT_EQ(DecideAfterAttempt(Reason::kOutputInvalid, 2, policy, 0).status, ResultStatus::kDead);
  EXPECT_EQ(DecideAfterAttempt(Reason::kNetwork, 2, policy, 0).status, ResultStatus::kRetrying);
  policy.max_attempts = 1;
  EXPECT_EQ(DecideAfterAttempt(Reason::kOutputInvalid, 1, policy, 0).status, ResultStatus::kDead);
}

}  // namespace
}  // namespace ffpod
