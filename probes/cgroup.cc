#include "probes/cgroup.h"

#include <fstream>
#include <sstream>

#include "parsers/common/text.h"

namespace ffpod {

std::optional<uint64_t> ParseOomKillCount(std::string_view memory_events_or_oom_control) {
  std::string_view text = memory_events_or_oom_control;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? text.npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    constexpr std::string_view kKey = "oom_kill ";
    if (!line.starts_with(kKey)) continue;
    if (std::optional<uint64_t> v = ParseUint64(line.substr(kKey.size()))) return v;
  }
  return std::nullopt;
}

CgroupPaths ParseProcSelfCgroup(std::string_view content) {
  CgroupPaths paths;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t eol = content.find('\n', pos);
    std::string_view line =
        content.substr(pos, eol == std::string_view::npos ? content.npos : eol - pos);
    pos = eol == std::string_view::npos ? content.size() : eol + 1;
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view id = line.substr(0, c1);
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string_view path = line.substr(c2 + 1);
    if (id == "0" && controllers.empty()) {
      paths.v2 = std::string(path);
      continue;
    }
    // v1: a comma-separated controller list containing "memory".
    size_t start = 0;
    while (start <= controllers.size()) {
      size_t comma = controllers.find(',', start);
      std::string_view c = controllers.substr(
          start, comma == std::string_view::npos ? controllers.npos : comma - start);
      if (c == "memory") paths.v1_memory = std::string(path);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  return paths;
}

namespace {

std::optional<std::string> Slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<uint64_t> ReadOomKillCount(const std::string& proc_self_cgroup,
                                         const std::string& root) {
  auto content = Slurp(proc_self_cgroup);
  if (!content) return std::nullopt;
  CgroupPaths paths = ParseProcSelfCgroup(*content);
  if (paths.v2) {
    std::string dir = root + (*paths.v2 == "/" ? "" : *paths.v2);
    if (auto events = Slurp(dir + "/memory.events")) {
      if (auto n = ParseOomKillCount(*events)) return n;
    }
  }
  if (paths.v1_memory) {
    std::string dir = root + "/memory" + (*paths.v1_memory == "/" ? "" : *paths.v1_memory);
    if (auto control = Slurp(dir + "/memory.oom_control")) return ParseOomKillCount(*control);
  }
  return std::nullopt;
}

}  // namespace ffpod
