#include "parsers/config/child_env.h"

#include <algorithm>

#include "parsers/common/text.h"

namespace ffpod {

bool EnvPatternCovers(std::string_view pattern, std::string_view name) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return name.starts_with(pattern);
  }
  return name == pattern;
}

bool IsEnvPattern(std::string_view pattern) {
  if (!pattern.empty() && pattern.back() == '*') pattern.remove_suffix(1);
  if (pattern.empty()) return false;
  return !IsDigit(pattern.front()) && std::all_of(pattern.begin(), pattern.end(), [](char c) {
    return IsAsciiAlnum(c) || c == '_';
  });
}

std::vector<std::string> ChildEnvironment(std::span<const std::string> environment,
                                          std::span<const std::string> extra) {
  std::vector<std::string> out;
  for (const std::string& entry : environment) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string_view name = std::string_view(entry).substr(0, eq);
    auto covers = [name](std::string_view pattern) { return EnvPatternCovers(pattern, name); };
    if (std::any_of(std::begin(kChildEnvAllowlist), std::end(kChildEnvAllowlist), covers) ||
        std::any_of(extra.begin(), extra.end(), covers)) {
      out.push_back(entry);
    }
  }
  return out;
}

}  // namespace ffpod
