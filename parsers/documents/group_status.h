// The document `ffpod status --group ID` prints (docs/queue.md "Job groups"), built from the
// group's two hashes: `Q:group:<id>` (counts, timestamps, and once every member ended its
// outcome and result) and `Q:group:<id>:members` (member id -> JSON record written by the queue
// scripts: state, and for an ended member reason, attempt, message, finished_at). Pure.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ffpod {

using HashFieldList = std::vector<std::pair<std::string, std::string>>;

// {"id", "queue", "outcome" (null while a member is active), "total", "size" (the group_size
// its members gave; null: none), "counts" {pending,
// running, delayed, succeeded, dead, cancelled}, "members" [{id, state, reason, attempt,
// finished_at}] sorted by id, "created_at", "updated_at", "finished_at", "reopened", "result"
// (the group document of the outcome entry, or null)}. A record that is not JSON shows as a
// member with state null.
boost::json::object GroupStatusDocument(const std::string& id, const std::string& queue,
                                        const HashFieldList& group, const HashFieldList& members);

}  // namespace ffpod
