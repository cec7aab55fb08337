#include "parsers/config/config.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

using Env = std::map<std::string, std::string>;

TEST(Config, RunWithFlagsAndCommand) {
  auto c = ParseConfig(
      {"run", "--grace-period", "60", "--drain-margin=10", "--exit-codes", "classified", "--listen",
       "127.0.0.1:0", "--", "ffmpeg", "-i", "in.mp4", "--not-ours", "out.mp4"},
      {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->command, Command::kRun);
  EXPECT_EQ(c->grace_period_s, 60);
  EXPECT_EQ(c->drain_margin_s, 10);
  EXPECT_EQ(c->exit_codes, ExitCodePolicy::kClassified);
  EXPECT_EQ(c->listen, "127.0.0.1:0");
  EXPECT_EQ(c->ffmpeg_argv,
            (std::vector<std::string>{"ffmpeg", "-i", "in.mp4", "--not-ours", "out.mp4"}));
}

TEST(Config, EnvironmentBacksEveryFlagAndFlagsWin) {
  Env env = {{"FFPOD_GRACE_PERIOD", "90"},
             {"FFPOD_STALL_TIMEOUT", "7"},
             {"FFPOD_LOG_FORMAT", "text"},
             {"FFPOD_REDIS", "redis://r:6379"},
             {"FFPOD_SLOTS", "4"},
             {"FFPOD_ATOMIC_OUTPUTS", "false"},
             {"FFPOD_REQUIRE_ENCODERS", "libx264, h264_nvenc"}};
  auto c = ParseConfig({"worker", "--slots", "2"}, env);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->grace_period_s, 90);
  EXPECT_EQ(c->stall_timeout_s, 7);
  EXPECT_EQ(c->log_format, LogFormat::kText);
  EXPECT_EQ(c->redis_url, "redis://r:6379");
  EXPECT_EQ(c->slots, 2);
  EXPECT_FALSE(c->atomic_outputs);
  EXPECT_EQ(c->require_encoders, (std::vector<std::string>{"libx264", "h264_nvenc"}));
}

