#include "parsers/ffmpeg/exit_status.h"

#include <sys/wait.h>

#include <cerrno>
#include <csignal>

namespace ffpod {

ExitStatus DecodeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return ExitStatus::Exited(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    return ExitStatus::Signaled(WTERMSIG(wait_status), WCOREDUMP(wait_status) != 0);
  }
  // Stopped or continued: only reported to callers that pass WUNTRACED/WCONTINUED, which
  // ffpod never does. Reported as the stop signal so that nothing reads it as a clean exit.
  if (WIFSTOPPED(wait_status)) return ExitStatus::Signaled(WSTOPSIG(wait_status));
  return ExitStatus::Signaled(SIGCONT);
}

int ExecFailureCode(int errno_value) {
  return (errno_value == ENOENT || errno_value == ENOTDIR) ? 127 : 126;
}

std::string SignalName(int signal) {
  switch (signal) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGILL:
      return "SIGILL";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGKILL:
      return "SIGKILL";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGALRM:
      return "SIGALRM";
    case SIGTERM:
      return "SIGTERM";
#ifdef SIGSTKFLT
    case SIGSTKFLT:
      return "SIGSTKFLT";
#endif
    case SIGCHLD:
      return "SIGCHLD";
    case SIGCONT:
      return "SIGCONT";
    case SIGSTOP:
      return "SIGSTOP";
    case SIGTSTP:
      return "SIGTSTP";
    case SIGTTIN:
      return "SIGTTIN";
    case SIGTTOU:
      return "SIGTTOU";
    case SIGURG:
      return "SIGURG";
    case SIGXCPU:
      return "SIGXCPU";
    case SIGXFSZ:
      return "SIGXFSZ";
    case SIGVTALRM:
      return "SIGVTALRM";
    case SIGPROF:
      return "SIGPROF";
    case SIGWINCH:
      return "SIGWINCH";
    case SIGIO:
      return "SIGIO";
#ifdef SIGPWR
    case SIGPWR:
      return "SIGPWR";
#endif
    case SIGSYS:
      return "SIGSYS";
    default:
      return "signal " + std::to_string(signal);
  }
}

}  // namespace ffpod
