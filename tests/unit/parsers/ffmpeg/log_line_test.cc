#include "parsers/ffmpeg/log_line.h"

#include <gtest/gtest.h>

#include <string>

namespace ffpod {
namespace {

struct Case {
  const char* line;
  LogLevel level;
  bool tagged;
  const char* parent;
  const char* component;
  const char* message;
};

using L = LogLevel;

const Case kCases[] = {
    // -loglevel +level tags (5.1 recordings).
    {"[info] Stream mapping:", L::kInfo, true, "", "", "Stream mapping:"},
    {"[libx264 @ 0x5644590425c0] [info] using SAR=1/1", L::kInfo, true, "", "libx264",
     "using SAR=1/1"},
    {"[h264_nvenc @ 0x55a16a89f900] [error] Cannot load libcuda.so.1", L::kError, true, "",
     "h264_nvenc", "Cannot load libcuda.so.1"},
    {"[fatal] Unknown encoder 'foo264'", L::kFatal, true, "", "", "Unknown encoder 'foo264'"},
    {"[http @ 0x56459e17c0c0] [warning] HTTP error 404 Not Found", L::kWarning, true, "", "http",
     "HTTP error 404 Not Found"},
    {"[panic] x", L::kPanic, true, "", "", "x"},
    {"[verbose] x", L::kVerbose, true, "", "", "x"},
    {"[debug] x", L::kDebug, true, "", "", "x"},
    {"[trace] x", L::kTrace, true, "", "", "x"},
    {"[info] frame=    1 fps=0.0 q=0.0 size=       0kB time=00:00:00.00 bitrate=N/A speed=N/A    ",
     L::kInfo, true, "", "",
     "frame=    1 fps=0.0 q=0.0 size=       0kB time=00:00:00.00 "
     "bitrate=N/A speed=N/A    "},
    // Two contexts: the parent comes first (7.0+ decoders, 8.0+ encoders, AVOption eval).
    {"[vost#0:0/h264_nvenc @ 000002157d9b00c0] [enc:h264_nvenc @ 000002157b86c440] Error while "
     "opening encoder - maybe incorrect parameters such as bit_rate, rate, width or height.",
     L::kError, false, "vost#0:0/h264_nvenc", "enc:h264_nvenc",
     "Error while opening encoder - maybe incorrect parameters such as bit_rate, rate, width or "
     "height."},
    {"[vist#0:0/hevc @ 0x55f69fe0eb40] [dec:hevc_qsv @ 0x55f69fe53500] Hardware device setup "
     "failed for decoder: Unknown error occurred",
     L::kError, false, "vist#0:0/hevc", "dec:hevc_qsv",
     "Hardware device setup failed for decoder: Unknown error occurred"},
    {"[libx264 @ 0x562aab718d80] [Eval @ 0x7ffed466b020] [error] Undefined constant or missing "
     "'(' in 'abc'",
     L::kError, true, "libx264", "Eval", "Undefined constant or missing '(' in 'abc'"},
    // Windows pointers, names with spaces and commas, (nil), fftools object ids.
    {"[h264_nvenc @ 000002157d9b0300] YUV422P not supported", L::kWarning, false, "", "h264_nvenc",
     "YUV422P not supported"},
    {"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x557b0b734880] moov atom not found", L::kError, false, "",
     "mov,mp4,m4a,3gp,3g2,mj2", "moov atom not found"},
    {"[graph 0 input from stream 0:0 @ 0x55d5c1a2b3c0] tb:1/25", L::kUnknown, false, "",
     "graph 0 input from stream 0:0", "tb:1/25"},
    {"[NULL @ (nil)] [error] x", L::kError, true, "", "NULL", "x"},
    {"[out#0/mp4 #2] [info] x", L::kInfo, true, "", "out#0/mp4", "x"},
    // 8.0 +time / +datetime come before everything else.
    {"12:00:00.412 [out#0/mp4 @ 0x55c7a2d1e6c0] Error opening output /x/out.mp4: Permission "
     "denied",
     L::kFatal, false, "", "out#0/mp4", "Error opening output /x/out.mp4: Permission denied"},
    {"2025-09-01 12:00:00.101 [tcp @ 0x5581f0c3e0c0] [error] Connection to tcp://127.0.0.1:1935 "
     "failed: Connection refused",
     L::kError, true, "", "tcp", "Connection to tcp://127.0.0.1:1935 failed: Connection refused"},
    {"2025-09-01 12:00:00.102 [fatal] Error opening input files: Connection refused", L::kFatal,
     true, "", "", "Error opening input files: Connection refused"},
    // External libraries.
    {"x264 [error]: invalid preset 'notapreset'", L::kError, true, "", "x264",
     "invalid preset 'notapreset'"},
    {"x265 [info]: HEVC encoder version 3.5+1-f0c1022b6", L::kInfo, true, "", "x265",
     "HEVC encoder version 3.5+1-f0c1022b6"},
    {"x264 [warning]: lookaheadless mb-tree requires intra refresh or infinite keyint", L::kWarning,
     true, "", "x264", "lookaheadless mb-tree requires intra refresh or infinite keyint"},
    {"Svt[info]: SVT [version]:\tSVT-AV1 Encoder Lib v1.4.1", L::kInfo, true, "", "Svt",
     "SVT [version]:\tSVT-AV1 Encoder Lib v1.4.1"},
    {"Svt[warn]: Failed to set thread priority", L::kWarning, true, "", "Svt",
     "Failed to set thread priority"},
    {"libva info: VA-API version 1.22.0", L::kInfo, true, "", "libva", "VA-API version 1.22.0"},
    {"libva error: vaGetDriverNameByIndex() failed with unknown libva error, driver_name = (null)",
     L::kError, true, "", "libva",
     "vaGetDriverNameByIndex() failed with unknown libva error, driver_name = (null)"},
    // Levels known without a tag.
    {"Conversion failed!", L::kInfo, false, "", "", "Conversion failed!"},
    {"Exiting normally, received signal 15.", L::kInfo, false, "", "",
     "Exiting normally, received signal 15."},
    {"[q] command received. Exiting.", L::kInfo, false, "", "", "[q] command received. Exiting."},
    {"Press [q] to stop, [?] for help", L::kInfo, false, "", "", "Press [q] to stop, [?] for help"},
    {"Input #0, lavfi, from 'testsrc':", L::kInfo, false, "", "",
     "Input #0, lavfi, from 'testsrc':"},
    {"  Stream #0:0: Video: rawvideo, rgb24, 320x240", L::kInfo, false, "", "",
     "  Stream #0:0: Video: rawvideo, rgb24, 320x240"},
    {"frame=   75 fps=0.0 q=-1.0 Lsize=      88kB time=00:00:03.00 bitrate= 240.5kbits/s "
     "speed=24.9x",
     L::kInfo, false, "", "",
     "frame=   75 fps=0.0 q=-1.0 Lsize=      88kB time=00:00:03.00 bitrate= 240.5kbits/s "
     "speed=24.9x"},
    {"size=      18kB time=00:00:02.02 bitrate=  74.4kbits/s speed=59.4x", L::kInfo, false, "", "",
     "size=      18kB time=00:00:02.02 bitrate=  74.4kbits/s speed=59.4x"},
    {"/tmp/in.mp4: No such file or directory", L::kError, false, "", "",
     "/tmp/in.mp4: No such file or directory"},
    {"Unknown encoder 'foo264'", L::kFatal, false, "", "", "Unknown encoder 'foo264'"},
    {"Error splitting the argument list: Option not found", L::kFatal, false, "", "",
     "Error splitting the argument list: Option not found"},
    {"Error opening input file missing.mp4.", L::kError, false, "", "",
     "Error opening input file missing.mp4."},
    {"File 'x.mp4' already exists. Overwrite? [y/N] Not overwriting - exiting", L::kFatal, false,
     "", "", "File 'x.mp4' already exists. Overwrite? [y/N] Not overwriting - exiting"},
    // Levels that cannot be known: written outside the logger, or not a known message.
    {"    Last message repeated 2 times", L::kUnknown, false, "", "",
     "    Last message repeated 2 times"},
    {"Received > 3 system signals, hard exiting", L::kUnknown, false, "", "",
     "Received > 3 system signals, hard exiting"},
    {"[libx264 @ 0x1] using cpu capabilities: MMX2 SSE2Fast", L::kUnknown, false, "", "libx264",
     "using cpu capabilities: MMX2 SSE2Fast"},
    {"some line", L::kUnknown, false, "", "", "some line"},
    {"", L::kUnknown, false, "", "", ""},
    // Brackets that are not prefixes.
    {"[warn] not an ffmpeg level", L::kUnknown, false, "", "", "[warn] not an ffmpeg level"},
    {"[abc] hello", L::kUnknown, false, "", "", "[abc] hello"},
    {"[foo @ bar] x", L::kUnknown, false, "", "", "[foo @ bar] x"},
    {"[foo @ 0x12", L::kUnknown, false, "", "", "[foo @ 0x12"},
    {"[ @ 0x12] x", L::kUnknown, false, "", "", "[ @ 0x12] x"},
    {"[info]no space", L::kUnknown, false, "", "", "[info]no space"},
    {"12:00:00 [info] x", L::kUnknown, false, "", "", "12:00:00 [info] x"},
};

TEST(DecodeLogLine, Table) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.line);
    LogLine d = DecodeLogLine(c.line);
    EXPECT_EQ(LogLevelName(d.level), LogLevelName(c.level));
    EXPECT_EQ(d.level_tagged, c.tagged);
    EXPECT_EQ(d.parent, c.parent);
    EXPECT_EQ(d.component, c.component);
    EXPECT_EQ(d.message, c.message);
  }
}

