// `ffpod worker --pod-deletion-cost` against a stand-in for the Kubernetes API: a local HTTPS
// server (tests/harness/otlp_receiver.h) with a throwaway CA, which records every request. A
// real API server cannot run here; what ffpod must send is fixed by the Kubernetes API (a JSON
// merge patch of the pod's annotations, a bearer token, the cluster CA), and that is what these
// tests check, with a real redis-server and a real ffmpeg encode.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>

#include "supervisor/modes/pod_cost_updater.h"
#include "supervisor/telemetry/logger.h"
#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/otlp_receiver.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::Answer;
using testing::FfpodWorker;
using testing::ReceivedRequest;
using testing::Receiver;
using testing::RedisServer;
using testing::Reply;
using testing::TempDir;
using testing::WaitFor;

// A service account directory as the kubelet mounts it.
std::string ServiceAccount(const TempDir& dir, const testing::TestCertificates& certs,
                           const std::string& ns) {
  std::filesystem::path sa = std::filesystem::path(dir / "serviceaccount");
  std::filesystem::create_directories(sa);
  std::filesystem::copy_file(certs.ca_cert, sa / "ca.crt");
  testing::WriteFile(sa / "token", "test-token-123\n");
  if (!ns.empty()) testing::WriteFile(sa / "namespace", ns);
  return sa.string();
}

// The cost each recorded request set, checking that each is the right PATCH.
std::vector<int> Costs(const std::vector<ReceivedRequest>& requests, const std::string& path) {
  std::vector<int> costs;
  for (const ReceivedRequest& r : requests) {
    EXPECT_EQ(r.method, "PATCH");
    EXPECT_EQ(r.target, path);
    EXPECT_EQ(r.headers.at("authorization"), "Bearer test-token-123");
    EXPECT_EQ(r.headers.at("content-type"), "application/merge-patch+json");
    boost::json::value body = boost::json::parse(r.body);
    const auto& annotations = body.at("metadata").at("annotations").as_object();
    EXPECT_EQ(annotations.size(), 1u) << r.body;
    costs.push_back(std::stoi(
        std::string(annotations.at("controller.kubernetes.io/pod-deletion-cost").as_string())));
  }
  return costs;
}

TEST(PodDeletionCost, FollowsAJobFromClaimToFinish) {
  TempDir dir;
  auto certs = testing::MakeTestCertificates(dir / "certs");
  Receiver api({}, certs.server_cert, certs.server_key);
  std::string sa = ServiceAccount(dir, certs, "video");
  RedisServer redis;
  std::string out = dir / "out.mp4";
  testing::Produce(redis, testing::JobDocument("j1", testing::EncodeArgs(out, 4, true), {out}));
  FfpodWorker worker(
      redis.Url(), "w1", dir, {"--pod-deletion-cost", "--serviceaccount-dir", sa},
      {"KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT=" + std::to_string(api.port()),
       "POD_NAME=ffpod-worker-7d9f-x2mzq"});
  ASSERT_TRUE(WaitFor([&] { return testing::JobField(redis, "j1", "state") == "succeeded"; }, 60s))
      << worker.Log();
  // Idle again: the last patch sets 0.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto requests = api.requests();
        return !requests.empty() && requests.back().body.find("\"0\"") != std::string::npos;
      },
      10s))
      << worker.Log();
  std::vector<int> costs =
      Costs(api.requests(), "/api/v1/namespaces/video/pods/ffpod-worker-7d9f-x2mzq");
  ASSERT_GE(costs.size(), 3u);
  EXPECT_EQ(costs.back(), 0);
  // While busy: 100 plus 10 per tenth done, never going down, several steps seen on a 4 s
  // real-time encode, and no patch repeating the value before it.
  std::vector<int> busy;
  for (size_t i = 0; i + 1 < costs.size(); ++i) {
    if (i == 0 && costs[i] == 0) continue;  // the start-up patch, when it went out before the claim
    busy.push_back(costs[i]);
  }
  ASSERT_GE(busy.size(), 3u);
  for (size_t i = 0; i < busy.size(); ++i) {
    EXPECT_GE(busy[i], 100);
    EXPECT_LE(busy[i], 200);
    EXPECT_EQ(busy[i] % 10, 0);
    if (i > 0) {
      EXPECT_GT(busy[i], busy[i - 1]);
    }
  }
  EXPECT_GE(busy.back(), 170);
  EXPECT_LE(costs.size(), 13u);  // at most 12 changes per job, and one at start-up

  worker.process().Signal(SIGTERM);
  ASSERT_TRUE(worker.process().Wait(30s).has_value());
}

