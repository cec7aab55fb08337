// ffpod's logger: structured records on stderr, one per line (docs/logs.md).
//
// Thread-safe: the event loop, the HTTP listener's threads and the OTLP exporter's thread may
// all log; each record is written with one write() so lines never interleave. A failed write
// (a closed stderr) is ignored: logging never stops the work.
#pragma once

#include <boost/json/object.hpp>
#include <mutex>
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

 private:
  const LogFormat format_;
  const Severity min_level_;
  const int fd_;
  std::mutex write_mu_;
};

}  // namespace ffpod
