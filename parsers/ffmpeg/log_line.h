// Decodes one FFmpeg stderr line into level, component and message.
//
// Shape (libavutil/log.c): `[parent @ 0xPTR] [component @ 0xPTR] [level] message`, where each
// part is optional; `[level]` appears with `-loglevel +level`. External libraries add their own
// forms (`x264 [error]: ...`, `libva error: ...`). Without a level tag the level is inferred
// from well-known messages when possible (e.g. `Conversion failed!` is info, the classifier's
// cause lines carry the level FFmpeg prints them at), else unknown. 8.0's `-loglevel +time` /
// `+datetime` prefixes are skipped. Pure and thread-safe; the returned views point into `line`.
#pragma once

#include <string>
#include <string_view>

namespace ffpod {

enum class LogLevel { kUnknown, kPanic, kFatal, kError, kWarning, kInfo, kVerbose, kDebug, kTrace };

// "error", "warning", ... ; "unknown" for kUnknown. Used as a label value and in logs.
std::string_view LogLevelName(LogLevel level);

struct LogLine {
  LogLevel level = LogLevel::kUnknown;
  bool level_tagged = false;   // the level came from a `[level]` tag, not inference
  std::string_view component;  // innermost context name, e.g. "libx264", "out#0/mp4"; may be empty
  std::string_view parent;   // outer context name when two are printed, e.g. "vost#0:0/h264_nvenc"
  std::string_view message;  // the rest, without prefixes
  // FFmpeg's own `[level] ` tag with its space (what `-loglevel +level` adds), when the line has
  // one; empty otherwise (external libraries' `x264 [error]: ` forms are not such a tag).
  std::string_view level_tag;
};

LogLine DecodeLogLine(std::string_view line);

// `line` as FFmpeg prints it without `-loglevel +level`: `decoded.level_tag` (decoded from this
// `line`) removed, the time prefix and the `[name @ 0xPTR]` contexts kept. The line itself when it
// has no tag.
std::string LineWithoutLevelTag(std::string_view line, const LogLine& decoded);

}  // namespace ffpod
