// Child processes: spawning them the way a supervisor must (after ninja's subprocess-posix and
// tini's spawn), reaping them, and running short commands with a timeout.
//
// Every child gets: its own process group (so a stop reaches its whole tree and a terminal's
// ^C does not), a parent-death signal (it never outlives ffpod), default signal dispositions
// and an empty signal mask (a shell's inherited SIG_IGN would defeat ffmpeg's own handlers), and
// no file descriptors of ffpod's but the ones passed on purpose, and an environment without
// ffpod's own credentials (parsers/config/child_env.h). Exec failures come back as 127 (not found)
// / 126 (not executable), like tini.
//
// The supervisor reaches all of this through one interface, Processes (at the end): OsProcesses
// is the real one, and tests/fakes/fake_processes.h scripts children for unit tests.
//
// Threading: everything here runs on the one io_context thread that owns it.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "parsers/ffmpeg/exit_status.h"
#include "probes/os/process_group.h"

namespace ffpod {

// Finds `name` on $PATH (or returns it when it contains a '/'). Empty when not found.
std::string FindExecutable(const std::string& name);

// Makes sure fds 0, 1 and 2 are open (on /dev/null when they are not), so pipes created later
// never land on them. Call once at start-up.
void EnsureStandardFds();

// A pipe whose ends are close-on-exec. Returns false (errno set) on failure.
bool MakePipe(int fds[2]);

struct SpawnOptions {
  std::string executable;         // absolute path, or a name looked up on $PATH
  std::vector<std::string> args;  // argv[1..]; never passed through a shell
  // File descriptors of ffpod that become the child's 0, 1 and 2; -1 means /dev/null, and
  // kInherit means the child shares ffpod's own.
  static constexpr int kInherit = -2;
  int stdin_fd = -1;
  int stdout_fd = kInherit;
  int stderr_fd = kInherit;
  // Further descriptors: {target fd in the child, fd of ffpod}.
  std::vector<std::pair<int, int>> extra_fds;
  int parent_death_signal = 9;  // SIGKILL
  // The child's environment, "K=V". nullopt: ChildEnvironment() of ffpod's with the default
  // allowlist alone (never ffpod's whole environment).
  std::optional<std::vector<std::string>> environment;
  // Extra environment entries "K=V" on top of it.
  std::vector<std::string> extra_env;
};

struct SpawnOutcome {
  pid_t pid = -1;                         // > 0 when the child runs
  std::optional<ExitStatus> not_started;  // 127/126 when exec failed
  std::string error;                      // what went wrong, when pid <= 0
};

// Forks and execs. The child's own process group id equals its pid.
SpawnOutcome Spawn(boost::asio::io_context& io, const SpawnOptions& options);

// Reaps children and hands each status to whoever watches that pid.
//
// With `reap_orphans` (ffpod is PID 1, or --subreaper), every child is reaped with
// waitpid(-1), including orphans re-parented to ffpod, and counted. Otherwise only watched pids
// are reaped. Create it before spawning anything.
class ChildReaper {
 public:
  using ExitHandler = std::function<void(int wait_status)>;

  ChildReaper(boost::asio::io_context& io, bool reap_orphans);
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // Calls `on_exit` on the loop once `pid` has been reaped.
  void Watch(pid_t pid, ExitHandler on_exit);
  // Stops watching `pid` (its handler is dropped; the pid is still reaped).
  void Forget(pid_t pid);
  size_t watched() const { return handlers_.size(); }
  uint64_t orphans_reaped() const { return orphans_reaped_; }
  // Reaps what has exited now. Called on SIGCHLD and by a slow backstop timer.
  void ReapNow();

 private:
  void WaitSignal();
  void ArmBackstop();

  boost::asio::io_context& io_;
  bool reap_orphans_;
  boost::asio::signal_set sigchld_;
  boost::asio::steady_timer backstop_;
  std::map<pid_t, ExitHandler> handlers_;
  uint64_t orphans_reaped_ = 0;
};

// The captured result of a short command.
struct CommandOutput {
  ExitStatus exit;
  std::string out;
  std::string err;
  bool timed_out = false;  // killed at the timeout
  bool cancelled = false;  // killed by the caller's stop function
};

// Runs a short command (ffprobe, `ffmpeg -version`, a capability test encode) with stdin on
// /dev/null, capturing up to `max_output` bytes of each stream; its process group is killed
// with SIGKILL at `timeout`. `done` is called exactly once, on the loop. The returned function
// (call it on the loop; it may be ignored) kills the process group now if it still runs, and
// `done` then reports `cancelled`.
std::function<void()> RunCommand(boost::asio::io_context& io, ChildReaper& reaper,
                                 const std::string& executable,
                                 const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout,
                                 std::function<void(CommandOutput)> done,
                                 size_t max_output = 1 << 20,
                                 std::optional<std::vector<std::string>> environment = {});

// The processes the supervisor starts, watches and signals, as one interface: what the job, the
// duration probes and the capability probes use, so that a fake can stand in for the OS.
class Processes {
 public:
  using ExitHandler = ChildReaper::ExitHandler;
  using CommandDone = std::function<void(CommandOutput)>;

  virtual ~Processes() = default;
  // Spawn above.
  virtual SpawnOutcome Spawn(const SpawnOptions& options) = 0;
  // FindExecutable above.
  virtual std::string Resolve(const std::string& name) = 0;
  // ChildReaper::Watch and ChildReaper::Forget.
  virtual void Watch(pid_t pid, ExitHandler on_exit) = 0;
  virtual void Forget(pid_t pid) = 0;
  // `signal` to the process `pid` alone.
  virtual void Signal(pid_t pid, int signal) = 0;
  // `signal` to the process group `pgid` (a child's pid: its whole tree).
  virtual void SignalGroup(pid_t pgid, int signal) = 0;
  // FfmpegInGroup (probes/os/process_group.h): the one ffmpeg running in process group `pgid`,
  // a wrapper's. A stand-in that has none returns nullopt.
  virtual std::optional<RunningFfmpeg> FfmpegIn(pid_t pgid) {
    (void)pgid;
    return std::nullopt;
  }
  // RunCommand above.
  virtual std::function<void()> Run(const std::string& executable,
                                    const std::vector<std::string>& args,
                                    std::chrono::milliseconds timeout, CommandDone done,
                                    size_t max_output = 1 << 20) = 0;
};

// The operating system's processes, on `io` with `reaper`; both outlive it. Every child gets
// ChildEnvironment() of ffpod's environment (read once, here) with `ffmpeg_env`, the operator's
// --ffmpeg-env patterns.
class OsProcesses final : public Processes {
 public:
  OsProcesses(boost::asio::io_context& io, ChildReaper& reaper,
              const std::vector<std::string>& ffmpeg_env = {});

  SpawnOutcome Spawn(const SpawnOptions& options) override;
  std::string Resolve(const std::string& name) override { return FindExecutable(name); }
  void Watch(pid_t pid, ExitHandler on_exit) override;
  void Forget(pid_t pid) override { reaper_.Forget(pid); }
  void Signal(pid_t pid, int signal) override;
  void SignalGroup(pid_t pgid, int signal) override;
  std::optional<RunningFfmpeg> FfmpegIn(pid_t pgid) override;
  std::function<void()> Run(const std::string& executable, const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout, CommandDone done,
                            size_t max_output = 1 << 20) override;

 private:
  boost::asio::io_context& io_;
  ChildReaper& reaper_;
  std::vector<std::string> environment_;
};

}  // namespace ffpod
