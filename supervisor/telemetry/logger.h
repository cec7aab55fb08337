// ffpod's logger: structured records on stderr, one per line (docs/logs.md).
//
// On a terminal it can also keep one live line at the bottom (`ffpod run`'s progress): each
// record written while it shows clears it (`\r`, erase to the end of the line), prints the record
// and draws the live line again, all in the same write, so the two never mix.
//
// Thread-safe: the event loop, the HTTP listener's threads and the OTLP exporter's thread may
// all log; each record is written with one write() so lines never interleave. A failed write
// (a closed stderr) is ignored: logging never stops the work.
#pragma once

#include <boost/json/object.hpp>
#include <mutex>
#include <string>
#include <string_view>

#include "parsers/telemetry/log_format.h"

namespace ffpod {

class Logger {
 public:
  Logger(LogFormat format, Severity min_level, int fd = 2);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void Log(Severity level, std::string_view msg, const boost::json::object& fields = {});
  void Debug(std::string_view msg, const boost::json::object& fields = {}) {
    Log(Severity::kDebug, msg, fields);
  }
  void Info(std::string_view msg, const boost::json::object& fields = {}) {
    Log(Severity::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, const boost::json::object& fields = {}) {
    Log(Severity::kWarning, msg, fields);
  }
  void Error(std::string_view msg, const boost::json::object& fields = {}) {
    Log(Severity::kError, msg, fields);
  }

  bool Enabled(Severity level) const { return level >= min_level_; }
  LogFormat format() const { return format_; }
  // Whether the records go to a terminal (isatty, checked once at construction).
  bool terminal() const { return terminal_; }

  // Shows `line` in place of the live line drawn before (none at first): `\r`, the line (cut to
  // the terminal's width), then the rest of the terminal line erased. An empty `line` clears it.
  void SetLiveLine(std::string_view line);
  // Leaves the live line on the screen as an ordinary line and stops redrawing it.
  void EndLiveLine();

 private:
  void Write(std::string_view bytes) const;  // under write_mu_

  const LogFormat format_;
  const Severity min_level_;
  const int fd_;
  const bool terminal_;
  std::mutex write_mu_;
  std::string live_line_;  // under write_mu_; empty: none shows
};

}  // namespace ffpod
