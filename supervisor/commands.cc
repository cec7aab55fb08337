#include "supervisor/commands.h"

#include "supervisor/run_mode.h"

namespace ffpod {

int RunCommandLine(const Config& config, Logger& logger) {
  switch (config.command) {
    case Command::kRun: {
      RunMode run(config, logger);
      return run.Run();
    }
    default:
      logger.Error("ffpod " + std::string(CommandName(config.command)) +
                   " is not available in this build");
      return 2;
  }
}

}  // namespace ffpod
