#include "parsers/ffmpeg/progress.h"

#include <cstring>
#include <limits>

#include "parsers/common/text.h"

namespace ffpod {
namespace {

// The blanks taken off keys, values and clock times (a line has already lost its '\n').
constexpr std::string_view kBlanks = " \t\r";

bool IsNotAvailable(std::string_view value) { return value == "N/A"; }

// Parses a non-negative decimal int at the front of `*s` (at most 9 digits) and consumes it.
std::optional<int> TakeIndex(std::string_view* s) {
  std::string_view digits = LeadingDigits(s->substr(0, 10));
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  s->remove_prefix(digits.size());
  return static_cast<int>(*ParseUint64(digits));
}

// Recognises `stream_F_S_<rest>` and returns F, S and <rest>.
bool SplitStreamKey(std::string_view key, int* file, int* stream, std::string_view* rest) {
  constexpr std::string_view kPrefix = "stream_";
  if (key.substr(0, kPrefix.size()) != kPrefix) return false;
  key.remove_prefix(kPrefix.size());
  std::optional<int> f = TakeIndex(&key);
  if (!f || key.empty() || key.front() != '_') return false;
  key.remove_prefix(1);
  std::optional<int> s = TakeIndex(&key);
  if (!s || key.empty() || key.front() != '_') return false;
  key.remove_prefix(1);
  *file = *f;
  *stream = *s;
  *rest = key;
  return true;
}

// `N/A` -> nullopt (fine); a number followed by `suffix` -> the number; else error.
// The result is normalised so that -0.0 reads as 0.
bool ParseDoubleWithSuffix(std::string_view value, std::string_view suffix,
                           std::optional<double>* out) {
  if (IsNotAvailable(value)) {
    *out = std::nullopt;
    return true;
  }
  if (!ConsumeSuffix(&value, suffix)) {
    *out = std::nullopt;
    return false;
  }
  *out = ParseDouble(Trim(value, kBlanks));
  if (*out) **out += 0.0;
  return out->has_value();
}

bool ParseOptionalInt(std::string_view value, std::optional<int64_t>* out) {
  if (IsNotAvailable(value)) {
    *out = std::nullopt;
    return true;
  }
  *out = ParseInt64(value);
  return out->has_value();
}

}  // namespace

bool IsSentinelTime(int64_t us) {
  // INT64_MIN+1 rendered by 4.4-6.0 with `int` seconds: 9223372036854 s truncated to 32 bits
  // gives 2077252342 s = 577014:32:22, plus the 775807 µs remainder (.77 on stderr).
  constexpr int64_t kRenderedHigh = -2077252342770000;
  constexpr int64_t kRenderedLow = -2077252342775807;
  return us == std::numeric_limits<int64_t>::min() ||
         us == std::numeric_limits<int64_t>::min() + 1 ||
         (us >= kRenderedLow && us <= kRenderedHigh);
}

std::optional<int64_t> ParseClockTime(std::string_view text) {
  text = Trim(text, kBlanks);
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  size_t colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
  std::string_view hours_text = text.substr(0, colon);
  if (LeadingDigits(hours_text).size() != colon) return std::nullopt;
  std::optional<int64_t> hours = ParseInt64(hours_text);
  if (!hours) return std::nullopt;
  text.remove_prefix(colon + 1);
  auto two_digits = [](std::string_view t) -> int {
    if (t.size() < 2 || t[0] < '0' || t[0] > '5' || !IsDigit(t[1])) return -1;
    return (t[0] - '0') * 10 + (t[1] - '0');
  };
  int minutes = two_digits(text);
  if (minutes < 0 || text.size() < 3 || text[2] != ':') return std::nullopt;
  text.remove_prefix(3);
  int seconds = two_digits(text);
  if (seconds < 0) return std::nullopt;
  text.remove_prefix(2);
  int64_t micros = 0;
  if (!text.empty()) {
    if (text.front() != '.' || text.size() == 1) return std::nullopt;
    text.remove_prefix(1);
    int64_t scale = 100000;
    for (char c : text) {
      if (!IsDigit(c)) return std::nullopt;
      micros += (c - '0') * scale;
      scale /= 10;
    }
  }
  int64_t total = 0;
  if (__builtin_mul_overflow(*hours, int64_t{3600}, &total) ||
      __builtin_add_overflow(total, int64_t{minutes} * 60 + seconds, &total) ||
      __builtin_mul_overflow(total, int64_t{1000000}, &total) ||
      __builtin_add_overflow(total, micros, &total))
    return std::nullopt;
  return negative ? -total : total;
}

void ProgressParser::Feed(std::string_view bytes, std::vector<ProgressBlock>* out) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (nl == nullptr) {
      // Unterminated: keep it for the next Feed, unless that makes the line overlong.
      size_t rest = end - p;
      if (discarding_) return;
      if (partial_.size() + rest > kMaxLineBytes) {
        ++errors_;
        discarding_ = true;
        partial_.clear();
        return;
      }
      partial_.append(p, rest);
      return;
    }
    size_t len = nl - p;
    if (discarding_) {
      discarding_ = false;  // the overlong line ends here; it was counted when it overflowed
    } else if (partial_.empty()) {
      if (len > kMaxLineBytes) {
        ++errors_;
      } else {
        Line(std::string_view(p, len), out);
      }
    } else if (partial_.size() + len > kMaxLineBytes) {
      ++errors_;
      partial_.clear();
    } else {
      partial_.append(p, len);
      Line(partial_, out);
      partial_.clear();
    }
    p = nl + 1;
  }
}

