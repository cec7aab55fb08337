// How a child process ended, decoded once from a waitpid() status (like ninja's
// ParseExitStatus), and the exit-status conventions ffpod follows (tini's): 127 when the
// program was not found, 126 when it could not be executed, 128+N when it died of signal N.
// Pure.
#pragma once

#include <string>
#include <string_view>

namespace ffpod {

struct ExitStatus {
  enum class Kind {
    kExited,      // normal exit; `code` holds the status
    kSignaled,    // died of `signal`
    kNotStarted,  // exec failed; `code` is 127 (not found) or 126 (not executable)
  };
  Kind kind = Kind::kExited;
  int code = 0;
  int signal = 0;
  bool core_dumped = false;

  static ExitStatus Exited(int code) { return {Kind::kExited, code, 0, false}; }
  static ExitStatus Signaled(int sig, bool core = false) { return {Kind::kSignaled, 0, sig, core}; }
  static ExitStatus NotStarted(int code) { return {Kind::kNotStarted, code, 0, false}; }

  // The status a shell would report: code, 128+signal, or 127/126.
  int ShellCode() const { return kind == Kind::kSignaled ? 128 + signal : code; }
  bool Succeeded() const { return kind == Kind::kExited && code == 0; }
  bool operator==(const ExitStatus&) const = default;
};

// Decodes a raw waitpid() status.
ExitStatus DecodeWaitStatus(int wait_status);

// Maps the errno of a failed exec to 127 (ENOENT, ENOTDIR) or 126 (anything else).
int ExecFailureCode(int errno_value);

// "SIGKILL", "SIGTERM", ...; "signal N" for numbers without a name.
std::string SignalName(int signal);

}  // namespace ffpod
