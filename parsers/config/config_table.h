// The tables ParseConfig reads with, HelpText prints and config_docs_test.cc checks
// docs/configuration.md against: every flag (its variable, the commands that take it, its value,
// default and help) and every environment variable ffpod reads that is not a flag. A default is
// never written here: it is what a default-constructed Config holds (config.h), shown through
// the entry's getter. Thread-compatible (immutable after static initialisation).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "parsers/common/result.h"
#include "parsers/config/config.h"

namespace ffpod {

// A set of commands, one bit each; cancel shares status's bit, resume shares pause's.
using CommandSet = unsigned;
inline constexpr CommandSet kRunCommand = 1U << 0, kWorkerCommand = 1U << 1,
                            kEnqueueCommand = 1U << 2, kStatusCommand = 1U << 3,
                            kPauseCommand = 1U << 4, kProbeCommand = 1U << 5,
                            kDeadCommand = 1U << 6;
inline constexpr CommandSet kQueueCommands =
    kWorkerCommand | kEnqueueCommand | kStatusCommand | kPauseCommand | kDeadCommand;
inline constexpr CommandSet kAllCommands = kRunCommand | kQueueCommands | kProbeCommand;
// The commands that read OTEL_* (they export spans).
inline constexpr CommandSet kTracingCommands = kRunCommand | kWorkerCommand;

CommandSet CommandBit(Command c);
// "run, worker, enqueue, status, cancel, pause/resume, probe, dead", as far as `set` holds them
// (the commands column of docs/configuration.md).
std::string CommandsText(CommandSet set);

// How a flag or variable reaches its Config field.
struct FieldAccess {
  // Parses and stores a value. On a bad one the error says what was expected ("true or
  // false"); ParseConfig makes the sentence that names the flag and the value.
  std::function<Result<bool>(Config&, std::string_view value)> set;
  // The field's value as --help shows it; empty when unset. Of a default Config: the default.
  std::function<std::string(const Config&)> get;
};

struct Flag {
  std::string_view name;  // "--grace-period"; its variable is FlagEnvVar(name)
  CommandSet commands;
  std::string_view value_hint;  // "SECONDS"; empty for a boolean switch
  std::string_view help;
  FieldAccess field;
  // Follows the default in --help ("ffmpeg" "on PATH"), or stands for an empty one ("$POD_NAME,
  // else the hostname").
  std::string_view default_note = {};
};

// An environment variable that is not a flag. An empty value counts as unset.
struct Variable {
  std::string_view name;  // "POD_NAME"
  CommandSet commands;
  bool only_with_pod_deletion_cost;  // read by `worker --pod-deletion-cost` alone
  std::string_view help;
  FieldAccess field;
  // Where it is read and unset: the error sentence (empty: unset is fine).
  std::string_view unset_error = {};
};

// In the order --help lists them.
std::span<const Flag> Flags();
std::span<const Variable> Variables();

// The default --help and docs/configuration.md show: the field's value in a default Config,
// with the flag's default_note; empty when there is none.
std::string DefaultText(const Flag& flag);
std::string DefaultText(const Variable& variable);

}  // namespace ffpod
