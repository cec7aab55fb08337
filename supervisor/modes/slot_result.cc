#include "supervisor/modes/slot_result.h"

#include <boost/json.hpp>
#include <cmath>

#include "parsers/common/json_text.h"
#include "parsers/telemetry/log_format.h"

namespace ffpod {

namespace {

ResultDoc NotRun(ResultDoc r, ResultStatus status, Reason reason, std::string message,
                 WallTime now) {
  r.status = status;
  r.reason = reason;
  r.message = std::move(message);
  r.started_at = r.finished_at = FormatTimestamp(now);
  return r;
}

}  // namespace

ResultDoc BadJobResult(ResultDoc base, const std::string& id, const std::string& why,
                       WallTime now) {
  base.id = id;
  base.attempt = 0;
  return NotRun(std::move(base), ResultStatus::kDead, Reason::kBadJob, why, now);
}

ResultDoc CancelledBeforeStartResult(ResultDoc base, WallTime now) {
  return NotRun(std::move(base), ResultStatus::kCancelled, Reason::kCancelled,
                "cancelled on request before it started", now);
}

ResultDoc PreemptedBeforeStartResult(ResultDoc base, WallTime now) {
  return NotRun(std::move(base), ResultStatus::kPreempted, Reason::kPreempted,
                "stopped by the drain before ffmpeg started", now);
}

FinishRequest MakeFinishRequest(const ResultDoc& result, const std::string& document,
                                std::string token) {
  FinishRequest req;
  req.document = document;
  req.id = result.id;
  req.status = std::string(ResultStatusName(result.status));
  req.result_json = SerializeResult(result);
  if (result.status == ResultStatus::kDead) {
    req.dead_entry_json = "{\"job\":" + JsonText(boost::json::string_view(document)) +
                          ",\"result\":" + req.result_json + "}";
  }
  if (result.next_attempt_in_s) req.delay_ms = std::llround(*result.next_attempt_in_s * 1000);
  req.token = std::move(token);
  return req;
}

}  // namespace ffpod
