// ffpod's configuration: one struct, one comment per field saying what it changes, filled once,
// at start, from the command line, the FFPOD_* environment variables (a flag wins over its
// variable) and the other variables ffpod reads (the pod's identity, the Kubernetes API, the
// parent trace, OTEL_*), and checked once, at load. The rest of the program takes all of it
// from here and reads no environment of its own. A bad flag or value yields one sentence naming
// the flag (or variable) and what was expected; the CLI prints it and exits 2. Pure: argv and
// the environment are passed in.
//
// Each default is written once, as the initial value of its field below; the flag table
// (config_table.h), --help and docs/configuration.md show that value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/documents/job_routes.h"
#include "parsers/policy/fair_share.h"
#include "parsers/telemetry/log_format.h"

namespace ffpod {

enum class Command { kRun, kWorker, kEnqueue, kStatus, kPause, kResume, kProbe, kCancel, kDead };
std::string_view CommandName(Command c);

enum class ExitCodePolicy {
  kFfmpeg,      // ffmpeg's own status; 128+N for a signal; 127/126 when it could not start
  kClassified,  // the failure reason's code (docs/failure-reasons.md), for podFailurePolicy rules
};

// run: what the program after `--` is (docs/run.md "Wrapping ffmpeg in a script").
enum class CommandKind {
  kAuto,    // decided by the executable's basename (LooksLikeFfmpeg, parsers/ffmpeg/program_name.h)
  kFfmpeg,  // ffmpeg: its arguments are rewritten (progress fd, level tags, -n)
  kWrapper,  // a script around ffmpeg: arguments untouched, progress fd in FFPOD_PROGRESS_FD
};

struct Config {
  Command command = Command::kRun;

  // --- common ---
  std::string listen = "[::]:9464";  // HTTP listener HOST:PORT; empty disables it
  std::string ffmpeg = "ffmpeg";     // ffmpeg executable (run: the one after `--` wins)
  std::string ffprobe = "ffprobe";   // ffprobe executable, for input durations
  // --ffmpeg-env: variables (NAME, or PREFIX* for every name with that prefix) that ffmpeg,
  // ffprobe and the probes get on top of the allowlist (parsers/config/child_env.h).
  std::vector<std::string> ffmpeg_env;
  LogFormat log_format = LogFormat::kJson;
  Severity log_level = Severity::kInfo;
  double grace_period_s = 30;    // the pod's terminationGracePeriodSeconds
  double drain_margin_s = 5;     // reserved at the end of the grace period to stop and report
  double stall_timeout_s = 120;  // no progress for this long: stop ffmpeg, reason stalled
  double stop_timeout_s = 30;    // after a graceful stop (stall/timeout), SIGKILL after this
  double progress_log_interval_s = 10;  // a "progress" log record this often while encoding
  std::string redis_url;                // redis://, rediss://, unix://
  std::string queue = "ffpod";          // key prefix Q of docs/queue.md (the first of `queues`)
  // --queue: the queues the worker claims from, with their weights (docs/queue.md "Several
  // queues"); every other command takes exactly one.
  std::vector<WeightedQueue> queues = {WeightedQueue{.name = "ffpod"}};
  std::string termination_log = "/dev/termination-log";  // written only if it exists
  bool subreaper = false;                                // reap orphans even when not PID 1
  bool metrics_job_label = false;  // add job_id to per-slot gauges (small fleets only)
  // --image: the container image ffpod runs in (repository:tag or repository@digest), for the
  // results' `image` block; the chart sets it. Empty: null there.
  std::string image;
  // Local input files up to this size (MiB) are hashed into the result while ffmpeg runs;
  // larger ones are listed without sha256. 0 hashes none.
  int input_hash_max_mib = 65536;

  // --- run ---
  ExitCodePolicy exit_codes = ExitCodePolicy::kFfmpeg;
  CommandKind command_kind = CommandKind::kAuto;  // ffmpeg, or a wrapper around it
  std::string report_redis;              // also push the result to this Redis' results stream
  double linger_s = 0;                   // keep serving /metrics this long after the job ended
  std::vector<std::string> ffmpeg_argv;  // run: program and args after `--`; enqueue: args

