#include "parsers/ffmpeg/stats_line.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "parsers/ffmpeg/line_splitter.h"
#include "parsers/ffmpeg/progress.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

StatsLine Parse(std::string_view line) {
  std::optional<StatsLine> s = ParseStatsLine(line);
  EXPECT_TRUE(s.has_value()) << line;
  return s.value_or(StatsLine{});
}

TEST(ParseStatsLine, PeriodicVideoLine) {
  StatsLine s = Parse(
      "frame=   62 fps= 58 q=28.0 size=     512kB time=00:00:01.68 bitrate=2488.9kbits/s "
      "speed=1.58x    ");
  StatsLine e;
  e.frame = 62;
  e.fps = 58;
  e.q = 28.0;
  e.size_bytes = 512 * 1024;
  e.time_us = 1680000;
  e.bitrate_kbps = 2488.9;
  e.speed = 1.58;
  EXPECT_EQ(s, e);
}

TEST(ParseStatsLine, FinalLineWithVideo) {
  StatsLine s = Parse(
      "frame=   75 fps=0.0 q=-1.0 Lsize=      88kB time=00:00:03.00 bitrate= 240.5kbits/s "
      "speed=24.9x    \n");
  EXPECT_TRUE(s.last);
  EXPECT_EQ(s.frame, 75);
  EXPECT_EQ(s.fps, 0.0);
  EXPECT_EQ(s.q, -1.0);
  EXPECT_EQ(s.size_bytes, 88 * 1024);
  EXPECT_EQ(s.time_us, 3000000);
  EXPECT_EQ(s.bitrate_kbps, 240.5);
  EXPECT_EQ(s.speed, 24.9);
  EXPECT_EQ(s.dup_frames, std::nullopt);
  EXPECT_EQ(s.elapsed_us, std::nullopt);
}

TEST(ParseStatsLine, AudioOnlyAndStreamCopyWithoutFrame) {
  StatsLine s = Parse("size=      18kB time=00:00:02.02 bitrate=  74.4kbits/s speed=59.4x    ");
  EXPECT_EQ(s.frame, std::nullopt);
  EXPECT_EQ(s.fps, std::nullopt);
  EXPECT_EQ(s.q, std::nullopt);
  EXPECT_FALSE(s.last);
  EXPECT_EQ(s.size_bytes, 18 * 1024);
  EXPECT_EQ(s.time_us, 2020000);
  StatsLine k = Parse("size=   16334KiB time=00:10:00.02 bitrate= 223.0kbits/s speed= 426x    ");
  EXPECT_EQ(k.size_bytes, int64_t{16334} * 1024);
  EXPECT_EQ(k.speed, 426.0);
}

TEST(ParseStatsLine, KiBAndElapsedOf80) {
  StatsLine s = Parse(
      "frame=    0 fps=0.0 q=0.0 Lsize=       0KiB time=00:00:00.20 bitrate=   0.0kbits/s "
      "speed=1.67x elapsed=0:00:00.12    ");
  EXPECT_TRUE(s.last);
  EXPECT_EQ(s.size_bytes, 0);
  EXPECT_EQ(s.time_us, 200000);
  EXPECT_EQ(s.bitrate_kbps, 0.0);
  EXPECT_EQ(s.speed, 1.67);
  EXPECT_EQ(s.elapsed_us, 120000);
}

TEST(ParseStatsLine, NotAvailableEverywhere) {
  StatsLine s = Parse("frame=    0 fps=0.0 q=0.0 size=N/A time=N/A bitrate=N/A speed=N/A    ");
  EXPECT_EQ(s.frame, 0);
  EXPECT_EQ(s.size_bytes, std::nullopt);
  EXPECT_EQ(s.time_us, std::nullopt);
  EXPECT_EQ(s.bitrate_kbps, std::nullopt);
  EXPECT_EQ(s.speed, std::nullopt);
}

