#include "supervisor/telemetry/logger.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace ffpod {

Logger::Logger(LogFormat format, Severity min_level, int fd)
    : format_(format), min_level_(min_level), fd_(fd) {}

void Logger::Log(Severity level, std::string_view msg, const boost::json::object& fields) {
  if (!Enabled(level)) return;
  std::string line = FormatLogRecord(format_, std::chrono::system_clock::now(), level, msg, fields);
  std::lock_guard<std::mutex> lock(write_mu_);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace ffpod
