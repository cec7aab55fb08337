// Parser for FFmpeg's stderr stats line, the fallback progress source when the user passes their
// own `-progress`. Handles every form 4.4 to 8.x print (fftools/ffmpeg.c print_report):
//   frame=   75 fps=0.0 q=-1.0 Lsize=      88kB time=00:00:03.00 bitrate= 240.5kbits/s speed=24.9x
//   size=      18kB time=00:00:02.02 bitrate=  74.4kbits/s speed=59.4x      (audio-only, and
//                                                               stream copy in 6.1 and 7.0)
//   frame=    0 fps=0.0 q=0.0 Lsize=       0KiB time=00:00:00.20 bitrate=   0.0kbits/s
//       speed=1.67x elapsed=0:00:00.12                                       (7.0 KiB, 8.0)
// plus `dup=N drop=N`, `N/A` values, one `q=` per further video stream (`Lq=` when the last
// report has several), <=5.1's `PSNR=Y:.. U:.. V:.. *:..` and `-qphist` hex digits, negative and
// >2-digit hours, and optional `[info] ` level and 8.0 `-loglevel +time`/`+datetime` prefixes.
// The 4.4-6.0 start sentinel (`time=-577014:32:22.77 bitrate=  -0.0kbits/s`) yields no time and
// no bitrate. Pure and stateless; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "parsers/ffmpeg/progress.h"

namespace ffpod {

struct StatsLine {
  std::optional<int64_t> frame;
  std::optional<double> fps;
  std::optional<double> q;  // the first video stream's (the one `frame=` counts)
  // FFmpeg prints round(total_size / 1024) with the unit `kB` (<=6.1) or `KiB` (7.0+); both
  // mean 1024 bytes, so this is a multiple of 1024, within 512 bytes of the real size.
  std::optional<int64_t> size_bytes;
  std::optional<int64_t> time_us;  // centisecond resolution
  std::optional<double> bitrate_kbps;
  std::optional<int64_t> dup_frames;  // printed only when dup or drop is non-zero
  std::optional<int64_t> drop_frames;
  std::optional<double> speed;
  std::optional<int64_t> elapsed_us;  // 8.0+
  bool last = false;                  // `Lsize=` (final report of a job with video)

  bool operator==(const StatsLine&) const = default;
};

// Returns the parsed line, or nullopt when `line` is not a stats line: it must start (after the
// optional prefixes) with `frame=`, `size=` or `Lsize=`, carry well-formed `size=`, `time=`,
// `bitrate=` and `speed=` values (`N/A` allowed), and every other known key must be well-formed.
// Unknown `key=value` tokens are ignored. A trailing `\r`/`\n` and padding are ignored.
std::optional<StatsLine> ParseStatsLine(std::string_view line);

// The same facts in the shape of a -progress block, so one code path consumes both sources.
// `stream_q` stays empty (the stats line does not name stream indices), `total_size_bytes` is
// the 1 KiB-rounded size, and `end` is `stats.last`; a caller that knows the line ended with
// `\n` rather than `\r` (LineEnd::kNewline) knows it is the final report even without video.
ProgressBlock ToProgressBlock(const StatsLine& stats);

}  // namespace ffpod
