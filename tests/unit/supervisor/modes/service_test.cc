// WriteExistingFile: the termination log is written only where Kubernetes mounted it.
#include <gtest/gtest.h>

#include <filesystem>

#include "supervisor/modes/service.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

TEST(WriteExistingFile, WritesOnlyAFileThatExists) {
  testing::TempDir dir;
  EXPECT_TRUE(WriteExistingFile("", "ignored\n").ok());

  std::string absent = dir / "absent";
  EXPECT_TRUE(WriteExistingFile(absent, "line\n").ok());
  EXPECT_FALSE(std::filesystem::exists(absent));  // never created

  std::string log = dir / "termination-log";
  testing::WriteFile(log, "an older and longer summary\n");
  EXPECT_TRUE(WriteExistingFile(log, "drained\n").ok());
  EXPECT_EQ(testing::ReadFile(log), "drained\n");  // replaced, not appended
}

TEST(WriteExistingFile, SaysWhatCouldNotBeOpened) {
  testing::TempDir dir;
  Status status = WriteExistingFile(dir.path().string(), "line\n");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "cannot open " + dir.path().string() + ": Is a directory");
}

}  // namespace
}  // namespace ffpod
