// `ffpod run --log-format text` on a terminal (docs/logs.md "On a terminal"): the real binary
// under a real pseudo-terminal (util-linux `script`), supervising the real ffmpeg. One live
// progress line updated in place, only ffmpeg's warnings and errors, records that never mix
// with the live line, and Ctrl-C: a graceful stop, a playable output and exit 130. The same
// flags without a terminal keep the plain text records.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::BackgroundProcess;
using testing::CommandResult;
using testing::ProcessOptions;
using testing::ReadFile;
using testing::TempDir;
using Args = std::vector<std::string>;

const std::string kLavfi = "testsrc2=size=160x120:rate=25";

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// `ffpod run --log-format text -- <cmd>` on the pseudo-terminal of `script`, which copies what
// the terminal shows to `screen` and exits with ffpod's status (-e).
// `prelude` runs first, on the same terminal.
ProcessOptions UnderTerminal(const Args& cmd, const std::string& screen, const Args& flags = {},
                             const std::string& prelude = "") {
  std::string line =
      prelude + "exec " + ShellQuote(FFPOD_BINARY) + " run --listen '' --log-format text";
  for (const auto& f : flags) line += " " + ShellQuote(f);
  line += " --";
  for (const auto& a : cmd) line += " " + ShellQuote(a);
  ProcessOptions opts;
  opts.argv = {"script", "-q", "-e", "-c", line, "/dev/null"};
  opts.stdout_path = screen;
  return opts;
}

Args Encode(const std::string& seconds, const std::string& out) {
  // The option after the output is left over: ffmpeg warns about it.
  return {"ffmpeg", "-re",     "-f",      "lavfi",     "-i", kLavfi, "-t", seconds,
          "-c:v",   "libx264", "-preset", "ultrafast", out,  "-t",   "1"};
}

