#include "parsers/ffmpeg/ffmpeg_args.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

using Args = std::vector<std::string>;
constexpr int64_t kSec = 1000000;

TEST(ParseFfmpegDuration, SexagesimalAndSeconds) {
  EXPECT_EQ(ParseFfmpegDuration("00:01:02.5"), 62500000);
  EXPECT_EQ(ParseFfmpegDuration("1:02.25"), 62250000);
  EXPECT_EQ(ParseFfmpegDuration("123:00:00"), 123LL * 3600 * kSec);
  EXPECT_EQ(ParseFfmpegDuration("-00:00:01.000001"), -1000001);
  EXPECT_EQ(ParseFfmpegDuration("12"), 12 * kSec);
  EXPECT_EQ(ParseFfmpegDuration("12.5"), 12500000);
  EXPECT_EQ(ParseFfmpegDuration(".5"), 500000);
  EXPECT_EQ(ParseFfmpegDuration("1500ms"), 1500000);
  EXPECT_EQ(ParseFfmpegDuration("250us"), 250);
  EXPECT_EQ(ParseFfmpegDuration("3s"), 3 * kSec);
}

TEST(ParseFfmpegDuration, RejectsGarbage) {
  for (const char* bad :
       {"", "abc", "1:2:3:4", "00:61:00", "00:00:75", "1e3", "--1", ":", "1.2.3"}) {
    EXPECT_FALSE(ParseFfmpegDuration(bad).has_value()) << bad;
  }
}

TEST(AnalyzeFfmpegArgs, InputsOutputsAndTheirOptions) {
  Args args = {"-y",
               "-ss",
               "10",
               "-t",
               "5",
               "-i",
               "in.mp4",
               "-f",
               "lavfi",
               "-i",
               "sine=frequency=440",
               "-c:v",
               "libx264",
               "-preset",
               "veryfast",
               "-map",
               "0:v",
               "-map",
               "1:a",
               "-t",
               "3",
               "-movflags",
               "+faststart",
               "out.mp4",
               "-f",
               "null",
               "-"};
  FfmpegCommand cmd = AnalyzeFfmpegArgs(args);
  ASSERT_EQ(cmd.inputs.size(), 2u);
  EXPECT_EQ(cmd.inputs[0].url, "in.mp4");
  EXPECT_EQ(cmd.inputs[0].seek_us, 10 * kSec);
  EXPECT_EQ(cmd.inputs[0].duration_us, 5 * kSec);
  EXPECT_EQ(cmd.inputs[1].url, "sine=frequency=440");
  EXPECT_EQ(cmd.inputs[1].format, "lavfi");
  EXPECT_FALSE(cmd.inputs[1].seek_us.has_value());
  ASSERT_EQ(cmd.outputs.size(), 2u);
  EXPECT_EQ(cmd.outputs[0].url, "out.mp4");
  EXPECT_EQ(cmd.outputs[0].arg_index, 23u);
  EXPECT_EQ(cmd.outputs[0].duration_us, 3 * kSec);
  EXPECT_EQ(cmd.outputs[1].url, "-");
  EXPECT_EQ(cmd.outputs[1].format, "null");
  EXPECT_TRUE(cmd.outputs[1].writes_stdout);
  EXPECT_FALSE(cmd.outputs[1].duration_us.has_value());
  EXPECT_TRUE(cmd.has_overwrite_choice);
  EXPECT_FALSE(cmd.has_progress);
  EXPECT_FALSE(cmd.ReadsStdin());
}

TEST(AnalyzeFfmpegArgs, BooleanOptionsTakeNoValue) {
  // If -re, -nostdin, -shortest or -an consumed a value, "in.ts"/"o.mkv" would be lost.
  FfmpegCommand cmd = AnalyzeFfmpegArgs(
      {"-nostdin", "-re", "-i", "in.ts", "-an", "-shortest", "-copyts", "-xerror", "o.mkv"});
  ASSERT_EQ(cmd.inputs.size(), 1u);
  ASSERT_EQ(cmd.outputs.size(), 1u);
  EXPECT_EQ(cmd.outputs[0].url, "o.mkv");
  EXPECT_TRUE(cmd.has_nostdin);
  EXPECT_TRUE(cmd.shortest);
  EXPECT_FALSE(cmd.has_overwrite_choice);
}

