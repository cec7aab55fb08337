// Parser for FFmpeg's stderr stats line, the fallback progress source when the user passes their
// own `-progress`. Handles every form 4.4 to 8.x print:
//   frame=  75 fps=0.0 q=-1.0 Lsize=      88kB time=00:00:03.00 bitrate= 240.5kbits/s speed=24.9x
//   size=      18kB time=00:00:02.02 bitrate=  74.4kbits/s speed=59.4x          (audio-only, copy)
//   frame=    0 fps=0.0 q=0.0 Lsize=       0KiB time=00:00:00.20 bitrate=   0.0kbits/s
//       speed=1.67x elapsed=0:00:00.12                                            (7.0 KiB, 8.0)
// plus `dup=N drop=N`, `N/A` values, negative and >2-digit hours, and an optional `[info] ` level
// prefix. Pure and stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "parsers/progress.h"

namespace ffpod {

struct StatsLine {
  std::optional<int64_t> frame;
  std::optional<double> fps;
  std::optional<double> q;
  std::optional<int64_t> size_bytes;  // kB = 1000 bytes (<=6.1), KiB = 1024 bytes (7.0+)
  std::optional<int64_t> time_us;
  std::optional<double> bitrate_kbps;
  std::optional<int64_t> dup_frames;
  std::optional<int64_t> drop_frames;
  std::optional<double> speed;
  std::optional<int64_t> elapsed_us;  // 8.0+
  bool last = false;                  // `Lsize=` (final report of a job with video)

  bool operator==(const StatsLine&) const = default;
};

// Returns the parsed line, or nullopt when `line` is not a stats line.
std::optional<StatsLine> ParseStatsLine(std::string_view line);

// The same facts in the shape of a -progress block, so one code path consumes both sources.
ProgressBlock ToProgressBlock(const StatsLine& stats);

}  // namespace ffpod
