// `ffpod worker` against a Redis that misbehaves: a peer that answers garbage. The worker keeps
// running, says what is wrong once per episode, counts it, and is not ready while it lasts.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/fake_peer.h"
#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::FfpodWorker;
using testing::TempDir;
using testing::WaitFor;

const std::vector<std::string> kFast = {"--heartbeat", "1"};

double RedisErrors(int port) {
  const std::string series = "\nffpod_redis_errors_total ";
  std::string body = testing::HttpGet(port, "/metrics").body;
  size_t at = body.find(series);
  return at == std::string::npos ? 0.0 : std::stod(body.substr(at + series.size()));
}

// The records whose message starts with `prefix`.
std::vector<boost::json::object> RecordsOf(const FfpodWorker& w, const std::string& prefix) {
  std::vector<boost::json::object> out;
  for (const auto& r : w.Records()) {
    if (r.at("msg").as_string().starts_with(prefix)) out.push_back(r);
  }
  return out;
}

std::string ErrorOf(const boost::json::object& record) {
  auto* e = record.if_contains("error");
  return e != nullptr && e->is_string() ? std::string(e->as_string()) : "";
}

TEST(WorkerRedisFaults, GarbledReplyIsLoggedOnceCountedAndTheWorkerKeepsRunning) {
  testing::FakePeer peer("*2147483647\r\n");
  TempDir dir;
  FfpodWorker w(peer.Url(), "w-garbled", dir, kFast);
  int port = w.Port();
  // Both of the worker's connections, each retried a few times.
  ASSERT_TRUE(WaitFor([&] { return peer.connections() >= 6; }, 60s)) << w.Log();
  EXPECT_TRUE(w.process().Running()) << w.Log();
  EXPECT_TRUE(WaitFor([&] { return RedisErrors(port) >= 1; }, 10s));
  auto down = RecordsOf(w, "Redis unavailable");
  ASSERT_EQ(down.size(), 1u) << w.Log();
  EXPECT_EQ(ErrorOf(down[0]), "Redis at 127.0.0.1:" + std::to_string(peer.port()) +
                                  ": protocol error: array of 2147483647 elements exceeds the "
                                  "limit of 1048576");
  auto ready = testing::HttpGet(port, "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("protocol error"), std::string::npos) << ready.body;
  EXPECT_EQ(w.Log().find("fatal"), std::string::npos) << w.Log();
}

}  // namespace
}  // namespace ffpod