TEST(PodDeletionCost, RefusalIsLoggedOnceAndJobsStillRun) {
  TempDir dir;
  auto certs = testing::MakeTestCertificates(dir / "certs");
  Receiver api([](const ReceivedRequest&,
                  size_t) { return Answer(403, R"({"kind":"Status","reason":"Forbidden"})"); },
               certs.server_cert, certs.server_key);
  std::string sa = ServiceAccount(dir, certs, "video");
  RedisServer redis;
  std::string out = dir / "out.mp4";
  testing::Produce(redis, testing::JobDocument("j1", testing::EncodeArgs(out, 2, true), {out}));
  FfpodWorker worker(
      redis.Url(), "w1", dir, {"--pod-deletion-cost", "--serviceaccount-dir", sa},
      {"KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT=" + std::to_string(api.port()),
       "POD_NAME=ffpod-worker-1", "POD_NAMESPACE=batch"});
  ASSERT_TRUE(WaitFor([&] { return testing::JobField(redis, "j1", "state") == "succeeded"; }, 60s))
      << worker.Log();
  ASSERT_TRUE(api.WaitForRequests(2, 10s));  // retried
  EXPECT_EQ(api.requests().front().target, "/api/v1/namespaces/batch/pods/ffpod-worker-1");
  worker.process().Signal(SIGTERM);
  ASSERT_TRUE(worker.process().Wait(30s).has_value());
  int warnings = 0;
  for (const auto& r : worker.Records()) {
    if (r.at("msg").as_string() == "cannot update this pod's pod-deletion-cost; retrying") {
      ++warnings;
      EXPECT_EQ(r.at("error").as_string(),
                "the service account may not patch pod batch/ffpod-worker-1 (403 Forbidden): "
                "grant it patch on pods (the chart's podDeletionCost.enabled does)");
    }
  }
  EXPECT_EQ(warnings, 1) << worker.Log();
}

TEST(PodDeletionCost, StartupProblemsExit2WithOneSentence) {
  TempDir dir;
  auto certs = testing::MakeTestCertificates(dir / "certs");
  RedisServer redis;
  auto start = [&](const std::string& sa, std::vector<std::string> env) {
    testing::ProcessOptions o;
    o.argv = {FFPOD_BINARY,
              "worker",
              "--redis",
              redis.Url(),
              "--listen",
              "127.0.0.1:0",
              "--pod-deletion-cost",
              "--serviceaccount-dir",
              sa,
              "--log-format",
              "text"};
    o.extra_env = std::move(env);
    o.stderr_path = dir / "err.log";
    testing::BackgroundProcess p(o);
    auto code = p.Wait(30s);
    return std::make_pair(code.value_or(-1), testing::ReadFile(dir / "err.log"));
  };
  std::vector<std::string> env = {"KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT=1",
                                  "POD_NAME=p1"};

  // No namespace anywhere.
  std::string sa = ServiceAccount(dir, certs, "");
  auto [code, err] = start(sa, env);
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("cannot read " + sa + "/namespace; set POD_NAMESPACE"), std::string::npos)
      << err;

  // No CA certificate.
  env.push_back("POD_NAMESPACE=video");
  std::filesystem::remove(sa + "/ca.crt");
  std::tie(code, err) = start(sa, env);
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("Kubernetes API CA file"), std::string::npos) << err;
  EXPECT_NE(err.find(sa + "/ca.crt"), std::string::npos) << err;

  // No POD_NAME: refused by the configuration already.
  std::tie(code, err) = start(sa, {"KUBERNETES_SERVICE_HOST=127.0.0.1"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("--pod-deletion-cost needs POD_NAME"), std::string::npos) << err;
}

