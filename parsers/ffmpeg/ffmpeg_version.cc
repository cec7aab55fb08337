#include "parsers/ffmpeg/ffmpeg_version.h"

#include <algorithm>
#include <optional>

#include "parsers/common/text.h"

namespace ffpod {
namespace {

// Reads a decimal number at `*pos`; advances past it. Nullopt (and no advance) when there is
// none or it is above 1000000 (not a version component).
std::optional<int> ReadNumber(std::string_view s, size_t* pos) {
  std::string_view digits = LeadingDigits(s.substr(std::min(*pos, s.size())));
  std::optional<uint64_t> value = ParseUint64(digits);
  if (!value || *value > 1000000) return std::nullopt;
  *pos += digits.size();
  return static_cast<int>(*value);
}

// The version token: the word after "version " (`ffmpeg version X`, `ffprobe version X`), or
// the first word when the line is the bare token.
std::string_view VersionToken(std::string_view line) {
  constexpr std::string_view kVersion = "version";
  size_t start = 0;
  for (size_t at = line.find(kVersion); at != std::string_view::npos;
       at = line.find(kVersion, at + 1)) {
    size_t end = at + kVersion.size();
    if ((at == 0 || line[at - 1] == ' ') && (end == line.size() || line[end] == ' ')) {
      start = end;
      break;
    }
  }
  while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
  size_t end = start;
  while (end < line.size() && !IsAsciiSpace(line[end])) ++end;
  return line.substr(start, end - start);
}

}  // namespace

bool FfmpegVersion::AtLeast(int maj, int min) const {
  if (git) return true;
  if (!known) return false;
  return major > maj || (major == maj && minor >= min);
}

bool FfmpegVersion::IgnoresFirstSignalWithoutStdin() const {
  // Ticket #10834: the threaded ffmpeg of 7.0 only looked at the signal count from the
  // keyboard check. Fixed by d7173e982e (8.1), backported to 7.1.2 (dc2728474e) and 8.0.1
  // (b9adbf0fcc); release/7.0 never got it. Real 7.1.5 and 9.0.2 stop at the first signal.
  // Git builds are treated as newest.
  if (!known || git) return false;
  if (major == 7) return minor == 0 || (minor == 1 && patch < 2);
  return major == 8 && minor == 0 && patch == 0;
}

FfmpegVersion ParseFfmpegVersion(std::string_view first_line) {
  FfmpegVersion v;
  std::string_view token = VersionToken(first_line);
  v.text = std::string(token);
  if (token.empty()) return v;

  // Git builds: "N-118000-gabc123..." (upstream's git describe), "git-2024-01-01-abc...",
  // "2024-03-24-git-e0a4b2e0f7-full_build-www.gyan.dev" (dated snapshots).
  if (token.starts_with("N-") || token.starts_with("git") ||
      token.find("-git-") != std::string_view::npos) {
    v.git = true;
    return v;
  }
  size_t pos = 0;
  if (token[0] == 'n' && token.size() > 1 && IsDigit(token[1])) pos = 1;  // release tag "n7.1"
  std::optional<int> maj = ReadNumber(token, &pos);
  if (!maj || pos >= token.size() || token[pos] != '.') return v;
  ++pos;
  std::optional<int> min = ReadNumber(token, &pos);
  if (!min) return v;
  v.major = *maj;
  v.minor = *min;
  if (pos < token.size() && token[pos] == '.') {
    size_t after_dot = pos + 1;
    if (std::optional<int> patch = ReadNumber(token, &after_dot)) {
      v.patch = *patch;
      pos = after_dot;
    }
  }
  v.known = true;
  // "8.0.git": a snapshot of the development branch after 8.0 (RELEASE file of master).
  if (token.substr(pos).starts_with(".git") || token.substr(pos).starts_with("-git")) v.git = true;
  return v;
}

}  // namespace ffpod
