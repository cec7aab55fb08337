// A Logger that writes JSON records to /dev/null, for unit tests that assert on something else.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include "supervisor/telemetry/logger.h"

namespace ffpod::fakes {

class NullLogger {
 public:
  NullLogger()
      : fd_(::open("/dev/null", O_WRONLY | O_CLOEXEC)),
        logger_(LogFormat::kJson, Severity::kDebug, fd_) {}
  ~NullLogger() { ::close(fd_); }
  NullLogger(const NullLogger&) = delete;
  NullLogger& operator=(const NullLogger&) = delete;

  Logger& get() { return logger_; }

 private:
  int fd_;
  Logger logger_;
};

}  // namespace ffpod::fakes
