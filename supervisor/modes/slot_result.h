// The results a worker slot records without running ffmpeg, and the Finish script's request
// for any result (docs/queue.md): pure functions of the result and the claimed document.
#pragma once

#include <string>

#include "parsers/documents/job.h"
#include "parsers/policy/retry_policy.h"
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

// A rerouted result's Finish request (result.status kRerouted, result.rerouted_to the
// destination) for a job claimed from queue `from`: the move of docs/queue.md "Routing by
// failure reason", and `fallback` (retrying or dead), what is recorded instead when the
// destination holds a live job with this id.
FinishRequest MakeRerouteRequest(const ResultDoc& result, const AttemptDisposition& fallback,
                                 const std::string& document, const std::string& from,
                                 std::string token);

}  // namespace ffpod
