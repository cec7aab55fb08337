#include "parsers/ffmpeg/ffmpeg_version.h"

#include <gtest/gtest.h>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

struct Case {
  const char* line;
  bool known;
  bool git;
  int major, minor, patch;
  const char* text;
};

const Case kCases[] = {
    {"ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers", true, false, 5,
     1, 9, "5.1.9-0+deb12u1"},
    {"ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2000-2021 the FFmpeg developers", true,
     false, 4, 4, 2, "4.4.2-0ubuntu0.22.04.1"},
    {"ffmpeg version 6.1.1-3ubuntu5 Copyright (c) 2000-2023 the FFmpeg developers", true, false, 6,
     1, 1, "6.1.1-3ubuntu5"},
    {"ffmpeg version n7.1 Copyright (c) 2000-2024 the FFmpeg developers", true, false, 7, 1, 0,
     "n7.1"},
    {"ffmpeg version n8.0.1 Copyright (c) 2000-2025 the FFmpeg developers", true, false, 8, 0, 1,
     "n8.0.1"},
    {"ffmpeg version 7.0.2-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2024", true,
     false, 7, 0, 2, "7.0.2-static"},
    {"ffmpeg version 7.1-full_build-www.gyan.dev Copyright (c) 2000-2024", true, false, 7, 1, 0,
     "7.1-full_build-www.gyan.dev"},
    {"ffmpeg version 8.0 Copyright (c) 2000-2025 the FFmpeg developers", true, false, 8, 0, 0,
     "8.0"},
    {"ffprobe version 6.0-6ubuntu1 Copyright (c) 2007-2023 the FFmpeg developers", true, false, 6,
     0, 0, "6.0-6ubuntu1"},
    {"ffmpeg version N-118000-g1a2b3c4d5e Copyright (c) 2000-2025 the FFmpeg developers", false,
     true, 0, 0, 0, "N-118000-g1a2b3c4d5e"},
    {"ffmpeg version 2024-03-24-git-e0a4b2e0f7-full_build-www.gyan.dev Copyright (c) 2000-2024",
     false, true, 0, 0, 0, "2024-03-24-git-e0a4b2e0f7-full_build-www.gyan.dev"},
    {"ffmpeg version git-2024-01-01-abcdef0 Copyright", false, true, 0, 0, 0,
     "git-2024-01-01-abcdef0"},
    {"ffmpeg version 8.0.git Copyright (c) 2000-2026 the FFmpeg developers", true, true, 8, 0, 0,
     "8.0.git"},
    {"5.1.2", true, false, 5, 1, 2, "5.1.2"},
    {"ffmpeg version 4.x (not given) Copyright", false, false, 0, 0, 0, "4.x"},
    {"ffmpeg version", false, false, 0, 0, 0, ""},
    {"", false, false, 0, 0, 0, ""},
    {"hello world", false, false, 0, 0, 0, "hello"},
    {"ffmpeg version 99999999999.1", false, false, 0, 0, 0, "99999999999.1"},
};

TEST(ParseFfmpegVersion, FirstLines) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.line);
    FfmpegVersion v = ParseFfmpegVersion(c.line);
    EXPECT_EQ(v.known, c.known);
    EXPECT_EQ(v.git, c.git);
    EXPECT_EQ(v.major, c.major);
    EXPECT_EQ(v.minor, c.minor);
    EXPECT_EQ(v.patch, c.patch);
    EXPECT_EQ(v.text, c.text);
  }
}

TEST(FfmpegVersion, AtLeast) {
  FfmpegVersion v51 = ParseFfmpegVersion("ffmpeg version 5.1.9-0+deb12u1");
  EXPECT_TRUE(v51.AtLeast(5, 1));
  EXPECT_TRUE(v51.AtLeast(5, 0));
  EXPECT_TRUE(v51.AtLeast(4, 4));
  EXPECT_FALSE(v51.AtLeast(5, 2));
  EXPECT_FALSE(v51.AtLeast(6, 0));
  FfmpegVersion git = ParseFfmpegVersion("ffmpeg version N-118000-gabc");
  EXPECT_TRUE(git.AtLeast(99, 0));
  FfmpegVersion unknown = ParseFfmpegVersion("no version here");
  EXPECT_FALSE(unknown.AtLeast(0, 0));
}

TEST(FfmpegVersion, ExitsWithAverrorFrom61) {
  EXPECT_FALSE(ParseFfmpegVersion("ffmpeg version 4.4.2").ExitsWithAverror());
  EXPECT_FALSE(ParseFfmpegVersion("ffmpeg version 5.1.9").ExitsWithAverror());
  EXPECT_FALSE(ParseFfmpegVersion("ffmpeg version 6.0").ExitsWithAverror());
  EXPECT_TRUE(ParseFfmpegVersion("ffmpeg version 6.1").ExitsWithAverror());
  EXPECT_TRUE(ParseFfmpegVersion("ffmpeg version n7.1").ExitsWithAverror());
  EXPECT_TRUE(ParseFfmpegVersion("ffmpeg version N-1-gabc").ExitsWithAverror());
  EXPECT_FALSE(ParseFfmpegVersion("").ExitsWithAverror());
}

TEST(FfmpegVersion, FirstSignalIgnoredWithoutStdinOn70To711And800) {
  for (const char* yes : {"ffmpeg version 7.0", "ffmpeg version 7.0.2-static",
                          "ffmpeg version 7.0.3", "ffmpeg version n7.1", "ffmpeg version 7.1.1",
                          "ffmpeg version 8.0", "ffmpeg version 8.0.0"}) {
    EXPECT_TRUE(ParseFfmpegVersion(yes).IgnoresFirstSignalWithoutStdin()) << yes;
  }
  // The backports (7.1.2, 8.0.1) and the real Debian builds the matrix tier runs.
  for (const char* no :
       {"ffmpeg version 4.3.7-0+deb11u1", "ffmpeg version 4.4.2", "ffmpeg version 5.1.9",
        "ffmpeg version 6.1.1", "ffmpeg version 7.1.2", "ffmpeg version 7.1.5-0+deb13u1",
        "ffmpeg version 8.0.1", "ffmpeg version 8.1", "ffmpeg version 9.0",
        "ffmpeg version 9.0.2-1", "ffmpeg version N-1-gabc", "ffmpeg version 8.0.git", "garbage"}) {
    EXPECT_FALSE(ParseFfmpegVersion(no).IgnoresFirstSignalWithoutStdin()) << no;
  }
}

// The ffmpeg installed here.
TEST(ParseFfmpegVersion, LocalBinary) {
  testing::CommandResult r = testing::RunCommand({"ffmpeg", "-version"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string first = r.out.substr(0, r.out.find('\n'));
  FfmpegVersion v = ParseFfmpegVersion(first);
  EXPECT_TRUE(v.known || v.git) << first;
  if (v.known) {
    EXPECT_GE(v.major, 4);
    EXPECT_EQ(first.find(v.text), std::string("ffmpeg version ").size());
  }
}

}  // namespace
}  // namespace ffpod
