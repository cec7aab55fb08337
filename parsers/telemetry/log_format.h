// Formats ffpod's own log records: one JSON object per line (`ts`, `level`, `msg`, then fields),
// or a single human-readable line for `--log-format text`. Strings are made valid UTF-8
// (invalid bytes become U+FFFD) so a line of binary noise from ffmpeg never breaks a log
// shipper. Pure; the caller supplies the timestamp.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ffpod {

enum class LogFormat { kJson, kText };

// Severity of ffpod's own records (ffmpeg's levels are mapped onto these when forwarded).
enum class Severity { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
std::string_view SeverityName(Severity s);  // "debug", "info", "warning", "error"

// Replaces every invalid UTF-8 sequence (and NUL) with U+FFFD. Valid input is returned as is.
std::string SanitizeUtf8(std::string_view bytes);

// RFC 3339 UTC with milliseconds: "2026-11-22T19:49:47.123Z".
std::string FormatTimestamp(std::chrono::system_clock::time_point t);

// Parses RFC 3339 UTC ("2026-11-22T19:49:47.123Z", fraction optional, "Z" or "+00:00");
// nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view text);

// One record, terminated by '\n'. Fields keep their insertion order after ts, level and msg.
std::string FormatLogRecord(LogFormat format, std::chrono::system_clock::time_point ts,
                            Severity level, std::string_view msg,
                            const boost::json::object& fields);

}  // namespace ffpod