void ProgressParser::Line(std::string_view line, std::vector<ProgressBlock>* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  size_t eq = line.find('=');
  if (eq == std::string_view::npos) {
    ++errors_;
    return;
  }
  std::string_view key = Trim(line.substr(0, eq), kBlanks);
  std::string_view value = Trim(line.substr(eq + 1), kBlanks);
  if (key.empty()) {
    ++errors_;
    return;
  }
  if (key == "progress") {
    bool end = value == "end";
    if (!end && value != "continue") ++errors_;
    EndBlock(end, out);
    return;
  }
  Value(key, value);
}

void ProgressParser::Value(std::string_view key, std::string_view value) {
  ProgressBlock& b = current_;
  bool ok = true;
  if (key == "frame") {
    ok = ParseOptionalInt(value, &b.frame);
  } else if (key == "fps") {
    ok = ParseDoubleWithSuffix(value, "", &b.fps);
  } else if (key == "bitrate") {
    ok = ParseDoubleWithSuffix(value, "kbits/s", &b.bitrate_kbps);
  } else if (key == "total_size") {
    ok = ParseOptionalInt(value, &b.total_size_bytes);
  } else if (key == "out_time_us" || key == "out_time_ms" || key == "out_time") {
    ok = OutTimeValue(key, value);
  } else if (key == "dup_frames") {
    ok = ParseOptionalInt(value, &b.dup_frames);
  } else if (key == "drop_frames") {
    ok = ParseOptionalInt(value, &b.drop_frames);
  } else if (key == "speed") {
    ok = ParseDoubleWithSuffix(value, "x", &b.speed);
  } else {
    ok = OtherValue(key, value);
  }
  if (!ok) ++errors_;
}

bool ProgressParser::OutTimeValue(std::string_view key, std::string_view value) {
  // Priority out_time_us > out_time_ms > out_time; equal priority: the last one wins.
  TimeSource source = key == "out_time_us"   ? TimeSource::kUs
                      : key == "out_time_ms" ? TimeSource::kMs
                                             : TimeSource::kClock;
  std::optional<int64_t> us;
  bool ok = true;
  if (!IsNotAvailable(value)) {
    us = source == TimeSource::kClock ? ParseClockTime(value) : ParseInt64(value);
    ok = us.has_value();
  }
  if (time_source_ == TimeSource::kNone || source <= time_source_) {
    time_source_ = source;
    sentinel_time_ = us && IsSentinelTime(*us);
    current_.out_time_us = sentinel_time_ ? std::nullopt : us;
  }
  return ok;
}

bool ProgressParser::OtherValue(std::string_view key, std::string_view value) {
  int file = 0;
  int stream = 0;
  std::string_view rest;
  if (SplitStreamKey(key, &file, &stream, &rest)) {
    if (rest == "q") return StreamQualityValue(file, stream, value);
    char plane = rest == "psnr_y"     ? 'y'
                 : rest == "psnr_u"   ? 'u'
                 : rest == "psnr_v"   ? 'v'
                 : rest == "psnr_all" ? '*'
                                      : '\0';
    if (plane != '\0') return StreamPsnrValue(file, stream, plane, value);
  }
  if (current_.extra.size() >= kMaxExtraKeys) return false;
  current_.extra.emplace_back(std::string(key), std::string(value));
  return true;
}

bool ProgressParser::StreamQualityValue(int file, int stream, std::string_view value) {
  std::optional<double> q = ParseDouble(value);
  if (!q) return false;
  for (StreamQuality& s : current_.stream_q) {
    if (s.file == file && s.stream == stream) {
      s.q = *q;
      return true;
    }
  }
  if (current_.stream_q.size() >= kMaxStreams) return false;
  current_.stream_q.push_back({file, stream, *q});
  return true;
}

bool ProgressParser::StreamPsnrValue(int file, int stream, char plane, std::string_view value) {
  // "%2.2f" of -10*log10(0) prints "inf"; NaN is not a measurement.
  std::optional<double> psnr = ParseDouble(value, Infinities::kAccept);
  if (!psnr) return false;
  double db = *psnr;
  for (StreamPsnr& s : current_.stream_psnr) {
    if (s.file == file && s.stream == stream && s.plane == plane) {
      s.db = db;
      return true;
    }
  }
  if (current_.stream_psnr.size() >= kMaxStreams) return false;
  current_.stream_psnr.push_back({file, stream, plane, db});
  return true;
}

void ProgressParser::EndBlock(bool end, std::vector<ProgressBlock>* out) {
  current_.end = end;
  if (sentinel_time_) current_.bitrate_kbps.reset();
  out->push_back(std::move(current_));
  current_ = ProgressBlock{};
  time_source_ = TimeSource::kNone;
  sentinel_time_ = false;
}

}  // namespace ffpod
