#include "parsers/ffmpeg/progress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

constexpr std::optional<int64_t> kNone = std::nullopt;
constexpr std::optional<double> kNoneD = std::nullopt;

struct Parsed {
  std::vector<ProgressBlock> blocks;
  uint64_t errors = 0;
};

// Feeds `bytes` in pieces of `chunk` bytes (0: whole).
Parsed FeedChunked(std::string_view bytes, size_t chunk) {
  ProgressParser parser;
  Parsed p;
  if (chunk == 0) {
    parser.Feed(bytes, &p.blocks);
  } else {
    for (size_t i = 0; i < bytes.size(); i += chunk) parser.Feed(bytes.substr(i, chunk), &p.blocks);
  }
  p.errors = parser.errors();
  return p;
}

// Feeds `bytes` one line (terminator included) per call.
Parsed FeedLines(std::string_view bytes) {
  ProgressParser parser;
  Parsed p;
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    size_t n = nl == std::string_view::npos ? bytes.size() : nl + 1;
    parser.Feed(bytes.substr(0, n), &p.blocks);
    bytes.remove_prefix(n);
  }
  p.errors = parser.errors();
  return p;
}

// Parses whole, line by line and byte by byte, and checks the three agree.
Parsed ParseAllWays(std::string_view bytes) {
  Parsed whole = FeedChunked(bytes, 0);
  Parsed lines = FeedLines(bytes);
  Parsed bytewise = FeedChunked(bytes, 1);
  Parsed odd = FeedChunked(bytes, 7);
  EXPECT_EQ(whole.blocks, lines.blocks);
  EXPECT_EQ(whole.blocks, bytewise.blocks);
  EXPECT_EQ(whole.blocks, odd.blocks);
  EXPECT_EQ(whole.errors, lines.errors);
  EXPECT_EQ(whole.errors, bytewise.errors);
  EXPECT_EQ(whole.errors, odd.errors);
  return whole;
}

ProgressBlock One(std::string_view bytes, uint64_t expected_errors = 0) {
  Parsed p = ParseAllWays(bytes);
  EXPECT_EQ(p.errors, expected_errors);
  EXPECT_EQ(p.blocks.size(), 1u);
  return p.blocks.empty() ? ProgressBlock{} : p.blocks.front();
}

// --- Fixtures -----------------------------------------------------------------------------------

struct Expect {
  std::optional<int64_t> frame;
  std::optional<int64_t> out_time_us;
  std::optional<int64_t> total_size;
  std::optional<double> speed;
  bool end;
};

struct FixtureCase {
  const char* file;
  size_t blocks;
  uint64_t errors;
  Expect first;
  Expect last;
};

