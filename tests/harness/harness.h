// Test harness shared by unit and integration tests: temporary directories, free ports,
// running commands and reading files. Test-only code; never linked into ffpod.
#pragma once

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "parsers/ffmpeg/ffmpeg_version.h"

namespace ffpod::testing {

// The FFmpeg release the integration tests run against: FFPOD_TEST_FFMPEG_VERSION (the version
// token of `ffmpeg -version`, e.g. "7.1.5-0+deb13u1"; the matrix tier sets it for each root it
// puts first on PATH), or the host's Debian 12 build, 5.1.9-0+deb12u1. For the few assertions
// that expect a version-specific fact: the exit-status convention, the version in results.
const FfmpegVersion& TestFfmpeg();

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

// Installs the npm packages of `dir` (a folder of the source tree with package.json and its
// lockfile) once, with `npm ci`, under a lock on its package.json (tests run in parallel).
// Returns why they cannot be had ("node is not installed", "npm is not installed"; empty when
// they are there); a failed install fails the calling test.
std::string EnsureNpmPackages(const std::string& dir);

struct CommandResult {
  int status = -1;  // shell-style: exit code, or 128+signal
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv (no shell) to completion with stdin from /dev/null, capturing stdout and stderr.
// Kills it with SIGKILL after `timeout` and reports status 137.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60),
                         const std::vector<std::string>& extra_env = {});

// A process running while the test does something else. stdout/stderr go to files (empty path:
// /dev/null); stdin comes from `stdin_path` (empty: /dev/null). The destructor SIGKILLs and
// reaps it (and its process group when it has its own) if it is still running.
struct ProcessOptions {
  std::vector<std::string> argv;
  std::vector<std::string> extra_env;  // "K=V"
  std::string stdin_path;
  std::string stdout_path;
  std::string stderr_path;
};

class BackgroundProcess {
 public:
  explicit BackgroundProcess(const ProcessOptions& options);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Shell-style status (code, or 128+signal) once it exited; nullopt at the timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Direct children of `pid` (from /proc).
std::vector<pid_t> ChildrenOf(pid_t pid);
// The command name of `pid` (/proc/<pid>/comm), or empty.
std::string ProcessName(pid_t pid);
// True when `pid` is an ffmpeg that runs a job: named ffmpeg and not one of ffpod's probes of
// the build (`ffmpeg -version`, `ffmpeg -buildconf`), which run beside a job at times.
bool IsJobFfmpeg(pid_t pid);
// True when `pid` is a zombie or gone.
bool ProcessGoneOrZombie(pid_t pid);

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// GET http://127.0.0.1:<port><path>; status 0 when the connection failed.
struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
};
HttpResponse HttpGet(int port, const std::string& path);

// Parses every line of `text` as a JSON object; a line that is not one fails the test.
std::vector<boost::json::object> JsonLines(const std::string& text);
// The first record whose "msg" starts with `prefix`, if any.
std::optional<boost::json::object> FindRecord(const std::vector<boost::json::object>& records,
                                              const std::string& prefix);

// The listen port ffpod logged ("listening" record with "port") in the file at `path`.
std::optional<int> LoggedPort(const std::string& path);

}  // namespace ffpod::testing
