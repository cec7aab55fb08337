// Whether the program `ffpod run` was given is ffmpeg itself or something that wraps it (a shell
// script, `sh -c '...'`), decided from the executable's name alone (docs/run.md "Wrapping ffmpeg
// in a script"). ffpod rewrites the arguments of ffmpeg only; a wrapper's arguments pass
// untouched. `--command-kind` overrides the rule either way.
//
// Pure.
#pragma once

#include <string_view>

namespace ffpod {

// True when the basename of `executable` is `ffmpeg`, or `ffmpeg` followed by `-`, `_` or a digit
// and anything after it (`ffmpeg-7.1`, `ffmpeg_g`, `ffmpeg7`). Anything else is a wrapper: `sh`,
// `bash`, `encode.sh`, `ffmpeg.sh`, `ffmpegthumbnailer`. The match is case-sensitive, as the
// file system is.
bool LooksLikeFfmpeg(std::string_view executable);

}  // namespace ffpod
