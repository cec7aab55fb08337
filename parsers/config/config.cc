// ParseConfig: the command, then the FFPOD_* variables, then the flags (which win), then the
// arguments, the checks between fields, and last the other environment variables. The flags and
// variables themselves are in flag_table.cc.
#include "parsers/config/config.h"

#include <algorithm>

#include "parsers/config/config_table.h"
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
    case Command::kDead:
      return "dead";
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

bool ConfigReadsVariable(std::string_view name) {
  if (name.starts_with("FFPOD_") || name.starts_with("OTEL_")) return true;
  const auto variables = Variables();
  return std::any_of(variables.begin(), variables.end(),
                     [&](const Variable& v) { return v.name == name; });
}

namespace {

using Env = std::map<std::string, std::string>;

constexpr std::string_view kCommandList =
    "run, worker, enqueue, status, cancel, dead, pause, resume or probe";

std::optional<Command> ParseCommand(std::string_view s) {
  for (Command c :
       {Command::kRun, Command::kWorker, Command::kEnqueue, Command::kStatus, Command::kPause,
        Command::kResume, Command::kProbe, Command::kCancel, Command::kDead}) {
    if (s == CommandName(c)) return c;
  }
  return std::nullopt;
}

// "--grace-period expects a number of seconds from 1 to 604800, got "soon"", naming `source`
// (the variable) instead of the flag when the value came from the environment.
Error BadValue(std::string_view flag, std::string_view source, const Error& expected,
               std::string_view got) {
  std::string where = source.empty() ? std::string(flag) : std::string(source);
  return Error{where + " expects " + expected.message + ", got \"" + std::string(got) + "\""};
}

const Flag* FindFlag(std::string_view name) {
  for (const auto& f : Flags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// FFPOD_<FLAG> for every flag of the command.
Result<bool> ApplyFlagVariables(const Env& env, Config& c) {
  for (const auto& f : Flags()) {
    if (!(f.commands & CommandBit(c.command))) continue;
    auto it = env.find(FlagEnvVar(f.name));
    if (it == env.end()) continue;
    if (auto stored = f.field.set(c, it->second); !stored) {
      return BadValue(f.name, it->first + " (for " + std::string(f.name) + ")", stored.error(),
                      it->second);
    }
  }
  return true;
}

// What the command line holds besides flags: arguments before `--` and everything after it.
struct Arguments {
  std::vector<std::string> positional;
  std::vector<std::string> rest;
};

// One flag at argv[i] (`--name`, `--name=value`, `--name value`, `--no-switch`); moves `i` past
// a value that followed it.
Result<bool> ApplyFlag(const std::vector<std::string>& argv, size_t& i, Config& c) {
  const std::string& arg = argv[i];
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
  std::string command(CommandName(c.command));
  if (flag == nullptr || !(flag->commands & CommandBit(c.command))) {
    return Error{"unknown flag " + name + " for ffpod " + command + " (see ffpod " + command +
                 " --help)"};
  }
  if (flag->value_hint.empty()) {
    if (negated && value) return Error{name + " takes no value"};
    std::string v = negated ? "false" : value.value_or("true");
    if (auto stored = flag->field.set(c, v); !stored) {
      return BadValue(flag->name, "", stored.error(), v);
    }
    return true;
  }
  if (!value) {
    if (i + 1 >= argv.size()) {
      return Error{std::string(flag->name) + " expects " + std::string(flag->value_hint) +
                   ", but nothing follows it"};
    }
    value = argv[++i];
  }
  if (auto stored = flag->field.set(c, *value); !stored) {
    return BadValue(flag->name, "", stored.error(), *value);
  }
  return true;
}

// The flags after the command; stops at `--help` (setting c.help) or `--`.
Result<Arguments> ApplyFlags(const std::vector<std::string>& argv, Config& c) {
  Arguments args;
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "--help" || arg == "-h") {
      c.help = true;
      return args;
    }
    if (!arg.starts_with("--")) {
      args.positional.push_back(arg);
      continue;
    }
    if (auto applied = ApplyFlag(argv, i, c); !applied) return applied.error();
  }
  args.rest.assign(argv.begin() + static_cast<std::ptrdiff_t>(std::min(i, argv.size())),
                   argv.end());
  return args;
}

// `ffpod dead ACTION [<job-id>]`: show takes one id; retry and purge take one id or filters.
Result<bool> TakeDeadArguments(const Arguments& args, Config& c) {
  const auto& p = args.positional;
  if (p.empty() || (p[0] != "list" && p[0] != "show" && p[0] != "retry" && p[0] != "purge")) {
    return Error{"ffpod dead needs an action: list, show, retry or purge"};
  }
  c.dead_action = p[0];
  if (p.size() > 2 || !args.rest.empty()) {
    return Error{"ffpod dead " + c.dead_action + " takes at most one job id"};
  }
  if (p.size() == 2) {
    if (!IsValidJobId(p[1])) {
      return Error{"job id \"" + p[1] + "\" is not 1-128 characters from [A-Za-z0-9._:-]"};
    }
    c.dead_job_id = p[1];
  }
  bool filtered = !c.dead_reason.empty() || c.dead_older_than_s || c.dead_limit;
  if (c.dead_action == "list" && !c.dead_job_id.empty()) {
    return Error{"ffpod dead list takes no job id (ffpod dead show <job-id> prints one entry)"};
  }
  if (c.dead_action == "show" && (c.dead_job_id.empty() || filtered)) {
    return Error{
        "ffpod dead show takes exactly one job id and no --reason, --older-than or --limit"};
  }
  if ((c.dead_action == "retry" || c.dead_action == "purge") &&
      c.dead_job_id.empty() == !filtered) {
    return Error{"ffpod dead " + c.dead_action +
                 " takes either one job id or at least one of --reason, --older-than, --limit"};
  }
  return true;
}

// What each command does with its arguments.
Result<bool> TakeArguments(Arguments args, Config& c) {
  std::string command(CommandName(c.command));
  switch (c.command) {
    case Command::kRun:
      if (!args.positional.empty()) {
        return Error{
            "unexpected argument \"" + args.positional[0] +
            "\": put the ffmpeg command after --, as in: ffpod run -- ffmpeg -i in.mp4 out.mp4"};
      }
      if (args.rest.empty()) {
        return Error{
            "ffpod run needs the ffmpeg command after --, as in: ffpod run -- ffmpeg -i in.mp4 "
            "out.mp4"};
      }
      c.ffmpeg_argv = std::move(args.rest);
      return true;
    case Command::kEnqueue:
      if (!args.positional.empty()) {
        return Error{
            "unexpected argument \"" + args.positional[0] +
            "\": put the ffmpeg arguments after --, as in: ffpod enqueue -- -i in.mp4 out.mp4"};
      }
      if (args.rest.empty()) return Error{"ffpod enqueue needs ffmpeg arguments after --"};
      c.ffmpeg_argv = std::move(args.rest);
      return true;
    case Command::kStatus:
    case Command::kCancel:
      if (!c.group.empty()) {
        if (c.command == Command::kCancel) {
          return Error{"--group is not a flag of ffpod cancel (cancel each member by its id)"};
        }
        if (!args.positional.empty() || !args.rest.empty()) {
          return Error{"ffpod status --group takes no job id"};
        }
        return true;
      }
      if (args.positional.size() != 1 || !args.rest.empty()) {
        return Error{"ffpod " + command + " takes exactly one job id"};
      }
      if (!IsValidJobId(args.positional[0])) {
        return Error{"job id \"" + args.positional[0] +
                     "\" is not 1-128 characters from [A-Za-z0-9._:-]"};
      }
      c.status_job_id = args.positional[0];
      return true;
    case Command::kDead:
      return TakeDeadArguments(args, c);
    default:
      if (!args.positional.empty() || !args.rest.empty()) {
        std::string extra = args.positional.empty() ? args.rest[0] : args.positional[0];
        return Error{"unexpected argument \"" + extra + "\" for ffpod " + command};
      }
      return true;
  }
}

// Checks between fields, and the one value clamped at load.
Result<bool> CheckTogether(Config& c) {
  std::string command(CommandName(c.command));
  if ((CommandBit(c.command) & kQueueCommands) && c.redis_url.empty()) {
    return Error{"--redis is required for ffpod " + command + " (or set FFPOD_REDIS)"};
  }
  if (c.group_size && c.group.empty()) return Error{"--group-size needs --group"};
  if ((c.command == Command::kRun || c.command == Command::kWorker) &&
      c.drain_margin_s >= c.grace_period_s) {
    return Error{"--drain-margin (" + std::to_string(static_cast<long long>(c.drain_margin_s)) +
                 ") must be smaller than --grace-period (" +
                 std::to_string(static_cast<long long>(c.grace_period_s)) + ")"};
  }
  if (c.command != Command::kWorker && (c.queues.size() != 1 || c.queues.front().weight_given)) {
    return Error{"--queue takes one queue name for ffpod " + command + ", got \"" +
                 QueueListText(c.queues) + "\" (several, with weights, are for ffpod worker)"};
  }
  if (c.retry_max_s < c.retry_base_s) c.retry_max_s = c.retry_base_s;
  return true;
}

// The variables that are not flags (flag_table.cc), and OTEL_* for the commands that trace.
Result<bool> ApplyOtherVariables(const Env& env, Config& c) {
  const bool pod_deletion_cost = c.command == Command::kWorker && c.pod_deletion_cost;
  for (const auto& v : Variables()) {
    if (!(v.commands & CommandBit(c.command))) continue;
    if (v.only_with_pod_deletion_cost && !pod_deletion_cost) continue;
    auto it = env.find(std::string(v.name));
    if (it == env.end() || it->second.empty()) {
      if (!v.unset_error.empty()) return Error{std::string(v.unset_error)};
      continue;
    }
    if (auto stored = v.field.set(c, it->second); !stored) {
      return BadValue(v.name, v.name, stored.error(), it->second);
    }
  }
  if (CommandBit(c.command) & kTracingCommands) {
    for (const auto& [name, value] : env) {
      if (name.starts_with("OTEL_")) c.otel_env.emplace(name, value);
    }
  }
  return true;
}

// --pod-deletion-cost patches this pod: its name and namespace must be Kubernetes names.
Result<bool> CheckPodIdentity(const Config& c) {
  if (c.command != Command::kWorker || !c.pod_deletion_cost) return true;
  if (c.pod_name.empty()) {
    return Error{
        "--pod-deletion-cost needs POD_NAME (set it from the Downward API's metadata.name)"};
  }
  if (!IsKubernetesName(c.pod_name)) {
    return Error{"POD_NAME \"" + c.pod_name +
                 "\" is not a pod name (lowercase letters, digits, '-', '.')"};
  }
  if (!c.pod_namespace.empty() && !IsKubernetesName(c.pod_namespace)) {
    return Error{"POD_NAMESPACE \"" + c.pod_namespace +
                 "\" is not a namespace name (lowercase letters, digits, '-', '.')"};
  }
  return true;
}

}  // namespace

Result<Config> ParseConfig(const std::vector<std::string>& argv, const Env& env) {
  if (argv.empty()) {
    return Error{"a command is required: " + std::string(kCommandList) + " (see ffpod --help)"};
  }
  auto command = ParseCommand(argv[0]);
  if (!command) {
    return Error{"unknown command \"" + argv[0] + "\" (expected " + std::string(kCommandList) +
                 ")"};
  }
  Config c;
  c.command = *command;
  if (auto read = ApplyFlagVariables(env, c); !read) return read.error();
  auto args = ApplyFlags(argv, c);
  if (!args) return args.error();
  if (c.help) return c;
  if (auto taken = TakeArguments(std::move(*args), c); !taken) return taken.error();
  if (auto checked = CheckTogether(c); !checked) return checked.error();
  if (auto read = ApplyOtherVariables(env, c); !read) return read.error();
  if (auto pod = CheckPodIdentity(c); !pod) return pod.error();
  return c;
}

}  // namespace ffpod
