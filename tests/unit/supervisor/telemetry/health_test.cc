#include "supervisor/telemetry/health.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ffpod {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST(LoopWatch, UnhealthyWhenTheLoopStopsBeating) {
  LoopWatch watch(milliseconds(5000));
  steady_clock::time_point t0{std::chrono::seconds(1000)};
  watch.Beat(t0);
  EXPECT_TRUE(watch.Healthy(t0 + milliseconds(4999)));
  EXPECT_TRUE(watch.Healthy(t0 + milliseconds(5000)));
  EXPECT_FALSE(watch.Healthy(t0 + milliseconds(5001)));
  watch.Beat(t0 + milliseconds(6000));
  EXPECT_TRUE(watch.Healthy(t0 + milliseconds(6001)));
}

TEST(Readiness, BodyNamesEveryFailingCheck) {
  ReadinessChecks r;
  r.Set("ffmpeg", std::nullopt);
  r.Set("redis", "connection refused");
  r.Set("draining", "SIGTERM received");
  EXPECT_FALSE(r.Ready());
  auto body = boost::json::parse(r.Body()).as_object();
  EXPECT_FALSE(body.at("ready").as_bool());
  EXPECT_EQ(body.at("failing").as_array().size(), 2u);
  EXPECT_EQ(body.at("checks").at("redis").as_string(), "connection refused");
  EXPECT_EQ(body.at("checks").at("ffmpeg").as_string(), "ok");
  r.Set("redis", std::nullopt);
  r.Set("draining", std::nullopt);
  EXPECT_TRUE(r.Ready());
}

TEST(StatusBoard, JobsWithUnknownFiguresAreNull) {
  StatusBoard board("worker");
  board.SetState(ServiceState::kRunning);
  RunningJobStatus job;
  job.slot = 1;
  job.id = "clip-1";
  job.attempt = 2;
  job.progress.ratio = 0.4567;
  job.progress.fps = 71.234;
  board.SetJob(job);
  auto v = boost::json::parse(board.StatusJson()).as_object();
  EXPECT_EQ(v.at("mode").as_string(), "worker");
  EXPECT_EQ(v.at("state").as_string(), "running");
  auto j = v.at("jobs").at(0).as_object();
  EXPECT_EQ(j.at("slot").as_int64(), 1);
  EXPECT_DOUBLE_EQ(j.at("percent").as_double(), 45.7);
  EXPECT_DOUBLE_EQ(j.at("fps").as_double(), 71.23);
  EXPECT_TRUE(j.at("eta_s").is_null());
  EXPECT_TRUE(j.at("frames").is_null());
  EXPECT_FALSE(j.contains("queue"));  // run mode: no queue
  board.ClearJob(1);
  EXPECT_TRUE(boost::json::parse(board.StatusJson()).at("jobs").as_array().empty());
}

TEST(StatusBoard, AWorkersJobsNameTheirQueue) {
  StatusBoard board("worker");
  for (int slot : {0, 1}) {
    RunningJobStatus job;
    job.slot = slot;
    job.queue = slot == 0 ? "acme" : "globex";
    job.id = "clip-" + std::to_string(slot);
    board.SetJob(job);
  }
  auto jobs = boost::json::parse(board.StatusJson()).at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].at("queue").as_string(), "acme");
  EXPECT_EQ(jobs[1].at("queue").as_string(), "globex");
}

}  // namespace
}  // namespace ffpod
