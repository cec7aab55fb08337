#include "supervisor/job/stderr_forwarder.h"

namespace ffpod {

namespace {

bool IsErrorLevel(LogLevel level) {
  return level == LogLevel::kError || level == LogLevel::kFatal || level == LogLevel::kPanic;
}

Severity SeverityOf(LogLevel level) {
  switch (level) {
    case LogLevel::kPanic:
    case LogLevel::kFatal:
    case LogLevel::kError:
      return Severity::kError;
    case LogLevel::kWarning:
      return Severity::kWarning;
    case LogLevel::kVerbose:
    case LogLevel::kDebug:
    case LogLevel::kTrace:
      return Severity::kDebug;
    case LogLevel::kInfo:
    case LogLevel::kUnknown:
      return Severity::kInfo;
  }
  return Severity::kInfo;
}

}  // namespace

StderrForwarder::StderrForwarder(Logger& logger, const boost::json::object& fields,
                                 const SecretValues& secrets, size_t tail_lines, Severity log_level,
                                 Hooks hooks)
    : logger_(logger),
      fields_(fields),
      secrets_(secrets),
      tail_lines_(tail_lines),
      log_level_(log_level),
      hooks_(std::move(hooks)) {}

void StderrForwarder::Feed(std::string_view bytes) {
  splitter_.Feed(bytes, [this](const SplitLine& l) { OnLine(l); });
}

void StderrForwarder::Finish() {
  splitter_.Finish([this](const SplitLine& l) { OnLine(l); });
  FlushRepeats();
}

void StderrForwarder::OnLine(const SplitLine& line) {
  if (hooks_.inspect && hooks_.inspect(line)) return;
  std::string_view raw = line.text;
  LogLine decoded = DecodeLogLine(raw);
  if (hooks_.on_line) hooks_.on_line(decoded);
  // The level is a field of the log record and of the span event; the tail and the event's
  // line read as FFmpeg prints without +level.
  std::string untagged = secrets_.Redact(LineWithoutLevelTag(raw, decoded));
  if (IsErrorLevel(decoded.level) && error_events_ < 5) {
    ++error_events_;
    if (hooks_.on_event) {
      hooks_.on_event("ffmpeg.error", {{"line", untagged}, {"level", LogLevelName(decoded.level)}});
    }
  }
  tail_.push_back(std::move(untagged));
  while (tail_.size() > tail_lines_) tail_.pop_front();
  Forward(decoded);
}

void StderrForwarder::Forward(const LogLine& decoded) {
  std::string message = secrets_.Redact(decoded.message);
  std::string key = std::string(decoded.component) + "\x1f" + message;
  if (key == last_forwarded_) {
    ++repeats_;
    return;
  }
  FlushRepeats();
  last_forwarded_ = key;
  last_level_ = decoded.level;
  Severity sev = SeverityOf(decoded.level);
  if (sev < log_level_ || !logger_.Enabled(sev)) return;
  boost::json::object f = fields_;
  f["source"] = "ffmpeg";
  f["ffmpeg_level"] = LogLevelName(decoded.level);
  if (!decoded.component.empty()) f["component"] = RedactText(decoded.component);
  logger_.Log(sev, message, f);
}

void StderrForwarder::FlushRepeats() {
  if (repeats_ == 0) return;
  Severity sev = SeverityOf(last_level_);
  if (sev >= log_level_ && logger_.Enabled(sev)) {
    boost::json::object f = fields_;
    f["source"] = "ffmpeg";
    f["ffmpeg_level"] = LogLevelName(last_level_);
    f["repeated"] = repeats_;
    size_t sep = last_forwarded_.find('\x1f');
    logger_.Log(sev,
                "previous line repeated " + std::to_string(repeats_) +
                    " times: " + last_forwarded_.substr(sep + 1),
                f);
  }
  repeats_ = 0;
}

}  // namespace ffpod
