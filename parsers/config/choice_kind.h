// The `Choice` kind of flag value (flag_table.cc): one of a few names, each standing for a value
// of the field's type. A template, so it lives in a header; pure, thread-compatible.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/config/config_table.h"

namespace ffpod {

// One of a few names. A name whose value an earlier name already has is an alias: accepted,
// but neither listed in the error nor shown.
template <typename T>
FieldAccess Choice(T Config::*field, std::vector<std::pair<std::string_view, T>> names) {
  std::string expected;
  std::vector<T> seen;
  std::vector<std::string_view> listed;
  for (const auto& [name, value] : names) {
    if (std::find(seen.begin(), seen.end(), value) != seen.end()) continue;
    seen.push_back(value);
    listed.push_back(name);
  }
  for (size_t i = 0; i < listed.size(); ++i) {
    expected += (i == 0 ? "" : i + 1 == listed.size() ? " or " : ", ") + std::string(listed[i]);
  }
  return {[=](Config& c, std::string_view v) -> Result<bool> {
            for (const auto& [name, value] : names) {
              if (v == name) {
                c.*field = value;
                return true;
              }
            }
            return Error{expected};
          },
          [=](const Config& c) {
            for (const auto& [name, value] : names) {
              if (c.*field == value) return std::string(name);
            }
            return std::string();
          }};
}

}  // namespace ffpod
