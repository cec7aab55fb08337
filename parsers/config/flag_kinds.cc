#include "parsers/config/flag_kinds.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "parsers/common/text.h"
#include "parsers/config/child_env.h"
#include "parsers/config/choice_kind.h"
#include "parsers/config/config_table.h"
#include "parsers/config/route_kind.h"
#include "parsers/documents/job.h"
#include "parsers/ffmpeg/reasons.h"
#include "parsers/policy/fair_share.h"

namespace ffpod::flag_kinds {
namespace {

std::optional<bool> ToBool(std::string_view s) {
  std::string l;
  for (char c : s) l += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (l == "1" || l == "true" || l == "yes" || l == "on") return true;
  if (l == "0" || l == "false" || l == "no" || l == "off") return false;
  return std::nullopt;
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string_view part =
        s.substr(start, comma == std::string_view::npos ? s.npos : comma - start);
    part = Trim(part, " ");
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string Number(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

}  // namespace

// --- kinds of value ---

FieldAccess Seconds(double Config::*field, double min, double max) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            auto d = ParseDouble(v);
            if (!d || *d < min || *d > max) {
              return Error{"a number of seconds from " + Number(min) + " to " + Number(max)};
            }
            c.*field = *d;
            return true;
          },
          [=](const Config& c) { return Number(c.*field); }};
}

// An optional limit of the job's own: unset unless given.
FieldAccess PositiveSeconds(std::optional<double> Config::*field) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            auto d = ParseDouble(v);
            if (!d || *d <= 0) return Error{"a positive number of seconds"};
            c.*field = *d;
            return true;
          },
          [=](const Config& c) { return c.*field ? Number(*(c.*field)) : std::string(); }};
}

static std::optional<int> WholeNumber(std::string_view v, int min, int max) {
  auto n = ParseInt64(v);
  if (!n || *n < min || *n > max) return std::nullopt;
  return static_cast<int>(*n);
}

static std::string WholeNumberExpected(int min, int max) {
  return "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
}

FieldAccess Integer(int Config::*field, int min, int max) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            auto n = WholeNumber(v, min, max);
            if (!n) return Error{WholeNumberExpected(min, max)};
            c.*field = *n;
            return true;
          },
          [=](const Config& c) { return std::to_string(c.*field); }};
}

FieldAccess OptionalInteger(std::optional<int> Config::*field, int min, int max) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            auto n = WholeNumber(v, min, max);
            if (!n) return Error{WholeNumberExpected(min, max)};
            c.*field = *n;
            return true;
          },
          [=](const Config& c) { return c.*field ? std::to_string(*(c.*field)) : std::string(); }};
}

// Text, accepted when `check` (if any) accepts it; its error says what was expected.
FieldAccess Text(std::string Config::*field, TextCheck check) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            if (check != nullptr) {
              if (auto ok = check(v); !ok) return ok.error();
            }
            c.*field = std::string(v);
            return true;
          },
          [=](const Config& c) { return c.*field; }};
}

Result<bool> NonEmpty(std::string_view v) {
  if (v.empty()) return Error{"a non-empty value"};
  return true;
}

Result<bool> JobId(std::string_view v) {
  if (!IsValidJobId(v)) return Error{"1-128 characters from [A-Za-z0-9._:-]"};
  return true;
}

// --queue: one name, or for the worker a weighted list (parsers/policy/fair_share.h). Config::queue
// is the first name; commands other than the worker take one name (CheckTogether).
FieldAccess QueueList() {
  return {[](Config& c, std::string_view v) -> Result<bool> {
            auto queues = ParseQueueList(v);
            if (!queues.ok()) return queues.error();
            c.queues = std::move(*queues);
            c.queue = c.queues.front().name;
            return true;
          },
          [](const Config& c) { return QueueListText(c.queues); }};
}

Result<bool> Traceparent(std::string_view v) {
  if (!IsValidTraceparent(v)) return Error{"a W3C traceparent like 00-<32 hex>-<16 hex>-01"};
  return true;
}

Result<bool> ListenAddress(std::string_view v) {
  if (v.empty()) return true;
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) return Error{"HOST:PORT (or an empty value to disable it)"};
  auto port = ParseInt64(v.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return Error{"HOST:PORT with a port from 0 to 65535"};
  std::string_view host = v.substr(0, colon);
  if (host.starts_with('[') != host.ends_with(']')) {
    return Error{"HOST:PORT with [IPv6] in brackets"};
  }
  return true;
}

FieldAccess Switch(bool Config::*field) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            auto b = ToBool(v);
            if (!b) return Error{"true or false"};
            c.*field = *b;
            return true;
          },
          [=](const Config& c) { return std::string(c.*field ? "true" : "false"); }};
}

FieldAccess List(std::vector<std::string> Config::*field) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            c.*field = SplitList(v);
            return true;
          },
          [=](const Config& c) { return Join(c.*field); }};
}

FieldAccess Labels(std::map<std::string, std::string> Config::*field) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            for (const auto& kv : SplitList(v)) {
              size_t eq = kv.find('=');
              if (eq == std::string::npos || eq == 0) {
                return Error{"KEY=VALUE pairs separated by commas"};
              }
              (c.*field)[kv.substr(0, eq)] = kv.substr(eq + 1);
            }
            return true;
          },
          [=](const Config& c) {
            std::vector<std::string> pairs;
            for (const auto& [k, v] : c.*field) pairs.push_back(k + "=" + v);
            return Join(pairs);
          }};
}

// Names that add up: each value (a comma-separated list) is appended to what is there, so the
// flag may be given several times. Each entry must pass `check`.
FieldAccess AddedList(std::vector<std::string> Config::*field, bool (*check)(std::string_view),
                      std::string_view expected) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            std::vector<std::string> items = SplitList(v);
            if (items.empty() ||
                !std::all_of(items.begin(), items.end(),
                             [check](const std::string& item) { return check(item); })) {
              return Error{std::string(expected)};
            }
            for (auto& item : items) {
              if (std::find((c.*field).begin(), (c.*field).end(), item) == (c.*field).end()) {
                (c.*field).push_back(std::move(item));
              }
            }
            return true;
          },
          [=](const Config& c) { return Join(c.*field); }};
}

// A duration of whole units (30s, 15m, 2h, 7d), unset unless given.
FieldAccess Duration(std::optional<int64_t> Config::*field) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            auto s = ParseDurationSeconds(v);
            if (!s) return Error{"a duration like 30s, 15m, 2h or 7d"};
            c.*field = *s;
            return true;
          },
          [=](const Config& c) { return c.*field ? std::to_string(*(c.*field)) + "s" : ""; }};
}

Result<bool> ReasonName(std::string_view v) {
  if (!ReasonFromName(v)) return Error{"a failure reason of docs/failure-reasons.md"};
  return true;
}

// The port of the Kubernetes API server.
FieldAccess Port(int Config::*field) {
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            auto n = WholeNumber(v, 1, 65535);
            if (!n) return Error{"a port from 1 to 65535"};
            c.*field = *n;
            return true;
          },
          [=](const Config& c) { return std::to_string(c.*field); }};
}

}  // namespace ffpod::flag_kinds
