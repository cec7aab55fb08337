// ffpod's entry point: parse the configuration, then hand over to the command. The only
// try/catch of the program lives here.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "ffpod_version.h"
#include "parsers/config/config.h"
#include "probes/os/process.h"
#include "supervisor/modes/commands.h"
#include "supervisor/telemetry/logger.h"

extern char** environ;

int main(int argc, char** argv) {
  // A termination signal that arrives while ffpod starts waits until the command's loop can
  // handle it (Service unblocks them): a pod deleted during start-up drains, it is not killed.
  sigset_t termination;
  sigemptyset(&termination);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&termination, sig);
  ::sigprocmask(SIG_BLOCK, &termination, nullptr);
  ffpod::EnsureStandardFds();
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error code, not a death

  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << ffpod::HelpText(std::nullopt);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "ffpod " << ffpod::kVersion;
    if (ffpod::kGitDescribe[0] != '\0') std::cout << " (" << ffpod::kGitDescribe << ")";
    std::cout << "\n";
    return 0;
  }
  // The only read of the environment: what ffpod reads of it goes into the Config (children get
  // an allowlisted part of it, without ffpod's credentials: parsers/config/child_env.h).
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos && ffpod::ConfigReadsVariable(kv.substr(0, eq))) {
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  // Not dumpable: a child (ffmpeg, running a job's arguments as the same user) can then read
  // neither /proc/<ffpod>/environ nor ffpod's memory, where the credentials are. exec resets
  // this for the children themselves; it also means no core dumps of ffpod.
  ::prctl(PR_SET_DUMPABLE, 0);
  auto config = ffpod::ParseConfig(args, env);
  if (!config ||
      (config->command != ffpod::Command::kRun && config->command != ffpod::Command::kWorker)) {
    ::sigprocmask(SIG_UNBLOCK, &termination, nullptr);  // no loop: the default dispositions
  }
  if (!config) {
    std::cerr << "ffpod: " << config.error().message << "\n";
    return 2;
  }
  if (config->help) {
    std::cout << ffpod::HelpText(config->command);
    return 0;
  }
  ffpod::Logger logger(config->log_format, config->log_level);
  try {
    return ffpod::RunCommandLine(*config, logger);
  } catch (const std::exception& e) {
    logger.Error(std::string("fatal: ") + e.what());
    return 1;
  }
}
