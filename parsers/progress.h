// Incremental parser for FFmpeg's `-progress` stream (FFmpeg 4.4 to 8.x).
//
// Grammar: lines of `key=value\n`; a block ends with `progress=continue` or `progress=end`.
// Keys FFmpeg emits: frame fps stream_F_S_q bitrate total_size out_time_us out_time_ms out_time
// dup_frames drop_frames speed progress (<=6.0 also stream_F_S_psnr_*). Values may be `N/A`,
// padded with spaces (`speed=   0x`, `bitrate= 240.5kbits/s`), in exponent form (`speed=4e+04x`),
// negative, or the 6.0 sentinel INT64_MIN+1 (`out_time_us=-9223372036854775807`).
// `out_time_ms` is microseconds, like `out_time_us` (an FFmpeg naming quirk).
//
// Feed bytes in any chunking: whole, line by line or one byte at a time give the same blocks.
// Memory is bounded: a line longer than kMaxLineBytes is dropped and counted as an error.
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

// One complete progress report. Absent (`std::nullopt`) means the key was missing, `N/A`, or a
// value ffpod does not trust (a sentinel or an unparsable number).
struct ProgressBlock {
  std::optional<int64_t> frame;
  std::optional<double> fps;
  std::vector<StreamQuality> stream_q;
  std::optional<double> bitrate_kbps;
  std::optional<int64_t> total_size_bytes;
  // Output time in microseconds: out_time_us, else out_time_ms (also µs), else out_time parsed.
  // May be negative (start-up, B-frame DTS); the INT64_MIN+1 sentinel is dropped.
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

  // Consumes `bytes`; appends each block completed by them to `*out`.
  void Feed(std::string_view bytes, std::vector<ProgressBlock>* out);

  // Lines that could not be understood (no `=`, overlong, bad number for a known key).
  uint64_t errors() const { return errors_; }

 private:
  void Line(std::string_view line, std::vector<ProgressBlock>* out);

  std::string partial_;      // bytes of the current, unterminated line
  bool discarding_ = false;  // inside an overlong line: drop until the next '\n'
  ProgressBlock current_;
  uint64_t errors_ = 0;
};

// Parses a time of the form [-]H+:MM:SS[.fraction] into microseconds.
std::optional<int64_t> ParseClockTime(std::string_view text);

}  // namespace ffpod
