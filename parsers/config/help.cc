// `ffpod --help` and `ffpod <command> --help`, printed from the tables (config_table.h,
// OtelVariables()), with each default taken from a default Config or OtelConfig.
#include "parsers/config/config.h"
#include "parsers/config/config_table.h"
#include "parsers/config/otel_config.h"

namespace ffpod {

namespace {

constexpr std::string_view kOverview =
    "ffpod: run stock FFmpeg as a well-behaved Kubernetes pod.\n\n"
    "Usage:\n"
    "  ffpod run     [flags] -- <ffmpeg> [ffmpeg args...]   supervise one ffmpeg\n"
    "  ffpod worker  [flags]                                take jobs from Redis until drained\n"
    "  ffpod enqueue [flags] -- [ffmpeg args...]            push one job, print its id\n"
    "  ffpod status  [flags] <job-id>                       print the job's state document\n"
    "  ffpod cancel  [flags] <job-id>                       stop a job; it is not retried\n"
    "  ffpod dead    list|show|retry|purge [flags]          operate the dead-letter list\n"
    "  ffpod pause | resume [flags]                         stop / restart claiming for a queue\n"
    "  ffpod probe   [flags]                                report ffmpeg build, encoders, "
    "devices\n"
    "  ffpod --help | --version ;  ffpod <command> --help\n\n"
    "Every flag also reads an environment variable FFPOD_<FLAG_IN_UPPER_SNAKE> (the flag wins).\n"
    "Bad flags or values exit 2.\n";

// "  NAME\n      help (default: X)\n"
std::string Entry(std::string_view head, std::string_view help, const std::string& default_text) {
  std::string out = "  " + std::string(head) + "\n      " + std::string(help);
  if (!default_text.empty()) out += " (default: " + default_text + ")";
  return out + "\n";
}

std::string UsageLine(Command command) {
  std::string out = "Usage: ffpod " + std::string(CommandName(command));
  switch (command) {
    case Command::kRun:
      return out + " [flags] -- <ffmpeg> [ffmpeg args...]\n";
    case Command::kEnqueue:
      return out + " [flags] -- [ffmpeg args...]\n";
    case Command::kStatus:
      return out + " [flags] <job-id> | --group <group-id>\n";
    case Command::kCancel:
      return out + " [flags] <job-id>\n";
    case Command::kDead:
      return out + " list [flags] | show <job-id> | retry|purge [flags] [<job-id>]\n";
    default:
      return out + " [flags]\n";
  }
}

std::string FlagSection(CommandSet bit) {
  std::string out = "\nFlags (environment variable in brackets; the flag wins):\n";
  for (const auto& f : Flags()) {
    if (!(f.commands & bit)) continue;
    std::string head(f.name);
    if (!f.value_hint.empty()) head += " " + std::string(f.value_hint);
    out += Entry(head, f.help, DefaultText(f));
    out += "      [" + FlagEnvVar(f.name) + "]\n";
  }
  return out;
}

std::string VariableSection(CommandSet bit) {
  std::string out;
  for (const auto& v : Variables()) {
    if (v.commands & bit) out += Entry(v.name, v.help, DefaultText(v));
  }
  if (!out.empty()) out = "\nOther environment variables:\n" + out;
  if (bit & kTracingCommands) {
    out +=
        "\nOpenTelemetry trace export (docs/tracing.md; a TRACES_ variable wins over its generic "
        "one):\n";
    const OtelConfig defaults;
    for (const auto& v : OtelVariables()) {
      out += Entry(v.name, v.help, v.default_text ? v.default_text(defaults) : std::string());
    }
  }
  return out;
}

}  // namespace

std::string HelpText(std::optional<Command> command) {
  if (!command) {
    std::string names;
    for (const auto& v : Variables()) names += std::string(v.name) + ", ";
    names.resize(names.size() - 2);
    return std::string(kOverview) + "Besides FFPOD_*, ffpod reads " + names +
           " and OTEL_* (ffpod run --help and ffpod worker --help say what each changes).\n";
  }
  CommandSet bit = CommandBit(*command);
  return UsageLine(*command) + FlagSection(bit) + VariableSection(bit);
}

}  // namespace ffpod
