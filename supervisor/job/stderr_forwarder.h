// ffmpeg's stderr on its way to the log: split into lines (`\n` or `\r`), each line first shown
// to the job (`inspect`: progress stats lines and the version banner are ffpod's own and stop
// there), then decoded (level tag, component), counted, redacted (the job's SecretValues and
// RedactText: parsers/telemetry/redact.h), kept in a tail for the result,
// reported as a trace event when it is one of the first five error lines, and forwarded to the
// log at its level with a run of identical lines collapsed into one "previous line repeated N
// times" record.
//
// Threading: the io_context thread of the job.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/ffmpeg/line_splitter.h"
#include "parsers/ffmpeg/log_line.h"
#include "parsers/telemetry/redact.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class StderrForwarder {
 public:
  struct Hooks {
    // Sees every line first; true: the line was ffpod's own and goes no further.
    std::function<bool(const SplitLine&)> inspect;
    // Every line that goes on, decoded (for the metrics).
    std::function<void(const LogLine&)> on_line;
    // "ffmpeg.error" for the first error lines (for traces).
    std::function<void(std::string_view, const boost::json::object&)> on_event;
  };

  // `fields` and `secrets` (the job's, redacted from every line) must outlive the forwarder.
  // Lines below `log_level` are not logged; they are still decoded, counted and in the tail.
  StderrForwarder(Logger& logger, const boost::json::object& fields, const SecretValues& secrets,
                  size_t tail_lines, Severity log_level, Hooks hooks);
  StderrForwarder(const StderrForwarder&) = delete;
  StderrForwarder& operator=(const StderrForwarder&) = delete;

  // Bytes as read from the pipe.
  void Feed(std::string_view bytes);
  // The pipe ended: the last, unterminated line, and the pending repeat summary.
  void Finish();
  // The last lines forwarded, redacted and without FFmpeg's `[level] ` tag (LineWithoutLevelTag),
  // oldest first.
  std::vector<std::string> Tail() const { return {tail_.begin(), tail_.end()}; }

 private:
  void OnLine(const SplitLine& line);
  void Forward(const LogLine& decoded);
  void FlushRepeats();

  Logger& logger_;
  const boost::json::object& fields_;
  const SecretValues& secrets_;
  size_t tail_lines_;
  Severity log_level_;
  Hooks hooks_;
  LineSplitter splitter_;
  std::deque<std::string> tail_;
  int error_events_ = 0;
  // Consecutive identical lines are forwarded once, then summarised.
  std::string last_forwarded_;
  uint64_t repeats_ = 0;
  LogLevel last_level_ = LogLevel::kUnknown;
};

}  // namespace ffpod
