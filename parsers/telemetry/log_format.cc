#include "parsers/telemetry/log_format.h"

#include "parsers/common/json_text.h"
#include "parsers/common/text.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <ctime>

namespace ffpod {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kDebug:
      return "debug";
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "info";
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
size_t ValidSequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n;
  if (c >= 0x01 && c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  // Overlong forms, surrogates and code points above U+10FFFF.
  if (n == 3 && c == 0xE0 && b(i + 1) < 0xA0) return 0;
  if (n == 3 && c == 0xED && b(i + 1) >= 0xA0) return 0;
  if (n == 4 && c == 0xF0 && b(i + 1) < 0x90) return 0;
  if (n == 4 && c == 0xF4 && b(i + 1) >= 0x90) return 0;
  return n;
}

}  // namespace

std::string SanitizeUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    size_t n = ValidSequenceLength(bytes, i);
    if (n == 0) break;
    i += n;
  }
  if (i == bytes.size()) return std::string(bytes);
  std::string out(bytes.substr(0, i));
  out.reserve(bytes.size() + 8);
  while (i < bytes.size()) {
    size_t n = ValidSequenceLength(bytes, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (ms < 0 && ms % 1000 != 0) --secs;
  int millis = static_cast<int>(ms - static_cast<int64_t>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.f+](Z|+00:00)
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > t.size()) return false;
    std::optional<uint64_t> v = ParseUint64(t.substr(pos, n));
    if (!v) return false;
    *out = static_cast<int>(*v);
    return true;
  };
  int y, mo, d, h, mi, s;
  if (t.size() < 20 || !digits(0, 4, &y) || t[4] != '-' || !digits(5, 2, &mo) || t[7] != '-' ||
      !digits(8, 2, &d) || (t[10] != 'T' && t[10] != 't') || !digits(11, 2, &h) || t[13] != ':' ||
      !digits(14, 2, &mi) || t[16] != ':' || !digits(17, 2, &s)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    size_t start = pos;
    while (pos < t.size() && IsDigit(t[pos])) {
      if (scale > 0) micros += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::string_view zone = t.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
  using namespace std::chrono;
  auto day = sys_days(year_month_day(year(y), month(static_cast<unsigned>(mo)),
                                     std::chrono::day(static_cast<unsigned>(d))));
  if (!year_month_day(year(y), month(static_cast<unsigned>(mo)),
                      std::chrono::day(static_cast<unsigned>(d)))
           .ok()) {
    return std::nullopt;
  }
  return system_clock::time_point(day.time_since_epoch() + hours(h) + minutes(mi) + seconds(s) +
                                  microseconds(micros));
}

namespace {

void AppendTextValue(std::string& out, const boost::json::value& v) {
  if (v.is_string()) {
    std::string_view s = v.as_string();
    bool quote = s.empty() || s.find_first_of(" =\"\t") != std::string_view::npos;
    if (quote) {
      out += JsonText(v);
    } else {
      out += s;
    }
  } else {
    out += JsonText(v);
  }
}

}  // namespace

std::string FormatLogRecord(LogFormat format, std::chrono::system_clock::time_point ts,
                            Severity level, std::string_view msg,
                            const boost::json::object& fields) {
  if (format == LogFormat::kText) {
    std::string out = FormatTimestamp(ts);
    out += ' ';
    std::string_view name = SeverityName(level);
    for (char c : name) out += AsciiUpper(c);
    out += ' ';
    out += SanitizeUtf8(msg);
    for (const auto& kv : fields) {
      out += ' ';
      out += kv.key();
      out += '=';
      if (kv.value().is_string()) {
        AppendTextValue(out, boost::json::value(SanitizeUtf8(kv.value().as_string())));
      } else {
        AppendTextValue(out, kv.value());
      }
    }
    out += '\n';
    return out;
  }
  boost::json::object record;
  record.reserve(fields.size() + 3);
  record["ts"] = FormatTimestamp(ts);
  record["level"] = SeverityName(level);
  record["msg"] = SanitizeUtf8(msg);
  for (const auto& kv : fields) {
    if (kv.value().is_string()) {
      record[kv.key()] = SanitizeUtf8(kv.value().as_string());
    } else {
      record[kv.key()] = kv.value();
    }
  }
  std::string out = JsonText(record);
  out += '\n';
  return out;
}

}  // namespace ffpod
