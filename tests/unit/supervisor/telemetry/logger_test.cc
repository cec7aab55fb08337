#include "supervisor/telemetry/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace ffpod {
namespace {

// A logger writing into a pipe, and what came out of it.
class PipeLog {
 public:
  PipeLog() { EXPECT_EQ(::pipe2(fds_, O_NONBLOCK), 0); }
  ~PipeLog() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int fd() const { return fds_[1]; }
  std::string Drain() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds_[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
};

// The timestamp varies: records are compared from their level on.
std::string WithoutTimestamps(std::string s) {
  for (size_t p = 0; (p = s.find("Z ", p)) != std::string::npos;) {
    size_t start = p - 24 + 1;  // "2026-11-22T19:49:47.123Z" is 24 characters
    s.erase(start, p + 1 - start);
    p = start;
  }
  return s;
}

TEST(Logger, RecordsClearTheLiveLineAndDrawItAgain) {
  PipeLog pipe;
  Logger logger(LogFormat::kText, Severity::kInfo, pipe.fd());
  EXPECT_FALSE(logger.terminal());  // a pipe
  logger.Info("before");
  logger.SetLiveLine(" 10.0% speed 1.00x");
  logger.SetLiveLine(" 20.0% speed 1.00x");
  logger.Warn("in between");
  logger.SetLiveLine(" 30.0% speed 1.00x");
  logger.EndLiveLine();
  logger.Info("after");
  logger.EndLiveLine();  // nothing shows: nothing written
  EXPECT_EQ(WithoutTimestamps(pipe.Drain()),
            " INFO before\n"
            "\r 10.0% speed 1.00x\x1b[K"
            "\r 20.0% speed 1.00x\x1b[K"
            "\r\x1b[K WARNING in between\n 20.0% speed 1.00x"
            "\r 30.0% speed 1.00x\x1b[K"
            "\n"
            " INFO after\n");
}

TEST(Logger, WithoutALiveLineRecordsAreUntouched) {
  PipeLog pipe;
  Logger logger(LogFormat::kJson, Severity::kWarning, pipe.fd());
  logger.Info("hidden");
  logger.Error("shown", {{"k", 1}});
  std::string out = pipe.Drain();
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_TRUE(out.starts_with("{\"ts\":\"")) << out;
  EXPECT_TRUE(out.ends_with("\"level\":\"error\",\"msg\":\"shown\",\"k\":1}\n")) << out;
}

}  // namespace
}  // namespace ffpod
