#include "parsers/ffmpeg/stats_line.h"

#include <array>

#include "parsers/common/text.h"

namespace ffpod {
namespace {

// The line is a sequence of `key=value` tokens separated by spaces; a value may be preceded by
// printf padding (`size=      88kB`). A key token may carry glued prefixes: `L` on the last
// report (`Lsize=`, `Lq=` when several video streams are reported) and, up to 5.1 with -qphist,
// a run of upper-case hex digits (`...0A3size=`). Tokens without `=` (the `U:..` parts of
// `PSNR=`) are skipped.
enum class Key {
  kUnknown,
  kFrame,
  kFps,
  kQ,
  kSize,
  kTime,
  kBitrate,
  kDup,
  kDrop,
  kSpeed,
  kElapsed,
  kPsnr
};

Key Lookup(std::string_view name) {
  switch (name.size()) {
    case 1:
      return name == "q" ? Key::kQ : Key::kUnknown;
    case 3:
      return name == "fps" ? Key::kFps : name == "dup" ? Key::kDup : Key::kUnknown;
    case 4:
      return name == "size"   ? Key::kSize
             : name == "time" ? Key::kTime
             : name == "drop" ? Key::kDrop
             : name == "PSNR" ? Key::kPsnr
                              : Key::kUnknown;
    case 5:
      return name == "frame" ? Key::kFrame : name == "speed" ? Key::kSpeed : Key::kUnknown;
    case 7:
      return name == "bitrate" ? Key::kBitrate : name == "elapsed" ? Key::kElapsed : Key::kUnknown;
    default:
      return Key::kUnknown;
  }
}

// Classifies a key token; sets *last for an `L` prefix.
Key Classify(std::string_view token, bool* last) {
  Key key = Lookup(token);
  if (key != Key::kUnknown) return key;
  bool l = !token.empty() && token.front() == 'L';
  if (l) token.remove_prefix(1);
  while (!token.empty() && HexDigitValue(token.front(), HexCase::kUpper) >= 0)
    token.remove_prefix(1);
  key = Lookup(token);
  if (key != Key::kSize && key != Key::kQ && key != Key::kPsnr) return Key::kUnknown;
  if (l) *last = true;
  return key;
}

bool Matches(std::string_view s, std::string_view pattern) {  // 'd' in pattern: a digit
  if (s.size() < pattern.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    bool ok = pattern[i] == 'd' ? IsDigit(s[i]) : s[i] == pattern[i];
    if (!ok) return false;
  }
  return true;
}

// Removes the optional 8.0 `-loglevel +datetime`/`+time` stamps and the `[info] ` level tag.
std::string_view StripPrefixes(std::string_view s) {
  if (Matches(s, "dddd-dd-dd dd:dd:dd.ddd ")) s.remove_prefix(11);
  if (Matches(s, "dd:dd:dd.ddd ")) s.remove_prefix(13);
  constexpr std::string_view kInfo = "[info] ";
  if (s.substr(0, kInfo.size()) == kInfo) s.remove_prefix(kInfo.size());
  return s;
}

// The whole of `s` as a finite double; -0.0 (FFmpeg's `%6.1f` of a tiny negative) reads as 0.
std::optional<double> ParseFiniteDouble(std::string_view s) {
  std::optional<double> v = ParseDouble(s);
  if (v) *v += 0.0;
  return v;
}

// `N/A` -> true with nullopt; `<number><suffix>` -> true with the number; else false.
bool ParseNumberWithSuffix(std::string_view value, std::string_view suffix,
                           std::optional<double>* out) {
  if (value == "N/A") return true;
  if (!ConsumeSuffix(&value, suffix)) return false;
  *out = ParseFiniteDouble(value);
  return out->has_value();
}

// `N/A`, or the `%.0f` count of KiB followed by `kB` (<=6.1) or `KiB` (7.0+).
bool ParseSize(std::string_view value, std::optional<int64_t>* out) {
  if (value == "N/A") return true;
  if (!ConsumeSuffix(&value, "KiB") && !ConsumeSuffix(&value, "kB")) return false;
  if (value.empty() || value.front() == '-') return false;
  std::optional<int64_t> kib = ParseInt64(value);
  int64_t bytes = 0;
  if (!kib || __builtin_mul_overflow(*kib, int64_t{1024}, &bytes)) return false;
  *out = bytes;
  return true;
}

}  // namespace

namespace {

// The values of one stats line as its `key=value` tokens arrive. The first occurrence of a key
// counts (later `q=` belong to further video streams).
class StatsLineFields {
 public:
  explicit StatsLineFields(StatsLine* r) : r_(*r) {}