TEST(ParseStatsLine, DupDrop) {
  StatsLine s = Parse(
      "frame=  150 fps=0.0 q=-1.0 Lsize=      66kB time=00:00:02.98 bitrate= 181.3kbits/s "
      "dup=75 drop=0 speed=34.2x    ");
  EXPECT_EQ(s.dup_frames, 75);
  EXPECT_EQ(s.drop_frames, 0);
  EXPECT_EQ(s.speed, 34.2);
}

TEST(ParseStatsLine, SeveralVideoStreamsKeepTheFirstQ) {
  StatsLine periodic = Parse(
      "frame=    1 fps=0.0 q=0.0 q=0.0 q=0.0 size=       0kB time=00:00:00.00 bitrate=N/A "
      "speed=   0x    ");
  EXPECT_FALSE(periodic.last);
  EXPECT_EQ(periodic.q, 0.0);
  EXPECT_EQ(periodic.speed, 0.0);
  // The last report glues L to the second stream's q.
  StatsLine last = Parse(
      "frame=   50 fps=0.0 q=28.5 Lq=-1.0 q=-1.0 size=      73kB time=00:00:02.96 "
      "bitrate= 203.0kbits/s speed=7.43x    ");
  EXPECT_TRUE(last.last);
  EXPECT_EQ(last.q, 28.5);
  EXPECT_EQ(last.size_bytes, 73 * 1024);
}

TEST(ParseStatsLine, PsnrAndQpHistogramOf51) {
  StatsLine p = Parse(
      "frame=  150 fps=0.0 q=4.0 LPSNR=Y:47.54 U:45.19 V:45.60 *:46.70 size=    4745kB "
      "time=00:00:05.96 bitrate=6522.4kbits/s speed=9.72x    ");
  EXPECT_TRUE(p.last);
  EXPECT_EQ(p.q, 4.0);
  EXPECT_EQ(p.size_bytes, 4745 * 1024);
  EXPECT_EQ(p.time_us, 5960000);
  StatsLine h = Parse(
      "frame=    1 fps=0.0 q=0.0 10000000000000000000000000000000size=       0kB "
      "time=00:00:00.00 bitrate=N/A speed=N/A    ");
  EXPECT_FALSE(h.last);
  EXPECT_EQ(h.size_bytes, 0);
  StatsLine hl = Parse(
      "frame=  150 fps= 63 q=-1.0 L1000000000000000000000000000200Asize=    1756kB "
      "time=00:00:05.88 bitrate=2446.1kbits/s speed=2.46x    ");
  EXPECT_TRUE(hl.last);
  EXPECT_EQ(hl.size_bytes, 1756 * 1024);
}

TEST(ParseStatsLine, Prefixes) {
  EXPECT_EQ(Parse("[info] size=       0kB time=00:00:00.00 bitrate=N/A speed=N/A").size_bytes, 0);
  EXPECT_EQ(Parse("12:00:01.544 [info] frame=    3 fps=0.0 q=0.0 size=       0KiB time=N/A "
                  "bitrate=N/A speed=N/A elapsed=0:00:00.50")
                .frame,
            3);
  EXPECT_EQ(Parse("2026-11-22 12:00:01.544 frame=    4 fps=0.0 q=0.0 size=       0KiB time=N/A "
                  "bitrate=N/A speed=N/A")
                .frame,
            4);
}

TEST(ParseStatsLine, NegativeAndLongHours) {
  EXPECT_EQ(Parse("size=       2kB time=-00:00:00.97 bitrate=N/A speed=N/A").time_us, -970000);
  EXPECT_EQ(Parse("size=       2kB time=123:00:00.50 bitrate=N/A speed=N/A").time_us,
            int64_t{123} * 3600 * 1000000 + 500000);
}

