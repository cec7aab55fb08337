#include "parsers/ffmpeg/log_line.h"

#include <array>
#include <optional>

#include "parsers/common/text.h"
#include "parsers/ffmpeg/classifier_rules.h"

namespace ffpod {
namespace {

bool IsHex(char c) { return HexDigitValue(c) >= 0; }

// Matches `pattern` at the start of `s`, where '9' stands for any digit.
bool MatchesDigits(std::string_view s, std::string_view pattern) {
  if (s.size() < pattern.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '9' ? !IsDigit(s[i]) : s[i] != pattern[i]) return false;
  }
  return true;
}

// 8.0+ `-loglevel +datetime` / `+time`: "YYYY-MM-DD HH:MM:SS.mmm " / "HH:MM:SS.mmm ".
void SkipTimePrefix(std::string_view* rest) {
  if (MatchesDigits(*rest, "9999-99-99 99:99:99.999 ")) {
    rest->remove_prefix(24);
  } else if (MatchesDigits(*rest, "99:99:99.999 ")) {
    rest->remove_prefix(13);
  }
}

// The pointer printed by `%p`: glibc "0x55d5c1a2b3c0" or "(nil)", Windows "000001FB0EB307C0";
// or the object id of fftools builds that print `[name #3]`.
bool IsPointer(std::string_view p) {
  if (p == "(nil)") return true;
  if (p.size() > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p.remove_prefix(2);
  if (p.empty() || p.size() > 16) return false;
  for (char c : p) {
    if (!IsHex(c)) return false;
  }
  return true;
}

// One `[name @ 0xPTR] ` (or `[name #N] `) at the start of `*rest`: returns the name and
// consumes the bracket and its space.
std::optional<std::string_view> TakeContext(std::string_view* rest) {
  if (rest->empty() || (*rest)[0] != '[') return std::nullopt;
  size_t close = rest->find("] ");
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view inside = rest->substr(1, close - 1);
  size_t sep = inside.rfind(" @ ");
  size_t skip = 3;
  if (sep == std::string_view::npos) {
    sep = inside.rfind(" #");
    skip = 2;
    if (sep == std::string_view::npos) return std::nullopt;
    for (char c : inside.substr(sep + skip)) {
      if (!IsDigit(c)) return std::nullopt;
    }
    if (sep + skip == inside.size()) return std::nullopt;
  } else if (!IsPointer(inside.substr(sep + skip))) {
    return std::nullopt;
  }
  std::string_view name = inside.substr(0, sep);
  if (name.empty() || name.find_first_of("[]") != std::string_view::npos) return std::nullopt;
  rest->remove_prefix(close + 2);
  return name;
}

struct LevelName {
  std::string_view name;
  LogLevel level;
};
constexpr std::array<LevelName, 10> kLevelNames = {{
    {"panic", LogLevel::kPanic},
    {"fatal", LogLevel::kFatal},
    {"error", LogLevel::kError},
    {"warning", LogLevel::kWarning},
    {"warn", LogLevel::kWarning},  // SVT-AV1's `Svt[warn]:`
    {"info", LogLevel::kInfo},
    {"verbose", LogLevel::kVerbose},
    {"debug", LogLevel::kDebug},
    {"full", LogLevel::kDebug},  // x264/x265 `[full]` is below debug
    {"trace", LogLevel::kTrace},
}};

std::optional<LogLevel> LevelFromName(std::string_view name) {
  for (const LevelName& l : kLevelNames) {
    if (l.name == name) return l.level;
  }
  return std::nullopt;
}

// FFmpeg's own `[level] ` tag (log.c get_level_str): no `warn`/`full` there.
std::optional<LogLevel> TakeLevelTag(std::string_view* rest) {
  if (rest->size() < 4 || (*rest)[0] != '[') return std::nullopt;
  size_t close = rest->find("] ");
  if (close == std::string_view::npos || close > 8) return std::nullopt;
  std::string_view name = rest->substr(1, close - 1);
  if (name == "warn" || name == "full") return std::nullopt;
  std::optional<LogLevel> level = LevelFromName(name);
  if (level) rest->remove_prefix(close + 2);
  return level;
}

bool IsWordChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' ||
         c == '.' || c == '+';
}

// Lines external libraries write to stderr themselves: `x264 [error]: msg`, `x265 [info]: msg`,
// `Svt[info]: msg`, `libva info: msg`, `libva error: msg`.
bool TakeExternal(std::string_view line, LogLine* out) {
  size_t i = 0;
  while (i < line.size() && IsWordChar(line[i])) ++i;
  if (i == 0 || i > 32) return false;
  std::string_view lib = line.substr(0, i);
  std::string_view rest = line.substr(i);
  if (rest.starts_with(" [") || rest.starts_with("[")) {
    rest.remove_prefix(rest[0] == ' ' ? 2 : 1);
    size_t close = rest.find("]: ");
    if (close == std::string_view::npos || close > 8) return false;
    std::optional<LogLevel> level = LevelFromName(rest.substr(0, close));
    if (!level) return false;
    out->level = *level;
    out->component = lib;
    out->message = rest.substr(close + 3);
    out->level_tagged = true;
    return true;
  }
  if (lib == "libva" && rest.starts_with(" ")) {
    rest.remove_prefix(1);
    size_t colon = rest.find(": ");
    if (colon == std::string_view::npos) return false;
    std::optional<LogLevel> level = LevelFromName(rest.substr(0, colon));
    if (!level) return false;
    out->level = *level;
    out->component = lib;
    out->message = rest.substr(colon + 2);
    out->level_tagged = true;
    return true;
  }
  return false;
}

// The stats line: `frame=  75 fps=...`, `size=  18kB time=...` (audio only), `Lsize=`.
bool IsStatsLine(std::string_view m) {
  return m.starts_with("frame=") || m.starts_with("size=") || m.starts_with("Lsize=");
}

// Levels of untagged lines that are known without a tag. Everything FFmpeg prints at info in
// every version: the stats line, the input/output dumps (indented), stream mapping, the
// summary and the stop markers. `    Last message repeated N times` and `Received > 3 system
// signals, hard exiting` are written with fprintf/write outside the logger: they have no level.
// The shapes come first: a dump line quotes file names and metadata, which may contain any text.
std::optional<LogLevel> InferLevel(std::string_view message, bool had_context) {
  if (message.starts_with("    Last message repeated ")) return std::nullopt;
  if (!had_context) {
    if (IsStatsLine(message)) return LogLevel::kInfo;
    if (message.starts_with("  ")) return LogLevel::kInfo;  // dumps: Duration, Stream #, Metadata
    static constexpr std::array<std::string_view, 6> kInfoPrefixes = {
        "Input #", "Output #", "Stream mapping:", "Press [q] to stop", "video:", "ffmpeg version "};
    for (std::string_view p : kInfoPrefixes) {
      if (message.starts_with(p)) return LogLevel::kInfo;
    }
  }
  return KnownMessageLevel(message);
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kPanic:
      return "panic";
    case LogLevel::kFatal:
      return "fatal";
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kVerbose:
      return "verbose";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kUnknown:
      break;
  }
  return "unknown";
}

