// The FFmpeg version, parsed from the first line of `ffmpeg -version` or of its banner:
//   "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers"
//   "ffmpeg version n7.1 Copyright ..."   "ffmpeg version N-118000-gabc123 ..." (git build)
// Behaviour that depends on the version (exit-code tables, the stop method of 7.0-8.0, `KiB`)
// switches on it. Pure.
#pragma once

#include <string>
#include <string_view>

namespace ffpod {

struct FfmpegVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  bool known = false;  // a release number was parsed
  bool git = false;    // a git build ("N-..."): treat as newest
  std::string text;    // the version token as printed, e.g. "5.1.9-0+deb12u1"

  // True when this version is at least major.minor. Git builds count as newer than any release;
  // unknown versions compare false.
  bool AtLeast(int maj, int min) const;
  // 6.1+ returns AVERROR values as exit statuses.
  bool ExitsWithAverror() const { return git || AtLeast(6, 1); }
  // 7.0.x, 7.1.0-7.1.1 and 8.0.0 ignore the first SIGINT/SIGTERM without stdin interaction
  // (ticket #10834; fixed in 7.1.2, 8.0.1 and 8.1).
  bool IgnoresFirstSignalWithoutStdin() const;
};

FfmpegVersion ParseFfmpegVersion(std::string_view first_line);

}  // namespace ffpod
