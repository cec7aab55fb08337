#include "parsers/ffmpeg/line_splitter.h"

#include <gtest/gtest.h>

#include <ostream>

#include <string>
#include <tuple>
#include <vector>

#include "parsers/ffmpeg/stats_line.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

struct Line {
  std::string text;
  LineEnd end;
  bool truncated;
  bool operator==(const Line&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Line& l) {
  return os << "{\"" << l.text << "\", " << static_cast<int>(l.end) << ", " << l.truncated << "}";
}

struct Split {
  std::vector<Line> lines;
  uint64_t truncated = 0;
};

// Feeds `pieces` in order, then Finish().
Split SplitPieces(const std::vector<std::string_view>& pieces, size_t max = 16 * 1024) {
  LineSplitter splitter(max);
  Split s;
  auto sink = [&s](const SplitLine& l) {
    s.lines.push_back({std::string(l.text), l.end, l.truncated});
  };
  for (std::string_view p : pieces) splitter.Feed(p, sink);
  splitter.Finish(sink);
  s.truncated = splitter.truncated_lines();
  return s;
}

std::vector<std::string_view> Chunks(std::string_view bytes, size_t n) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < bytes.size(); i += n) out.push_back(bytes.substr(i, n));
  return out;
}

// One piece per line: cut after every '\r' and '\n'.
std::vector<std::string_view> LinePieces(std::string_view bytes) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r' || bytes[i] == '\n') {
      out.push_back(bytes.substr(start, i + 1 - start));
      start = i + 1;
    }
  }
  if (start < bytes.size()) out.push_back(bytes.substr(start));
  return out;
}

// Splits whole, line by line, byte by byte and in 13-byte chunks; all must agree.
Split SplitAllWays(std::string_view bytes, size_t max = 16 * 1024) {
  Split whole = SplitPieces({bytes}, max);
  Split lines = SplitPieces(LinePieces(bytes), max);
  Split bytewise = SplitPieces(Chunks(bytes, 1), max);
  Split odd = SplitPieces(Chunks(bytes, 13), max);
  EXPECT_EQ(whole.lines, lines.lines);
  EXPECT_EQ(whole.lines, bytewise.lines);
  EXPECT_EQ(whole.lines, odd.lines);
  EXPECT_EQ(whole.truncated, lines.truncated);
  EXPECT_EQ(whole.truncated, bytewise.truncated);
  EXPECT_EQ(whole.truncated, odd.truncated);
  return whole;
}

constexpr LineEnd kNl = LineEnd::kNewline;
constexpr LineEnd kCr = LineEnd::kCarriageReturn;
constexpr LineEnd kEof = LineEnd::kEof;

TEST(LineSplitter, TerminatorsAndEmptyLines) {
  Split s = SplitAllWays("a\nb\rc\r\nd\n\n\r\r\n\re");
  std::vector<Line> expected = {{"a", kNl, false},
                                {"b", kCr, false},
                                {"c", kCr, false},
                                {"d", kNl, false},
                                {"e", kEof, false}};
  EXPECT_EQ(s.lines, expected);
  EXPECT_EQ(s.truncated, 0u);
}

TEST(LineSplitter, StatsUpdatesThenFinalLine) {
  Split s = SplitAllWays(
      "frame=    1 fps=0.0 q=0.0 size=       0kB time=00:00:00.00 bitrate=N/A speed=   0x    \r"
      "frame=   75 fps=0.0 q=-1.0 Lsize=      88kB time=00:00:03.00 bitrate= 240.5kbits/s "
      "speed=24.9x    \nvideo:60kB audio:26kB\n");
  ASSERT_EQ(s.lines.size(), 3u);
  EXPECT_EQ(s.lines[0].end, kCr);
  EXPECT_EQ(s.lines[1].end, kNl);
  EXPECT_EQ(s.lines[2].text, "video:60kB audio:26kB");
}

TEST(LineSplitter, CrLfAcrossFeeds) {
  Split s = SplitPieces({"one\r", "\ntwo\r", "", "\n", "\nthree"});
  std::vector<Line> expected = {{"one", kCr, false}, {"two", kCr, false}, {"three", kEof, false}};
  EXPECT_EQ(s.lines, expected);
}

TEST(LineSplitter, OverlongLineIsDeliveredOnceTruncated) {
  Split s = SplitAllWays("0123456789abc\nshort\n01234567\n012345678\rtail-is-long", 8);
  std::vector<Line> expected = {{"01234567", kNl, true},
                                {"short", kNl, false},
                                {"01234567", kNl, false},  // exactly the limit: not truncated
                                {"01234567", kCr, true},
                                {"tail-is-", kEof, true}};
  EXPECT_EQ(s.lines, expected);
  EXPECT_EQ(s.truncated, 3u);
}

