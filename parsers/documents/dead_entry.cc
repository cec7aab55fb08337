#include "parsers/documents/dead_entry.h"

#include <boost/json.hpp>

#include "parsers/documents/job.h"
#include "parsers/telemetry/log_format.h"

namespace ffpod {

namespace json = boost::json;

namespace {

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The id the job document gives, when it is a JSON object with a valid one.
std::string DocumentId(const std::string& document) {
  json::error_code ec;
  json::value doc = json::parse(document, ec);
  if (ec || !doc.is_object()) return {};
  std::string id = StringField(doc.as_object(), "id");
  return IsValidJobId(id) ? id : std::string();
}

}  // namespace

std::optional<DeadEntry> ParseDeadEntry(std::string_view raw) {
  json::error_code ec;
  json::value v = json::parse(raw, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  const json::value* job = o.if_contains("job");
  if (job == nullptr || !job->is_string()) return std::nullopt;
  DeadEntry e;
  e.raw = std::string(raw);
  e.document = std::string(job->as_string());
  if (const json::value* r = o.if_contains("result"); r != nullptr && r->is_object()) {
    e.result = r->as_object();
  }
  e.id = StringField(e.result, "id");
  if (!IsValidJobId(e.id)) e.id = DocumentId(e.document);
  e.reason = StringField(e.result, "reason");
  e.message = StringField(e.result, "message");
  if (const json::value* a = e.result.if_contains("attempt"); a != nullptr && a->is_int64()) {
    e.attempts = a->as_int64();
  }
  e.dead_at = StringField(e.result, "finished_at");
  e.dead_at_time = ParseTimestamp(e.dead_at);
  return e;
}

bool MatchesDeadFilter(const DeadEntry& entry, const DeadFilter& filter,
                       std::chrono::system_clock::time_point now) {
  if (!filter.id.empty() && entry.id != filter.id) return false;
  if (!filter.reason.empty() && entry.reason != filter.reason) return false;
  if (filter.older_than_s) {
    if (!entry.dead_at_time) return false;
    if (now - *entry.dead_at_time < std::chrono::seconds(*filter.older_than_s)) return false;
  }
  return true;
}

json::object DeadSummary(const DeadEntry& entry) {
  json::object o;
  o["id"] = entry.id;
  o["reason"] = entry.reason;
  o["message"] = entry.message;
  o["attempts"] = entry.attempts;
  o["dead_at"] = entry.dead_at.empty() ? json::value(nullptr) : json::value(entry.dead_at);
  return o;
}

json::object DeadEntryDocument(const DeadEntry& entry) {
  json::object o;
  o["id"] = entry.id;
  o["dead_at"] = entry.dead_at.empty() ? json::value(nullptr) : json::value(entry.dead_at);
  json::error_code ec;
  json::value doc = json::parse(entry.document, ec);
  o["job"] = ec ? json::value(entry.document) : doc;
  o["result"] = entry.result;
  return o;
}

}  // namespace ffpod