double ProbedDuration(const std::string& path) {
  CommandResult probe = testing::RunCommand(
      {"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path});
  if (probe.status != 0 || probe.out.empty()) return -1;
  return std::stod(probe.out);
}

// Every record (its timestamp and level) begins a line of its own: at the start of the
// screen, after a newline, or after the live line was erased (CR, ESC [K).
void ExpectRecordsNeverMixWithTheLiveLine(const std::string& screen) {
  static const std::regex kTimestamp(
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (DEBUG|INFO|WARNING|ERROR) ");
  for (auto it = std::sregex_iterator(screen.begin(), screen.end(), kTimestamp);
       it != std::sregex_iterator(); ++it) {
    size_t at = static_cast<size_t>(it->position());
    bool clean =
        at == 0 || screen[at - 1] == '\n' || (at >= 4 && screen.substr(at - 4, 4) == "\r\x1b[K");
    EXPECT_TRUE(clean) << "a record mixed into the live line: ..."
                       << screen.substr(at >= 80 ? at - 80 : 0, std::min<size_t>(at, 80) + 40);
  }
}

// SIGINT, as the terminal sends it on Ctrl-C, to the foreground process group of `script`'s
// terminal: ffpod's.
void CtrlC(BackgroundProcess& script) {
  std::vector<pid_t> children = testing::ChildrenOf(script.pid());
  ASSERT_EQ(children.size(), 1u);
  pid_t group = ::getpgid(children[0]);
  ASSERT_GT(group, 0);
  ASSERT_EQ(::kill(-group, SIGINT), 0);
}

TEST(RunTerminal, ShowsOneLiveProgressLineAndOnlyFfmpegsWarnings) {
  TempDir dir;
  BackgroundProcess script(UnderTerminal(Encode("3", dir / "out.mp4"), dir / "screen"));
  auto status = script.Wait(60s);
  ASSERT_TRUE(status.has_value());
  std::string screen = ReadFile(dir / "screen");
  EXPECT_EQ(*status, 0) << screen;
  // The live line: redrawn in place with its percent, several times.
  static const std::regex kLiveLine("\r +[0-9]+\\.[0-9]% ETA [0-9]+:[0-9]{2}:[0-9]{2} speed ");
  auto updates = std::distance(std::sregex_iterator(screen.begin(), screen.end(), kLiveLine),
                               std::sregex_iterator());
  EXPECT_GE(updates, 3) << screen;
  EXPECT_NE(screen.find("\x1b[K"), std::string::npos);
  // No progress records, none of ffmpeg's info lines; its warning and the summary show.
  EXPECT_EQ(screen.find(" INFO progress"), std::string::npos) << screen;
  EXPECT_EQ(screen.find("Stream mapping"), std::string::npos) << screen;
  EXPECT_EQ(screen.find("ffmpeg_level=info"), std::string::npos) << screen;
  EXPECT_NE(screen.find("WARNING Trailing option(s) found in the command"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("INFO job finished: ok"), std::string::npos) << screen;
  ExpectRecordsNeverMixWithTheLiveLine(screen);
  EXPECT_NEAR(ProbedDuration(dir / "out.mp4"), 3.0, 0.1);
}

TEST(RunTerminal, TheLiveLineFitsANarrowTerminal) {
  TempDir dir;
  BackgroundProcess script(
      UnderTerminal(Encode("2", dir / "out.mp4"), dir / "screen", {}, "stty cols 30; "));
  auto status = script.Wait(60s);
  ASSERT_TRUE(status.has_value());
  std::string screen = ReadFile(dir / "screen");
  EXPECT_EQ(*status, 0) << screen;
  // Each drawing of the live line: from its `\r` to the ESC [K that ends it.
  int drawn = 0;
  for (size_t end = 0; (end = screen.find("\x1b[K", end)) != std::string::npos; ++end) {
    size_t start = screen.rfind('\r', end);
    if (start == std::string::npos || end == start + 1) continue;  // a clear, not a drawing
    ++drawn;
    EXPECT_LT(end - start - 1, 30u) << screen.substr(start + 1, end - start - 1);
  }
  EXPECT_GE(drawn, 2) << screen;
}

TEST(RunTerminal, CtrlCStopsFfmpegGracefullyAndExits130) {
  TempDir dir;
  BackgroundProcess script(UnderTerminal(Encode("60", dir / "out.mp4"), dir / "screen"));
  // Encoding for a while: the live line shows some percent.
  ASSERT_TRUE(testing::WaitFor(
      [&] { return ReadFile(dir / "screen").find("% ETA") != std::string::npos; }, 20s))
      << ReadFile(dir / "screen");
  std::this_thread::sleep_for(1500ms);
  CtrlC(script);
  auto status = script.Wait(30s);
  ASSERT_TRUE(status.has_value());
  std::string screen = ReadFile(dir / "screen");
  EXPECT_EQ(*status, 130) << screen;
  EXPECT_NE(screen.find("interrupted: stopping ffmpeg"), std::string::npos) << screen;
  EXPECT_NE(screen.find("method=q"), std::string::npos) << screen;
  EXPECT_EQ(screen.find("SIGKILL"), std::string::npos) << screen;
  EXPECT_NE(screen.find("job finished: cancelled"), std::string::npos) << screen;
  ExpectRecordsNeverMixWithTheLiveLine(screen);
  double duration = ProbedDuration(dir / "out.mp4");
  EXPECT_GT(duration, 1.0);
  EXPECT_LT(duration, 30.0);
}

TEST(RunTerminal, ASecondCtrlCKillsAtOnce) {
  TempDir dir;
  // A wrapper that ignores the graceful stop (SIGINT to its process group): only the kill ends
  // it, and the stop timeout is far beyond the test's wait.
  BackgroundProcess script(
      UnderTerminal({"sh", "-c", "trap '' INT; : > \"$0\"; sleep 300; exit 0", dir / "ready"},
                    dir / "screen", {"--stop-timeout", "600"}));
  auto shows = [&](const std::string& text) {
    return testing::WaitFor(
        [&] { return ReadFile(dir / "screen").find(text) != std::string::npos; }, 20s);
  };
  // The trap is set once the file exists.
  ASSERT_TRUE(testing::WaitFor([&] { return std::filesystem::exists(dir / "ready"); }, 20s))
      << ReadFile(dir / "screen");
  CtrlC(script);
  ASSERT_TRUE(shows("stopping ffmpeg gracefully")) << ReadFile(dir / "screen");
  CtrlC(script);
  auto status = script.Wait(60s);
  ASSERT_TRUE(status.has_value()) << ReadFile(dir / "screen");
  std::string screen = ReadFile(dir / "screen");
  EXPECT_EQ(*status, 130) << screen;
  EXPECT_NE(screen.find("SIGKILL to its process group"), std::string::npos) << screen;
  EXPECT_NE(screen.find("job finished: cancelled"), std::string::npos) << screen;
}

TEST(RunTerminal, TextLogsWithoutATerminalAreUnchanged) {
  TempDir dir;
  Args argv = {
      FFPOD_BINARY, "run", "--listen", "", "--log-format", "text", "--progress-log-interval",
      "0.3",        "--"};
  for (const auto& a : Encode("2", dir / "out.mp4")) argv.push_back(a);
  CommandResult r = testing::RunCommand(argv, 60s);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos);
  EXPECT_NE(r.err.find(" INFO progress "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ffmpeg_level=info"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ffpod
