#include "probes/os/process_group.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

// A child running `sleep` under the name `argv0`, in process group `pgid` (0: a new one, its
// own); killed and reaped at the end.
class Sleeper {
 public:
  Sleeper(const std::string& argv0, pid_t pgid, const std::string& cwd) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, pgid);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execl(argv0.c_str(), argv0.c_str(), "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid_, pgid == 0 ? pid_ : pgid);  // either side may get there first
  }
  ~Sleeper() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Waits until `pid` has exec'd `name` (a link to sleep), so that its command line is the new one.
void WaitForExec(pid_t pid, const std::string& name) {
  ASSERT_TRUE(testing::WaitFor([&] { return testing::ProcessName(pid) == name; },
                               std::chrono::seconds(10)));
}

TEST(FfmpegInGroup, FindsTheOneFfmpegOfTheGroupWithItsDirectory) {
  testing::TempDir dir;
  std::filesystem::create_symlink("/bin/sleep", dir / "ffmpeg");
  std::filesystem::create_symlink("/bin/sleep", dir / "curl");
  Sleeper ffmpeg(dir / "ffmpeg", 0, dir.path().string());
  Sleeper curl(dir / "curl", ffmpeg.pid(), "/");
  WaitForExec(ffmpeg.pid(), "ffmpeg");
  WaitForExec(curl.pid(), "curl");
  auto found = FfmpegInGroup(ffmpeg.pid());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->args, std::vector<std::string>{"30"});
  EXPECT_EQ(found->cwd, std::filesystem::canonical(dir.path()).string());
}

TEST(FfmpegInGroup, NoneOrTwoIsNotAnAnswer) {
  testing::TempDir dir;
  std::filesystem::create_symlink("/bin/sleep", dir / "ffmpeg");
  std::filesystem::create_symlink("/bin/sleep", dir / "sh");
  Sleeper sh(dir / "sh", 0, "/");
  WaitForExec(sh.pid(), "sh");
  EXPECT_FALSE(FfmpegInGroup(sh.pid()).has_value());
  Sleeper first(dir / "ffmpeg", sh.pid(), "/");
  Sleeper second(dir / "ffmpeg", sh.pid(), "/");
  WaitForExec(first.pid(), "ffmpeg");
  WaitForExec(second.pid(), "ffmpeg");
  EXPECT_FALSE(FfmpegInGroup(sh.pid()).has_value());
  EXPECT_FALSE(FfmpegInGroup(0).has_value());
}

}  // namespace
}  // namespace ffpod
