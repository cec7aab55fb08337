// The flag and variable tables (config_table.h), written in the kinds of value of
// flag_kinds.h and choice_kind.h.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "parsers/common/text.h"
#include "parsers/config/child_env.h"
#include "parsers/config/choice_kind.h"
#include "parsers/config/config_table.h"
#include "parsers/config/flag_kinds.h"
#include "parsers/config/route_kind.h"
#include "parsers/documents/job.h"
#include "parsers/ffmpeg/reasons.h"
#include "parsers/policy/fair_share.h"

namespace ffpod {

namespace {

using namespace flag_kinds;  // NOLINT(google-build-using-namespace): the tables' vocabulary

// --- the tables ---

constexpr CommandSet kRun = kRunCommand, kWorker = kWorkerCommand, kEnqueue = kEnqueueCommand,
                     kProbe = kProbeCommand, kDead = kDeadCommand;

const Flag kFlags[] = {
    {"--listen", kRun | kWorker, "HOST:PORT",
     "HTTP listener for /metrics, /healthz, /readyz and /status; port 0 picks a free port, an "
     "empty value disables it",
     Text(&Config::listen, ListenAddress)},
    {"--ffmpeg", kRun | kWorker | kProbe, "PATH", "ffmpeg executable (run: the one after -- wins)",
     Text(&Config::ffmpeg, NonEmpty), "on PATH"},
    {"--ffprobe", kRun | kWorker, "PATH", "ffprobe executable, used to learn input durations",
     Text(&Config::ffprobe, NonEmpty), "on PATH"},
    {"--ffmpeg-env", kRun | kWorker | kProbe, "NAME[,NAME]",
     "also pass these variables of ffpod's environment to ffmpeg and ffprobe, which otherwise "
     "get only the allowlist: NAME, or PREFIX* for every name with that prefix; repeatable",
     AddedList(&Config::ffmpeg_env, IsEnvPattern,
               "variable names or PREFIX* (letters, digits and _), separated by commas")},
    {"--log-format", kAllCommands, "json|text", "json: one object per line; text: for people",
     Choice(&Config::log_format, {{"json", LogFormat::kJson}, {"text", LogFormat::kText}})},
    {"--log-level", kAllCommands, "LEVEL", "debug, info, warning or error",
     Choice(&Config::log_level, {{"debug", Severity::kDebug},
                                 {"info", Severity::kInfo},
                                 {"warning", Severity::kWarning},
                                 {"warn", Severity::kWarning},
                                 {"error", Severity::kError}})},
    {"--grace-period", kRun | kWorker, "SECONDS",
     "the pod's terminationGracePeriodSeconds: everything is reported and ffpod exits before it "
     "ends",
     Seconds(&Config::grace_period_s, 1, 7 * 24 * 3600)},
    {"--drain-margin", kRun | kWorker, "SECONDS",
     "time reserved at the end of the grace period to stop ffmpeg and report",
     Seconds(&Config::drain_margin_s, 0, 3600)},
    {"--stall-timeout", kRun | kWorker, "SECONDS",
     "stop ffmpeg (reason stalled) when its progress has not moved for this long; 0 disables",
     Seconds(&Config::stall_timeout_s, 0, 30 * 24 * 3600)},
    {"--stop-timeout", kRun | kWorker, "SECONDS",
     "after a graceful stop for a stall or a timeout, SIGKILL ffmpeg's process group after this",
     Seconds(&Config::stop_timeout_s, 1, 3600)},
    {"--progress-log-interval", kRun | kWorker, "SECONDS",
     "a progress log record this often while ffmpeg encodes",
     Seconds(&Config::progress_log_interval_s, 0.1, 86400)},
    {"--redis", kQueueCommands, "URL",
     "redis://[user:password@]host:port[/db], rediss://... (TLS), unix:///path or "
     "redis+sentinel://host:26379[,host:26379...]/master[/db]",
     Text(&Config::redis_url, NonEmpty)},
    {"--queue", kRun | kQueueCommands, "NAME[:WEIGHT][,...]",
     "queue name: the prefix of every Redis key (worker: several, claimed in proportion to their "
     "weights, 1 to 1000, default 1)",
     QueueList()},
    {"--termination-log", kRun | kWorker, "PATH",
     "where the one-line exit summary goes when the file exists (Kubernetes mounts it)",
     Text(&Config::termination_log, nullptr)},
    {"--subreaper", kRun | kWorker, "", "reap orphaned processes even when not PID 1",
     Switch(&Config::subreaper)},
    {"--metrics-job-label", kRun | kWorker, "",
     "add a job_id label to the per-slot gauges (small fleets only: one series per job)",
     Switch(&Config::metrics_job_label)},
    {"--image", kRun | kWorker, "REF",
     "the container image ffpod runs in (repository:tag or repository@digest): the results' "
     "image block",
     Text(&Config::image, nullptr), "none"},
    {"--input-hash-max-mib", kRun | kWorker, "N",
     "local input files up to this size are hashed (sha256) into the result while ffmpeg runs; "
     "0 hashes none",
     Integer(&Config::input_hash_max_mib, 0, 16 * 1024 * 1024)},
    {"--exit-codes", kRun, "ffmpeg|classified",
     "ffmpeg: ffmpeg's own status; classified: the failure reason's code",
     Choice(&Config::exit_codes,
            {{"ffmpeg", ExitCodePolicy::kFfmpeg}, {"classified", ExitCodePolicy::kClassified}})},
    {"--command-kind", kRun, "auto|ffmpeg|wrapper",
     "what the program after -- is: ffmpeg gets its arguments rewritten, a wrapper (a script "
     "around ffmpeg) gets them untouched and the progress fd in FFPOD_PROGRESS_FD; auto: ffmpeg "
     "when the basename is ffmpeg, or ffmpeg followed by -, _ or a digit",
     Choice(&Config::command_kind, {{"auto", CommandKind::kAuto},
                                    {"ffmpeg", CommandKind::kFfmpeg},
                                    {"wrapper", CommandKind::kWrapper}})},
    {"--report-redis", kRun, "URL", "also push the result document to this Redis' results stream",
     Text(&Config::report_redis, nullptr)},
    {"--linger", kRun, "SECONDS",
     "keep serving /metrics this long after the job ended, so the last scrape sees the result",
     Seconds(&Config::linger_s, 0, 3600)},
    {"--slots", kWorker, "N", "ffmpeg processes run in parallel", Integer(&Config::slots, 1, 64)},
    {"--max-attempts", kWorker, "N", "attempts per job unless the job says otherwise",
     Integer(&Config::max_attempts, 1, 100)},
    {"--worker-id", kWorker, "ID", "this worker's id in Redis", Text(&Config::worker_id, JobId),
     "$POD_NAME, else the hostname"},
    {"--heartbeat", kWorker, "SECONDS",
     "heartbeat period; the heartbeat key expires after three periods",
     Seconds(&Config::heartbeat_s, 1, 300)},
    {"--require-encoders", kWorker, "ENC[,ENC]",
     "readiness requires each of these encoders to be usable", List(&Config::require_encoders)},
    {"--atomic-outputs", kWorker, "",
     "write outputs under temporary names and rename them only on success",
     Switch(&Config::atomic_outputs)},
    {"--verify-outputs", kRun | kWorker, "",
     "verify declared outputs (duration, streams, decodable end, decode errors) before publishing;"
     " a job's verify field overrides it",
     Switch(&Config::verify_outputs)},
    {"--pod-deletion-cost", kWorker, "",
     "keep this pod's controller.kubernetes.io/pod-deletion-cost annotation current, so that "
     "scale-in removes idle workers first (needs POD_NAME and patch on pods)",
     Switch(&Config::pod_deletion_cost)},
    {"--serviceaccount-dir", kWorker, "PATH",
     "where the pod's API token, CA certificate and namespace are mounted (for "
     "--pod-deletion-cost)",
     Text(&Config::serviceaccount_dir, NonEmpty)},
    {"--probe-interval", kWorker, "SECONDS", "re-probe the required encoders this often",
     Seconds(&Config::probe_interval_s, 10, 86400)},
    {"--retry-base", kWorker, "SECONDS", "first retry delay; doubles per attempt, with jitter",
     Seconds(&Config::retry_base_s, 0, 86400)},
    {"--retry-max", kWorker, "SECONDS", "longest retry delay",
     Seconds(&Config::retry_max_s, 0, 7 * 86400)},
    {"--result-ttl", kWorker, "SECONDS", "how long Q:job:<id> is kept after a terminal state",
     Seconds(&Config::result_ttl_s, 60, 365 * 86400)},
    {"--results-maxlen", kWorker, "N", "approximate length Q:results is trimmed to",
     Integer(&Config::results_maxlen, 100, 100000000)},
    {"--dead-max", kWorker, "N",
     "length the dead list is trimmed to when a job is dead-lettered; the oldest entries are "
     "dropped and counted",
     Integer(&Config::dead_max, 1, 100000000)},
    {"--reroute", kWorker | kEnqueue, "REASON=QUEUE[,REASON=QUEUE]",
     "an attempt that ends with REASON moves the job to QUEUE's pending list instead of retrying "
     "it here, once per reason (worker: for jobs without a route of their own for REASON; "
     "enqueue: the job field reroute); repeatable",
     RouteList(&Config::reroute), "none"},
    {"--redis-wait-replicas", kWorker, "N",
     "the claim, start and result steps succeed only once N replicas have their writes (WAIT); "
     "0: no wait",
     Integer(&Config::redis_wait_replicas, 0, 100)},
    {"--redis-wait-timeout", kWorker, "SECONDS",
     "how long a step waits for --redis-wait-replicas replicas before it fails and is retried",
     Seconds(&Config::redis_wait_timeout_s, 0.01, 600)},
    {"--id", kEnqueue | kRun, "ID", "job id (run: in logs, the result and spans)",
     Text(&Config::job_id, JobId), "enqueue: generated; run: $POD_NAME, else the hostname"},
    {"--output", kEnqueue | kRun, "PATH[,PATH]",
     "outputs to publish atomically (enqueue: the job field outputs); repeatable",
     AddedList(
         &Config::outputs, [](std::string_view p) { return !p.empty(); },
         "output paths separated by commas")},
    {"--job-max-attempts", kEnqueue, "N", "the job's max_attempts",
     OptionalInteger(&Config::job_max_attempts, 1, 100), "the worker's --max-attempts"},
    {"--timeout", kEnqueue, "SECONDS", "the job's timeout_s",
     PositiveSeconds(&Config::job_timeout_s), "none"},
    {"--job-stall-timeout", kEnqueue, "SECONDS", "the job's stall_timeout_s",
     PositiveSeconds(&Config::job_stall_timeout_s), "the worker's --stall-timeout"},
    {"--traceparent", kEnqueue, "TRACEPARENT", "W3C traceparent the job's spans belong to",
     Text(&Config::traceparent, Traceparent)},
    {"--label", kEnqueue, "KEY=VALUE[,KEY=VALUE]", "job labels", Labels(&Config::labels)},
    {"--group", kEnqueue | kStatusCommand, "ID",
     "job group (enqueue: the job field group; status: print the group's document instead of a "
     "job's; cancel takes no group)",
     Text(&Config::group, JobId), "none"},
    {"--group-size", kEnqueue, "N",
     "members the --group will have (the job field group_size): it does not end before that "
     "many joined",
     OptionalInteger(&Config::group_size, 1, 100000), "the members that joined so far"},
    {"--reason", kDead, "REASON", "only dead entries whose last result has this reason",
     Text(&Config::dead_reason, ReasonName), "any"},
    {"--older-than", kDead, "DURATION",
     "only dead entries dead-lettered at least this long ago (30s, 15m, 2h, 7d)",
     Duration(&Config::dead_older_than_s), "any age"},
    {"--limit", kDead, "N", "at most this many dead entries, newest first",
     OptionalInteger(&Config::dead_limit, 1, 100000000), "all"},
    {"--require", kProbe, "ENC[,ENC]", "exit 1 unless each of these encoders is usable",
     List(&Config::require)},
    {"--format", kProbe, "json|nfd",
     "json, or node-feature-discovery local-source lines (ffpod.io/encoder.NAME=true)",
     Choice<std::string>(&Config::probe_format, {{"json", "json"}, {"nfd", "nfd"}})},
    {"--probe-timeout", kProbe | kWorker, "SECONDS", "time limit of each test encode",
     Seconds(&Config::probe_timeout_s, 1, 600)},
};

const Variable kVariables[] = {
    {"POD_NAME", kRun | kWorker, false,
     "this pod's name (Downward API metadata.name): the worker id and run's job id unless given, "
     "the results' worker block, the k8s.pod.name span attribute; with --pod-deletion-cost, the "
     "pod to patch",
     Text(&Config::pod_name, nullptr)},
    {"POD_NAMESPACE", kRun | kWorker, false,
     "this pod's namespace (metadata.namespace): the k8s.namespace.name span attribute; with "
     "--pod-deletion-cost, the pod's namespace (unset: the namespace file in "
     "--serviceaccount-dir)",
     Text(&Config::pod_namespace, nullptr)},
    {"POD_UID", kRun | kWorker, false,
     "this pod's uid (metadata.uid): the k8s.pod.uid span attribute",
     Text(&Config::pod_uid, nullptr)},
    {"NODE_NAME", kRun | kWorker, false,
     "the node's name (spec.nodeName): the results' worker block, the k8s.node.name span "
     "attribute",
     Text(&Config::node_name, nullptr)},
    {"KUBERNETES_SERVICE_HOST", kWorker, true,
     "the Kubernetes API server, for --pod-deletion-cost (Kubernetes sets it in every container)",
     Text(&Config::kube_api_host, nullptr),
     "--pod-deletion-cost needs the Kubernetes API: KUBERNETES_SERVICE_HOST is not set (it is set "
     "in every pod)"},
    {"KUBERNETES_SERVICE_PORT", kWorker, true, "the API server's port, for --pod-deletion-cost",
     Port(&Config::kube_api_port)},
    {"TRACEPARENT", kRun, false,
     "W3C traceparent of the trace the job's spans join (unset or invalid: a new trace)",
     Text(&Config::run_traceparent, nullptr)},
    {"TRACESTATE", kRun, false, "the W3C tracestate that goes with TRACEPARENT",
     Text(&Config::run_tracestate, nullptr)},
};

}  // namespace

CommandSet CommandBit(Command c) {
  switch (c) {
    case Command::kRun:
      return kRunCommand;
    case Command::kWorker:
      return kWorkerCommand;
    case Command::kEnqueue:
      return kEnqueueCommand;
    case Command::kStatus:
    case Command::kCancel:
      return kStatusCommand;
    case Command::kPause:
    case Command::kResume:
      return kPauseCommand;
    case Command::kProbe:
      return kProbeCommand;
    case Command::kDead:
      return kDeadCommand;
  }
  return 0;
}

std::string CommandsText(CommandSet set) {
  static constexpr std::pair<CommandSet, std::string_view> kNames[] = {
      {kRunCommand, "run"},       {kWorkerCommand, "worker"}, {kEnqueueCommand, "enqueue"},
      {kStatusCommand, "status"}, {kStatusCommand, "cancel"}, {kPauseCommand, "pause/resume"},
      {kProbeCommand, "probe"},   {kDeadCommand, "dead"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (set & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out;
}

std::span<const Flag> Flags() { return kFlags; }
std::span<const Variable> Variables() { return kVariables; }

std::string DefaultText(const Flag& flag) {
  std::string value = flag.field.get(Config{});
  if (flag.default_note.empty()) return value;
  return value.empty() ? std::string(flag.default_note)
                       : value + " " + std::string(flag.default_note);
}

std::string DefaultText(const Variable& variable) { return variable.field.get(Config{}); }

}  // namespace ffpod
