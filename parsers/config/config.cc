#include "parsers/config/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

#include "parsers/documents/job.h"
#include "parsers/policy/pod_cost.h"

namespace ffpod {

std::string_view CommandName(Command c) {
  switch (c) {
    case Command::kRun:
      return "run";
    case Command::kWorker:
      return "worker";
    case Command::kEnqueue:
      return "enqueue";
    case Command::kStatus:
      return "status";
    case Command::kPause:
      return "pause";
    case Command::kResume:
      return "resume";
    case Command::kProbe:
      return "probe";
    case Command::kCancel:
      return "cancel";
  }
  return "run";
}

std::string FlagEnvVar(std::string_view flag) {
  std::string env = "FFPOD_";
  for (char c : flag.substr(flag.starts_with("--") ? 2 : 0)) {
    env += c == '-' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  return env;
}

namespace {

constexpr unsigned kRun = 1 << 0, kWorker = 1 << 1, kEnqueue = 1 << 2, kStatus = 1 << 3,
                   kPause = 1 << 4, kProbe = 1 << 5;
constexpr unsigned kQueueCmds = kWorker | kEnqueue | kStatus | kPause;
constexpr unsigned kAll = kRun | kWorker | kEnqueue | kStatus | kPause | kProbe;

unsigned Bit(Command c) {
  switch (c) {
    case Command::kRun:
      return kRun;
    case Command::kWorker:
      return kWorker;
    case Command::kEnqueue:
      return kEnqueue;
    case Command::kStatus:
    case Command::kCancel:
      return kStatus;
    case Command::kPause:
    case Command::kResume:
      return kPause;
    case Command::kProbe:
      return kProbe;
  }
  return 0;
}

using Setter = std::function<std::optional<std::string>(Config&, std::string_view value)>;

struct Flag {
  std::string_view name;  // "--grace-period"
  unsigned commands;
  std::string_view value_hint;  // "SECONDS"; empty for a boolean switch
  std::string_view help;
  std::string_view default_text;
  Setter set;  // returns what was expected when the value is bad
};

std::optional<double> ToDouble(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<long long> ToInt(std::string_view s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<bool> ToBool(std::string_view s) {
  std::string l;
  for (char c : s) l += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (l == "1" || l == "true" || l == "yes" || l == "on") return true;
  if (l == "0" || l == "false" || l == "no" || l == "off") return false;
  return std::nullopt;
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string_view part =
        s.substr(start, comma == std::string_view::npos ? s.npos : comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string Number(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
}

Setter Seconds(double Config::*field, double min, double max) {
  return [=](Config& c, std::string_view v) -> std::optional<std::string> {
    auto d = ToDouble(v);
    if (!d || *d < min || *d > max) {
      return "a number of seconds from " + Number(min) + " to " + Number(max);
    }
    c.*field = *d;
    return std::nullopt;
  };
}

Setter Integer(int Config::*field, int min, int max) {
  return [=](Config& c, std::string_view v) -> std::optional<std::string> {
    auto n = ToInt(v);
    if (!n || *n < min || *n > max) {
      return "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    }
    c.*field = static_cast<int>(*n);
    return std::nullopt;
  };
}

Setter Text(std::string Config::*field, bool allow_empty) {
  return [=](Config& c, std::string_view v) -> std::optional<std::string> {
    if (!allow_empty && v.empty()) return "a non-empty value";
    c.*field = std::string(v);
    return std::nullopt;
  };
}

Setter Switch(bool Config::*field) {
  return [=](Config& c, std::string_view v) -> std::optional<std::string> {
    auto b = ToBool(v);
    if (!b) return "true or false";
    c.*field = *b;
    return std::nullopt;
  };
}

Setter List(std::vector<std::string> Config::*field) {
  return [=](Config& c, std::string_view v) -> std::optional<std::string> {
    c.*field = SplitList(v);
    return std::nullopt;
  };
}

std::optional<std::string> CheckListen(std::string_view v) {
  if (v.empty()) return std::nullopt;
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) return "HOST:PORT (or an empty value to disable it)";
  auto port = ToInt(v.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return "HOST:PORT with a port from 0 to 65535";
  std::string_view host = v.substr(0, colon);
  if (host.starts_with('[') != host.ends_with(']')) return "HOST:PORT with [IPv6] in brackets";
  return std::nullopt;
}

const std::vector<Flag>& Flags() {
  static const std::vector<Flag> flags = {
      {"--listen", kRun | kWorker, "HOST:PORT",
       "HTTP listener for /metrics, /healthz, /readyz and /status; port 0 picks a free port, an "
       "empty value disables it",
       "0.0.0.0:9464",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (auto e = CheckListen(v)) return e;
         c.listen = std::string(v);
         return std::nullopt;
       }},
      {"--ffmpeg", kRun | kWorker | kProbe, "PATH",
       "ffmpeg executable (run: the one after -- wins)", "ffmpeg on PATH",
       Text(&Config::ffmpeg, false)},
      {"--ffprobe", kRun | kWorker, "PATH", "ffprobe executable, used to learn input durations",
       "ffprobe on PATH", Text(&Config::ffprobe, false)},
      {"--log-format", kAll, "json|text", "json: one object per line; text: for people", "json",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v == "json") {
           c.log_format = LogFormat::kJson;
         } else if (v == "text") {
           c.log_format = LogFormat::kText;
         } else {
           return "json or text";
         }
         return std::nullopt;
       }},
      {"--log-level", kAll, "LEVEL", "debug, info, warning or error", "info",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v == "debug") {
           c.log_level = Severity::kDebug;
         } else if (v == "info") {
           c.log_level = Severity::kInfo;
         } else if (v == "warning" || v == "warn") {
           c.log_level = Severity::kWarning;
         } else if (v == "error") {
           c.log_level = Severity::kError;
         } else {
           return "debug, info, warning or error";
         }
         return std::nullopt;
       }},
      {"--grace-period", kRun | kWorker, "SECONDS",
       "the pod's terminationGracePeriodSeconds: everything is reported and ffpod exits before it "
       "ends",
       "30", Seconds(&Config::grace_period_s, 1, 7 * 24 * 3600)},
      {"--drain-margin", kRun | kWorker, "SECONDS",
       "time reserved at the end of the grace period to stop ffmpeg and report", "5",
       Seconds(&Config::drain_margin_s, 0, 3600)},
      {"--stall-timeout", kRun | kWorker, "SECONDS",
       "stop ffmpeg (reason stalled) when its progress has not moved for this long; 0 disables",
       "120", Seconds(&Config::stall_timeout_s, 0, 30 * 24 * 3600)},
      {"--stop-timeout", kRun | kWorker, "SECONDS",
       "after a graceful stop for a stall or a timeout, SIGKILL ffmpeg's process group after this",
       "30", Seconds(&Config::stop_timeout_s, 1, 3600)},
      {"--progress-log-interval", kRun | kWorker, "SECONDS",
       "a progress log record this often while ffmpeg encodes", "10",
       Seconds(&Config::progress_log_interval_s, 0.1, 86400)},
      {"--redis", kWorker | kEnqueue | kStatus | kPause, "URL",
       "redis://[user:password@]host:port[/db], rediss://... (TLS) or unix:///path", "",
       Text(&Config::redis_url, false)},
      {"--queue", kRun | kQueueCmds, "NAME", "queue name: the prefix of every Redis key", "ffpod",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty() || v.size() > 200 || v.find_first_of(" \t\r\n") != std::string_view::npos) {
           return "a name of 1-200 characters without spaces";
         }
         c.queue = std::string(v);
         return std::nullopt;
       }},
      {"--termination-log", kRun | kWorker, "PATH",
       "where the one-line exit summary goes when the file exists (Kubernetes mounts it)",
       "/dev/termination-log", Text(&Config::termination_log, true)},
      {"--subreaper", kRun | kWorker, "", "reap orphaned processes even when not PID 1", "false",
       Switch(&Config::subreaper)},
      {"--metrics-job-label", kRun | kWorker, "",
       "add a job_id label to the per-slot gauges (small fleets only: one series per job)", "false",
       Switch(&Config::metrics_job_label)},
      {"--exit-codes", kRun, "ffmpeg|classified",
       "ffmpeg: ffmpeg's own status; classified: the failure reason's code", "ffmpeg",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v == "ffmpeg") {
           c.exit_codes = ExitCodePolicy::kFfmpeg;
         } else if (v == "classified") {
           c.exit_codes = ExitCodePolicy::kClassified;
         } else {
           return "ffmpeg or classified";
         }
         return std::nullopt;
       }},
      {"--report-redis", kRun, "URL", "also push the result document to this Redis' results stream",
       "", Text(&Config::report_redis, true)},
      {"--linger", kRun, "SECONDS",
       "keep serving /metrics this long after the job ended, so the last scrape sees the result",
       "0", Seconds(&Config::linger_s, 0, 3600)},
      {"--slots", kWorker, "N", "ffmpeg processes run in parallel", "1",
       Integer(&Config::slots, 1, 64)},
      {"--max-attempts", kWorker, "N", "attempts per job unless the job says otherwise", "3",
       Integer(&Config::max_attempts, 1, 100)},
      {"--worker-id", kWorker, "ID", "this worker's id in Redis", "$POD_NAME, else the hostname",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (!IsValidJobId(v)) return "1-128 characters from [A-Za-z0-9._:-]";
         c.worker_id = std::string(v);
         return std::nullopt;
       }},
      {"--heartbeat", kWorker, "SECONDS",
       "heartbeat period; the heartbeat key expires after three periods", "5",
       Seconds(&Config::heartbeat_s, 1, 300)},
      {"--require-encoders", kWorker, "ENC[,ENC]",
       "readiness requires each of these encoders to be usable", "",
       List(&Config::require_encoders)},
      {"--atomic-outputs", kWorker, "",
       "write outputs under temporary names and rename them only on success", "true",
       Switch(&Config::atomic_outputs)},
      {"--pod-deletion-cost", kWorker, "",
       "keep this pod's controller.kubernetes.io/pod-deletion-cost annotation current, so that "
       "scale-in removes idle workers first (needs POD_NAME and patch on pods)",
       "false", Switch(&Config::pod_deletion_cost)},
      {"--serviceaccount-dir", kWorker, "PATH",
       "where the pod's API token, CA certificate and namespace are mounted (for "
       "--pod-deletion-cost)",
       "/var/run/secrets/kubernetes.io/serviceaccount", Text(&Config::serviceaccount_dir, false)},
      {"--probe-interval", kWorker, "SECONDS", "re-probe the required encoders this often", "300",
       Seconds(&Config::probe_interval_s, 10, 86400)},
      {"--retry-base", kWorker, "SECONDS", "first retry delay; doubles per attempt, with jitter",
       "5", Seconds(&Config::retry_base_s, 0, 86400)},
      {"--retry-max", kWorker, "SECONDS", "longest retry delay", "600",
       Seconds(&Config::retry_max_s, 0, 7 * 86400)},
      {"--result-ttl", kWorker, "SECONDS", "how long Q:job:<id> is kept after a terminal state",
       "604800", Seconds(&Config::result_ttl_s, 60, 365 * 86400)},
      {"--results-maxlen", kWorker, "N", "approximate length Q:results is trimmed to", "100000",
       Integer(&Config::results_maxlen, 100, 100000000)},
      {"--id", kEnqueue | kRun, "ID", "job id (run: in logs, the result and spans)",
       "enqueue: generated; run: $POD_NAME, else "
       "the hostname",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (!IsValidJobId(v)) return "1-128 characters from [A-Za-z0-9._:-]";
         c.job_id = std::string(v);
         return std::nullopt;
       }},
      {"--output", kEnqueue, "PATH[,PATH]", "outputs to publish atomically (job field outputs)", "",
       List(&Config::outputs)},
      {"--job-max-attempts", kEnqueue, "N", "the job's max_attempts", "the worker's --max-attempts",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         auto n = ToInt(v);
         if (!n || *n < 1 || *n > 100) return "a whole number from 1 to 100";
         c.job_max_attempts = static_cast<int>(*n);
         return std::nullopt;
       }},
      {"--timeout", kEnqueue, "SECONDS", "the job's timeout_s", "none",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         auto d = ToDouble(v);
         if (!d || *d <= 0) return "a positive number of seconds";
         c.job_timeout_s = *d;
         return std::nullopt;
       }},
      {"--job-stall-timeout", kEnqueue, "SECONDS", "the job's stall_timeout_s",
       "the worker's --stall-timeout",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         auto d = ToDouble(v);
         if (!d || *d <= 0) return "a positive number of seconds";
         c.job_stall_timeout_s = *d;
         return std::nullopt;
       }},
      {"--traceparent", kEnqueue, "TRACEPARENT", "W3C traceparent the job's spans belong to", "",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (!IsValidTraceparent(v)) return "a W3C traceparent like 00-<32 hex>-<16 hex>-01";
         c.traceparent = std::string(v);
         return std::nullopt;
       }},
      {"--label", kEnqueue, "KEY=VALUE[,KEY=VALUE]", "job labels", "",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         for (const auto& kv : SplitList(v)) {
           size_t eq = kv.find('=');
           if (eq == std::string::npos || eq == 0) return "KEY=VALUE pairs separated by commas";
           c.labels[kv.substr(0, eq)] = kv.substr(eq + 1);
         }
         return std::nullopt;
       }},
      {"--require", kProbe, "ENC[,ENC]", "exit 1 unless each of these encoders is usable", "",
       List(&Config::require)},
      {"--format", kProbe, "json|nfd",
       "json, or node-feature-discovery local-source lines (ffpod.io/encoder.NAME=true)", "json",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v != "json" && v != "nfd") return "json or nfd";
         c.probe_format = std::string(v);
         return std::nullopt;
       }},
      {"--probe-timeout", kProbe | kWorker, "SECONDS", "time limit of each test encode", "15",
       Seconds(&Config::probe_timeout_s, 1, 600)},
  };
  return flags;
}