  // False when the value of a counted key does not parse: then the line is no stats line.
  bool Apply(Key key, std::string_view value) {
    if (key == Key::kPsnr || key == Key::kUnknown) return true;
    bool& seen = seen_[static_cast<size_t>(key)];
    if (seen) return true;
    seen = true;
    switch (key) {
      case Key::kFrame:
        return static_cast<bool>(r_.frame = ParseInt64(value));
      case Key::kFps:
        return static_cast<bool>(r_.fps = ParseFiniteDouble(value));
      case Key::kQ:
        return static_cast<bool>(r_.q = ParseFiniteDouble(value));
      case Key::kSize:
        return ParseSize(value, &r_.size_bytes);
      case Key::kTime:
        return Time(value);
      case Key::kBitrate:
        return ParseNumberWithSuffix(value, "kbits/s", &r_.bitrate_kbps);
      case Key::kDup:
        return static_cast<bool>(r_.dup_frames = ParseInt64(value));
      case Key::kDrop:
        return static_cast<bool>(r_.drop_frames = ParseInt64(value));
      case Key::kSpeed:
        return ParseNumberWithSuffix(value, "x", &r_.speed);
      case Key::kElapsed:
        return static_cast<bool>(r_.elapsed_us = ParseClockTime(value));
      case Key::kPsnr:
      case Key::kUnknown:
        break;
    }
    return true;
  }

  // Every stats line has size, time, bitrate and speed; a bitrate computed from the sentinel
  // time means nothing.
  bool Finish() {
    auto seen = [&](Key k) { return seen_[static_cast<size_t>(k)]; };
    if (!seen(Key::kSize) || !seen(Key::kTime) || !seen(Key::kBitrate) || !seen(Key::kSpeed)) {
      return false;
    }
    if (sentinel_) r_.bitrate_kbps.reset();
    return true;
  }

 private:
  bool Time(std::string_view value) {
    if (value == "N/A") return true;
    r_.time_us = ParseClockTime(value);
    if (!r_.time_us) return false;
    if (IsSentinelTime(*r_.time_us)) {
      sentinel_ = true;
      r_.time_us.reset();
    }
    return true;
  }

  StatsLine& r_;
  std::array<bool, static_cast<size_t>(Key::kPsnr) + 1> seen_{};
  bool sentinel_ = false;
};

}  // namespace

std::optional<StatsLine> ParseStatsLine(std::string_view line) {
  line = TrimRight(line, "\r\n ");
  std::string_view s = StripPrefixes(line);
  StatsLine r;
  StatsLineFields fields(&r);
  bool first = true;
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    while (i < n && s[i] == ' ') ++i;
    if (i == n) break;
    size_t key_begin = i;
    while (i < n && s[i] != ' ' && s[i] != '=') ++i;
    if (i == n || s[i] != '=') {
      if (first) return std::nullopt;
      continue;  // a token without '=' (PSNR plane values)
    }
    std::string_view key_token = s.substr(key_begin, i - key_begin);
    ++i;  // '='
    while (i < n && s[i] == ' ') ++i;
    size_t value_begin = i;
    while (i < n && s[i] != ' ') ++i;
    std::string_view value = s.substr(value_begin, i - value_begin);

    Key key = Classify(key_token, &r.last);
    if (first) {
      if (key != Key::kFrame && key != Key::kSize) return std::nullopt;
      first = false;
    }
    if (!fields.Apply(key, value)) return std::nullopt;
  }
  if (!fields.Finish()) return std::nullopt;
  return r;
}

ProgressBlock ToProgressBlock(const StatsLine& stats) {
  ProgressBlock b;
  b.frame = stats.frame;
  b.fps = stats.fps;
  b.bitrate_kbps = stats.bitrate_kbps;
  b.total_size_bytes = stats.size_bytes;
  b.out_time_us = stats.time_us;
  b.dup_frames = stats.dup_frames;
  b.drop_frames = stats.drop_frames;
  b.speed = stats.speed;
  b.end = stats.last;
  return b;
}

}  // namespace ffpod