// The updater alone: coalescing, recovery after failures, a certificate that does not verify.
class UpdaterLog {
 public:
  UpdaterLog()
      : fd_(::open((dir_ / "log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)),
        logger_(LogFormat::kJson, Severity::kInfo, fd_) {}
  ~UpdaterLog() { ::close(fd_); }
  Logger* logger() { return &logger_; }
  std::vector<boost::json::object> Records() {
    return testing::JsonLines(testing::ReadFile(dir_ / "log"));
  }

 private:
  TempDir dir_;
  int fd_;
  Logger logger_;
};

// An updater of pod video/p1 talking to `api` with the service account in `sa`.
PodCostUpdaterOptions UpdaterOptions(const Receiver& api, const std::string& sa) {
  PodCostUpdaterOptions o;
  o.host = "127.0.0.1";
  o.port = api.port();
  o.ca_file = sa + "/ca.crt";
  o.token_file = sa + "/token";
  o.ns = "video";
  o.pod = "p1";
  return o;
}

TEST(PodCostUpdater, RetriesUntilAcceptedAndSendsOnlyTheLatestValue) {
  TempDir dir;
  auto certs = testing::MakeTestCertificates(dir / "certs");
  std::string sa = ServiceAccount(dir, certs, "");
  std::atomic<bool> healthy{false};
  Receiver api(
      [&](const ReceivedRequest&, size_t) { return healthy ? Reply{} : Answer(503, "busy"); },
      certs.server_cert, certs.server_key);
  UpdaterLog log;
  PodCostUpdaterOptions o = UpdaterOptions(api, sa);
  o.initial_backoff = 200ms;
  o.max_backoff = 400ms;
  o.logger = log.logger();
  auto updater = PodCostUpdater::Create(o);
  ASSERT_TRUE(updater.ok()) << updater.error().message;
  (*updater)->Set(100);
  ASSERT_TRUE(api.WaitForRequests(2, 10s));
  // While failing, newer values replace the waiting one: only the last is sent.
  (*updater)->Set(110);
  (*updater)->Set(120);
  (*updater)->Set(130);
  healthy = true;
  ASSERT_TRUE(WaitFor([&] { return (*updater)->stats().applied == 130; }, 10s));
  auto stats = (*updater)->stats();
  EXPECT_GE(stats.failures, 2u);
  EXPECT_EQ(stats.requests, api.count());
  std::vector<int> costs = Costs(api.requests(), "/api/v1/namespaces/video/pods/p1");
  for (int c : costs) {
    EXPECT_TRUE(c == 100 || c == 130) << c;  // 110 and 120 were never sent
  }
  EXPECT_EQ(costs.back(), 130);
  // The same value again sends nothing.
  size_t before = api.count();
  (*updater)->Set(130);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(api.count(), before);
  (*updater)->Shutdown();

  int failing = 0, recovered = 0;
  for (const auto& r : log.Records()) {
    if (r.at("msg").as_string() == "cannot update this pod's pod-deletion-cost; retrying") {
      ++failing;
      EXPECT_EQ(r.at("error").as_string(),
                "the Kubernetes API answered 503 Service Unavailable: busy");
    }
    if (r.at("msg").as_string() == "pod-deletion-cost updates work again") ++recovered;
  }
  EXPECT_EQ(failing, 1);
  EXPECT_EQ(recovered, 1);
}

TEST(PodCostUpdater, AServerTheCaDidNotSignIsRefusedAndShutdownIsImmediate) {
  TempDir dir;
  auto certs = testing::MakeTestCertificates(dir / "certs");
  auto other = testing::MakeTestCertificates(dir / "other");
  std::string sa = ServiceAccount(dir, certs, "");
  Receiver api({}, other.server_cert, other.server_key);
  UpdaterLog log;
  PodCostUpdaterOptions o = UpdaterOptions(api, sa);
  o.initial_backoff = 60s;  // Shutdown must not wait for it
  o.max_backoff = 60s;
  o.logger = log.logger();
  auto updater = PodCostUpdater::Create(o);
  ASSERT_TRUE(updater.ok());
  (*updater)->Set(100);
  ASSERT_TRUE(WaitFor([&] { return (*updater)->stats().failures >= 1; }, 10s));
  EXPECT_EQ(api.count(), 0u);  // the token never went to an unverified server
  auto t0 = std::chrono::steady_clock::now();
  (*updater)->Shutdown();  // in the middle of a 60 s backoff
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  bool logged = false;
  for (const auto& r : log.Records()) {
    if (r.at("msg").as_string() == "cannot update this pod's pod-deletion-cost; retrying") {
      logged = std::string(r.at("error").as_string()).find("certificate verify failed") !=
               std::string::npos;
    }
  }
  EXPECT_TRUE(logged);
}

}  // namespace
}  // namespace ffpod
