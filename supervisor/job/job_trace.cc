#include "supervisor/job/job_trace.h"

#include "parsers/common/json_text.h"
#include "parsers/ffmpeg/exit_status.h"

namespace ffpod {

JobTrace::JobTrace(Tracer& tracer, const JobSpanInfo& info,
                   std::optional<std::chrono::system_clock::time_point> enqueued_at,
                   std::optional<std::chrono::system_clock::time_point> claimed_at)
    : tracer_(tracer), job_(tracer.StartJobSpan(info, enqueued_at ? claimed_at : std::nullopt)) {
  if (enqueued_at && claimed_at && *enqueued_at <= *claimed_at) {
    Span wait =
        tracer_.StartSpan("ffpod.queue_wait", &job_.context(), SpanKind::kInternal, *enqueued_at);
    wait.End(*claimed_at);
  }
}

void JobTrace::FfmpegStarted(const std::string& executable, const std::vector<std::string>& args,
                             int pid) {
  ffmpeg_ = tracer_.StartSpan("ffmpeg", &job_.context());
  for (auto& kv : ProcessAttributes(executable, args, pid)) ffmpeg_.SetAttribute(std::move(kv));
}

void JobTrace::Probe(const ProbeRun& run) {
  Span probe = tracer_.StartSpan("ffprobe", &job_.context(), SpanKind::kInternal, run.started_at);
  for (auto& kv : ProcessAttributes(run.executable, run.args, 0)) {
    if (kv.key != "process.pid") probe.SetAttribute(std::move(kv));
  }
  if (run.exit.kind == ExitStatus::Kind::kSignaled) {
    probe.SetAttribute({"ffpod.exit.signal", SignalName(run.exit.signal)});
  } else {
    probe.SetAttribute({"process.exit.code", static_cast<int64_t>(run.exit.code)});
  }
  if (run.cancelled) {
    // ffmpeg finished before ffprobe: stopped because its answer was no longer needed.
    probe.SetAttribute({"ffpod.probe.cancelled", true});
  } else if (run.timed_out || !run.exit.Succeeded()) {
    probe.SetStatus(SpanStatusCode::kError, run.timed_out ? "ffprobe timed out" : "ffprobe failed");
  }
  probe.End(run.finished_at);
}

void JobTrace::Event(std::string_view name, const boost::json::object& attributes) {
  if (name == "drain") {
    std::string key = JsonText(attributes);
    if (key == last_drain_) return;  // re-taken every second: report changes only
    last_drain_ = key;
  }
  job_.AddEvent(name, AttributesFromJson(attributes, "ffpod."));
}

void JobTrace::FfmpegEnded(const JobOutcome& outcome) {
  if (outcome.exit.kind == ExitStatus::Kind::kSignaled) {
    ffmpeg_.SetAttribute({"ffpod.exit.signal", SignalName(outcome.exit.signal)});
  } else {
    ffmpeg_.SetAttribute({"process.exit.code", static_cast<int64_t>(outcome.exit.code)});
  }
  if (outcome.classification.reason != Reason::kOk) {
    ffmpeg_.SetStatus(SpanStatusCode::kError, ReasonName(outcome.classification.reason));
  }
  ffmpeg_.End(outcome.finished_at);
}

void JobTrace::VerifyStarted(size_t outputs) {
  verify_ = tracer_.StartSpan("ffpod.verify", &job_.context());
  verify_.SetAttribute({"ffpod.verify.outputs", static_cast<int64_t>(outputs)});
}

void JobTrace::VerifyEnded(const std::string& status, const std::string& message) {
  verify_.SetAttribute({"ffpod.verify.status", status});
  if (status == "failed") verify_.SetStatus(SpanStatusCode::kError, "output_invalid: " + message);
  verify_.End();
}

void JobTrace::PublishStarted() { publish_ = tracer_.StartSpan("ffpod.publish", &job_.context()); }

void JobTrace::PublishEnded(const Status& status) {
  if (!status.ok()) publish_.SetStatus(SpanStatusCode::kError, status.error().message);
  publish_.End();
}

void JobTrace::Finish(const ResultDoc& result) {
  if (!ffmpeg_.ended()) ffmpeg_.End();
  if (!publish_.ended()) publish_.End();
  if (!verify_.ended()) verify_.End();
  SetJobResult(job_, result);
  job_.End();
}

}  // namespace ffpod