const Flag* FindFlag(std::string_view name) {
  for (const auto& f : Flags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<Command> ParseCommand(std::string_view s) {
  if (s == "run") return Command::kRun;
  if (s == "worker") return Command::kWorker;
  if (s == "enqueue") return Command::kEnqueue;
  if (s == "status") return Command::kStatus;
  if (s == "pause") return Command::kPause;
  if (s == "resume") return Command::kResume;
  if (s == "probe") return Command::kProbe;
  if (s == "cancel") return Command::kCancel;
  return std::nullopt;
}

Error BadValue(std::string_view flag, std::string_view source, std::string_view expected,
               std::string_view got) {
  std::string where = source.empty() ? std::string(flag) : std::string(source);
  return Error{where + " expects " + std::string(expected) + ", got \"" + std::string(got) + "\""};
}

// --pod-deletion-cost: the API server and this pod, from the variables Kubernetes sets in every
// container and the Downward API ones the chart sets.
std::optional<std::string> ReadPodIdentity(const std::map<std::string, std::string>& env,
                                           Config& c) {
  auto get = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  c.kube_api_host = get("KUBERNETES_SERVICE_HOST");
  if (c.kube_api_host.empty()) {
    return "--pod-deletion-cost needs the Kubernetes API: KUBERNETES_SERVICE_HOST is not set "
           "(it is set in every pod)";
  }
  if (std::string port = get("KUBERNETES_SERVICE_PORT"); !port.empty()) {
    auto n = ToInt(port);
    if (!n || *n < 1 || *n > 65535) {
      return "KUBERNETES_SERVICE_PORT expects a port from 1 to 65535, got \"" + port + "\"";
    }
    c.kube_api_port = static_cast<int>(*n);
  }
  c.pod_name = get("POD_NAME");
  if (c.pod_name.empty()) {
    return "--pod-deletion-cost needs POD_NAME (set it from the Downward API's metadata.name)";
  }
  if (!IsKubernetesName(c.pod_name)) {
    return "POD_NAME \"" + c.pod_name +
           "\" is not a pod name (lowercase letters, digits, '-', '.')";
  }
  c.pod_namespace = get("POD_NAMESPACE");
  if (!c.pod_namespace.empty() && !IsKubernetesName(c.pod_namespace)) {
    return "POD_NAMESPACE \"" + c.pod_namespace +
           "\" is not a namespace name (lowercase letters, digits, '-', '.')";
  }
  return std::nullopt;
}

}  // namespace

bool ConfigReadsVariable(std::string_view name) {
  return name.starts_with("FFPOD_") || name == "KUBERNETES_SERVICE_HOST" ||
         name == "KUBERNETES_SERVICE_PORT" || name == "POD_NAME" || name == "POD_NAMESPACE";
}

Result<Config> ParseConfig(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env) {
  Config c;
  if (argv.empty())
    return Error{
        "a command is required: run, worker, enqueue, status, cancel, pause, resume or probe (see "
        "ffpod --help)"};
  auto command = ParseCommand(argv[0]);
  if (!command)
    return Error{"unknown command \"" + argv[0] +
                 "\" (expected run, worker, enqueue, status, cancel, pause, resume or probe)"};
  c.command = *command;
  unsigned bit = Bit(c.command);

  // Environment first; flags override.
  for (const auto& f : Flags()) {
    if (!(f.commands & bit)) continue;
    auto it = env.find(FlagEnvVar(f.name));
    if (it == env.end()) continue;
    if (auto expected = f.set(c, it->second)) {
      return BadValue(f.name, it->first + " (for " + std::string(f.name) + ")", *expected,
                      it->second);
    }
  }

  std::vector<std::string> positional;
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "--help" || arg == "-h") {
      c.help = true;
      return c;
    }
    if (!arg.starts_with("--")) {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    bool negated = false;
    const Flag* flag = FindFlag(name);
    if (flag == nullptr && name.starts_with("--no-")) {
      flag = FindFlag("--" + name.substr(5));
      negated = flag != nullptr && flag->value_hint.empty();
      if (!negated) flag = nullptr;
    }
    if (flag == nullptr || !(flag->commands & bit)) {
      return Error{"unknown flag " + name + " for ffpod " + std::string(CommandName(c.command)) +
                   " (see ffpod " + std::string(CommandName(c.command)) + " --help)"};
    }
    if (flag->value_hint.empty()) {
      if (negated && value) return Error{name + " takes no value"};
      std::string v = negated ? "false" : value.value_or("true");
      if (auto expected = flag->set(c, v)) return BadValue(flag->name, "", *expected, v);
      continue;
    }
    if (!value) {
      if (i + 1 >= argv.size()) {
        return Error{std::string(flag->name) + " expects " + std::string(flag->value_hint) +
                     ", but nothing follows it"};
      }
      value = argv[++i];
    }
    if (auto expected = flag->set(c, *value)) return BadValue(flag->name, "", *expected, *value);
  }
  std::vector<std::string> rest(
      argv.begin() + static_cast<std::ptrdiff_t>(std::min(i, argv.size())), argv.end());

  switch (c.command) {
    case Command::kRun:
      if (!positional.empty()) {
        return Error{
            "unexpected argument \"" + positional[0] +
            "\": put the ffmpeg command after --, as in: ffpod run -- ffmpeg -i in.mp4 out.mp4"};
      }
      if (rest.empty()) {
        return Error{
            "ffpod run needs the ffmpeg command after --, as in: ffpod run -- ffmpeg -i in.mp4 "
            "out.mp4"};
      }
      c.ffmpeg_argv = rest;
      break;
    case Command::kEnqueue:
      if (!positional.empty()) {
        return Error{
            "unexpected argument \"" + positional[0] +
            "\": put the ffmpeg arguments after --, as in: ffpod enqueue -- -i in.mp4 out.mp4"};
      }
      if (rest.empty()) return Error{"ffpod enqueue needs ffmpeg arguments after --"};
      c.ffmpeg_argv = rest;
      break;
    case Command::kStatus:
    case Command::kCancel:
      if (positional.size() != 1 || !rest.empty()) {
        return Error{"ffpod " + std::string(CommandName(c.command)) + " takes exactly one job id"};
      }
      if (!IsValidJobId(positional[0])) {
        return Error{"job id \"" + positional[0] +
                     "\" is not 1-128 characters from [A-Za-z0-9._:-]"};
      }
      c.status_job_id = positional[0];
      break;
    default:
      if (!positional.empty() || !rest.empty()) {
        std::string extra = positional.empty() ? rest[0] : positional[0];
        return Error{"unexpected argument \"" + extra + "\" for ffpod " +
                     std::string(CommandName(c.command))};
      }
  }
  if ((bit & kQueueCmds) && c.redis_url.empty()) {
    return Error{"--redis is required for ffpod " + std::string(CommandName(c.command)) +
                 " (or set FFPOD_REDIS)"};
  }
  if ((c.command == Command::kRun || c.command == Command::kWorker) &&
      c.drain_margin_s >= c.grace_period_s) {
    return Error{"--drain-margin (" + std::to_string(static_cast<long long>(c.drain_margin_s)) +
                 ") must be smaller than --grace-period (" +
                 std::to_string(static_cast<long long>(c.grace_period_s)) + ")"};
  }
  if (c.retry_max_s < c.retry_base_s) c.retry_max_s = c.retry_base_s;
  if (c.command == Command::kWorker && c.pod_deletion_cost) {
    if (auto error = ReadPodIdentity(env, c)) return Error{*error};
  }
  return c;
}