TEST(DecodeLogLine, ViewsPointIntoTheLine) {
  std::string line = "[vost#0:0/libx264 @ 0x55] [enc:libx264 @ 0x56] [error] boom";
  LogLine d = DecodeLogLine(line);
  const char* begin = line.data();
  const char* end = line.data() + line.size();
  for (std::string_view v : {d.parent, d.component, d.message}) {
    EXPECT_GE(v.data(), begin);
    EXPECT_LE(v.data() + v.size(), end);
  }
  EXPECT_EQ(d.message, "boom");
}

TEST(LineWithoutLevelTag, DropsFfmpegsLevelTagAndKeepsTheRest) {
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"[info] Conversion failed!", "Conversion failed!"},
      {"[AVFilterGraph @ 0x5580aef97d80] [error] No such filter: 'x'",
       "[AVFilterGraph @ 0x5580aef97d80] No such filter: 'x'"},
      {"[vost#0:0/libx264 @ 0x55] [enc:libx264 @ 0x56] [fatal] boom",
       "[vost#0:0/libx264 @ 0x55] [enc:libx264 @ 0x56] boom"},
      {"2025-01-02 03:04:05.678 [out#0/mp4 @ 0x1] [warning] late",
       "2025-01-02 03:04:05.678 [out#0/mp4 @ 0x1] late"},
      {"[info] [error] only the first tag", "[error] only the first tag"},
      // No tag of ffmpeg's: the line as it is.
      {"x264 [error]: malloc of size 1 failed", "x264 [error]: malloc of size 1 failed"},
      {"[warn] not an ffmpeg level", "[warn] not an ffmpeg level"},
      {"[info]no space", "[info]no space"},
      {"frame=  50 fps=0.0 q=-1.0", "frame=  50 fps=0.0 q=-1.0"},
      {"", ""},
  };
  for (const auto& [line, want] : kCases) {
    SCOPED_TRACE(line);
    EXPECT_EQ(LineWithoutLevelTag(line, DecodeLogLine(line)), want);
  }
}

TEST(DecodeLogLine, BinaryNoiseIsJustAMessage) {
  std::string noise("\x00\xff[\x01 @ 0x]]\xfe", 11);
  LogLine d = DecodeLogLine(noise);
  EXPECT_EQ(d.level, LogLevel::kUnknown);
  EXPECT_EQ(d.message, noise);
}

TEST(LogLevelName, Names) {
  EXPECT_EQ(LogLevelName(LogLevel::kUnknown), "unknown");
  EXPECT_EQ(LogLevelName(LogLevel::kPanic), "panic");
  EXPECT_EQ(LogLevelName(LogLevel::kFatal), "fatal");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "error");
  EXPECT_EQ(LogLevelName(LogLevel::kWarning), "warning");
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "info");
  EXPECT_EQ(LogLevelName(LogLevel::kVerbose), "verbose");
  EXPECT_EQ(LogLevelName(LogLevel::kDebug), "debug");
  EXPECT_EQ(LogLevelName(LogLevel::kTrace), "trace");
}

}  // namespace
}  // namespace ffpod
