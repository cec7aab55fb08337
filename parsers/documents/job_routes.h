// Routing by failure reason (docs/queue.md "Routing by failure reason"): the job fields
// `reroute` (failure reason -> queue), `reroutes` (the moves so far, written by the worker that
// moved the job) and `args_by_queue` (queue -> the ffmpeg arguments to run there), the
// worker's default routes (--reroute), and the rule that picks the route after an attempt.
//
// The loop rule: a job is rerouted at most once per reason. A reason already in `reroutes` has
// no route any more; the attempt then takes the normal retry or dead path. max_attempts bounds
// the attempts over every queue together (they are carried with the job). Pure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "parsers/common/result.h"
#include "parsers/ffmpeg/reasons.h"

namespace ffpod {

// Failure reason -> the queue whose pool can fix it.
using Routes = std::map<Reason, std::string>;

// One move of a job from queue `from` to queue `to` after an attempt that ended with `reason`.
struct RerouteRecord {
  Reason reason = Reason::kUnknown;
  std::string from;
  std::string to;
  std::string at;  // RFC 3339
};

// The queue-name grammar of --queue: 1-200 characters without blanks.
bool IsValidQueueName(std::string_view name);

// A reason may have a route when it is a failure that ran ffmpeg: every reason of
// docs/failure-reasons.md except ok, preempted, cancelled (not failures), worker_lost (says
// nothing about the pool: the recovery retries it where it was) and bad_job (never runs).
bool IsRoutableReason(Reason reason);

// One route, "REASON" -> "QUEUE". The error says what is wrong with it:
// `"oom" is not a failure reason another pool can fix (docs/failure-reasons.md)`.
Result<std::pair<Reason, std::string>> ParseRoute(std::string_view reason, std::string_view queue);

// The fields above of a job document. Each error names the field and the key (`field
// "reroute.oom" ...`).
struct JobRouting {
  Routes reroute;
  std::vector<RerouteRecord> reroutes;
  std::map<std::string, std::vector<std::string>> args_by_queue;
};
Result<JobRouting> ParseJobRouting(const boost::json::object& job, size_t max_args,
                                   size_t max_arg_bytes);

// The field `reroute` as written into a job document.
boost::json::object RoutesToJson(const Routes& routes);
// "oom_killed=highmem,encoder_unavailable=cpu" (the --reroute syntax, reasons in table order).
std::string RoutesText(const Routes& routes);

// Where an attempt of a job in queue `here` that ended with `reason` goes instead of being
// retried or dead-lettered here: the job's own route for the reason, else the worker's default.
// None when there is no route, it names `here`, the loop rule refuses it (the job was rerouted
// for this reason before), or the attempt was the job's last (`attempt` >= `max_attempts`).
std::optional<std::string> ChooseRoute(const JobRouting& job, const Routes& worker_default,
                                       Reason reason, std::string_view here, int attempt,
                                       int max_attempts);

// `document` (a job document as claimed) with `record` appended to its `reroutes` list: what
// goes to the destination queue. Every other field is kept as it was. Empty when `document` is
// not a JSON object.
std::string AppendReroute(std::string_view document, const RerouteRecord& record);

// One record as JSON: {"reason", "from", "to", "at"}.
boost::json::object RerouteRecordToJson(const RerouteRecord& record);

}  // namespace ffpod
