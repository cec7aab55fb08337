// The kinds of value the flag and variable tables parse (parsers/config/flag_table.cc):
// seconds, whole numbers, text with a check, switches, lists, labels, durations, ports, the
// queue list. A kind's getter renders what its setter parses, so a default Config's values are
// the defaults --help and the docs show. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/config/config_table.h"

namespace ffpod::flag_kinds {

using TextCheck = Result<bool> (*)(std::string_view);

FieldAccess Seconds(double Config::*field, double min, double max);
FieldAccess PositiveSeconds(std::optional<double> Config::*field);
FieldAccess Integer(int Config::*field, int min, int max);
FieldAccess OptionalInteger(std::optional<int> Config::*field, int min, int max);
FieldAccess Text(std::string Config::*field, TextCheck check);
Result<bool> NonEmpty(std::string_view v);
Result<bool> JobId(std::string_view v);
FieldAccess QueueList();
Result<bool> Traceparent(std::string_view v);
Result<bool> ListenAddress(std::string_view v);
FieldAccess Switch(bool Config::*field);
FieldAccess List(std::vector<std::string> Config::*field);
FieldAccess Labels(std::map<std::string, std::string> Config::*field);
FieldAccess AddedList(std::vector<std::string> Config::*field, bool (*check)(std::string_view),
                      std::string_view expected);
FieldAccess Duration(std::optional<int64_t> Config::*field);
Result<bool> ReasonName(std::string_view v);
FieldAccess Port(int Config::*field);

}  // namespace ffpod::flag_kinds
