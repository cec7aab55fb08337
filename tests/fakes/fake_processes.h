// Processes whose children the test plays: Spawn hands out a pid and keeps the child's ends of
// the pipes it was given (so the test writes the child's stderr and progress stream and reads
// what ffpod wrote to its stdin), signals are recorded instead of sent, and a child exits when
// the test says so, with the wait status it chooses. Short commands (Run) are recorded and end
// when the test ends them. Nothing here forks; the pipes are real, so the code under test reads
// them on its io_context as it would a real child's.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "probes/os/process.h"

namespace ffpod::fakes {

class FakeProcesses final : public Processes {
 public:
  struct Child {
    pid_t pid = -1;
    SpawnOptions options;
    // The child's ends, duplicated at spawn: {fd in the child, our copy}. 0 is the read end of
    // its stdin pipe; 2 and the extra fds are write ends. Closed by Exit or CloseOutputs.
    std::map<int, int> fds;
    std::vector<int> signals;        // Signal(pid, ...), in order
    std::vector<int> group_signals;  // SignalGroup(pid, ...), in order
    bool exited = false;
  };

  struct Command {
    std::string executable;
    std::vector<std::string> args;
    std::chrono::milliseconds timeout{0};
    CommandDone done;
    bool stop_requested = false;  // the returned stop function was called
  };

  FakeProcesses() = default;
  FakeProcesses(const FakeProcesses&) = delete;
  FakeProcesses& operator=(const FakeProcesses&) = delete;
  ~FakeProcesses() override {
    for (auto& child : children_) CloseAll(*child);
  }

  // The next Spawn fails the way exec does: not started, with `code` (127 or 126).
  void FailNextSpawn(int code, std::string error) { fail_next_ = {code, std::move(error)}; }

  SpawnOutcome Spawn(const SpawnOptions& options) override {
    SpawnOutcome outcome;
    if (fail_next_) {
      outcome.not_started = ExitStatus::NotStarted(fail_next_->first);
      outcome.error = std::move(fail_next_->second);
      fail_next_.reset();
      return outcome;
    }
    auto child = std::make_unique<Child>();
    child->pid = next_pid_++;
    child->options = options;
    if (options.stdin_fd >= 0) child->fds[0] = Dup(options.stdin_fd);
    if (options.stdout_fd >= 0) child->fds[1] = Dup(options.stdout_fd);
    if (options.stderr_fd >= 0) child->fds[2] = Dup(options.stderr_fd);
    for (const auto& [target, fd] : options.extra_fds) child->fds[target] = Dup(fd);
    outcome.pid = child->pid;
    children_.push_back(std::move(child));
    return outcome;
  }

  std::string Resolve(const std::string& name) override {
    return name.find('/') != std::string::npos ? name : "/fake/bin/" + name;
  }
  void Watch(pid_t pid, ExitHandler on_exit) override { handlers_[pid] = std::move(on_exit); }
  void Forget(pid_t pid) override { handlers_.erase(pid); }
  void Signal(pid_t pid, int signal) override {
    if (Child* c = Find(pid)) c->signals.push_back(signal);
  }
  void SignalGroup(pid_t pgid, int signal) override {
    if (Child* c = Find(pgid)) c->group_signals.push_back(signal);
  }
  std::function<void()> Run(const std::string& executable, const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout, CommandDone done,
                            size_t /*max_output*/) override {
    commands_.push_back({executable, args, timeout, std::move(done), false});
    size_t index = commands_.size() - 1;
    return [this, index] { commands_[index].stop_requested = true; };
  }

  // --- the test's side ---

  const std::vector<std::unique_ptr<Child>>& children() const { return children_; }
  Child& child(size_t i = 0) { return *children_.at(i); }
  std::vector<Command>& commands() { return commands_; }
  bool watched(pid_t pid) const { return handlers_.count(pid) != 0; }

  // Writes `text` on the child's fd `fd` (2: stderr; the progress fd). Returns false when the
  // child has no such fd open.
  bool Write(pid_t pid, int fd, std::string_view text) {
    Child* c = Find(pid);
    if (c == nullptr || c->fds.count(fd) == 0) return false;
    return ::write(c->fds[fd], text.data(), text.size()) == static_cast<ssize_t>(text.size());
  }
  // What ffpod has written to the child's stdin so far (read without blocking).
  std::string ReadStdin(pid_t pid) {
    Child* c = Find(pid);
    if (c == nullptr || c->fds.count(0) == 0) return {};
    int fd = c->fds[0];
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    std::string got;
    char buf[256];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
    ::fcntl(fd, F_SETFL, flags);
    return got;
  }
  // The child closes its stdout, stderr and extra fds (EOF on ffpod's side).
  void CloseOutputs(pid_t pid) {
    if (Child* c = Find(pid)) {
      for (auto it = c->fds.begin(); it != c->fds.end();) {
        if (it->first == 0) {
          ++it;
          continue;
        }
        ::close(it->second);
        it = c->fds.erase(it);
      }
    }
  }
  // The child ends: its fds close (unless `keep_outputs`: a grandchild still holds them) and
  // the watcher gets `wait_status` (ExitedWith / KilledBy below). Returns false when nobody
  // watched the pid.
  bool Exit(pid_t pid, int wait_status, bool keep_outputs = false) {
    Child* c = Find(pid);
    if (c == nullptr) return false;
    c->exited = true;
    if (!keep_outputs) CloseAll(*c);
    auto it = handlers_.find(pid);
    if (it == handlers_.end()) return false;
    ExitHandler handler = std::move(it->second);
    handlers_.erase(it);
    handler(wait_status);
    return true;
  }
  // Ends the recorded command `i` with `output` (its exit, stdout, stderr, flags).
  void EndCommand(size_t i, CommandOutput output) {
    CommandDone done = std::move(commands_.at(i).done);
    commands_.at(i).done = nullptr;
    if (done) done(std::move(output));
  }

  static int ExitedWith(int code) { return W_EXITCODE(code, 0); }
  static int KilledBy(int signal) { return W_EXITCODE(0, signal); }

 private:
  Child* Find(pid_t pid) {
    for (auto& c : children_) {
      if (c->pid == pid) return c.get();
    }
    return nullptr;
  }
  static int Dup(int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 0); }
  static void CloseAll(Child& c) {
    for (auto& [target, fd] : c.fds) ::close(fd);
    c.fds.clear();
  }

  pid_t next_pid_ = 40001;
  std::optional<std::pair<int, std::string>> fail_next_;
  std::vector<std::unique_ptr<Child>> children_;
  std::map<pid_t, ExitHandler> handlers_;
  std::vector<Command> commands_;
};

}  // namespace ffpod::fakes
