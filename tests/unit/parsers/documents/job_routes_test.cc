#include "parsers/documents/job_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "parsers/config/config.h"
#include "parsers/documents/job.h"

namespace ffpod {
namespace {

std::string Job(const std::string& extra) {
  return R"({"id":"j-1","args":["-i","in.mp4","out.mp4"])" + extra + "}";
}

TEST(JobRoutes, FieldsParse) {
  auto job = ParseJob(Job(R"(,"reroute":{"oom_killed":"highmem","encoder_unavailable":"cpu"},)"
                          R"("args_by_queue":{"cpu":["-i","in.mp4","-c:v","libx264","o.mp4"]},)"
                          R"("reroutes":[{"reason":"network","from":"a","to":"b","at":"t"}])"));
  ASSERT_TRUE(job.ok()) << job.error().message;
  EXPECT_EQ(job->routing.reroute,
            (Routes{{Reason::kOomKilled, "highmem"}, {Reason::kEncoderUnavailable, "cpu"}}));
  EXPECT_EQ(job->routing.args_by_queue.at("cpu"),
            (std::vector<std::string>{"-i", "in.mp4", "-c:v", "libx264", "o.mp4"}));
  ASSERT_EQ(job->routing.reroutes.size(), 1u);
  EXPECT_EQ(job->routing.reroutes[0].reason, Reason::kNetwork);
  EXPECT_EQ(job->routing.reroutes[0].from, "a");
  EXPECT_EQ(job->routing.reroutes[0].to, "b");
}

TEST(JobRoutes, BadFieldsNameTheFieldAndTheKey) {
  struct Case {
    std::string extra;
    std::string error;
  } cases[] = {
      {R"(,"reroute":["highmem"])", "field \"reroute\" must be an object of reason to queue name"},
      {R"(,"reroute":{"oom":"highmem"})",
       "field \"reroute.oom\" is wrong: \"oom\" is not a failure reason another pool can fix "
       "(docs/failure-reasons.md)"},
      {R"(,"reroute":{"preempted":"highmem"})",
       "field \"reroute.preempted\" is wrong: \"preempted\" is not a failure reason another pool "
       "can fix (docs/failure-reasons.md)"},
      {R"(,"reroute":{"oom_killed":"high mem"})",
       "field \"reroute.oom_killed\" is wrong: the queue \"high mem\" is not a queue name of "
       "1-200 characters without blanks"},
      {R"(,"reroute":{"oom_killed":7})",
       "field \"reroute.oom_killed\" must be a queue name (a "
       "string)"},
      {R"(,"args_by_queue":{"cpu":[]})",
       "field \"args_by_queue.cpu\" must be a non-empty array of strings"},
      {R"(,"args_by_queue":{"cpu":["-i",3]})", "field \"args_by_queue.cpu[1]\" must be a string"},
      {R"(,"args_by_queue":"cpu")",
       "field \"args_by_queue\" must be an object of queue name to ffmpeg arguments"},
      {R"(,"reroutes":[{"reason":"oom_killed"}])",
       "field \"reroutes[0]\" must be an object with the strings reason, from and to"},
  };
  for (const auto& c : cases) {
    auto job = ParseJob(Job(c.extra));
    ASSERT_FALSE(job.ok()) << c.extra;
    EXPECT_EQ(job.error().message, c.error) << c.extra;
  }
}

TEST(JobRoutes, TheJobsRouteWinsOverTheWorkersDefaultPerReason) {
  JobRouting job{.reroute = {{Reason::kOomKilled, "bigger"}}, .reroutes = {}, .args_by_queue = {}};
  Routes worker = {{Reason::kOomKilled, "highmem"}, {Reason::kEncoderUnavailable, "cpu"}};
  EXPECT_EQ(ChooseRoute(job, worker, Reason::kOomKilled, "default", 1, 3), "bigger");
  EXPECT_EQ(ChooseRoute(job, worker, Reason::kEncoderUnavailable, "default", 1, 3), "cpu");
  EXPECT_EQ(ChooseRoute(job, worker, Reason::kNetwork, "default", 1, 3), std::nullopt);
  // A route to the queue the job is in is no route.
  EXPECT_EQ(ChooseRoute(job, worker, Reason::kEncoderUnavailable, "cpu", 1, 3), std::nullopt);
}

TEST(JobRoutes, LoopRuleOneMovePerReasonAndTheLastAttemptIsNotMoved) {
  Routes worker = {{Reason::kOomKilled, "highmem"}, {Reason::kEncoderUnavailable, "cpu"}};
  JobRouting moved{
      .reroute = {},
      .reroutes = {{.reason = Reason::kOomKilled, .from = "a", .to = "highmem", .at = ""}},
      .args_by_queue = {}};
  EXPECT_EQ(ChooseRoute(moved, worker, Reason::kOomKilled, "b", 1, 3), std::nullopt);
  EXPECT_EQ(ChooseRoute(moved, worker, Reason::kEncoderUnavailable, "b", 1, 3), "cpu");
  EXPECT_EQ(ChooseRoute({}, worker, Reason::kOomKilled, "a", 3, 3), std::nullopt);
  EXPECT_EQ(ChooseRoute({}, worker, Reason::kOomKilled, "a", 2, 3), "highmem");
}

TEST(JobRoutes, AppendRerouteKeepsTheDocumentAndAddsTheMove) {
  std::string doc = Job(R"(,"labels":{"tenant":"acme"},"custom":[1,2])");
  RerouteRecord move{
      .reason = Reason::kOomKilled, .from = "default", .to = "highmem", .at = "2026-12-07T00:00Z"};
  std::string moved = AppendReroute(doc, move);
  auto job = ParseJob(moved);
  ASSERT_TRUE(job.ok()) << job.error().message;
  ASSERT_EQ(job->routing.reroutes.size(), 1u);
  EXPECT_EQ(job->routing.reroutes[0].to, "highmem");
  auto parsed = boost::json::parse(moved).as_object();
  EXPECT_EQ(parsed.at("custom"), boost::json::parse("[1,2]"));
  EXPECT_EQ(parsed.at("labels").at("tenant"), "acme");
  // A second move appends.
  move.reason = Reason::kEncoderUnavailable;
  auto twice = ParseJob(AppendReroute(moved, move));
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->routing.reroutes.size(), 2u);
}

TEST(JobRoutes, EnqueueWritesTheRerouteField) {
  JobSpec spec;
  spec.id = "j-2";
  spec.args = {"-i", "in.mp4", "out.mp4"};
  spec.routing.reroute = {{Reason::kEncoderUnavailable, "cpu"}, {Reason::kOomKilled, "highmem"}};
  auto job = ParseJob(MakeJobDocument(spec));
  ASSERT_TRUE(job.ok()) << job.error().message;
  EXPECT_EQ(job->routing.reroute, spec.routing.reroute);
}

TEST(JobRoutes, RerouteFlagAddsRoutesAndNamesABadElement) {
  auto c = ParseConfig({"worker", "--reroute", "oom_killed=highmem, encoder_unavailable=cpu",
                        "--reroute", "oom_killed=bigger"},
                       {{"FFPOD_REDIS", "redis://r:6379"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->reroute,
            (Routes{{Reason::kOomKilled, "bigger"}, {Reason::kEncoderUnavailable, "cpu"}}));
  auto env = ParseConfig({"enqueue", "--", "-i", "a", "b"},
                         {{"FFPOD_REDIS", "redis://r:6379"}, {"FFPOD_REROUTE", "stalled=slow"}});
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->reroute, (Routes{{Reason::kStalled, "slow"}}));
  auto bad = ParseConfig({"worker", "--reroute", "oom_killed=highmem,oom=cpu"},
                         {{"FFPOD_REDIS", "redis://r:6379"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "--reroute expects REASON=QUEUE pairs separated by commas (element \"oom=cpu\": "
            "\"oom\" is not a failure reason another pool can fix (docs/failure-reasons.md)), got "
            "\"oom_killed=highmem,oom=cpu\"");
  auto no_eq = ParseConfig({"worker", "--reroute", "highmem"}, {{"FFPOD_REDIS", "redis://r"}});
  ASSERT_FALSE(no_eq.ok());
  EXPECT_EQ(no_eq.error().message,
            "--reroute expects REASON=QUEUE pairs separated by commas (element \"highmem\" has no "
            "=), got \"highmem\"");
}

}  // namespace
}  // namespace ffpod
