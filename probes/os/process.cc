#include "probes/os/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
#include <cerrno>
#include <cstring>

#include "parsers/config/child_env.h"

extern char** environ;

namespace ffpod {

namespace bp = boost::process::v2;
namespace asio = boost::asio;

std::string FindExecutable(const std::string& name) {
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return name;
  auto path = bp::environment::find_executable(name);
  return path.empty() ? std::string() : path.string();
}

void EnsureStandardFds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      int null_fd = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (null_fd >= 0 && null_fd != fd) {
        ::dup2(null_fd, fd);
        ::close(null_fd);
      }
    }
  }
}

bool MakePipe(int fds[2]) { return ::pipe2(fds, O_CLOEXEC) == 0; }

namespace {

// ffpod's environment as "K=V" entries.
std::vector<std::string> OwnEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

// Boost.Process initializer: the child-side set-up every ffpod child gets.
struct ChildSetup {
  const SpawnOptions* options;
  pid_t parent;

  boost::system::error_code on_setup(bp::posix::default_launcher& launcher,
                                     const bp::filesystem::path&, const char* const*) const {
    for (const auto& [target, fd] : options->extra_fds) {
      (void)fd;
      launcher.fd_whitelist.push_back(target);
    }
    return {};
  }

  // Runs in the child between fork and exec: async-signal-safe calls only.
  boost::system::error_code on_exec_setup(bp::posix::default_launcher&, const bp::filesystem::path&,
                                          const char* const*) const {
    ::setpgid(0, 0);
    if (options->parent_death_signal > 0) {
      ::prctl(PR_SET_PDEATHSIG, options->parent_death_signal);
      // ffpod may have died between fork and prctl: then nobody would ever stop this child.
      if (::getppid() != parent) ::_exit(127);
    }
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      ::sigaction(sig, &dfl, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [target, fd] : options->extra_fds) {
      if (fd == target) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags == -1 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == -1) {
          return {errno, boost::system::system_category()};
        }
      } else if (::dup2(fd, target) == -1) {
        return {errno, boost::system::system_category()};
      }
    }
    return {};
  }
};

// Boost.Process wants a FILE*/fd/path/nullptr per stdio slot.
template <int Target>
using Binding = bp::detail::process_io_binding<Target>;

template <int Target>
Binding<Target> MakeBinding(int fd) {
  if (fd == SpawnOptions::kInherit) return Binding<Target>(Target);
  if (fd < 0) return Binding<Target>(bp::filesystem::path("/dev/null"));
  return Binding<Target>(fd);
}

}  // namespace

SpawnOutcome Spawn(asio::io_context& io, const SpawnOptions& options) {
  SpawnOutcome outcome;
  std::string exe = FindExecutable(options.executable);
  if (exe.empty()) {
    outcome.not_started = ExitStatus::NotStarted(127);
    outcome.error = "executable \"" + options.executable + "\" was not found on PATH";
    return outcome;
  }
  struct stat st;
  if (::stat(exe.c_str(), &st) != 0) {
    int err = errno;
    outcome.not_started = ExitStatus::NotStarted(ExecFailureCode(err));
    outcome.error = "cannot execute \"" + exe + "\": " + std::strerror(err);
    return outcome;
  }

  std::vector<std::string> env_store =
      options.environment ? *options.environment : ChildEnvironment(OwnEnvironment(), {});
  for (const auto& e : options.extra_env) env_store.push_back(e);

  bp::posix::default_launcher launcher;
  std::vector<const char*> envp;
  envp.reserve(env_store.size() + 1);
  for (const auto& e : env_store) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  launcher.env = envp.data();

  ChildSetup setup{&options, ::getpid()};
  bp::process_stdio stdio{MakeBinding<STDIN_FILENO>(options.stdin_fd),
                          MakeBinding<STDOUT_FILENO>(options.stdout_fd),
                          MakeBinding<STDERR_FILENO>(options.stderr_fd)};
  boost::system::error_code ec;
  auto proc =
      launcher(io.get_executor(), ec, bp::filesystem::path(exe), options.args, stdio, setup);
  if (ec) {
    outcome.not_started = ExitStatus::NotStarted(ExecFailureCode(ec.value()));
    outcome.error = "cannot execute \"" + exe + "\": " + ec.message();
    return outcome;
  }
  outcome.pid = proc.id();
  proc.detach();  // ChildReaper owns reaping
  return outcome;
}