TEST(LineSplitter, MemoryStaysBoundedOnEndlessLine) {
  LineSplitter splitter(1024);
  std::vector<Line> lines;
  auto sink = [&lines](const SplitLine& l) {
    lines.push_back({std::string(l.text), l.end, l.truncated});
  };
  std::string chunk(1 << 16, 'x');
  for (int i = 0; i < 256; ++i) splitter.Feed(chunk, sink);  // 16 MiB, no terminator
  EXPECT_TRUE(lines.empty());
  splitter.Feed("\nnext\n", sink);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, std::string(1024, 'x'));
  EXPECT_TRUE(lines[0].truncated);
  EXPECT_EQ(lines[1], (Line{"next", kNl, false}));
  EXPECT_EQ(splitter.truncated_lines(), 1u);
}

TEST(LineSplitter, BinaryAndInvalidUtf8PassThrough) {
  std::string bytes("\x00\xff\xfe\xc3\x28\xed\xa0\x80\n\x01", 10);
  Split s = SplitAllWays(bytes);
  ASSERT_EQ(s.lines.size(), 2u);
  EXPECT_EQ(s.lines[0].text, std::string("\x00\xff\xfe\xc3\x28\xed\xa0\x80", 8));
  EXPECT_EQ(s.lines[1], (Line{"\x01", kEof, false}));
}

TEST(LineSplitter, FinishResetsAndIsQuietWhenEmpty) {
  LineSplitter splitter(4);
  int calls = 0;
  auto sink = [&calls](const SplitLine&) { ++calls; };
  splitter.Finish(sink);
  EXPECT_EQ(calls, 0);
  splitter.Feed("abc\r", sink);
  splitter.Finish(sink);
  EXPECT_EQ(calls, 1);
  // After Finish a '\n' is not swallowed as the second half of the earlier "\r\n".
  std::vector<Line> lines;
  splitter.Feed("\nxy\n", [&lines](const SplitLine& l) {
    lines.push_back({std::string(l.text), l.end, l.truncated});
  });
  EXPECT_EQ(lines, (std::vector<Line>{{"xy", kNl, false}}));
}

TEST(LineSplitter, ZeroLimitIsTreatedAsOne) {
  Split s = SplitAllWays("ab\n", 0);
  EXPECT_EQ(s.lines, (std::vector<Line>{{"a", kNl, true}}));
}

// --- Fixtures -----------------------------------------------------------------------------------

struct StderrCase {
  const char* file;
  size_t lines;     // non-empty lines, the unterminated tail included
  size_t cr_lines;  // ended by '\r' (or "\r\n")
  size_t stats_lines;
  uint64_t truncated;
};

