// The one-shot queue commands: `ffpod enqueue`, `ffpod status`, `ffpod cancel`, `ffpod pause`,
// `ffpod resume` (`ffpod dead`: dead_command.h)
// (docs/run.md and docs/queue.md). Each connects, does its step, prints its answer on stdout and
// exits: 0 on success, 1 when Redis cannot be reached within the connect deadline or refuses the
// step (the sentence on stderr says why), 2 for bad input.
#pragma once

#include <functional>

#include "parsers/config/config.h"
#include "supervisor/queue/job_queue.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

// What bounds a step once Redis is up: the connect deadline (10 s from the start, for steps of a
// few commands), or only the client's reply timeout (each command answered within 30 s, or the
// step fails), for steps of many commands.
enum class StepDeadline { kConnectDeadline, kReplyTimeoutOnly };

// Connects to --redis, runs `step` once Redis is up, and gives up at the connect deadline
// (exit 1, the sentence on stderr). `step` gets the queue and a `finish(code)` to call when
// done; the answer is that code (2 for a bad --redis).
int WithQueue(const Config& config, Logger& logger,
              const std::function<void(JobQueue&, std::function<void(int)>)>& step,
              StepDeadline step_deadline = StepDeadline::kConnectDeadline);

int RunEnqueueCommand(const Config& config, Logger& logger);
int RunStatusCommand(const Config& config, Logger& logger);
int RunCancelCommand(const Config& config, Logger& logger);
int RunPauseCommand(const Config& config, Logger& logger, bool pause);

}  // namespace ffpod
