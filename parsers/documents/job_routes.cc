#include "parsers/documents/job_routes.h"

#include <algorithm>
#include <boost/json.hpp>

#include "parsers/common/json_text.h"

namespace ffpod {

namespace json = boost::json;

bool IsValidQueueName(std::string_view name) {
  return !name.empty() && name.size() <= 200 &&
         name.find_first_of(" \t\r\n") == std::string_view::npos;
}

bool IsRoutableReason(Reason reason) {
  switch (reason) {
    case Reason::kOk:
    case Reason::kPreempted:
    case Reason::kCancelled:
    case Reason::kWorkerLost:
    case Reason::kBadJob:
      return false;
    default:
      return true;
  }
}

Result<std::pair<Reason, std::string>> ParseRoute(std::string_view reason, std::string_view queue) {
  std::optional<Reason> r = ReasonFromName(reason);
  if (!r || !IsRoutableReason(*r)) {
    return Error{"\"" + std::string(reason) +
                 "\" is not a failure reason another pool can fix (docs/failure-reasons.md)"};
  }
  if (!IsValidQueueName(queue)) {
    return Error{"the queue \"" + std::string(queue) +
                 "\" is not a queue name of 1-200 characters without blanks"};
  }
  return std::make_pair(*r, std::string(queue));
}

namespace {

Error FieldError(const std::string& field, std::string_view what) {
  return Error{"field \"" + field + "\" " + std::string(what)};
}

Result<Routes> ParseReroute(const json::object& job) {
  Routes routes;
  const json::value* v = job.if_contains("reroute");
  if (v == nullptr || v->is_null()) return routes;
  if (!v->is_object()) return FieldError("reroute", "must be an object of reason to queue name");
  for (const auto& kv : v->as_object()) {
    std::string field = "reroute." + std::string(kv.key());
    if (!kv.value().is_string()) return FieldError(field, "must be a queue name (a string)");
    auto route = ParseRoute(kv.key(), kv.value().as_string());
    if (!route) return FieldError(field, "is wrong: " + route.error().message);
    routes[route->first] = route->second;
  }
  return routes;
}

Result<std::vector<RerouteRecord>> ParseReroutes(const json::object& job) {
  std::vector<RerouteRecord> out;
  const json::value* v = job.if_contains("reroutes");
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return FieldError("reroutes", "must be an array of moves");
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    std::string field = "reroutes[" + std::to_string(i) + "]";
    const json::object* o = v->as_array()[i].if_object();
    auto text = [o](std::string_view key) -> const json::string* {
      const json::value* value = o ? o->if_contains(key) : nullptr;
      return value ? value->if_string() : nullptr;
    };
    if (o == nullptr || !text("reason") || !text("from") || !text("to")) {
      return FieldError(field, "must be an object with the strings reason, from and to");
    }
    std::optional<Reason> reason = ReasonFromName(*text("reason"));
    if (!reason) return FieldError(field + ".reason", "is not a failure reason");
    out.push_back({.reason = *reason,
                   .from = std::string(*text("from")),
                   .to = std::string(*text("to")),
                   .at = text("at") ? std::string(*text("at")) : std::string()});
  }
  return out;
}

Result<std::vector<std::string>> ParseQueueArgs(const json::value& v, const std::string& field,
                                                size_t max_args, size_t max_arg_bytes) {
  if (!v.is_array() || v.as_array().empty()) {
    return FieldError(field, "must be a non-empty array of strings");
  }
  if (v.as_array().size() > max_args) {
    return FieldError(field, "has more than " + std::to_string(max_args) + " elements");
  }
  std::vector<std::string> args;
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const json::value& a = v.as_array()[i];
    std::string name = field + "[" + std::to_string(i) + "]";
    if (!a.is_string()) return FieldError(name, "must be a string");
    std::string_view s = a.as_string();
    if (s.size() > max_arg_bytes) {
      return FieldError(name, "is longer than " + std::to_string(max_arg_bytes) + " bytes");
    }
    if (s.find('\0') != std::string_view::npos) return FieldError(name, "contains a NUL byte");
    args.emplace_back(s);
  }
  return args;
}

}  // namespace

Result<JobRouting> ParseJobRouting(const json::object& job, size_t max_args, size_t max_arg_bytes) {
  JobRouting routing;
  auto reroute = ParseReroute(job);
  if (!reroute) return reroute.error();
  routing.reroute = std::move(reroute).value();
  auto reroutes = ParseReroutes(job);
  if (!reroutes) return reroutes.error();
  routing.reroutes = std::move(reroutes).value();
  const json::value* by_queue = job.if_contains("args_by_queue");
  if (by_queue == nullptr || by_queue->is_null()) return routing;
  if (!by_queue->is_object()) {
    return FieldError("args_by_queue", "must be an object of queue name to ffmpeg arguments");
  }
  for (const auto& kv : by_queue->as_object()) {
    std::string field = "args_by_queue." + std::string(kv.key());
    if (!IsValidQueueName(kv.key())) {
      return FieldError(field, "does not name a queue (1-200 characters without blanks)");
    }
    auto args = ParseQueueArgs(kv.value(), field, max_args, max_arg_bytes);
    if (!args) return args.error();
    routing.args_by_queue[std::string(kv.key())] = std::move(args).value();
  }
  return routing;
}

json::object RoutesToJson(const Routes& routes) {
  json::object o;
  for (const ReasonInfo& info : AllReasons()) {
    if (auto it = routes.find(info.reason); it != routes.end()) o[info.name] = it->second;
  }
  return o;
}

std::string RoutesText(const Routes& routes) {
  std::string out;
  for (const ReasonInfo& info : AllReasons()) {
    auto it = routes.find(info.reason);
    if (it == routes.end()) continue;
    out += (out.empty() ? "" : ",") + std::string(info.name) + "=" + it->second;
  }
  return out;
}

std::optional<std::string> ChooseRoute(const JobRouting& job, const Routes& worker_default,
                                       Reason reason, std::string_view here, int attempt,
                                       int max_attempts) {
  if (!IsRoutableReason(reason) || attempt >= max_attempts) return std::nullopt;
  bool moved_before = std::any_of(job.reroutes.begin(), job.reroutes.end(),
                                  [reason](const RerouteRecord& r) { return r.reason == reason; });
  if (moved_before) return std::nullopt;  // the loop rule
  const std::string* to = nullptr;
  if (auto own = job.reroute.find(reason); own != job.reroute.end()) {
    to = &own->second;  // the job's own route wins over the worker's default
  } else if (auto dflt = worker_default.find(reason); dflt != worker_default.end()) {
    to = &dflt->second;
  }
  if (to == nullptr || *to == here) return std::nullopt;
  return *to;
}

json::object RerouteRecordToJson(const RerouteRecord& record) {
  return {{"reason", ReasonName(record.reason)},
          {"from", record.from},
          {"to", record.to},
          {"at", record.at}};
}

std::string AppendReroute(std::string_view document, const RerouteRecord& record) {
  boost::system::error_code ec;
  json::value root = json::parse(document, ec);
  if (ec || !root.is_object()) return {};
  json::object& job = root.as_object();
  json::value& list = job["reroutes"];
  if (!list.is_array()) list = json::array();
  list.as_array().push_back(RerouteRecordToJson(record));
  return JsonText(job);
}

}  // namespace ffpod
