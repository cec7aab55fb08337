#include "supervisor/job/outputs.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

TEST(Outputs, TemporaryNameKeepsDirectoryAndExtension) {
  EXPECT_EQ(TemporaryOutputName("/out/clip.mp4", "w1-3"), "/out/.clip.ffpod-w1-3.mp4");
  EXPECT_EQ(TemporaryOutputName("clip.tar.gz", "t"), ".clip.tar.ffpod-t.gz");
  EXPECT_EQ(TemporaryOutputName("/a/noext", "t"), "/a/.noext.ffpod-t");
  EXPECT_EQ(TemporaryOutputName("/a/.hidden", "t"), "/a/..hidden.ffpod-t");
}

TEST(Outputs, PublishRenamesOnlyWhenEveryOutputExists) {
  testing::TempDir dir;
  auto temps = TemporaryOutputs({dir / "a.mp4", dir / "b.mkv"}, "x");
  testing::WriteFile(temps.at(dir / "a.mp4"), "aaa");
  auto r = PublishOutputs(temps);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("b.mkv was not written"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "a.mp4"));  // nothing published half-way
  testing::WriteFile(temps.at(dir / "b.mkv"), "bb");
  ASSERT_TRUE(PublishOutputs(temps).ok());
  EXPECT_EQ(testing::ReadFile(dir / "a.mp4"), "aaa");
  EXPECT_EQ(testing::ReadFile(dir / "b.mkv"), "bb");
  EXPECT_FALSE(std::filesystem::exists(temps.at(dir / "a.mp4")));
}

TEST(Outputs, TemporariesOfAWorkerAreItsOwnWhateverTheAttempt) {
  testing::TempDir dir;
  std::string out = dir / "clip.mp4";
  for (const char* token : {"w-1-1", "w-1-12", "w-1-2-3", "w-10-1", "w-1-x"}) {
    testing::WriteFile(TemporaryOutputName(out, token), "partial");
  }
  testing::WriteFile(dir / "clip.mp4", "final");
  testing::WriteFile(dir / ".other.ffpod-w-1-1.mp4", "another output's");
  EXPECT_EQ(RemoveTemporariesOfWorker({out}, "w-1"), 2);
  EXPECT_FALSE(std::filesystem::exists(TemporaryOutputName(out, "w-1-12")));
  // Worker w-1-2's, worker w-10's, and not a temporary name of this worker at all.
  EXPECT_TRUE(std::filesystem::exists(TemporaryOutputName(out, "w-1-2-3")));
  EXPECT_TRUE(std::filesystem::exists(TemporaryOutputName(out, "w-10-1")));
  EXPECT_TRUE(std::filesystem::exists(TemporaryOutputName(out, "w-1-x")));
  EXPECT_TRUE(std::filesystem::exists(dir / "clip.mp4"));
  EXPECT_TRUE(std::filesystem::exists(dir / ".other.ffpod-w-1-1.mp4"));
}

TEST(Outputs, RemoveTemporariesAndHash) {
  testing::TempDir dir;
  auto temps = TemporaryOutputs({dir / "a.mp4"}, "x");
  testing::WriteFile(temps.at(dir / "a.mp4"), "abc");
  RemoveTemporaries(temps);
  EXPECT_FALSE(std::filesystem::exists(temps.at(dir / "a.mp4")));
  testing::WriteFile(dir / "h", "abc");
  auto h = HashOutput(dir / "h");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->bytes, 3);
  EXPECT_EQ(h->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(HashOutput(dir / "missing").ok());
}

}  // namespace
}  // namespace ffpod
