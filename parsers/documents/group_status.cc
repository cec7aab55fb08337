#include "parsers/documents/group_status.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>

namespace ffpod {

namespace json = boost::json;

namespace {

json::value Text(const HashFieldList& fields, const std::string& key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return json::value(v);
  }
  return nullptr;
}

int64_t Count(const HashFieldList& fields, const std::string& key) {
  json::value v = Text(fields, key);
  return v.is_string() ? std::atoll(v.as_string().c_str()) : 0;
}

json::object Member(const std::string& id, const std::string& record) {
  json::object m{{"id", id},
                 {"state", nullptr},
                 {"reason", nullptr},
                 {"attempt", nullptr},
                 {"finished_at", nullptr}};
  boost::system::error_code ec;
  json::value parsed = json::parse(record, ec);
  if (ec || !parsed.is_object()) return m;
  for (const char* key : {"state", "reason", "attempt", "finished_at"}) {
    if (const json::value* v = parsed.as_object().if_contains(key)) m[key] = *v;
  }
  return m;
}

}  // namespace

json::object GroupStatusDocument(const std::string& id, const std::string& queue,
                                 const HashFieldList& group, const HashFieldList& members) {
  json::object doc{{"id", id},
                   {"queue", queue},
                   {"outcome", Text(group, "outcome")},
                   {"total", Count(group, "total")}};
  json::value size = Text(group, "size");
  doc["size"] = size.is_string() ? json::value(Count(group, "size")) : json::value(nullptr);
  json::object counts;
  for (const char* state : {"pending", "running", "delayed", "succeeded", "dead", "cancelled"}) {
    counts[state] = Count(group, state);
  }
  doc["counts"] = std::move(counts);
  HashFieldList sorted = members;
  std::sort(sorted.begin(), sorted.end());
  json::array list;
  for (const auto& [member, record] : sorted) list.emplace_back(Member(member, record));
  doc["members"] = std::move(list);
  for (const char* key : {"created_at", "updated_at", "finished_at"}) doc[key] = Text(group, key);
  doc["reopened"] = Count(group, "reopened");
  json::value result = Text(group, "result");
  if (result.is_string()) {
    boost::system::error_code ec;
    json::value parsed = json::parse(result.as_string(), ec);
    if (!ec) result = std::move(parsed);
  }
  doc["result"] = std::move(result);
  return doc;
}

}  // namespace ffpod