TEST(AnalyzeFfmpegArgs, StdinInputsAndStdoutOutputs) {
  for (const char* url : {"-", "pipe:", "pipe:0", "/dev/stdin", "fd:", "fd:0"}) {
    FfmpegCommand cmd = AnalyzeFfmpegArgs({"-i", url, "-f", "mpegts", "pipe:1"});
    EXPECT_TRUE(cmd.ReadsStdin()) << url;
    ASSERT_EQ(cmd.outputs.size(), 1u);
    EXPECT_TRUE(cmd.outputs[0].writes_stdout);
  }
  EXPECT_FALSE(AnalyzeFfmpegArgs({"-i", "pipe:3", "o.mp4"}).ReadsStdin());
  EXPECT_FALSE(AnalyzeFfmpegArgs({"-i", "in.mp4", "-"}).ReadsStdin());
}

TEST(AnalyzeFfmpegArgs, ProgressLoglevelAndInfo) {
  FfmpegCommand cmd =
      AnalyzeFfmpegArgs({"-v", "error", "-progress", "pipe:1", "-i", "a.mp4", "b.mp4"});
  EXPECT_TRUE(cmd.has_progress);
  EXPECT_TRUE(cmd.has_loglevel);
  EXPECT_FALSE(cmd.info_only);
  EXPECT_TRUE(AnalyzeFfmpegArgs({"-encoders"}).info_only);
  EXPECT_EQ(AnalyzeFfmpegArgs({"-i", "a.mp4", "-c:v"}).missing_value_for, "-c:v");
}