  // --- worker ---
  int slots = 1;
  int max_attempts = 3;
  std::string worker_id;  // default: $POD_NAME, else the hostname (filled by the shell)
  double heartbeat_s = 5;
  std::vector<std::string> require_encoders;
  bool atomic_outputs = true;
  bool verify_outputs = true;             // run (--output) and worker: docs/verification.md
  double probe_interval_s = 300;          // re-probe required encoders this often
  double retry_base_s = 5;                // first retry delay (doubles per attempt, with jitter)
  double retry_max_s = 600;               // retry delay cap
  double result_ttl_s = 7 * 24 * 3600.0;  // Q:job:<id> expiry after a terminal state
  int results_maxlen = 100000;            // Q:results approximate trim length
  int dead_max = 100000;  // Q:dead is trimmed to this length (oldest dropped) when it grows
  // Durability: the claim, Start and Finish steps wait (WAIT) until this many replicas have
  // their writes, up to redis_wait_timeout_s; too few in time fails the step, which is retried.
  int redis_wait_replicas = 0;
  double redis_wait_timeout_s = 5;
  bool pod_deletion_cost = false;  // keep this pod's pod-deletion-cost annotation current
  // --reroute (worker and enqueue): failure reason -> the queue whose pool can fix it. Worker:
  // the route of a job that has none of its own for the reason; enqueue: the job's `reroute`.
  // Empty by default: a route to a queue nobody serves would leave jobs waiting there.
  Routes reroute;
  std::string serviceaccount_dir = "/var/run/secrets/kubernetes.io/serviceaccount";

  // --- enqueue ---
  std::string job_id;  // default: generated
  std::vector<std::string> outputs;
  std::optional<int> job_max_attempts;
  std::optional<double> job_timeout_s;
  std::optional<double> job_stall_timeout_s;
  std::string traceparent;
  std::map<std::string, std::string> labels;
  // --group: enqueue: the job field `group`; status: print this group's document instead of a
  // job's (docs/queue.md "Job groups").
  std::string group;
  std::optional<int> group_size;  // --group-size: the job field group_size

  // --- status, cancel ---
  std::string status_job_id;

  // --- dead (docs/queue.md "Operating the dead list") ---
  std::string dead_action;                   // list | show | retry | purge
  std::string dead_job_id;                   // show (required), retry and purge (or the filters)
  std::string dead_reason;                   // --reason: only entries whose result has this reason
  std::optional<int64_t> dead_older_than_s;  // --older-than: dead-lettered at least this long ago
  std::optional<int> dead_limit;             // --limit: at most this many entries (newest first)

  // --- probe ---
  std::vector<std::string> require;   // exit non-zero unless each is usable
  std::string probe_format = "json";  // json | nfd
  double probe_timeout_s = 15;

  // --- environment variables that are not flags (run, worker) ---
  // This pod, from the Kubernetes Downward API variables the chart sets; empty when unset.
  // POD_NAME is the default worker id (and run's job id), POD_NAME and NODE_NAME go into the
  // result's `worker` block, all four into the spans' resource. With pod_deletion_cost, the pod
  // to patch is POD_NAME in POD_NAMESPACE (empty: the namespace file in serviceaccount_dir).
  std::string pod_name;       // POD_NAME
  std::string pod_namespace;  // POD_NAMESPACE
  std::string pod_uid;        // POD_UID
  std::string node_name;      // NODE_NAME
  // With pod_deletion_cost only: the API server (KUBERNETES_SERVICE_HOST and _PORT).
  std::string kube_api_host;
  int kube_api_port = 443;
  // run: the trace the job's spans join (TRACEPARENT, TRACESTATE); a new trace when empty.
  std::string run_traceparent;
  std::string run_tracestate;
  // Every OTEL_* variable, as set; ParseOtelConfig reads them when tracing starts.
  std::map<std::string, std::string> otel_env;

  // `--help` was asked for (print HelpText and exit 0).
  bool help = false;
};

// Whether ParseConfig reads this environment variable: every FFPOD_* and OTEL_*, and the others
// in the variable table (config_table.h). main passes only these.
bool ConfigReadsVariable(std::string_view name);

// Parses `ffpod <command> [flags] [-- args]` (argv without the program name). `env` holds the
// process environment (ParseConfig reads the variables ConfigReadsVariable names).
Result<Config> ParseConfig(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env);

// `ffpod --help` (nullopt): the commands and the environment variables besides FFPOD_*.
// `ffpod <command> --help`: every flag with its variable and default, then the other
// environment variables the command reads, with their meaning.
std::string HelpText(std::optional<Command> command);

// The environment variable that backs a flag: "--grace-period" -> "FFPOD_GRACE_PERIOD".
std::string FlagEnvVar(std::string_view flag);

}  // namespace ffpod