// Values read off the fixture files (see tests/fixtures/README.md for how each was produced).
const FixtureCase kFixtures[] = {
    {"ff4.4-video-audio-psnr.progress",
     4,
     0,
     {1, 0, 48, 0, false},
     {75, 3008000, 690522, 1.62, true}},
    {"ff5.1-audio-only.progress",
     2,
     0,
     {kNone, 0, 44, kNoneD, false},
     {kNone, 60010667, 531523, 196, true}},
    {"ff5.1-banner-short.progress", 2, 0, {1, 0, 48, 0, false}, {75, 3018594, 90727, 21.9, true}},
    {"ff5.1-drop.progress", 5, 0, {1, 0, 48, kNoneD, false}, {100, 9700098, 1820552, 5.66, true}},
    {"ff5.1-dup.progress", 4, 0, {2, 0, 48, kNoneD, false}, {500, 9940078, 844084, 6.72, true}},
    {"ff5.1-hls.progress", 5, 0, {1, 0, kNone, 0, false}, {200, 8010878, kNone, 3.91, true}},
    {"ff5.1-image2.progress", 2, 0, {1, 0, kNone, 0, false}, {300, 12000000, kNone, 28, true}},
    {"ff5.1-level-info.progress", 6, 0, {1, 0, 48, 0, false}, {150, 5880078, 1797907, 2.33, true}},
    {"ff5.1-multi-output.progress", 6, 0, {1, 0, 48, 0, false}, {150, 7881000, 558679, 3.52, true}},
    {"ff5.1-negative-time.progress",
     6,
     0,
     {kNone, -978667, 2307, kNoneD, false},
     {kNone, 741333, 192878, 0.729, true}},
    {"ff5.1-null.progress",
     6,
     0,
     {1, 0, kNone, kNoneD, false},
     {1500, 60000000, kNone, 27.4, true}},
    {"ff5.1-psnr.progress", 3, 0, {1, 78, 44, kNoneD, false}, {150, 5960078, 4859221, 9.72, true}},
    {"ff5.1-qphist.progress", 6, 0, {1, 0, 48, kNoneD, false}, {150, 5880078, 1797907, 2.46, true}},
    {"ff5.1-stats-period-re.progress",
     9,
     0,
     {1, 0, 48, 0, false},
     {50, 1960078, 43797, 0.979, true}},
    {"ff5.1-stream-copy.progress",
     2,
     0,
     {0, 21333, 48, kNoneD, false},
     {15000, 600021167, 16725828, 4.39e+03, true}},
    {"ff5.1-video-audio.progress", 4, 0, {1, 0, 48, 0, false}, {200, 8000000, 2465131, 6.72, true}},
    {"ff6.0-sentinel.progress",
     4,
     0,
     {0, kNone, 0, kNoneD, false},
     {75, 3008000, 690522, 1.58, true}},
    {"ff6.1-stream-copy.progress",
     3,
     0,
     {kNone, 20000, 48, 0.04, false},
     {kNone, 600021000, 16725805, 438, true}},
    {"ff6.1-video-audio.progress",
     4,
     0,
     {0, kNone, 0, kNoneD, false},
     {75, 3008000, 690522, 1.6, true}},
    {"ff7.0-negative-time.progress",
     4,
     0,
     {0, kNone, 48, kNoneD, false},
     {75, 3008000, 690522, 1.5, true}},
    {"ff7.0-stream-copy.progress",
     3,
     0,
     {kNone, kNone, 48, kNoneD, false},
     {kNone, 600021000, 16725805, 426, true}},
    {"ff8.0-video-audio.progress",
     5,
     0,
     {0, kNone, 48, kNoneD, false},
     {75, 3008000, 690522, 1.33, true}},
    // Real recordings of 4.3.7, 7.1.5 and 9.0.2 (tests/fixtures/README.md).
    {"ff4.3-audio-only.progress",
     6,
     0,
     {kNone, 8618667, 44, 16.7, false},
     {kNone, 60010667, 344893, 21.1, true}},
    {"ff4.3-banner-short.progress",
     1,
     0,
     {75, 3018594, 92825, 9, true},
     {75, 3018594, 92825, 9, true}},
    {"ff4.3-drop.progress", 11, 0, {16, 0, 48, 0, false}, {100, 9700098, 1814490, 1.4, true}},
    {"ff4.3-dup.progress",
     15,
     0,
     {28, 160078, 48, 0.309, false},
     {500, 9940078, 844215, 1.27, true}},
    {"ff4.3-hls.progress", 23, 0, {17, 0, kNone, 0, false}, {200, 8010878, kNone, 0.573, true}},
    {"ff4.3-image2.progress",
     3,
     0,
     {125, 4920000, kNone, 9.46, false},
     {300, 12000000, kNone, 7.79, true}},
    {"ff4.3-level-info.progress",
     15,
     0,
     {24, 160078, 48, 0.275, false},
     {150, 5880078, 1801105, 0.648, true}},
    {"ff4.3-multi-output.progress",
     11,
     0,
     {21, 46440, 48, 0.0825, false},
     {150, 7881000, 558565, 1.18, true}},
    {"ff4.3-null.progress",
     14,
     0,
     {27, 920000, kNone, 1.78, false},
     {1500, 60000000, kNone, 8.5, true}},
    {"ff4.3-psnr.progress",
     3,
     0,
     {33, 1280078, 786476, 2.51, false},
     {150, 5960078, 4858233, 4.42, true}},
    {"ff4.3-qphist.progress", 19, 0, {17, 0, 48, 0, false}, {150, 5880078, 1801105, 0.521, true}},
    {"ff4.3-stream-copy.progress",
     1,
     0,
     {15000, 599999833, 16912163, 1.26e+03, true},
     {15000, 599999833, 16912163, 1.26e+03, true}},
    {"ff4.3-video-audio.progress",
     17,
     0,
     {18, 0, 48, 0, false},
     {200, 8000000, 2465034, 0.789, true}},
    {"ff7.1-audio-only.progress",
     2,
     0,
     {kNone, 34261333, 262188, 68.4, false},
     {kNone, 60000000, 531517, 73, true}},
    {"ff7.1-banner-short.progress",
     1,
     0,
     {75, 3000000, 90732, 23.8, true},
     {75, 3000000, 90732, 23.8, true}},
    {"ff7.1-drop.progress",
     6,
     0,
     {0, kNone, 0, kNoneD, false},
     {100, 9800000, 1820551, 3.83, true}},
    {"ff7.1-dup.progress",
     4,
     0,
     {111, 2180000, 48, 4.3, false},
     {500, 9960000, 844083, 5.01, true}},
    {"ff7.1-hls.progress",
     7,
     0,
     {1, -40000, kNone, kNoneD, false},
     {200, 7920000, kNone, 2.42, true}},
    {"ff7.1-image2.progress",
     2,
     0,
     {225, 9000000, kNone, 17.7, false},
     {300, 12000000, kNone, 18.4, true}},
    {"ff7.1-level-info.progress",
     5,
     0,
     {18, 640000, 48, 1.27, false},
     {150, 5920000, 1797906, 2.42, true}},
    {"ff7.1-multi-output.progress",
     3,
     0,
     {44, 1640000, 48, 3.26, false},
     {150, 5920000, 558681, 3.78, true}},
    {"ff7.1-negative-time.progress",
     2,
     0,
     {kNone, 0, 168684, 0, false},
     {kNone, 229333, 192877, 0.432, true}},
    {"ff7.1-null.progress",
     6,
     0,
     {297, 11880000, kNone, 23.8, false},
     {1500, 60000000, kNone, 22.6, true}},
    {"ff7.1-psnr.progress",
     2,
     0,
     {131, 5240000, 3932204, 10.5, false},
     {150, 6000000, 4859220, 10.9, true}},
    {"ff7.1-qphist.progress",
     6,
     0,
     {10, 320000, 48, 0.635, false},
     {150, 5920000, 1797906, 2.11, true}},
    {"ff7.1-stats-period-re.progress",
     6,
     0,
     {15, 600000, 48, 2.34, false},
     {50, 2000000, 43796, 1.3, true}},
    {"ff7.1-stream-copy.progress",
     2,
     0,
     {13741, 549653000, 14942256, 1.08e+03, false},
     {15000, 600021000, 16725734, 1.04e+03, true}},
    {"ff7.1-video-audio.progress",
     11,
     0,
     {0, kNone, 48, kNoneD, false},
     {200, 7920000, 2465133, 1.47, true}},
    {"ff9.0-audio-only.progress",
     2,
     0,
     {kNone, 39914667, 262188, 79.8, false},
     {kNone, 60000000, 531977, 84.9, true}},
    {"ff9.0-banner-short.progress",
     1,
     0,
     {75, 3000000, 90715, 7.7, true},
     {75, 3000000, 90715, 7.7, true}},
    {"ff9.0-drop.progress",
     4,
     0,
     {13, 1100000, 48, 2.17, false},
     {100, 9800000, 1820537, 4.86, true}},
    {"ff9.0-dup.progress",
     3,
     0,
     {189, 3740000, 262192, 7.48, false},
     {500, 9960000, 844069, 7.01, true}},
    {"ff9.0-hls.progress",
     6,
     0,
     {4, 120000, kNone, 0.233, false},
     {200, 8000000, kNone, 2.69, true}},
    {"ff9.0-image2.progress",
     2,
     0,
     {249, 10040000, kNone, 20.1, false},
     {300, 12000000, kNone, 20.8, true}},
    {"ff9.0-level-info.progress",
     5,
     0,
     {5, 120000, 48, 0.233, false},
     {150, 5920000, 1797892, 2.67, true}},
    {"ff9.0-multi-output.progress",
     3,
     0,
     {38, 1440000, 48, 2.83, false},
     {150, 7920000, 558757, 5.95, true}},
    {"ff9.0-negative-time.progress",
     3,
     0,
     {kNone, 0, 168683, 0, false},
     {kNone, 229333, 192876, 0.435, true}},
    {"ff9.0-null.progress",
     6,
     0,
     {229, 9160000, kNone, 18.3, false},
     {1500, 60000000, kNone, 21.3, true}},
    {"ff9.0-psnr.progress",
     2,
     0,
     {105, 4200000, 3145772, 8.39, false},
     {150, 6000000, 4859219, 9.49, true}},
    {"ff9.0-stats-period-re.progress",
     7,
     0,
     {15, 600000, 48, 2.39, false},
     {50, 2000000, 43782, 1.3, true}},
    {"ff9.0-stream-copy.progress",
     1,
     0,
     {15000, 600000000, 16708208, 1.26e+03, true},
     {15000, 600000000, 16708208, 1.26e+03, true}},
    {"ff9.0-video-audio.progress",
     7,
     0,
     {22, 800000, 48, 1.6, false},
     {200, 8000000, 2465096, 2.27, true}},
    {"synthetic-crlf-ff5.1-video-audio.progress",
     4,
     0,
     {1, 0, 48, 0, false},
     {200, 8000000, 2465131, 6.72, true}},
    {"synthetic-edge-cases.progress",
     3,
     6,
     {12, kNone, kNone, kNoneD, false},
     {kNone, kNone, kNone, 2740, true}},
};

