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

FinishRequest MakeRerouteRequest(const ResultDoc& result, const AttemptDisposition& fallback,
                                 const std::string& document, const std::string& from,
                                 std::string token) {
  ResultDoc stay = result;
  stay.status = fallback.status;
  stay.next_attempt_in_s = fallback.delay_s;
  stay.rerouted_to.clear();
  // The fallback's delay and dead entry, under the rerouted status and result.
  FinishRequest req = MakeFinishRequest(stay, document, std::move(token));
  req.fallback_status = req.status;
  req.fallback_result_json = req.result_json;
  req.status = std::string(ResultStatusName(result.status));
  req.result_json = SerializeResult(result);
  RerouteRecord move{
      .reason = result.reason, .from = from, .to = result.rerouted_to, .at = result.finished_at};
  req.reroute_queue = result.rerouted_to;
  req.reroute_document = AppendReroute(document, move);
  req.reroute_record_json = JsonText(RerouteRecordToJson(move));
  return req;
}

}  // namespace ffpod
