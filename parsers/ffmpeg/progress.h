// Incremental parser for FFmpeg's `-progress` stream (FFmpeg 4.4 to 8.x).
//
// Grammar: lines of `key=value\n`; a block ends with `progress=continue` or `progress=end`.
// Keys FFmpeg emits (fftools/ffmpeg.c print_report, every version from 4.4 to 8.x):
//   frame fps stream_F_S_q bitrate total_size out_time_us out_time_ms out_time dup_frames
//   drop_frames speed progress, and up to 6.0 also stream_F_S_psnr_{y,u,v,all} (-flags +psnr).
// Values may be `N/A`, padded with spaces (`speed=   0x`, `bitrate= 240.5kbits/s`), in exponent
// form (`speed=4e+04x`), negative (B-frame DTS), or the 4.4-6.0 start value INT64_MIN+1
// (`out_time_us=-9223372036854775807`, `out_time=-577014:32:22.775807`), which is dropped.
// `out_time_ms` is microseconds, like `out_time_us` (an FFmpeg naming quirk).
// `\r\n` line ends are accepted; empty lines are ignored.
//
// Like an HTTP request parser: the state lives in members, Feed() consumes bytes in any
// chunking and never does I/O; whole, line by line or one byte at a time give the same blocks
// and the same error count. Memory is bounded: a line longer than kMaxLineBytes is dropped and
// counted as one error, and a block holds at most kMaxStreams quality/PSNR entries and
// kMaxExtraKeys unknown keys (the excess is counted as errors).
// Not thread-safe; one parser per ffmpeg process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ffpod {

// Encoder quality of one video output stream, from `stream_F_S_q=Q`.
struct StreamQuality {
  int file = 0;
  int stream = 0;
  double q = 0;
  bool operator==(const StreamQuality&) const = default;
};

// PSNR of one plane of one video output stream, from `stream_F_S_psnr_P=DB` (FFmpeg <= 6.0 with
// `-flags +psnr`). `plane` is 'y', 'u', 'v', or '*' for `psnr_all`. `db` may be +infinity
// (identical planes).
struct StreamPsnr {
  int file = 0;
  int stream = 0;
  char plane = 'y';
  double db = 0;
  bool operator==(const StreamPsnr&) const = default;
};

// One complete progress report. Absent (`std::nullopt`) means the key was missing, `N/A`, or a
// value ffpod does not trust (a sentinel or an unparsable number).
struct ProgressBlock {
  std::optional<int64_t> frame;
  std::optional<double> fps;
  std::vector<StreamQuality> stream_q;  // in arrival order, one entry per (file, stream)
  std::vector<StreamPsnr> stream_psnr;  // in arrival order, one entry per (file, stream, plane)
  // kbit/s. Dropped with the time when the time is the start sentinel (it is derived from it).
  std::optional<double> bitrate_kbps;
  std::optional<int64_t> total_size_bytes;  // output #0 only
  // Output time in microseconds: out_time_us, else out_time_ms (also µs), else out_time parsed.
  // The first of these keys present in the block decides (an `N/A` or sentinel there is not
  // replaced by a later key). May be negative (start-up, B-frame DTS); the sentinel is dropped.
  std::optional<int64_t> out_time_us;
  std::optional<int64_t> dup_frames;
  std::optional<int64_t> drop_frames;
  std::optional<double> speed;
  // Keys this parser does not know, in arrival order (forward compatibility).
  std::vector<std::pair<std::string, std::string>> extra;
  bool end = false;  // `progress=end`: the last block ffmpeg writes

  bool operator==(const ProgressBlock&) const = default;
};

class ProgressParser {
 public:
  static constexpr size_t kMaxLineBytes = 4096;
  static constexpr size_t kMaxExtraKeys = 64;
  static constexpr size_t kMaxStreams = 256;  // per block, for stream_q and for stream_psnr

  // Consumes `bytes`; appends each block completed by them to `*out`.
  void Feed(std::string_view bytes, std::vector<ProgressBlock>* out);

  // Lines that could not be understood: no `=`, empty key, overlong, a bad value for a known
  // key, a `progress=` value other than continue/end, or an entry beyond the per-block bounds.
  uint64_t errors() const { return errors_; }

 private:
  void Line(std::string_view line, std::vector<ProgressBlock>* out);
  void Value(std::string_view key, std::string_view value);
  // The parts of Value; each returns false for a value it rejects (counted as an error).
  bool OutTimeValue(std::string_view key, std::string_view value);
  bool OtherValue(std::string_view key, std::string_view value);  // per-stream keys, extras
  bool StreamQualityValue(int file, int stream, std::string_view value);
  bool StreamPsnrValue(int file, int stream, char plane, std::string_view value);
  void EndBlock(bool end, std::vector<ProgressBlock>* out);

  // Which key set current_.out_time_us; the first one present decides.
  enum class TimeSource { kNone, kUs, kMs, kClock };

  std::string partial_;      // bytes of the current, unterminated line (at most kMaxLineBytes)
  bool discarding_ = false;  // inside an overlong line: drop until the next '\n'
  ProgressBlock current_;
  TimeSource time_source_ = TimeSource::kNone;
  bool sentinel_time_ = false;  // the block's time was the start sentinel
  uint64_t errors_ = 0;
};

// Parses a time of the form [-]H+:MM:SS[.fraction] into microseconds (fraction digits beyond
// the sixth are truncated). Surrounding spaces are ignored. Returns nullopt for anything else,
// `N/A` included, or on overflow.
std::optional<int64_t> ParseClockTime(std::string_view text);

// True for the values FFmpeg prints as a time before any packet was muxed in 4.4-6.0:
// INT64_MIN+1 (and INT64_MIN, AV_NOPTS_VALUE) as raw microseconds, and their clock renderings
// `-577014:32:22.775807` (-progress) and `-577014:32:22.77` (stderr), which come from a 32-bit
// truncation of the seconds. Such a value is never a real output time.
bool IsSentinelTime(int64_t us);

}  // namespace ffpod
