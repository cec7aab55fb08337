// The trace of one job attempt (docs/tracing.md): the `ffpod.job` span with its children
// `ffpod.queue_wait`, `ffprobe`, `ffmpeg` and `ffpod.publish`, and the events for progress
// milestones, stalls, drain decisions and the first error lines. `run` and every worker slot
// use one per attempt. With tracing off the spans still have ids (they go into logs and the
// result) but nothing is exported.
//
// Threading: the io_context thread.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "parsers/documents/job.h"
#include "supervisor/job/ffmpeg_job.h"
#include "supervisor/telemetry/tracer.h"

namespace ffpod {

class JobTrace {
 public:
  // `enqueued_at`: when the job was submitted (worker, if the document says), for the queue
  // wait span that ends at `claimed_at`.
  JobTrace(Tracer& tracer, const JobSpanInfo& info,
           std::optional<std::chrono::system_clock::time_point> enqueued_at = std::nullopt,
           std::optional<std::chrono::system_clock::time_point> claimed_at = std::nullopt);
  JobTrace(const JobTrace&) = delete;
  JobTrace& operator=(const JobTrace&) = delete;

  // trace_id and span_id (of the job span): for every log record of the attempt.
  boost::json::object LogFields() const { return job_.LogFields(); }
  std::string trace_id() const { return job_.trace_id(); }

  // The ffmpeg child span, from its start; process attributes once the pid is known.
  void FfmpegStarted(const std::string& executable, const std::vector<std::string>& args, int pid);
  void Probe(const ProbeRun& run);
  // An FfmpegJob event ("stall", "timeout", "stop", "progress", "ffmpeg.error", "drain").
  void Event(std::string_view name, const boost::json::object& attributes);
  void FfmpegEnded(const JobOutcome& outcome);
  // The verification child span (`ffpod.verify`), around the checks of docs/verification.md;
  // `status` is the verification's ("passed", "failed", "skipped"), `message` its evidence.
  void VerifyStarted(size_t outputs);
  void VerifyEnded(const std::string& status, const std::string& message);
  void PublishStarted();
  // Ends the publish span, with an error status when `status` is not OK.
  void PublishEnded(const Status& status = Status::Ok());
  // Sets the result attributes and status on the job span and ends every open span.
  void Finish(const ResultDoc& result);

 private:
  Tracer& tracer_;
  Span job_;
  Span ffmpeg_;
  Span publish_;
  Span verify_;
  std::string last_drain_;  // the drain decision last reported (it is re-taken every second)
};

}  // namespace ffpod
