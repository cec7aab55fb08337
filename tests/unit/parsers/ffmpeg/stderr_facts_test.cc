#include "parsers/ffmpeg/stderr_facts.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

TEST(StderrFacts, BannerVersionDurationsAndStdin) {
  StderrFacts facts;
  const char* lines[] = {
      "[info] ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers",
      "[info]   built with gcc 12 (Debian 12.2.0-14+deb12u1)",
      "[info]   libavutil      57. 28.100 / 57. 28.100",
      "[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in.mp4':",
      "[info]   Metadata:",
      "[info]     major_brand     : isom",
      "[info]   Duration: 00:01:02.50, start: 0.000000, bitrate: 240 kb/s",
      "[info] Input #1, lavfi, from 'sine':",
      "[info]   Duration: N/A, start: 0.000000, bitrate: N/A",
      "[info] Stream mapping:",
      "[info] Press [q] to stop, [?] for help",
  };
  std::vector<bool> banner;
  for (const char* l : lines) banner.push_back(facts.Observe(l));
  EXPECT_EQ(banner, (std::vector<bool>{true, true, true, false, false, false, false, false, false,
                                       false, false}));
  ASSERT_TRUE(facts.version().has_value());
  EXPECT_EQ(facts.version()->major, 5);
  EXPECT_EQ(facts.version()->minor, 1);
  EXPECT_EQ(facts.InputDuration(0), std::optional<std::optional<int64_t>>(62'500'000));
  ASSERT_TRUE(facts.InputDuration(1).has_value());
  EXPECT_FALSE(facts.InputDuration(1)->has_value());
  EXPECT_FALSE(facts.InputDuration(2).has_value());
  EXPECT_TRUE(facts.stdin_interaction());
}

TEST(StderrFacts, WithoutLevelTagsAndOutputDurationsIgnored) {
  StderrFacts facts;
  facts.Observe("Input #0, mpegts, from 'http://cdn/x.ts':");
  facts.Observe("  Duration: 00:00:10.00, start: 1.400000, bitrate: 5000 kb/s");
  facts.Observe("Output #0, mp4, to 'out.mp4':");
  facts.Observe("  Duration: 00:00:99.00");  // not an input's (and not valid)
  EXPECT_EQ(facts.InputDuration(0), std::optional<std::optional<int64_t>>(10'000'000));
  EXPECT_EQ(facts.inputs_seen(), 1u);
  EXPECT_FALSE(facts.version().has_value());
  EXPECT_FALSE(facts.stdin_interaction());
}

}  // namespace
}  // namespace ffpod