// Counts read off the files with an independent regular-expression scan (tests/fixtures/README.md).
const StderrCase kStderr[] = {
    {"ff4.4-video-audio-psnr.stderr", 17, 3, 4, 0},
    {"ff5.1-audio-only.stderr", 15, 1, 2, 0},
    {"ff5.1-banner-short.stderr", 46, 1, 2, 0},
    {"ff5.1-drop.stderr", 38, 4, 5, 0},
    {"ff5.1-dup.stderr", 37, 3, 4, 0},
    {"ff5.1-hls.stderr", 48, 4, 5, 0},
    {"ff5.1-image2.stderr", 14, 1, 2, 0},
    {"ff5.1-level-info.stderr", 39, 5, 6, 0},
    {"ff5.1-multi-output.stderr", 102, 5, 6, 0},
    {"ff5.1-negative-time.stderr", 19, 5, 6, 0},
    {"ff5.1-null.stderr", 30, 5, 6, 0},
    {"ff5.1-psnr.stderr", 17, 2, 3, 0},
    {"ff5.1-qphist.stderr", 39, 5, 6, 0},
    {"ff5.1-stats-period-re.stderr", 35, 8, 9, 0},
    {"ff5.1-stream-copy.stderr", 29, 1, 2, 0},
    {"ff5.1-video-audio.stderr", 45, 3, 4, 0},
    {"ff6.0-sentinel.stderr", 17, 3, 4, 0},
    {"ff6.1-stream-copy.stderr", 14, 2, 3, 0},
    {"ff6.1-video-audio.stderr", 17, 3, 4, 0},
    {"ff7.0-negative-time.stderr", 17, 3, 4, 0},
    {"ff7.0-stream-copy.stderr", 14, 2, 3, 0},
    {"ff8.0-time-level.stderr", 18, 4, 5, 0},
    {"ff8.0-video-audio.stderr", 18, 4, 5, 0},
    {"ff4.3-audio-only.stderr", 19, 5, 6, 0},
    {"ff4.3-banner-short.stderr", 46, 0, 1, 0},
    {"ff4.3-drop.stderr", 44, 10, 11, 0},
    {"ff4.3-dup.stderr", 48, 14, 15, 0},
    {"ff4.3-hls.stderr", 66, 22, 23, 0},
    {"ff4.3-image2.stderr", 15, 2, 3, 0},
    {"ff4.3-level-info.stderr", 48, 14, 15, 0},
    {"ff4.3-multi-output.stderr", 107, 10, 11, 0},
    {"ff4.3-null.stderr", 38, 13, 14, 0},
    {"ff4.3-psnr.stderr", 17, 2, 3, 0},
    {"ff4.3-qphist.stderr", 52, 18, 19, 0},
    {"ff4.3-stream-copy.stderr", 28, 0, 1, 0},
    {"ff4.3-video-audio.stderr", 58, 16, 17, 0},
    {"ff7.1-audio-only.stderr", 15, 1, 2, 0},
    {"ff7.1-banner-short.stderr", 45, 0, 1, 0},
    {"ff7.1-drop.stderr", 39, 5, 6, 0},
    {"ff7.1-dup.stderr", 37, 3, 4, 0},
    {"ff7.1-hls.stderr", 50, 6, 7, 0},
    {"ff7.1-image2.stderr", 14, 1, 2, 0},
    {"ff7.1-level-info.stderr", 38, 4, 5, 0},
    {"ff7.1-multi-output.stderr", 100, 2, 3, 0},
    {"ff7.1-negative-time.stderr", 15, 1, 2, 0},
    {"ff7.1-null.stderr", 30, 5, 6, 0},
    {"ff7.1-psnr.stderr", 16, 1, 2, 0},
    {"ff7.1-qphist.stderr", 40, 5, 6, 0},
    {"ff7.1-stats-period-re.stderr", 32, 5, 6, 0},
    {"ff7.1-stream-copy.stderr", 29, 1, 2, 0},
    {"ff7.1-video-audio.stderr", 52, 10, 11, 0},
    {"ff9.0-audio-only.stderr", 15, 1, 2, 0},
    {"ff9.0-banner-short.stderr", 44, 0, 1, 0},
    {"ff9.0-drop.stderr", 37, 3, 4, 0},
    {"ff9.0-dup.stderr", 36, 2, 3, 0},
    {"ff9.0-hls.stderr", 49, 5, 6, 0},
    {"ff9.0-image2.stderr", 14, 1, 2, 0},
    {"ff9.0-level-info.stderr", 38, 4, 5, 0},
    {"ff9.0-multi-output.stderr", 100, 2, 3, 0},
    {"ff9.0-negative-time.stderr", 16, 2, 3, 0},
    {"ff9.0-null.stderr", 30, 5, 6, 0},
    {"ff9.0-psnr.stderr", 16, 1, 2, 0},
    {"ff9.0-stats-period-re.stderr", 33, 6, 7, 0},
    {"ff9.0-stream-copy.stderr", 28, 0, 1, 0},
    {"ff9.0-video-audio.stderr", 48, 6, 7, 0},
    {"synthetic-noise.stderr", 8, 5, 4, 1},
};

class StderrFixtureTest : public ::testing::TestWithParam<StderrCase> {};

TEST_P(StderrFixtureTest, SameLinesWholeByLineAndByByte) {
  const StderrCase& c = GetParam();
  std::string bytes = testing::ReadFile(testing::FixturePath(std::string("stderr/") + c.file));
  ASSERT_FALSE(bytes.empty());
  Split s = SplitAllWays(bytes);
  EXPECT_EQ(s.lines.size(), c.lines);
  EXPECT_EQ(s.truncated, c.truncated);
  size_t cr = 0;
  size_t stats = 0;
  for (const Line& l : s.lines) {
    EXPECT_FALSE(l.text.empty());
    EXPECT_EQ(l.text.find_first_of("\r\n"), std::string::npos);
    if (l.end == kCr) ++cr;
    if (ParseStatsLine(l.text)) ++stats;
  }
  EXPECT_EQ(cr, c.cr_lines);
  EXPECT_EQ(stats, c.stats_lines);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StderrFixtureTest, ::testing::ValuesIn(kStderr),
                         [](const ::testing::TestParamInfo<StderrCase>& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find(".stderr"));
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace ffpod