LogLine DecodeLogLine(std::string_view line) {
  LogLine out;
  std::string_view rest = line;
  SkipTimePrefix(&rest);

  std::string_view outer;
  std::string_view inner;
  int contexts = 0;
  while (std::optional<std::string_view> name = TakeContext(&rest)) {
    if (contexts > 0) outer = inner;
    inner = *name;
    ++contexts;
  }
  out.component = inner;
  out.parent = outer;
  std::string_view before_tag = rest;
  if (std::optional<LogLevel> tag = TakeLevelTag(&rest)) {
    out.level = *tag;
    out.level_tagged = true;
    out.level_tag = before_tag.substr(0, before_tag.size() - rest.size());
    out.message = rest;
    return out;
  }
  if (contexts == 0 && TakeExternal(rest, &out)) return out;
  out.message = rest;
  if (std::optional<LogLevel> inferred = InferLevel(rest, contexts > 0)) out.level = *inferred;
  return out;
}

std::string LineWithoutLevelTag(std::string_view line, const LogLine& decoded) {
  if (decoded.level_tag.empty()) return std::string(line);
  size_t at = static_cast<size_t>(decoded.level_tag.data() - line.data());
  std::string out(line.substr(0, at));
  out += line.substr(at + decoded.level_tag.size());
  return out;
}

}  // namespace ffpod
