// The one-shot queue commands: `ffpod enqueue`, `ffpod status`, `ffpod cancel`, `ffpod pause`,
// `ffpod resume`
// (docs/run.md and docs/queue.md). Each connects, does its step, prints its answer on stdout and
// exits: 0 on success, 1 when Redis cannot be reached within the connect deadline or refuses the
// step (the sentence on stderr says why), 2 for bad input.
#pragma once

#include "parsers/config/config.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

int RunEnqueueCommand(const Config& config, Logger& logger);
int RunStatusCommand(const Config& config, Logger& logger);
int RunCancelCommand(const Config& config, Logger& logger);
int RunPauseCommand(const Config& config, Logger& logger, bool pause);

}  // namespace ffpod
