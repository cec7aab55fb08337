// The one live progress line `ffpod run` shows on a terminal (docs/logs.md "On a terminal"), as
// people know it from ffmpeg itself: percent and ETA when the total is known (else the media
// time written), then speed, fps, size and bitrate. Figures that are not known yet are left out.
//
// Pure.
#pragma once

#include <string>

#include "parsers/ffmpeg/progress_tracker.h"

namespace ffpod {

// For example ` 42.0% ETA 0:00:03 speed 2.10x fps 52 size 1.2 MiB bitrate 812 kbit/s`, or
// `time 0:00:12.3 speed 1.00x fps 25 size 230 KiB bitrate 150 kbit/s` without a total. Empty
// before anything is known. No control characters: the logger draws it.
std::string FormatProgressLine(const ProgressView& view);

}  // namespace ffpod