ChildReaper::ChildReaper(asio::io_context& io, bool reap_orphans)
    : io_(io), reap_orphans_(reap_orphans), sigchld_(io, SIGCHLD), backstop_(io) {
  WaitSignal();
  ArmBackstop();
}

void ChildReaper::WaitSignal() {
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    ReapNow();
    WaitSignal();
  });
}

void ChildReaper::ArmBackstop() {
  // SIGCHLD is reliable, but a child reaped late only costs a second: cheap insurance.
  backstop_.expires_after(std::chrono::seconds(1));
  backstop_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    ReapNow();
    ArmBackstop();
  });
}

void ChildReaper::Watch(pid_t pid, ExitHandler on_exit) {
  handlers_[pid] = std::move(on_exit);
  // The child may already have exited (its SIGCHLD is pending): reap on the next turn.
  asio::post(io_, [this] { ReapNow(); });
}

void ChildReaper::Forget(pid_t pid) { handlers_.erase(pid); }

void ChildReaper::ReapNow() {
  auto deliver = [this](pid_t pid, int status) {
    auto it = handlers_.find(pid);
    if (it == handlers_.end()) {
      ++orphans_reaped_;
      return;
    }
    ExitHandler handler = std::move(it->second);
    handlers_.erase(it);
    handler(status);
  };
  if (reap_orphans_) {
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      deliver(pid, status);
    }
    return;
  }
  std::vector<pid_t> pids;
  for (const auto& [pid, handler] : handlers_) pids.push_back(pid);
  for (pid_t pid : pids) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) deliver(pid, status);
  }
}

namespace {

struct CommandState : std::enable_shared_from_this<CommandState> {
  CommandState(asio::io_context& io, size_t max) : out(io), err(io), timer(io), max_output(max) {}
  asio::posix::stream_descriptor out;
  asio::posix::stream_descriptor err;
  asio::steady_timer timer;
  size_t max_output;
  std::array<char, 16384> out_buf{};
  std::array<char, 16384> err_buf{};
  CommandOutput result;
  pid_t pid = -1;
  bool exited = false;
  int open_streams = 2;
  std::function<void(CommandOutput)> done;

  void Read(asio::posix::stream_descriptor& sd, std::array<char, 16384>& buf, std::string& sink) {
    auto self = shared_from_this();
    sd.async_read_some(asio::buffer(buf),
                       [self, &sd, &buf, &sink](const boost::system::error_code& ec, size_t n) {
                         if (ec) {
                           boost::system::error_code ignored;
                           sd.close(ignored);
                           --self->open_streams;
                           self->MaybeFinish();
                           return;
                         }
                         if (sink.size() < self->max_output) {
                           sink.append(buf.data(), std::min(n, self->max_output - sink.size()));
                         }
                         self->Read(sd, buf, sink);
                       });
  }

  void MaybeFinish() {
    if (!exited || open_streams > 0 || !done) return;
    timer.cancel();
    auto cb = std::move(done);
    done = nullptr;
    cb(std::move(result));
  }
};

}  // namespace

