// The entries of the dead-letter list Q:dead (docs/queue.md "Operating the dead list"): each is
// {"job": "<the job document as claimed, as a JSON string>", "result": {<the last result>}},
// newest first. Reading them, choosing them by the `ffpod dead` filters, and the summary line
// `ffpod dead list` prints. Pure; thread-compatible.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ffpod {

struct DeadEntry {
  std::string raw;       // the list element, byte for byte (the scripts remove it by value)
  std::string document;  // the job document as claimed (may be malformed: bad_job)
  std::string id;        // the job's id; empty when neither the result nor the document has one
  std::string reason;    // the last result's reason
  std::string message;
  int64_t attempts = 0;  // the last result's attempt number
  std::string dead_at;   // when it was dead-lettered: the last result's finished_at (RFC 3339)
  std::optional<std::chrono::system_clock::time_point> dead_at_time;
  boost::json::object result;
};

// Nullopt when `raw` is not an entry of that shape (not JSON, no `job` string).
std::optional<DeadEntry> ParseDeadEntry(std::string_view raw);

// What `ffpod dead` acts on. An entry matches when each given filter does.
struct DeadFilter {
  std::string id;                       // this job's entries only
  std::string reason;                   // the last result's reason
  std::optional<int64_t> older_than_s;  // dead-lettered at least this long before `now`
};

// An entry without a readable dead-lettered time matches no --older-than (it is never
// retried or purged by age).
bool MatchesDeadFilter(const DeadEntry& entry, const DeadFilter& filter,
                       std::chrono::system_clock::time_point now);

// {"id", "reason", "message", "attempts", "dead_at"}: one entry of `ffpod dead list`.
boost::json::object DeadSummary(const DeadEntry& entry);

// The whole entry as `ffpod dead show` prints it: {"id", "dead_at", "job": <the document,
// parsed when it is JSON, else the string>, "result"}.
boost::json::object DeadEntryDocument(const DeadEntry& entry);

}  // namespace ffpod
