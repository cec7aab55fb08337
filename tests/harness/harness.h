// Test harness shared by unit and integration tests: temporary directories, free ports,
// running commands and reading files. Test-only code; never linked into ffpod.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace ffpod::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int FreePort();

std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, std::string_view content);
std::string FixturePath(const std::string& relative);  // tests/fixtures/<relative>

struct CommandResult {
  int status = -1;        // shell-style: exit code, or 128+signal
  std::string out;        // stdout
  std::string err;        // stderr
};

// Runs argv (no shell) to completion with stdin from /dev/null, capturing stdout and stderr.
// Kills it with SIGKILL after `timeout` and reports status 137.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60),
                         const std::vector<std::string>& extra_env = {});

}  // namespace ffpod::testing