std::function<void()> RunCommand(asio::io_context& io, ChildReaper& reaper,
                                 const std::string& executable,
                                 const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout,
                                 std::function<void(CommandOutput)> done, size_t max_output,
                                 std::optional<std::vector<std::string>> environment) {
  auto state = std::make_shared<CommandState>(io, max_output);
  state->done = std::move(done);
  // Nothing started: `why` goes to the callback from the loop, like any other answer.
  auto not_started = [&io, &state](std::string why) {
    state->result.exit = ExitStatus::NotStarted(126);
    state->result.err = std::move(why);
    asio::post(io, [state] { state->done(std::move(state->result)); });
    return [] {};
  };
  int out_pipe[2], err_pipe[2];
  if (!MakePipe(out_pipe)) return not_started(std::string("pipe: ") + std::strerror(errno));
  if (!MakePipe(err_pipe)) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return not_started(std::string("pipe: ") + std::strerror(errno));
  }
  // Our ends go to the loop before the spawn: when they cannot be watched, nothing starts.
  boost::system::error_code ec;
  state->out.assign(out_pipe[0], ec);
  if (!ec) {
    out_pipe[0] = -1;  // the descriptor owns it now
    state->err.assign(err_pipe[0], ec);
    if (!ec) err_pipe[0] = -1;
  }
  if (ec) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return not_started("pipe: " + ec.message());
  }
  SpawnOptions options;
  options.executable = executable;
  options.args = args;
  options.stdin_fd = -1;
  options.stdout_fd = out_pipe[1];
  options.stderr_fd = err_pipe[1];
  options.environment = std::move(environment);
  SpawnOutcome spawned = Spawn(io, options);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned.pid <= 0) {
    state->result.exit = spawned.not_started.value_or(ExitStatus::NotStarted(126));
    state->result.err = spawned.error;
    state->exited = true;
    state->open_streams = 0;
    state->out.close(ec);
    state->err.close(ec);
    asio::post(io, [state] { state->MaybeFinish(); });
    return [] {};
  }
  state->pid = spawned.pid;
  reaper.Watch(spawned.pid, [state](int status) {
    state->result.exit = DecodeWaitStatus(status);
    state->exited = true;
    state->MaybeFinish();
  });
  state->Read(state->out, state->out_buf, state->result.out);
  state->Read(state->err, state->err_buf, state->result.err);
  state->timer.expires_after(timeout);
  state->timer.async_wait([state](const boost::system::error_code& ec) {
    if (ec || state->exited) return;
    state->result.timed_out = true;
    ::kill(-state->pid, SIGKILL);
  });
  return [weak = std::weak_ptr<CommandState>(state)] {
    auto state = weak.lock();
    if (!state || state->exited || !state->done) return;
    state->result.cancelled = true;
    ::kill(-state->pid, SIGKILL);
  };
}

OsProcesses::OsProcesses(asio::io_context& io, ChildReaper& reaper,
                         const std::vector<std::string>& ffmpeg_env)
    : io_(io), reaper_(reaper), environment_(ChildEnvironment(OwnEnvironment(), ffmpeg_env)) {}

SpawnOutcome OsProcesses::Spawn(const SpawnOptions& options) {
  if (options.environment) return ffpod::Spawn(io_, options);
  SpawnOptions with_env = options;
  with_env.environment = environment_;
  return ffpod::Spawn(io_, with_env);
}

void OsProcesses::Watch(pid_t pid, ExitHandler on_exit) { reaper_.Watch(pid, std::move(on_exit)); }

void OsProcesses::Signal(pid_t pid, int signal) {
  if (pid > 0) ::kill(pid, signal);
}

void OsProcesses::SignalGroup(pid_t pgid, int signal) {
  if (pgid > 0) ::kill(-pgid, signal);
}

std::optional<RunningFfmpeg> OsProcesses::FfmpegIn(pid_t pgid) { return FfmpegInGroup(pgid); }

std::function<void()> OsProcesses::Run(const std::string& executable,
                                       const std::vector<std::string>& args,
                                       std::chrono::milliseconds timeout, CommandDone done,
                                       size_t max_output) {
  return RunCommand(io_, reaper_, executable, args, timeout, std::move(done), max_output,
                    environment_);
}

}  // namespace ffpod
