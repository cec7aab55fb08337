#include "parsers/ffmpeg/exit_status.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace ffpod {
namespace {

// Runs `body` in a child and returns its raw waitpid() status.
template <typename F>
int ChildStatus(F body) {
  pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

TEST(DecodeWaitStatus, RealExitCodes) {
  EXPECT_EQ(DecodeWaitStatus(ChildStatus([] { _exit(0); })), ExitStatus::Exited(0));
  EXPECT_EQ(DecodeWaitStatus(ChildStatus([] { _exit(1); })), ExitStatus::Exited(1));
  EXPECT_EQ(DecodeWaitStatus(ChildStatus([] { _exit(228); })), ExitStatus::Exited(228));
  EXPECT_EQ(DecodeWaitStatus(ChildStatus([] { _exit(255); })), ExitStatus::Exited(255));
}

TEST(DecodeWaitStatus, RealSignals) {
  ExitStatus killed = DecodeWaitStatus(ChildStatus([] { raise(SIGKILL); }));
  EXPECT_EQ(killed.kind, ExitStatus::Kind::kSignaled);
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_EQ(killed.ShellCode(), 137);
  EXPECT_FALSE(killed.Succeeded());

  ExitStatus hup = DecodeWaitStatus(ChildStatus([] { raise(SIGHUP); }));
  EXPECT_EQ(hup.signal, SIGHUP);
  EXPECT_EQ(hup.ShellCode(), 129);
}

TEST(DecodeWaitStatus, CoreDumpFlag) {
  // Raw statuses as the kernel encodes them: signal in the low 7 bits, 0x80 for a core dump.
  EXPECT_EQ(DecodeWaitStatus(SIGSEGV | 0x80), ExitStatus::Signaled(SIGSEGV, true));
  EXPECT_EQ(DecodeWaitStatus(SIGQUIT), ExitStatus::Signaled(SIGQUIT, false));
  EXPECT_EQ(DecodeWaitStatus(123 << 8), ExitStatus::Exited(123));
}

TEST(DecodeWaitStatus, StoppedIsNeverAnExit) {
  // 0x7f in the low byte with the stop signal above: only seen with WUNTRACED.
  ExitStatus s = DecodeWaitStatus((SIGTSTP << 8) | 0x7f);
  EXPECT_EQ(s.kind, ExitStatus::Kind::kSignaled);
  EXPECT_EQ(s.signal, SIGTSTP);
  EXPECT_FALSE(s.Succeeded());
}

TEST(ExitStatus, ShellCodes) {
  EXPECT_EQ(ExitStatus::Exited(0).ShellCode(), 0);
  EXPECT_EQ(ExitStatus::Exited(254).ShellCode(), 254);
  EXPECT_EQ(ExitStatus::Signaled(SIGTERM).ShellCode(), 143);
  EXPECT_EQ(ExitStatus::NotStarted(127).ShellCode(), 127);
  EXPECT_TRUE(ExitStatus::Exited(0).Succeeded());
  EXPECT_FALSE(ExitStatus::NotStarted(0).Succeeded());
}

TEST(ExecFailureCode, FollowsTini) {
  EXPECT_EQ(ExecFailureCode(ENOENT), 127);
  EXPECT_EQ(ExecFailureCode(ENOTDIR), 127);
  EXPECT_EQ(ExecFailureCode(EACCES), 126);
  EXPECT_EQ(ExecFailureCode(ENOEXEC), 126);
  EXPECT_EQ(ExecFailureCode(ELOOP), 126);
}

TEST(SignalName, NamesAndNumbers) {
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGINT), "SIGINT");
  EXPECT_EQ(SignalName(SIGHUP), "SIGHUP");
  EXPECT_EQ(SignalName(SIGQUIT), "SIGQUIT");
  EXPECT_EQ(SignalName(SIGXCPU), "SIGXCPU");
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(SignalName(SIGPIPE), "SIGPIPE");
  EXPECT_EQ(SignalName(0), "signal 0");
  EXPECT_EQ(SignalName(SIGRTMIN + 1), "signal " + std::to_string(SIGRTMIN + 1));
  EXPECT_EQ(SignalName(-3), "signal -3");
}

}  // namespace
}  // namespace ffpod