TEST(ParseStatsLine, SentinelOf60GivesNoTimeAndNoBitrate) {
  StatsLine s = Parse(
      "frame=    0 fps=0.0 q=0.0 size=       0kB time=-577014:32:22.77 bitrate=  -0.0kbits/s "
      "speed=N/A    ");
  EXPECT_EQ(s.time_us, std::nullopt);
  EXPECT_EQ(s.bitrate_kbps, std::nullopt);
  EXPECT_EQ(s.size_bytes, 0);
  EXPECT_EQ(s.frame, 0);
  // The capitalised form quoted in a bug report is not a stats line at all.
  EXPECT_EQ(ParseStatsLine("SIZE=       0KB TIME=-577014:32:22.77 BITRATE=  -0.0KBITS/S SPEED=N/A"),
            std::nullopt);
}

TEST(ParseStatsLine, NegativeZeroBitrateReadsAsZero) {
  StatsLine s = Parse("size=       0kB time=-00:00:00.04 bitrate=  -0.0kbits/s speed=N/A");
  ASSERT_TRUE(s.bitrate_kbps);
  EXPECT_FALSE(std::signbit(*s.bitrate_kbps));
  EXPECT_EQ(s.time_us, -40000);
}

// The number rules of a stats line (parsers/common/text.h does the numbers): no N/A for frame,
// fps or q, no negative size, no blanks inside a value, every float finite.
TEST(ParseStatsLine, NumberRulesPerKey) {
  constexpr std::string_view kTail = " size=       2kB time=00:00:01.00 bitrate=N/A speed=N/A";
  auto with = [&](std::string_view head) {
    return ParseStatsLine(std::string(head) + kTail.data());
  };
  EXPECT_EQ(with("frame=N/A"), std::nullopt);
  EXPECT_EQ(with("frame=+3"), std::nullopt);
  EXPECT_EQ(with("frame=3 fps=N/A"), std::nullopt);
  EXPECT_EQ(with("frame=3 fps=inf"), std::nullopt);
  EXPECT_EQ(with("frame=3 q=nan"), std::nullopt);
  ASSERT_TRUE(with("frame=3 q=-0.0"));
  EXPECT_FALSE(std::signbit(*with("frame=3 q=-0.0")->q));
  EXPECT_EQ(ParseStatsLine("size=      -2kB time=00:00:01.00 bitrate=N/A speed=N/A"), std::nullopt);
  EXPECT_EQ(ParseStatsLine("size=       2kB time=00:00:01.00 bitrate=1e999kbits/s speed=N/A"),
            std::nullopt);
  EXPECT_EQ(Parse("size=       2kB time=00:00:01.00 bitrate=N/A speed=1e+03x").speed, 1000.0);
}

TEST(ParseStatsLine, RejectsOtherLines) {
  for (const char* line : {
           "",
           "    ",
           "[libx264 @ 0x559767c69e80] frame I:1     Avg QP:20.00  size:  7637",
           "video:60kB audio:26kB subtitle:0kB other streams:0kB global headers:0kB muxing "
           "overhead: 3.572451%",
           "Input #0, lavfi, from 'testsrc=size=320x240:rate=25':",
           "  Stream #0:0: Video: rawvideo, rgb24, 320x240, q=2-31, 25 fps",
           "Press [q] to stop, [?] for help",
           "bitrate=N/A size=0kB time=N/A speed=N/A",       // must start with frame= or size=
           "frame=   10 fps=0.0 q=0.0",                     // no size/time/bitrate/speed
           "size=       0kB time=00:00:00.00 bitrate=N/A",  // no speed
           "frame=abc fps=0.0 q=0.0 size=       0kB time=00:00:00.00 bitrate=N/A speed=N/A",
           "size=       0MB time=00:00:00.00 bitrate=N/A speed=N/A",
           "size=      -1kB time=00:00:00.00 bitrate=N/A speed=N/A",
           "size=99999999999999999kB time=00:00:00.00 bitrate=N/A speed=N/A",
           "size=       0kB time=0:0:0 bitrate=N/A speed=N/A",
           "size=       0kB time=00:00:00.00 bitrate=12 speed=N/A",
           "size=       0kB time=00:00:00.00 bitrate=N/A speed=fast",
           "size=       0kB time=00:00:00.00 bitrate=N/A speed=infx",
           "size=       0kB time=00:00:00.00 bitrate=N/A dup=x drop=0 speed=N/A",
           "size=       0kB time=00:00:00.00 bitrate=N/A speed=N/A elapsed=soon",
           "size=",
           "frame=",
       }) {
    EXPECT_EQ(ParseStatsLine(line), std::nullopt) << line;
  }
}

