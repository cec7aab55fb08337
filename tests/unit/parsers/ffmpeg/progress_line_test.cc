#include "parsers/ffmpeg/progress_line.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

TEST(FormatProgressLine, KnownTotalShowsPercentAndEta) {
  ProgressView v;
  v.ratio = 0.42;
  v.eta_s = 3.2;
  v.speed = 2.1;
  v.fps = 52.4;
  v.out_time_s = 12.5;
  v.total_size_bytes = 1258291;  // 1.2 MiB
  v.bitrate_bps = 812345;
  EXPECT_EQ(FormatProgressLine(v),
            " 42.0% ETA 0:00:04 speed 2.10x fps 52 size 1.2 MiB bitrate 812 kbit/s");
  v.ratio = 1.0;
  v.eta_s = 3725;
  EXPECT_EQ(FormatProgressLine(v),
            "100.0% ETA 1:02:05 speed 2.10x fps 52 size 1.2 MiB bitrate 812 kbit/s");
}

TEST(FormatProgressLine, UnknownTotalShowsTheMediaTimeInstead) {
  ProgressView v;
  v.out_time_s = 72.35;
  v.speed = 1.0;
  v.fps = 7.5;
  v.total_size_bytes = 235520;
  v.bitrate_bps = 25e6;
  EXPECT_EQ(FormatProgressLine(v),
            "time 0:01:12.3 speed 1.00x fps 7.5 size 230 KiB bitrate 25.0 Mbit/s");
}

TEST(FormatProgressLine, LeavesOutWhatIsNotKnown) {
  EXPECT_EQ(FormatProgressLine(ProgressView{}), "");
  ProgressView v;
  v.ratio = 0.005;  // a total, but no speed yet: no ETA
  v.total_size_bytes = 48;
  v.bitrate_bps = 0;  // ffmpeg's N/A at the start
  EXPECT_EQ(FormatProgressLine(v), "  0.5% size 48 B");
  v.total_size_bytes = int64_t{5} * 1024 * 1024 * 1024;
  EXPECT_EQ(FormatProgressLine(v), "  0.5% size 5.00 GiB");
  v.bitrate_bps = 420;
  EXPECT_EQ(FormatProgressLine(v), "  0.5% size 5.00 GiB bitrate 0.4 kbit/s");
}

}  // namespace
}  // namespace ffpod
