// The results a worker slot records without running ffmpeg, and the Finish script's request
// for any result (docs/queue.md): pure functions of the result and the claimed document.
#pragma once

#include <string>

#include "parsers/documents/job.h"
#include "probes/os/clock.h"
#include "supervisor/queue/job_queue.h"

namespace ffpod {

// A malformed document, dead-lettered at `now`: `base` with the salvaged `id`, attempt 0,
// dead, bad_job, `why`.
ResultDoc BadJobResult(ResultDoc base, const std::string& id, const std::string& why, WallTime now);
// Cancelled before ffmpeg started: status and reason cancelled, never retried.
ResultDoc CancelledBeforeStartResult(ResultDoc base, WallTime now);
// Claimed just as the drain began: preempted, handed back to pending.
ResultDoc PreemptedBeforeStartResult(ResultDoc base, WallTime now);

// The Finish script's request for `result` of the claimed `document`; `token` is unique per
// attempt (a repeated Finish is harmless). A dead result carries its dead-letter entry.
FinishRequest MakeFinishRequest(const ResultDoc& result, const std::string& document,
                                std::string token);

}  // namespace ffpod
