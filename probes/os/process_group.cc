#include "probes/os/process_group.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "parsers/ffmpeg/program_name.h"

namespace ffpod {

namespace {

std::string ReadProcFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The process group of the process whose /proc directory is `dir`, or -1.
pid_t GroupOf(const std::filesystem::path& dir) {
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, the last ')' ends it.
  std::string stat = ReadProcFile(dir / "stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  const char* p = stat.c_str() + close + 1;
  char* end = nullptr;
  for (int field = 0; field < 2; ++field) {  // skip state and ppid
    while (*p == ' ') ++p;
    while (*p != ' ' && *p != '\0') ++p;
  }
  long pgrp = std::strtol(p, &end, 10);
  return end == p ? -1 : static_cast<pid_t>(pgrp);
}

std::vector<std::string> CommandLine(const std::filesystem::path& dir) {
  std::string raw = ReadProcFile(dir / "cmdline");
  std::vector<std::string> argv;
  size_t start = 0;
  while (start < raw.size()) {
    size_t nul = raw.find('\0', start);
    if (nul == std::string::npos) nul = raw.size();
    argv.push_back(raw.substr(start, nul - start));
    start = nul + 1;
  }
  return argv;
}

}  // namespace

std::optional<RunningFfmpeg> FfmpegInGroup(pid_t pgid) {
  if (pgid <= 0) return std::nullopt;
  std::error_code ec;
  std::optional<RunningFfmpeg> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (GroupOf(entry.path()) != pgid) continue;
    std::vector<std::string> argv = CommandLine(entry.path());
    if (argv.empty() || !LooksLikeFfmpeg(argv.front())) continue;
    if (found) return std::nullopt;  // two ffmpegs at once
    found.emplace();
    found->args.assign(argv.begin() + 1, argv.end());
    std::error_code cwd_ec;
    found->cwd = std::filesystem::read_symlink(entry.path() / "cwd", cwd_ec).string();
  }
  return found;
}

}  // namespace ffpod
