// What run and worker share (Service): the listener's answers agree with each other at every
// moment, whatever changed the readiness checks.
#include "supervisor/modes/service.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

// The ffpod_ready line of a scrape ("" when absent).
std::string ReadyLine(int port) {
  std::string body = testing::HttpGet(port, "/metrics").body;
  size_t at = body.find("\nffpod_ready ");
  if (at == std::string::npos) return "";
  return body.substr(at + 1, body.find('\n', at + 1) - at - 1);
}

TEST(Service, FfpodReadyIsWhatReadyzAnswersAtTheSameScrape) {
  Config config;
  config.listen = "127.0.0.1:0";
  Logger logger(LogFormat::kJson, Severity::kError, 2);
  Service service(config, logger, "run");
  Result<int> port = service.StartHttp();
  ASSERT_TRUE(port.ok()) << port.error().message;

  // A check that changes without anyone touching the metric: both answers follow it at once.
  service.board().SetCheck("queue", "the queue is paused");
  EXPECT_EQ(testing::HttpGet(*port, "/readyz").status, 503);
  EXPECT_EQ(ReadyLine(*port), "ffpod_ready 0");
  service.board().SetCheck("queue", std::nullopt);
  EXPECT_EQ(testing::HttpGet(*port, "/readyz").status, 200);
  EXPECT_EQ(ReadyLine(*port), "ffpod_ready 1");
  service.metrics().SetReady(false);  // a stale copy is overwritten by the next scrape
  EXPECT_EQ(ReadyLine(*port), "ffpod_ready 1");
  service.StopHttp();
}

}  // namespace
}  // namespace ffpod