TEST(ParseStatsLine, UnknownKeysAreIgnored) {
  StatsLine s = Parse(
      "frame=    5 fps=0.0 q=0.0 size=       1kB time=00:00:00.20 bitrate=N/A "
      "speed=0.5x future=42 more=N/A");
  EXPECT_EQ(s.frame, 5);
  EXPECT_EQ(s.speed, 0.5);
}

TEST(ToProgressBlock, MapsEveryField) {
  StatsLine s = Parse(
      "frame=  150 fps=0.0 q=-1.0 Lsize=      66kB time=00:00:02.98 bitrate= 181.3kbits/s "
      "dup=75 drop=1 speed=34.2x elapsed=0:00:00.09");
  ProgressBlock b = ToProgressBlock(s);
  ProgressBlock e;
  e.frame = 150;
  e.fps = 0.0;
  e.bitrate_kbps = 181.3;
  e.total_size_bytes = 66 * 1024;
  e.out_time_us = 2980000;
  e.dup_frames = 75;
  e.drop_frames = 1;
  e.speed = 34.2;
  e.end = true;
  EXPECT_EQ(b, e);
  EXPECT_FALSE(ToProgressBlock(Parse("size=N/A time=N/A bitrate=N/A speed=N/A")).end);
}

// --- Fixtures: the stats lines say what the -progress blocks of the same run say --------------

std::vector<StatsLine> StatsLinesOf(const std::string& bytes) {
  std::vector<StatsLine> out;
  LineSplitter splitter;
  auto sink = [&out](const SplitLine& l) {
    if (std::optional<StatsLine> s = ParseStatsLine(l.text)) out.push_back(*s);
  };
  splitter.Feed(bytes, sink);
  splitter.Finish(sink);
  return out;
}

class StatsVsProgressTest : public ::testing::TestWithParam<const char*> {};