void ExpectBlock(const ProgressBlock& b, const Expect& e) {
  EXPECT_EQ(b.frame, e.frame);
  EXPECT_EQ(b.out_time_us, e.out_time_us);
  EXPECT_EQ(b.total_size_bytes, e.total_size);
  EXPECT_EQ(b.speed, e.speed);
  EXPECT_EQ(b.end, e.end);
}

class ProgressFixtureTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(ProgressFixtureTest, SameBlocksWholeByLineAndByByte) {
  const FixtureCase& c = GetParam();
  std::string bytes = testing::ReadFile(testing::FixturePath(std::string("progress/") + c.file));
  ASSERT_FALSE(bytes.empty());
  Parsed p = ParseAllWays(bytes);
  EXPECT_EQ(p.errors, c.errors);
  ASSERT_EQ(p.blocks.size(), c.blocks);
  {
    SCOPED_TRACE("first block");
    ExpectBlock(p.blocks.front(), c.first);
  }
  {
    SCOPED_TRACE("last block");
    ExpectBlock(p.blocks.back(), c.last);
  }
  // Only the last block is the end block.
  for (size_t i = 0; i + 1 < p.blocks.size(); ++i) EXPECT_FALSE(p.blocks[i].end) << i;
  // Every real FFmpeg block parses without unknown keys.
  if (c.errors == 0) {
    for (const ProgressBlock& b : p.blocks) EXPECT_TRUE(b.extra.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ProgressFixtureTest, ::testing::ValuesIn(kFixtures),
                         [](const ::testing::TestParamInfo<FixtureCase>& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find(".progress"));
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(ProgressFixtures, MultiOutputHasAQualityPerVideoStream) {
  Parsed p =
      ParseAllWays(testing::ReadFile(testing::FixturePath("progress/ff5.1-multi-output.progress")));
  ASSERT_FALSE(p.blocks.empty());
  std::vector<StreamQuality> expected = {{0, 0, -1.0}, {1, 0, -1.0}, {1, 1, -1.0}};
  EXPECT_EQ(p.blocks.back().stream_q, expected);
  EXPECT_EQ(p.blocks.back().bitrate_kbps, 567.1);
}

TEST(ProgressFixtures, PsnrKeysOf51AreParsed) {
  Parsed p = ParseAllWays(testing::ReadFile(testing::FixturePath("progress/ff5.1-psnr.progress")));
  ASSERT_EQ(p.blocks.size(), 3u);
  std::vector<StreamPsnr> expected = {
      {0, 0, 'y', 47.54}, {0, 0, 'u', 45.19}, {0, 0, 'v', 45.60}, {0, 0, '*', 46.70}};
  EXPECT_EQ(p.blocks.back().stream_psnr, expected);
}

TEST(ProgressFixtures, SentinelOf60IsDroppedWithItsBitrate) {
  Parsed p =
      ParseAllWays(testing::ReadFile(testing::FixturePath("progress/ff6.0-sentinel.progress")));
  ASSERT_EQ(p.blocks.size(), 4u);
  EXPECT_EQ(p.blocks[0].out_time_us, std::nullopt);
  EXPECT_EQ(p.blocks[0].bitrate_kbps, std::nullopt);
  EXPECT_EQ(p.blocks[0].speed, std::nullopt);
  EXPECT_EQ(p.blocks[1].out_time_us, 1040000);
  EXPECT_EQ(p.blocks[1].bitrate_kbps, 0.4);
}

TEST(ProgressFixtures, NegativeTimeIsKept) {
  Parsed p = ParseAllWays(
      testing::ReadFile(testing::FixturePath("progress/ff7.0-negative-time.progress")));
  ASSERT_EQ(p.blocks.size(), 4u);
  EXPECT_EQ(p.blocks[1].out_time_us, -80000);
  EXPECT_EQ(p.blocks[1].bitrate_kbps, std::nullopt);  // printed N/A
}

TEST(ProgressFixtures, ExponentSpeedOfRealStreamCopy) {
  Parsed p =
      ParseAllWays(testing::ReadFile(testing::FixturePath("progress/ff5.1-stream-copy.progress")));
  ASSERT_EQ(p.blocks.size(), 2u);
  EXPECT_EQ(p.blocks.back().speed, 4390.0);
  EXPECT_EQ(p.blocks.back().fps, 0.0);
  EXPECT_EQ(p.blocks.back().stream_q, (std::vector<StreamQuality>{{0, 0, -1.0}}));
}

TEST(ProgressFixtures, EdgeCasesFixtureInDetail) {
  Parsed p = ParseAllWays(
      testing::ReadFile(testing::FixturePath("progress/synthetic-edge-cases.progress")));
  ASSERT_EQ(p.blocks.size(), 3u);
  const ProgressBlock& a = p.blocks[0];
  EXPECT_EQ(a.frame, 12);
  EXPECT_EQ(a.fps, std::nullopt);
  EXPECT_EQ(a.stream_q, (std::vector<StreamQuality>{{0, 0, 23.5}, {0, 1, -1.0}}));
  EXPECT_EQ(a.dup_frames, 0);
  EXPECT_EQ(a.drop_frames, 0);
  EXPECT_EQ(a.extra,
            (std::vector<std::pair<std::string, std::string>>{{"future_key", "some value"}}));
  EXPECT_FALSE(a.end);
  const ProgressBlock& b = p.blocks[1];
  EXPECT_EQ(b.frame, 13);
  EXPECT_EQ(b.out_time_us, 3723500000);  // from out_time=01:02:03.5 alone
  EXPECT_EQ(b.speed, 40000.0);
  EXPECT_EQ(b.bitrate_kbps, 12.0);
  EXPECT_EQ(b.total_size_bytes, std::nullopt);
  EXPECT_FALSE(b.end);  // `progress=weird` ends the block as a continue
  const ProgressBlock& c = p.blocks[2];
  EXPECT_EQ(c.out_time_us, std::nullopt);
  EXPECT_EQ(c.bitrate_kbps, std::nullopt);
  EXPECT_EQ(c.speed, 2740.0);
  EXPECT_TRUE(c.end);
}

// --- Values -------------------------------------------------------------------------------------

TEST(ProgressParser, ObservedFullBlockOf51) {
  ProgressBlock b =
      One("frame=75\nfps=0.00\nstream_0_0_q=-1.0\nbitrate= 240.5kbits/s\ntotal_size=90426\n"
          "out_time_us=3008000\nout_time_ms=3008000\nout_time=00:00:03.008000\ndup_frames=0\n"
          "drop_frames=0\nspeed=24.9x\nprogress=end\n");
  ProgressBlock e;
  e.frame = 75;
  e.fps = 0.0;
  e.stream_q = {{0, 0, -1.0}};
  e.bitrate_kbps = 240.5;
  e.total_size_bytes = 90426;
  e.out_time_us = 3008000;
  e.dup_frames = 0;
  e.drop_frames = 0;
  e.speed = 24.9;
  e.end = true;
  EXPECT_EQ(b, e);
}

TEST(ProgressParser, PaddedAndExponentSpeeds) {
  EXPECT_EQ(One("speed=   0x\nprogress=continue\n").speed, 0.0);
  EXPECT_EQ(One("speed=4e+04x\nprogress=continue\n").speed, 40000.0);
  EXPECT_EQ(One("speed=2.74e+03x\nprogress=continue\n").speed, 2740.0);
  EXPECT_EQ(One("speed= 1.6x\nprogress=continue\n").speed, 1.6);
  EXPECT_EQ(One("speed=N/A\nprogress=continue\n").speed, std::nullopt);
  EXPECT_EQ(One("speed=fast\nprogress=continue\n", 1).speed, std::nullopt);
  EXPECT_EQ(One("speed=12\nprogress=continue\n", 1).speed, std::nullopt);  // no unit
  EXPECT_EQ(One("speed=nanx\nprogress=continue\n", 1).speed, std::nullopt);
}

TEST(ProgressParser, BitrateForms) {
  EXPECT_EQ(One("bitrate=2488.9kbits/s\nprogress=continue\n").bitrate_kbps, 2488.9);
  EXPECT_EQ(One("bitrate=   0.9kbits/s\nprogress=continue\n").bitrate_kbps, 0.9);
  EXPECT_EQ(One("bitrate=N/A\nprogress=continue\n").bitrate_kbps, std::nullopt);
  std::optional<double> zero = One("bitrate=  -0.0kbits/s\nprogress=continue\n").bitrate_kbps;
  ASSERT_TRUE(zero);
  EXPECT_FALSE(std::signbit(*zero));
  EXPECT_EQ(One("bitrate=240.5\nprogress=continue\n", 1).bitrate_kbps, std::nullopt);
}

// What each value accepts (parsers/common/text.h does the numbers; these are the rules around
// them): N/A, blanks before the unit, no '+', no infinities outside the PSNR.
TEST(ProgressParser, NumberRulesPerKey) {
  EXPECT_EQ(One("bitrate=12.5 kbits/s\nprogress=continue\n").bitrate_kbps, 12.5);
  EXPECT_EQ(One("fps=N/A\nprogress=continue\n").fps, std::nullopt);
  EXPECT_EQ(One("fps=+25\nprogress=continue\n", 1).fps, std::nullopt);
  EXPECT_EQ(One("fps=inf\nprogress=continue\n", 1).fps, std::nullopt);
  EXPECT_EQ(One("speed=1e999x\nprogress=continue\n", 1).speed, std::nullopt);
  EXPECT_EQ(One("total_size=-1\nprogress=continue\n").total_size_bytes, -1);
  EXPECT_EQ(One("frame=+1\nprogress=continue\n", 1).frame, std::nullopt);
  EXPECT_EQ(One("frame=9223372036854775808\nprogress=continue\n", 1).frame, std::nullopt);
  EXPECT_EQ(One("out_time_us=12x\nprogress=continue\n", 1).out_time_us, std::nullopt);
  ProgressBlock q = One("stream_0_0_q=-0.0\nprogress=continue\n");
  ASSERT_EQ(q.stream_q.size(), 1u);
  EXPECT_TRUE(std::signbit(q.stream_q[0].q));  // as read: only fps, bitrate and speed add 0.0
  EXPECT_EQ(One("stream_0_0_q=inf\nprogress=continue\n", 1).stream_q.size(), 0u);
  EXPECT_EQ(One("stream_0_0_psnr_y=-inf\nprogress=continue\n").stream_psnr.size(), 1u);
  EXPECT_EQ(One("stream_0000000001_0_q=1\nprogress=continue\n").stream_q.size(), 0u);
  EXPECT_EQ(One("stream_000000001_0_q=1\nprogress=continue\n").stream_q.size(), 1u);
}

TEST(ProgressParser, TimeSourcesByPriority) {
  // out_time_ms is microseconds too.
  EXPECT_EQ(One("out_time_ms=3008000\nprogress=continue\n").out_time_us, 3008000);
  EXPECT_EQ(One("out_time=00:00:03.008000\nprogress=continue\n").out_time_us, 3008000);
  // out_time_us wins over the others, in either order.
  EXPECT_EQ(One("out_time=00:00:09.000000\nout_time_ms=5\nout_time_us=7\nprogress=continue\n")
                .out_time_us,
            7);
  EXPECT_EQ(One("out_time_us=7\nout_time_ms=5\nout_time=00:00:09.000000\nprogress=continue\n")
                .out_time_us,
            7);
  // An N/A in out_time_us is not replaced by a lower-priority key.
  EXPECT_EQ(One("out_time_us=N/A\nout_time=00:00:09.000000\nprogress=continue\n").out_time_us,
            std::nullopt);
  // A bad number is an error and leaves no time.
  EXPECT_EQ(One("out_time_us=12x\nprogress=continue\n", 1).out_time_us, std::nullopt);
  EXPECT_EQ(One("out_time=1:2:3\nprogress=continue\n", 1).out_time_us, std::nullopt);
  // Legitimately negative.
  EXPECT_EQ(One("out_time_us=-978667\nprogress=continue\n").out_time_us, -978667);
  EXPECT_EQ(One("out_time=-00:00:00.978667\nprogress=continue\n").out_time_us, -978667);
}

TEST(ProgressParser, SentinelIsNeverATime) {
  ProgressBlock b =
      One("bitrate=  -0.0kbits/s\ntotal_size=0\nout_time_us=-9223372036854775807\n"
          "out_time_ms=-9223372036854775807\nout_time=-577014:32:22.775807\nspeed=N/A\n"
          "progress=continue\n");
  EXPECT_EQ(b.out_time_us, std::nullopt);
  EXPECT_EQ(b.bitrate_kbps, std::nullopt);
  EXPECT_EQ(b.total_size_bytes, 0);
  // The clock rendering alone is recognised too, and so is INT64_MIN.
  EXPECT_EQ(One("out_time=-577014:32:22.775807\nprogress=continue\n").out_time_us, std::nullopt);
  EXPECT_EQ(One("out_time_us=-9223372036854775808\nprogress=continue\n").out_time_us, std::nullopt);
  // The next block starts clean.
  Parsed p = ParseAllWays(
      "out_time_us=-9223372036854775807\nbitrate=1.0kbits/s\nprogress=continue\n"
      "bitrate=2.0kbits/s\nout_time_us=5\nprogress=end\n");
  ASSERT_EQ(p.blocks.size(), 2u);
  EXPECT_EQ(p.blocks[0].bitrate_kbps, std::nullopt);
  EXPECT_EQ(p.blocks[1].bitrate_kbps, 2.0);
  EXPECT_EQ(p.blocks[1].out_time_us, 5);
}

TEST(ProgressParser, IntegersAndNotAvailable) {
  ProgressBlock b =
      One("frame=9223372036854775807\ntotal_size=N/A\ndup_frames=3\ndrop_frames=N/A\n"
          "progress=continue\n");
  EXPECT_EQ(b.frame, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(b.total_size_bytes, std::nullopt);
  EXPECT_EQ(b.dup_frames, 3);
  EXPECT_EQ(b.drop_frames, std::nullopt);
  EXPECT_EQ(One("frame=9223372036854775808\nprogress=continue\n", 1).frame, std::nullopt);
  EXPECT_EQ(One("frame=1.5\nprogress=continue\n", 1).frame, std::nullopt);
  EXPECT_EQ(One("frame=\nprogress=continue\n", 1).frame, std::nullopt);
  EXPECT_EQ(One("total_size=+5\nprogress=continue\n", 1).total_size_bytes, std::nullopt);
}

TEST(ProgressParser, StreamQualityAndPsnrKeys) {
  ProgressBlock b =
      One("stream_0_0_q=28.0\nstream_1_0_q=2.0\nstream_1_1_q=24.8\nstream_0_0_q=29.0\n"
          "stream_0_0_psnr_y=inf\nstream_0_0_psnr_all=48.86\nprogress=continue\n");
  EXPECT_EQ(b.stream_q, (std::vector<StreamQuality>{{0, 0, 29.0}, {1, 0, 2.0}, {1, 1, 24.8}}));
  ASSERT_EQ(b.stream_psnr.size(), 2u);
  EXPECT_TRUE(std::isinf(b.stream_psnr[0].db));
  EXPECT_EQ(b.stream_psnr[0].plane, 'y');
  EXPECT_EQ(b.stream_psnr[1], (StreamPsnr{0, 0, '*', 48.86}));
  // Keys shaped like stream keys but not known are kept as extra.
  ProgressBlock x = One("stream_0_0_foo=1\nstream_a_0_q=1\nprogress=continue\n");
  EXPECT_TRUE(x.stream_q.empty());
  EXPECT_EQ(x.extra.size(), 2u);
  EXPECT_EQ(One("stream_0_0_q=high\nprogress=continue\n", 1).stream_q.size(), 0u);
  EXPECT_EQ(One("stream_0_0_psnr_y=nan\nprogress=continue\n", 1).stream_psnr.size(), 0u);
}

TEST(ProgressParser, BoundsPerBlock) {
  std::string s;
  for (int i = 0; i < 70; ++i) s += "k" + std::to_string(i) + "=v\n";
  for (int i = 0; i < 300; ++i) s += "stream_0_" + std::to_string(i) + "_q=1.0\n";
  s += "progress=continue\n";
  ProgressBlock b =
      One(s, (70 - ProgressParser::kMaxExtraKeys) + (300 - ProgressParser::kMaxStreams));
  EXPECT_EQ(b.extra.size(), ProgressParser::kMaxExtraKeys);
  EXPECT_EQ(b.stream_q.size(), ProgressParser::kMaxStreams);
  EXPECT_EQ(b.extra.front(), (std::pair<std::string, std::string>{"k0", "v"}));
}

TEST(ProgressParser, MalformedLinesAreCounted) {
  Parsed p = ParseAllWays("no equals sign\n=value\n\n\r\nframe=1\nprogress=sometimes\n");
  EXPECT_EQ(p.errors, 3u);  // no '=', empty key, unknown progress value; empty lines are fine
  ASSERT_EQ(p.blocks.size(), 1u);
  EXPECT_EQ(p.blocks[0].frame, 1);
  EXPECT_FALSE(p.blocks[0].end);
}

TEST(ProgressParser, CrLfEndings) {
  ProgressBlock b = One("frame=5\r\nspeed=1.5x\r\nprogress=end\r\n");
  EXPECT_EQ(b.frame, 5);
  EXPECT_EQ(b.speed, 1.5);
  EXPECT_TRUE(b.end);
}

TEST(ProgressParser, OverlongLinesAreBoundedAndCounted) {
  const size_t max = ProgressParser::kMaxLineBytes;
  // A line of exactly the limit is accepted (kept as an unknown key).
  std::string at_limit = "k=" + std::string(max - 2, 'v') + "\n";
  ProgressBlock ok = One(at_limit + "progress=continue\n");
  ASSERT_EQ(ok.extra.size(), 1u);
  EXPECT_EQ(ok.extra[0].second.size(), max - 2);
  // One byte more is one error, however it is chunked, and the next line is fine.
  std::string over = "k=" + std::string(max - 1, 'v') + "\nframe=3\nprogress=continue\n";
  ProgressBlock b = One(over, 1);
  EXPECT_TRUE(b.extra.empty());
  EXPECT_EQ(b.frame, 3);
  // A huge unterminated line keeps memory bounded and counts once.
  ProgressParser parser;
  std::vector<ProgressBlock> blocks;
  std::string chunk(1 << 16, 'z');
  for (int i = 0; i < 64; ++i) parser.Feed(chunk, &blocks);
  EXPECT_EQ(parser.errors(), 1u);
  parser.Feed("\nframe=1\nprogress=end\n", &blocks);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].frame, 1);
  EXPECT_EQ(parser.errors(), 1u);
}

TEST(ProgressParser, IncompleteBlockIsNotDelivered) {
  Parsed p = ParseAllWays("frame=1\nprogress=continue\nframe=2\nfps=3.0\n");
  ASSERT_EQ(p.blocks.size(), 1u);
  EXPECT_EQ(p.blocks[0].frame, 1);
}

TEST(ProgressParser, BinaryGarbageDoesNotBreakLaterBlocks) {
  std::string garbage("\x00\xff\xfe=\x80\n\x01\x02\x03\n", 10);
  Parsed p = ParseAllWays(garbage + "frame=7\nprogress=end\n");
  ASSERT_EQ(p.blocks.size(), 1u);
  EXPECT_EQ(p.blocks[0].frame, 7);
  EXPECT_EQ(p.errors, 1u);                  // the line without '='
  ASSERT_EQ(p.blocks[0].extra.size(), 1u);  // "\0\xff\xfe" = "\x80" is a (strange) unknown key
}

// --- ParseClockTime / IsSentinelTime ----------------------------------------------------------

TEST(ParseClockTime, Forms) {
  EXPECT_EQ(ParseClockTime("00:00:03.008000"), 3008000);
  EXPECT_EQ(ParseClockTime("00:00:03.00"), 3000000);
  EXPECT_EQ(ParseClockTime("00:10:00.02"), 600020000);
  EXPECT_EQ(ParseClockTime("-00:00:00.080000"), -80000);
  EXPECT_EQ(ParseClockTime("123:04:05.5"), (int64_t{123} * 3600 + 4 * 60 + 5) * 1000000 + 500000);
  EXPECT_EQ(ParseClockTime("0:00:00.12"), 120000);  // 8.0 elapsed= has unpadded hours
  EXPECT_EQ(ParseClockTime("1:00:00"), int64_t{3600} * 1000000);
  EXPECT_EQ(ParseClockTime(" 00:00:01.1234567 "), 1123456);  // truncated to µs
  EXPECT_EQ(ParseClockTime("-577014:32:22.775807"), -2077252342775807);
  EXPECT_EQ(ParseClockTime("2562047:47:16.854775"), 9223372036854775);
}

TEST(ParseClockTime, Rejects) {
  for (const char* bad : {"", "N/A", "-", ":00:00", "00:60:00", "00:00:60", "00:0:00", "0a:00:00",
                          "00:00:00.", "00:00:00.x", "00:00", "00:00:00:00", "+00:00:00",
                          "--00:00:00", "99999999999999:00:00", "9223372036854775808:00:00"}) {
    EXPECT_EQ(ParseClockTime(bad), std::nullopt) << bad;
  }
}

TEST(IsSentinelTime, OnlyTheStartValues) {
  EXPECT_TRUE(IsSentinelTime(std::numeric_limits<int64_t>::min()));
  EXPECT_TRUE(IsSentinelTime(std::numeric_limits<int64_t>::min() + 1));
  EXPECT_TRUE(IsSentinelTime(*ParseClockTime("-577014:32:22.775807")));
  EXPECT_TRUE(IsSentinelTime(*ParseClockTime("-577014:32:22.77")));
  EXPECT_FALSE(IsSentinelTime(*ParseClockTime("-577014:32:22.78")));
  EXPECT_FALSE(IsSentinelTime(-80000));
  EXPECT_FALSE(IsSentinelTime(0));
  EXPECT_FALSE(IsSentinelTime(std::numeric_limits<int64_t>::max()));
}

}  // namespace
}  // namespace ffpod
