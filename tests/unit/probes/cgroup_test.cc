#include "probes/cgroup.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

TEST(Cgroup, ParsesMemoryEventsAndOomControl) {
  EXPECT_EQ(ParseOomKillCount("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"), 2u);
  EXPECT_EQ(ParseOomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n"), 7u);
  EXPECT_FALSE(ParseOomKillCount("oom_kill_disable 0\nunder_oom 0\n").has_value());
  EXPECT_FALSE(ParseOomKillCount("oom_kill x\n").has_value());
}

TEST(Cgroup, FindsV2AndV1Paths) {
  auto v2 = ParseProcSelfCgroup("0::/kubepods/burstable/pod1/abc\n");
  EXPECT_EQ(v2.v2, "/kubepods/burstable/pod1/abc");
  EXPECT_FALSE(v2.v1_memory.has_value());
  auto v1 =
      ParseProcSelfCgroup("12:cpu,cpuacct:/x\n9:memory:/kubepods/pod2/def\n1:name=systemd:/y\n");
  EXPECT_EQ(v1.v1_memory, "/kubepods/pod2/def");
  EXPECT_FALSE(v1.v2.has_value());
}

TEST(Cgroup, ReadsTheCountFromATree) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "fs/pod/c1");
  testing::WriteFile(dir.path() / "cgroup", "0::/pod/c1\n");
  testing::WriteFile(dir.path() / "fs/pod/c1/memory.events", "oom 1\noom_kill 4\n");
  EXPECT_EQ(ReadOomKillCount(dir / "cgroup", dir / "fs"), 4u);
  std::filesystem::create_directories(dir.path() / "fs/memory/pod/c2");
  testing::WriteFile(dir.path() / "cgroup1", "4:memory:/pod/c2\n");
  testing::WriteFile(dir.path() / "fs/memory/pod/c2/memory.oom_control", "oom_kill 9\n");
  EXPECT_EQ(ReadOomKillCount(dir / "cgroup1", dir / "fs"), 9u);
  EXPECT_FALSE(ReadOomKillCount(dir / "missing", dir / "fs").has_value());
}

}  // namespace
}  // namespace ffpod