// print_report() writes one stderr line and one -progress block per report, from the same
// numbers: the line shows time truncated to 1/100 s and size rounded to KiB.
TEST_P(StatsVsProgressTest, SameReportsInBothChannels) {
  std::string name = GetParam();
  std::vector<StatsLine> lines =
      StatsLinesOf(testing::ReadFile(testing::FixturePath("stderr/" + name + ".stderr")));
  ProgressParser parser;
  std::vector<ProgressBlock> blocks;
  parser.Feed(testing::ReadFile(testing::FixturePath("progress/" + name + ".progress")), &blocks);
  ASSERT_EQ(parser.errors(), 0u);
  ASSERT_EQ(lines.size(), blocks.size());
  ASSERT_FALSE(blocks.empty());
  for (size_t i = 0; i < blocks.size(); ++i) {
    SCOPED_TRACE("report " + std::to_string(i));
    const StatsLine& s = lines[i];
    const ProgressBlock& b = blocks[i];
    EXPECT_EQ(s.frame, b.frame);
    EXPECT_EQ(s.speed, b.speed);
    EXPECT_EQ(s.bitrate_kbps, b.bitrate_kbps);
    if (b.out_time_us) {
      ASSERT_TRUE(s.time_us);
      EXPECT_EQ(*s.time_us, *b.out_time_us / 10000 * 10000);
    } else {
      EXPECT_EQ(s.time_us, std::nullopt);
    }
    if (b.total_size_bytes) {
      ASSERT_TRUE(s.size_bytes);
      EXPECT_EQ(*s.size_bytes,
                static_cast<int64_t>(std::nearbyint(*b.total_size_bytes / 1024.0)) * 1024);
    } else {
      EXPECT_EQ(s.size_bytes, std::nullopt);
    }
    bool dup_or_drop = b.dup_frames.value_or(0) != 0 || b.drop_frames.value_or(0) != 0;
    EXPECT_EQ(s.dup_frames, dup_or_drop ? b.dup_frames : std::nullopt);
    EXPECT_EQ(s.drop_frames, dup_or_drop ? b.drop_frames : std::nullopt);
    EXPECT_EQ(s.last, b.end && b.frame.has_value());
    if (!b.stream_q.empty()) {
      EXPECT_EQ(s.q, b.stream_q.front().q);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, StatsVsProgressTest,
    ::testing::Values(
        "ff4.4-video-audio-psnr", "ff5.1-audio-only", "ff5.1-banner-short", "ff5.1-drop",
        "ff5.1-dup", "ff5.1-hls", "ff5.1-image2", "ff5.1-level-info", "ff5.1-multi-output",
        "ff5.1-negative-time", "ff5.1-null", "ff5.1-psnr", "ff5.1-qphist", "ff5.1-stats-period-re",
        "ff5.1-stream-copy", "ff5.1-video-audio", "ff6.0-sentinel", "ff6.1-stream-copy",
        "ff6.1-video-audio", "ff7.0-negative-time", "ff7.0-stream-copy", "ff7.1-stream-copy",
        "ff8.0-video-audio", "ff4.3-audio-only", "ff4.3-banner-short", "ff4.3-drop", "ff4.3-dup",
        "ff4.3-hls", "ff4.3-image2", "ff4.3-level-info", "ff4.3-multi-output", "ff4.3-null",
        "ff4.3-psnr", "ff4.3-qphist", "ff4.3-stream-copy", "ff4.3-video-audio", "ff7.1-audio-only",
        "ff7.1-banner-short", "ff7.1-drop", "ff7.1-dup", "ff7.1-hls", "ff7.1-image2",
        "ff7.1-level-info", "ff7.1-multi-output", "ff7.1-negative-time", "ff7.1-null", "ff7.1-psnr",
        "ff7.1-qphist", "ff7.1-stats-period-re", "ff7.1-video-audio", "ff9.0-audio-only",
        "ff9.0-banner-short", "ff9.0-drop", "ff9.0-dup", "ff9.0-hls", "ff9.0-image2",
        "ff9.0-level-info", "ff9.0-multi-output", "ff9.0-negative-time", "ff9.0-null", "ff9.0-psnr",
        "ff9.0-stats-period-re", "ff9.0-stream-copy", "ff9.0-video-audio"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string name = info.param;
      for (char& ch : name) {
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

TEST(StatsLineFixtures, ElapsedOf80WithTimeAndLevelPrefixes) {
  std::vector<StatsLine> plain =
      StatsLinesOf(testing::ReadFile(testing::FixturePath("stderr/ff8.0-video-audio.stderr")));
  std::vector<StatsLine> prefixed =
      StatsLinesOf(testing::ReadFile(testing::FixturePath("stderr/ff8.0-time-level.stderr")));
  ASSERT_EQ(plain.size(), 5u);
  EXPECT_EQ(plain, prefixed);
  EXPECT_EQ(plain.front().elapsed_us, 500000);
  EXPECT_EQ(plain.back().elapsed_us, 2270000);
  EXPECT_EQ(plain.back().size_bytes, 674 * 1024);
}

TEST(StatsLineFixtures, NoiseFixture) {
  std::vector<StatsLine> lines =
      StatsLinesOf(testing::ReadFile(testing::FixturePath("stderr/synthetic-noise.stderr")));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].frame, 10);              // [info] prefix
  EXPECT_EQ(lines[1].time_us, std::nullopt);  // the 6.0 sentinel
  EXPECT_EQ(lines[1].bitrate_kbps, std::nullopt);
  EXPECT_EQ(lines[3].dup_frames, 2);
  EXPECT_EQ(lines[3].drop_frames, 1);
  EXPECT_TRUE(lines[3].last);
}

}  // namespace
}  // namespace ffpod
