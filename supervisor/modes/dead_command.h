// `ffpod dead list|show|retry|purge` (docs/queue.md "Operating the dead list"): reads Q:dead in
// pages, newest first, picks the entries the job id or the filters name, and prints (list,
// show) or acts on each with its own atomic script (retry, purge). Prints one JSON document on
// stdout. Exits 0 on success, 1 when Redis cannot be reached or refuses a step, or when the
// job id given has no entry (or, for retry, cannot be retried), 2 for bad input.
#pragma once

#include "parsers/config/config.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

int RunDeadCommand(const Config& config, Logger& logger);

}  // namespace ffpod