TEST(Config, FfmpegEnvNamesAddUpFromTheVariableAndEachFlag) {
  auto c = ParseConfig({"worker", "--ffmpeg-env", "SRT_LOG,MY_APP_*", "--ffmpeg-env=AWS_REGION",
                        "--ffmpeg-env", "SRT_LOG"},
                       {{"FFPOD_REDIS", "redis://r:6379"}, {"FFPOD_FFMPEG_ENV", "GST_*"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->ffmpeg_env,
            (std::vector<std::string>{"GST_*", "SRT_LOG", "MY_APP_*", "AWS_REGION"}));
  auto bad = ParseConfig({"run", "--ffmpeg-env", "A-B", "--", "ffmpeg"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "--ffmpeg-env expects variable names or PREFIX* (letters, digits and _), separated "
            "by commas, got \"A-B\"");
}

TEST(Config, BadValuesNameTheFlag) {
  struct Case {
    std::vector<std::string> argv;
    Env env;
    std::string message;
  };
  const Case cases[] = {
      {{"run", "--grace-period", "soon", "--", "ffmpeg"},
       {},
       "--grace-period expects a number of seconds from 1 to 604800, got \"soon\""},
      {{"worker", "--redis", "redis://x", "--slots", "0"},
       {},
       "--slots expects a whole number from 1 to 64, got \"0\""},
      {{"run", "--", "ffmpeg"},
       {{"FFPOD_EXIT_CODES", "weird"}},
       "FFPOD_EXIT_CODES (for --exit-codes) expects ffmpeg or classified, got \"weird\""},
      {{"run", "--listen", "nowhere", "--", "ffmpeg"},
       {},
       "--listen expects HOST:PORT (or an empty value to disable it), got \"nowhere\""},
      {{"run", "--bogus", "--", "ffmpeg"}, {}, "unknown flag --bogus for ffpod run"},
      {{"run", "--slots", "2", "--", "ffmpeg"}, {}, "unknown flag --slots for ffpod run"},
      {{"run"}, {}, "ffpod run needs the ffmpeg command after --"},
      {{"worker"}, {}, "--redis is required for ffpod worker"},
      {{"transcode"}, {}, "unknown command \"transcode\""},
      {{"status", "--redis", "redis://x", "a/b"}, {}, "job id \"a/b\" is not"},
      {{"run", "--grace-period", "10", "--drain-margin", "10", "--", "ffmpeg"},
       {},
       "--drain-margin (10) must be smaller than --grace-period (10)"},
      {{"run", "--grace-period"}, {}, "--grace-period expects SECONDS, but nothing follows it"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.argv, c.env);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
  }
}

TEST(Config, BooleanSwitches) {
  auto c =
      ParseConfig({"worker", "--redis", "redis://x", "--no-atomic-outputs", "--subreaper"}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->atomic_outputs);
  EXPECT_TRUE(c->subreaper);
  c = ParseConfig({"worker", "--redis", "redis://x", "--atomic-outputs=no"}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->atomic_outputs);
}

TEST(Config, HelpListsEveryFlagWithItsVariable) {
  std::string help = HelpText(Command::kWorker);
  for (const char* s : {"--slots N", "[FFPOD_SLOTS]", "--grace-period", "[FFPOD_GRACE_PERIOD]",
                        "--require-encoders", "[FFPOD_REQUIRE_ENCODERS]", "--heartbeat"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(help.find("--exit-codes"), std::string::npos);  // a run-only flag
  EXPECT_EQ(FlagEnvVar("--termination-log"), "FFPOD_TERMINATION_LOG");
  auto h = ParseConfig({"probe", "--help"}, {});
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->help);
}

TEST(Config, TheEnvironmentIsReadIntoTheConfig) {
  Env env = {{"POD_NAME", "ffpod-abc"},
             {"POD_NAMESPACE", "video"},
             {"POD_UID", "0c6e-11"},
             {"NODE_NAME", "node-3"},
             {"TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
             {"TRACESTATE", "vendor=1"},
             {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
             {"OTEL_SERVICE_NAME", "transcoder"},
             {"HOME", "/root"}};
  auto run = ParseConfig({"run", "--", "ffmpeg"}, env);
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->pod_name, "ffpod-abc");
  EXPECT_EQ(run->pod_namespace, "video");
  EXPECT_EQ(run->pod_uid, "0c6e-11");
  EXPECT_EQ(run->node_name, "node-3");
  EXPECT_EQ(run->run_traceparent, env["TRACEPARENT"]);
  EXPECT_EQ(run->run_tracestate, "vendor=1");
  EXPECT_EQ(run->otel_env, (Env{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                                {"OTEL_SERVICE_NAME", "transcoder"}}));
  EXPECT_EQ(run->kube_api_host, "");  // only with --pod-deletion-cost

  auto worker = ParseConfig({"worker", "--redis", "redis://x"}, env);
  ASSERT_TRUE(worker.ok()) << worker.error().message;
  EXPECT_EQ(worker->pod_name, "ffpod-abc");
  EXPECT_EQ(worker->otel_env.size(), 2u);
  EXPECT_EQ(worker->run_traceparent, "");  // a worker's jobs carry their own

  auto enqueue = ParseConfig({"enqueue", "--redis", "redis://x", "--", "-i", "a", "b"}, env);
  ASSERT_TRUE(enqueue.ok()) << enqueue.error().message;
  EXPECT_EQ(enqueue->pod_name, "");
  EXPECT_TRUE(enqueue->otel_env.empty());

  for (const char* name : {"TRACEPARENT", "TRACESTATE", "NODE_NAME", "POD_UID",
                           "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_BSP_MAX_QUEUE_SIZE"}) {
    EXPECT_TRUE(ConfigReadsVariable(name)) << name;
  }
  EXPECT_FALSE(ConfigReadsVariable("HOME"));
}

TEST(Config, HelpListsTheOtherVariables) {
  std::string run = HelpText(Command::kRun);
  for (const char* s : {"  POD_NAME\n", "  NODE_NAME\n", "  TRACEPARENT\n", "  TRACESTATE\n",
                        "  OTEL_EXPORTER_OTLP_ENDPOINT\n", "  OTEL_BSP_MAX_QUEUE_SIZE\n",
                        "(default: 2048)", "(default: ffpod)"}) {
    EXPECT_NE(run.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(run.find("KUBERNETES_SERVICE_HOST"), std::string::npos);  // worker only
  std::string worker = HelpText(Command::kWorker);
  EXPECT_NE(worker.find("  KUBERNETES_SERVICE_PORT\n"), std::string::npos);
  EXPECT_NE(worker.find("(default: 443)"), std::string::npos);
  EXPECT_EQ(worker.find("TRACEPARENT"), std::string::npos);
  EXPECT_EQ(HelpText(Command::kEnqueue).find("OTEL_"), std::string::npos);
  std::string overview = HelpText(std::nullopt);
  for (const char* s :
       {"POD_NAME", "NODE_NAME", "TRACEPARENT", "KUBERNETES_SERVICE_HOST", "OTEL_*"}) {
    EXPECT_NE(overview.find(s), std::string::npos) << s;
  }
}

TEST(Config, DefaultsShownAreTheConfigsInitialValues) {
  std::string worker = HelpText(Command::kWorker);
  const Config defaults;
  EXPECT_NE(worker.find("(default: " + std::to_string(defaults.results_maxlen) + ")"),
            std::string::npos);
  EXPECT_NE(worker.find("(default: " + defaults.serviceaccount_dir + ")"), std::string::npos);
  EXPECT_NE(HelpText(Command::kRun).find("(default: ffmpeg on PATH)"), std::string::npos);
  EXPECT_NE(worker.find("(default: $POD_NAME, else the hostname)"), std::string::npos);
  EXPECT_NE(worker.find("--log-level LEVEL\n      debug, info, warning or error (default: info)"),
            std::string::npos);
}

TEST(Config, WorkerQueuesWithWeights) {
  auto c = ParseConfig({"worker", "--redis", "redis://x", "--queue", "acme,globex:3,shared"}, {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->queues.size(), 3u);
  EXPECT_EQ(c->queue, "acme");
  EXPECT_EQ(c->queues[1].name, "globex");
  EXPECT_EQ(c->queues[1].weight, 3);
  EXPECT_EQ(c->queues[2].weight, 1);
  auto env = ParseConfig({"worker", "--redis", "redis://x"}, {{"FFPOD_QUEUE", "a,b:3"}});
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(QueueListText(env->queues), "a,b:3");
  auto one = ParseConfig({"worker", "--redis", "redis://x"}, {});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(QueueListText(one->queues), "ffpod");
  EXPECT_EQ(one->queue, "ffpod");
}

TEST(Config, BadQueueListsNameTheFlagAndTheElement) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a,globex:0",
       "--queue expects queue names with an optional :WEIGHT from 1 to 1000 (\"globex:0\" has "
       "weight \"0\"), got \"a,globex:0\""},
      {"a,,b",
       "--queue expects a comma-separated list of queue names (element 2 is empty), got "
       "\"a,,b\""},
      {"a,b,a", "--queue expects each queue once (\"a\" is listed twice), got \"a,b,a\""},
  };
  for (const auto& [value, message] : cases) {
    auto c = ParseConfig({"worker", "--redis", "redis://x", "--queue", value}, {});
    ASSERT_FALSE(c.ok()) << value;
    EXPECT_EQ(c.error().message, message);
  }
  auto env = ParseConfig({"worker", "--redis", "redis://x"}, {{"FFPOD_QUEUE", "a:1001"}});
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().message.rfind("FFPOD_QUEUE (for --queue) expects", 0), 0u)
      << env.error().message;
  auto pause = ParseConfig({"pause", "--redis", "redis://x", "--queue", "a,b"}, {});
  ASSERT_FALSE(pause.ok());
  EXPECT_EQ(pause.error().message,
            "--queue takes one queue name for ffpod pause, got \"a,b\" (several, with weights, "
            "are for ffpod worker)");
  EXPECT_FALSE(
      ParseConfig({"enqueue", "--redis", "redis://x", "--queue", "a:2", "--", "x"}, {}).ok());
  auto named = ParseConfig({"pause", "--redis", "redis://x", "--queue", "globex"}, {});
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->queue, "globex");
}

TEST(Config, EnqueueAndStatus) {
  auto c = ParseConfig({"enqueue", "--redis", "redis://x", "--id", "clip-1", "--output", "o.mp4",
                        "--label", "tenant=acme,tier=gold", "--", "-i", "a", "o.mp4"},
                       {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->job_id, "clip-1");
  EXPECT_EQ(c->outputs, std::vector<std::string>{"o.mp4"});
  EXPECT_EQ(c->labels.at("tier"), "gold");
  EXPECT_EQ(c->ffmpeg_argv, (std::vector<std::string>{"-i", "a", "o.mp4"}));
  auto s = ParseConfig({"status", "--redis", "redis://x", "clip-1"}, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status_job_id, "clip-1");
  auto grouped = ParseConfig(
      {"enqueue", "--redis", "redis://x", "--group", "ladder-42", "--", "-i", "a", "o.mp4"}, {});
  ASSERT_TRUE(grouped.ok()) << grouped.error().message;
  EXPECT_EQ(grouped->group, "ladder-42");
  auto group_status = ParseConfig({"status", "--redis", "redis://x", "--group", "ladder-42"}, {});
  ASSERT_TRUE(group_status.ok()) << group_status.error().message;
  EXPECT_EQ(group_status->group, "ladder-42");
  auto rejected = [](const std::vector<std::string>& argv) {
    auto c = ParseConfig(argv, {});
    return c.ok() ? std::string("accepted") : c.error().message;
  };
  EXPECT_EQ(rejected({"enqueue", "--redis", "redis://x", "--group", "ladder 4", "--", "o.mp4"}),
            "--group expects 1-128 characters from [A-Za-z0-9._:-], got \"ladder 4\"");
  EXPECT_EQ(rejected({"status", "--redis", "redis://x", "--group", "g", "clip-1"}),
            "ffpod status --group takes no job id");
  EXPECT_EQ(rejected({"enqueue", "--redis", "redis://x", "--group-size", "4", "--", "o.mp4"}),
            "--group-size needs --group");
  EXPECT_EQ(rejected({"cancel", "--redis", "redis://x", "--group", "g"}),
            "--group is not a flag of ffpod cancel (cancel each member by its id)");
  auto cancel = ParseConfig({"cancel", "--redis", "redis://x", "clip-2"}, {});
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->command, Command::kCancel);
  EXPECT_EQ(cancel->status_job_id, "clip-2");
  auto dead = ParseConfig({"dead", "retry", "--redis", "redis://x", "--reason", "network",
                           "--older-than", "2h", "--limit", "5"},
                          {});
  ASSERT_TRUE(dead.ok()) << dead.error().message;
  EXPECT_EQ(dead->command, Command::kDead);
  EXPECT_EQ(dead->dead_action, "retry");
  EXPECT_EQ(dead->dead_reason, "network");
  EXPECT_EQ(dead->dead_older_than_s, 7200);
  EXPECT_EQ(dead->dead_limit, 5);
  auto show = ParseConfig({"dead", "show", "clip-3"}, {{"FFPOD_REDIS", "redis://x"}});
  ASSERT_TRUE(show.ok()) << show.error().message;
  EXPECT_EQ(show->dead_job_id, "clip-3");
  auto dead_error = [](std::vector<std::string> argv) {
    argv.insert(argv.begin() + 2, {"--redis", "redis://x"});
    auto c = ParseConfig(argv, {});
    return c.ok() ? std::string("accepted") : c.error().message;
  };
  EXPECT_EQ(dead_error({"dead", "list", "--older-than", "90"}),
            "--older-than expects a duration like 30s, 15m, 2h or 7d, got \"90\"");
  EXPECT_EQ(dead_error({"dead", "list", "--reason", "nope"}),
            "--reason expects a failure reason of docs/failure-reasons.md, got \"nope\"");
  EXPECT_EQ(dead_error({"dead", "list", "--limit", "0"}),
            "--limit expects a whole number from 1 to 100000000, got \"0\"");
  EXPECT_EQ(dead_error({"dead", "purge"}),
            "ffpod dead purge takes either one job id or at least one of --reason, --older-than, "
            "--limit");
  EXPECT_EQ(dead_error({"dead", "purge", "clip-1", "--reason", "network"}),
            "ffpod dead purge takes either one job id or at least one of --reason, --older-than, "
            "--limit");
  EXPECT_EQ(dead_error({"dead", "show"}),
            "ffpod dead show takes exactly one job id and no --reason, --older-than or --limit");
  EXPECT_EQ(dead_error({"dead", "list", "clip-1"}),
            "ffpod dead list takes no job id (ffpod dead show <job-id> prints one entry)");
  EXPECT_EQ(dead_error({"dead", "redo"}), "ffpod dead needs an action: list, show, retry or purge");
  EXPECT_EQ(dead_error({"dead", "show", "bad id"}),
            "job id \"bad id\" is not 1-128 characters from [A-Za-z0-9._:-]");
  auto dead_max = ParseConfig({"worker", "--redis", "redis://x", "--dead-max", "0"}, {});
  ASSERT_FALSE(dead_max.ok());
  EXPECT_EQ(dead_max.error().message,
            "--dead-max expects a whole number from 1 to 100000000, got \"0\"");
  EXPECT_EQ(ParseConfig({"worker", "--redis", "redis://x"}, {})->dead_max, 100000);
  EXPECT_EQ(dead_error({"dead", "list", "--dead-max", "5"}),
            "unknown flag --dead-max for ffpod dead (see ffpod dead --help)");
  auto none = ParseConfig({"cancel", "--redis", "redis://x"}, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, "ffpod cancel takes exactly one job id");
}

}  // namespace
}  // namespace ffpod