std::string HelpText(std::optional<Command> command) {
  std::string out;
  if (!command) {
    out +=
        "ffpod: run stock FFmpeg as a well-behaved Kubernetes pod.\n\n"
        "Usage:\n"
        "  ffpod run     [flags] -- <ffmpeg> [ffmpeg args...]   supervise one ffmpeg\n"
        "  ffpod worker  [flags]                                take jobs from Redis until "
        "drained\n"
        "  ffpod enqueue [flags] -- [ffmpeg args...]            push one job, print its id\n"
        "  ffpod status  [flags] <job-id>                       print the job's state document\n"
        "  ffpod cancel  [flags] <job-id>                       stop a job; it is not retried\n"
        "  ffpod pause | resume [flags]                         stop / restart claiming for a "
        "queue\n"
        "  ffpod probe   [flags]                                report ffmpeg build, encoders, "
        "devices\n"
        "  ffpod --help | --version ;  ffpod <command> --help\n\n"
        "Every flag also reads an environment variable FFPOD_<FLAG_IN_UPPER_SNAKE> (the flag "
        "wins).\n"
        "Bad flags or values exit 2.\n";
    return out;
  }
  unsigned bit = Bit(*command);
  out += "Usage: ffpod " + std::string(CommandName(*command));
  switch (*command) {
    case Command::kRun:
      out += " [flags] -- <ffmpeg> [ffmpeg args...]\n";
      break;
    case Command::kEnqueue:
      out += " [flags] -- [ffmpeg args...]\n";
      break;
    case Command::kStatus:
    case Command::kCancel:
      out += " [flags] <job-id>\n";
      break;
    default:
      out += " [flags]\n";
      break;
  }
  out += "\nFlags (environment variable in brackets; the flag wins):\n";
  for (const auto& f : Flags()) {
    if (!(f.commands & bit)) continue;
    std::string head = "  " + std::string(f.name);
    if (!f.value_hint.empty()) head += " " + std::string(f.value_hint);
    out += head + "\n      " + std::string(f.help);
    if (!f.default_text.empty()) out += " (default: " + std::string(f.default_text) + ")";
    out += "\n      [" + FlagEnvVar(f.name) + "]\n";
  }
  return out;
}

}  // namespace ffpod
