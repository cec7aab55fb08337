#include "supervisor/telemetry/logger.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace ffpod {

namespace {

// Back to the start of the line, and erase what was there (the live line).
constexpr std::string_view kClearLine = "\r\x1b[K";

}  // namespace

Logger::Logger(LogFormat format, Severity min_level, int fd)
    : format_(format), min_level_(min_level), fd_(fd), terminal_(::isatty(fd) == 1) {}

void Logger::Log(Severity level, std::string_view msg, const boost::json::object& fields) {
  if (!Enabled(level)) return;
  std::string line = FormatLogRecord(format_, std::chrono::system_clock::now(), level, msg, fields);
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!live_line_.empty()) {
    line.insert(0, kClearLine);
    line += live_line_;
  }
  Write(line);
}

void Logger::SetLiveLine(std::string_view line) {
  // A line wider than the terminal would wrap, and `\r` would then redraw only its last row.
  struct winsize size {};
  if (terminal_ && ::ioctl(fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 1 &&
      line.size() >= size.ws_col) {
    line = line.substr(0, size.ws_col - 1);
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  live_line_ = line;
  std::string out = "\r";
  out += line;
  out += "\x1b[K";
  Write(out);
}

void Logger::EndLiveLine() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (live_line_.empty()) return;
  live_line_.clear();
  Write("\n");
}

void Logger::Write(std::string_view bytes) const {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace ffpod
