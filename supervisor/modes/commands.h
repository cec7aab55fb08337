// Dispatch from a parsed Config to the command that runs it.
#pragma once

#include "parsers/config/config.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

// Runs the configured command to completion and returns the process exit status.
int RunCommandLine(const Config& config, Logger& logger);

}  // namespace ffpod