TEST(ExpectedOutputDuration, ProbedInputWithSeekAndLimits) {
  auto cmd = AnalyzeFfmpegArgs({"-ss", "10", "-i", "in.mp4", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(cmd, {60 * kSec}), 50 * kSec);
  cmd = AnalyzeFfmpegArgs({"-ss", "10", "-to", "25", "-i", "in.mp4", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(cmd, {60 * kSec}), 15 * kSec);
  cmd = AnalyzeFfmpegArgs({"-i", "in.mp4", "-ss", "5", "-t", "100", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(cmd, {60 * kSec}), 55 * kSec);
  cmd = AnalyzeFfmpegArgs({"-i", "in.mp4", "-to", "20", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(cmd, {60 * kSec}), 20 * kSec);
  // -t wins over -to.
  cmd = AnalyzeFfmpegArgs({"-i", "in.mp4", "-t", "3", "-to", "20", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(cmd, {60 * kSec}), 3 * kSec);
  // Seeking past the end leaves nothing: no total rather than 0 %.
  cmd = AnalyzeFfmpegArgs({"-ss", "90", "-i", "in.mp4", "out.mp4"});
  EXPECT_FALSE(ExpectedOutputDurationUs(cmd, {60 * kSec}).has_value());
}

TEST(ExpectedOutputDuration, UnknownStaysUnknown) {
  auto live = AnalyzeFfmpegArgs({"-f", "lavfi", "-i", "testsrc2", "out.mp4"});
  EXPECT_FALSE(ExpectedOutputDurationUs(live, {std::nullopt}).has_value());
  auto pipe = AnalyzeFfmpegArgs({"-i", "-", "out.mp4"});
  EXPECT_FALSE(ExpectedOutputDurationUs(pipe, {std::nullopt}).has_value());
  auto looped = AnalyzeFfmpegArgs({"-stream_loop", "-1", "-i", "in.mp4", "out.mp4"});
  EXPECT_FALSE(ExpectedOutputDurationUs(looped, {10 * kSec}).has_value());
  // One unbounded input among bounded ones: the longest is unknown.
  auto mixed = AnalyzeFfmpegArgs({"-i", "in.mp4", "-f", "lavfi", "-i", "sine", "out.mp4"});
  EXPECT_FALSE(ExpectedOutputDurationUs(mixed, {10 * kSec, std::nullopt}).has_value());
}

TEST(ExpectedOutputDuration, LimitsMakeUnknownInputsKnown) {
  auto out_t = AnalyzeFfmpegArgs({"-f", "lavfi", "-i", "testsrc2", "-t", "8", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(out_t, {std::nullopt}), 8 * kSec);
  auto in_t = AnalyzeFfmpegArgs({"-f", "lavfi", "-t", "4", "-i", "testsrc2", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(in_t, {std::nullopt}), 4 * kSec);
  auto looped = AnalyzeFfmpegArgs({"-stream_loop", "2", "-i", "in.mp4", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(looped, {10 * kSec}), 30 * kSec);
  auto shortest =
      AnalyzeFfmpegArgs({"-i", "a.mp4", "-f", "lavfi", "-i", "sine", "-shortest", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(shortest, {10 * kSec, std::nullopt}), 10 * kSec);
  auto longest = AnalyzeFfmpegArgs({"-i", "a.mp4", "-i", "b.mp4", "out.mp4"});
  EXPECT_EQ(ExpectedOutputDurationUs(longest, {10 * kSec, 12 * kSec}), 12 * kSec);
  auto two_outputs = AnalyzeFfmpegArgs({"-i", "a.mp4", "-t", "2", "o1.mp4", "o2.mkv"});
  EXPECT_EQ(ExpectedOutputDurationUs(two_outputs, {10 * kSec}), 10 * kSec);
}

TEST(RewriteFfmpegArgs, AddsProgressLevelsAndOverwriteChoice) {
  Args args = {"-f", "lavfi", "-i", "testsrc2", "-t", "1", "out.mp4"};
  auto cmd = AnalyzeFfmpegArgs(args);
  RewriteOptions opts;
  auto r = RewriteFfmpegArgs(args, cmd, opts);
  EXPECT_TRUE(r.progress_channel);
  EXPECT_EQ(r.args, (Args{"-loglevel", "+level", "-n", "-nostats", "-progress", "pipe:3", "-f",
                          "lavfi", "-i", "testsrc2", "-t", "1", "out.mp4"}));
  opts.overwrite = true;
  opts.output_renames["out.mp4"] = "/w/.out.mp4.ffpod-tmp";
  r = RewriteFfmpegArgs(args, cmd, opts);
  EXPECT_EQ(r.args.back(), "/w/.out.mp4.ffpod-tmp");
  EXPECT_EQ(r.args[2], "-y");
  opts.hide_banner = true;
  EXPECT_EQ(RewriteFfmpegArgs(args, cmd, opts).args.front(), "-hide_banner");
}

TEST(RewriteFfmpegArgs, RespectsTheUsersChoices) {
  Args args = {"-v", "warning", "-hide_banner", "-y",   "-progress",      "pipe:1",
               "-i", "in.mp4",  "-c",           "copy", "in.mp4.copy.mkv"};
  auto cmd = AnalyzeFfmpegArgs(args);
  auto r = RewriteFfmpegArgs(args, cmd, RewriteOptions{});
  EXPECT_FALSE(r.progress_channel);
  EXPECT_EQ(r.args, args);
}

TEST(RewriteFfmpegArgs, RenamesOnlyOutputPositions) {
  // "x.mp4" is also the value of -i: only the output position is renamed.
  Args args = {"-i", "x.mp4", "-c", "copy", "x.mp4"};
  auto cmd = AnalyzeFfmpegArgs(args);
  RewriteOptions opts;
  opts.progress_fd = -1;
  opts.add_level_tags = false;
  opts.hide_banner = false;
  opts.overwrite = true;
  opts.output_renames["x.mp4"] = "tmp.mp4";
  EXPECT_EQ(RewriteFfmpegArgs(args, cmd, opts).args,
            (Args{"-y", "-i", "x.mp4", "-c", "copy", "tmp.mp4"}));
}

// Only the renaming that atomic publishing asks for; nothing else added.
RewriteOptions RenamesOnly(std::map<std::string, std::string> renames) {
  RewriteOptions opts;
  opts.progress_fd = -1;
  opts.add_level_tags = false;
  opts.overwrite = true;
  opts.output_renames = std::move(renames);
  return opts;
}

// A playlist written under a temporary name: its segments keep the names the final playlist
// implies, so the published playlist lists files that exist under the names it gives.
TEST(RewriteFfmpegArgs, ARenamedHlsPlaylistNamesItsSegmentsAfterTheFinalPlaylist) {
  Args args = {"-i", "in.mp4", "-c:v", "libx264", "-f", "hls", "-hls_time", "2", "/o/live.m3u8"};
  auto cmd = AnalyzeFfmpegArgs(args);
  ASSERT_EQ(cmd.outputs.size(), 1u);
  EXPECT_TRUE(IsHlsOutput(cmd.outputs[0]));
  EXPECT_EQ(cmd.outputs[0].options.at("hls_time"), "2");
  EXPECT_EQ(
      RewriteFfmpegArgs(args, cmd, RenamesOnly({{"/o/live.m3u8", "/o/.live.ffpod-w-1.m3u8"}})).args,
      (Args{"-y", "-i", "in.mp4", "-c:v", "libx264", "-f", "hls", "-hls_time", "2",
            "-hls_segment_filename", "/o/live%d.ts", "/o/.live.ffpod-w-1.m3u8"}));
  // Not renamed (no atomic publishing): ffmpeg derives the same names itself.
  EXPECT_EQ(RewriteFfmpegArgs(args, cmd, RenamesOnly({})).args.size(), args.size() + 1);
}

TEST(RewriteFfmpegArgs, TheUsersSegmentNamesAreKept) {
  Args args = {"-i", "in.mp4", "-hls_segment_filename", "/o/seg_%03d.ts", "/o/live.m3u8"};
  auto cmd = AnalyzeFfmpegArgs(args);
  EXPECT_EQ(RewriteFfmpegArgs(args, cmd, RenamesOnly({{"/o/live.m3u8", "/o/.t.m3u8"}})).args,
            (Args{"-y", "-i", "in.mp4", "-hls_segment_filename", "/o/seg_%03d.ts", "/o/.t.m3u8"}));
}

TEST(DefaultHlsSegmentPattern, FollowsTheMuxersOptions) {
  struct Case {
    Args output_options;
    const char* playlist;
    const char* pattern;
  };
  for (const Case& c : {
           Case{{}, "/o/live.m3u8", "/o/live%d.ts"},
           Case{{"-hls_segment_type", "fmp4"}, "live.m3u8", "live%d.m4s"},
           Case{{"-hls_flags", "+independent_segments+single_file"}, "b.m3u8", "b.ts"},
           Case{{"-hls_flags", "single_file", "-hls_segment_type", "fmp4"}, "c.m3u8", "c.m4s"},
           Case{{"-strftime", "1"}, "d.m3u8", "d-%s.ts"},
           Case{{"-use_localtime", "1", "-hls_segment_type", "fmp4"}, "e.m3u8", "e-%s.m4s"},
           Case{{"-strftime", "0"}, "f.m3u8", "f%d.ts"},
           Case{{"-var_stream_map", "v:0 v:1"}, "/o/v%v/index.m3u8", "/o/v%v/index%d.ts"},
           Case{{"-f", "hls"}, "/o.d/stream", "/o%d.ts"},  // the last `.` of the URL, as ffmpeg
       }) {
    Args args = {"-i", "in.mp4"};
    args.insert(args.end(), c.output_options.begin(), c.output_options.end());
    args.push_back(c.playlist);
    auto cmd = AnalyzeFfmpegArgs(args);
    ASSERT_EQ(cmd.outputs.size(), 1u);
    EXPECT_TRUE(IsHlsOutput(cmd.outputs[0])) << c.playlist;
    EXPECT_EQ(DefaultHlsSegmentPattern(c.playlist, cmd.outputs[0]), c.pattern) << c.playlist;
  }
}

TEST(IsHlsOutput, TheFormatDecidesThenTheExtension) {
  auto first_output = [](Args args) { return AnalyzeFfmpegArgs(args).outputs.at(0); };
  EXPECT_TRUE(IsHlsOutput(first_output({"-i", "a", "x.m3u8"})));
  EXPECT_TRUE(IsHlsOutput(first_output({"-i", "a", "-f", "hls", "x.txt"})));
  EXPECT_FALSE(IsHlsOutput(first_output({"-i", "a", "-f", "segment", "x.m3u8"})));
  EXPECT_FALSE(IsHlsOutput(first_output({"-i", "a", "x.mp4"})));
  // Options before an input belong to the input, not to the output.
  EXPECT_FALSE(first_output({"-f", "hls", "-i", "a", "x.mp4"}).options.contains("f"));
}

}  // namespace
}  // namespace ffpod
