#include "supervisor/modes/commands.h"

#include "supervisor/modes/dead_command.h"
#include "supervisor/modes/probe_command.h"
#include "supervisor/modes/queue_commands.h"
#include "supervisor/modes/run_mode.h"
#include "supervisor/modes/worker_mode.h"

namespace ffpod {

int RunCommandLine(const Config& config, Logger& logger) {
  switch (config.command) {
    case Command::kRun: {
      RunMode run(config, logger);
      return run.Run();
    }
    case Command::kWorker: {
      WorkerMode worker(config, logger);
      return worker.Run();
    }
    case Command::kEnqueue:
      return RunEnqueueCommand(config, logger);
    case Command::kStatus:
      return RunStatusCommand(config, logger);
    case Command::kCancel:
      return RunCancelCommand(config, logger);
    case Command::kPause:
      return RunPauseCommand(config, logger, true);
    case Command::kResume:
      return RunPauseCommand(config, logger, false);
    case Command::kProbe:
      return RunProbeCommand(config, logger);
    case Command::kDead:
      return RunDeadCommand(config, logger);
  }
  return 2;
}

}  // namespace ffpod
