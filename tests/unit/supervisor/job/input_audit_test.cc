// Hashing an attempt's input files for the result's audit trail, on real files and a real
// thread pool: the hash and its bounds (size limit, cancellation, files that are not regular),
// and InputAudit's records (redacted URLs, kinds, what is not done when taken).
#include "supervisor/job/input_audit.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <string>
#include <vector>

#include "parsers/telemetry/log_format.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

InputRecord Hash(const std::string& path, int64_t max_bytes, bool cancelled = false) {
  std::atomic<bool> cancel{cancelled};
  InputRecord r;
  r.url = path;
  HashInputFile(path, max_bytes, cancel, r, nullptr);
  return r;
}

TEST(InputAudit, ARegularFileHasItsSizeModificationTimeAndSha256) {
  testing::TempDir dir;
  testing::WriteFile(dir / "in.mp4", "abc");
  InputRecord r = Hash(dir / "in.mp4", 1 << 20);
  ASSERT_TRUE(r.sha256) << r.sha256_skipped;
  EXPECT_EQ(*r.sha256, kAbcSha256);
  EXPECT_EQ(r.bytes, 3);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "in.mp4").c_str(), &st), 0);
  auto mtime = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  EXPECT_EQ(r.mtime, FormatTimestamp(mtime));
  EXPECT_TRUE(r.sha256_skipped.empty());
}

TEST(InputAudit, AFileOverTheLimitIsListedButNotRead) {
  testing::TempDir dir;
  testing::WriteFile(dir / "big.mxf", std::string((2 << 20) + 1, 'x'));
  InputRecord r = Hash(dir / "big.mxf", 2 << 20);
  EXPECT_FALSE(r.sha256);
  EXPECT_EQ(r.sha256_skipped, "larger than --input-hash-max-mib (2 MiB)");
  EXPECT_EQ(r.bytes, (2 << 20) + 1);
  EXPECT_TRUE(r.mtime);
  // Exactly at the limit is hashed.
  testing::WriteFile(dir / "fits.mxf", std::string(2 << 20, 'x'));
  EXPECT_TRUE(Hash(dir / "fits.mxf", 2 << 20).sha256);

  InputRecord off = Hash(dir / "fits.mxf", 0);
  EXPECT_FALSE(off.sha256);
  EXPECT_EQ(off.sha256_skipped, "input hashing is off (--input-hash-max-mib 0)");
}

TEST(InputAudit, CancelledMissingAndNonRegularFilesHaveNoHashAndSayWhy) {
  testing::TempDir dir;
  testing::WriteFile(dir / "in.mp4", "abc");
  InputRecord cancelled = Hash(dir / "in.mp4", 1 << 20, true);
  EXPECT_FALSE(cancelled.sha256);
  EXPECT_EQ(cancelled.sha256_skipped, kInputHashUnfinished);
  EXPECT_EQ(cancelled.bytes, 3);

  InputRecord missing = Hash(dir / "nope.mp4", 1 << 20);
  EXPECT_FALSE(missing.sha256);
  EXPECT_FALSE(missing.bytes);
  EXPECT_EQ(missing.sha256_skipped, "cannot open: No such file or directory");

  // A FIFO is never opened (that would disturb its writer), nor a directory read.
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(Hash(dir / "fifo", 1 << 20).sha256_skipped, "not a regular file");
  EXPECT_EQ(Hash(dir.path().string(), 1 << 20).sha256_skipped, "not a regular file");
}

std::vector<FfmpegInput> InputsOf(const std::vector<std::string>& args) {
  return AnalyzeFfmpegArgs(args).inputs;
}

TEST(InputAudit, RecordsEveryInputRedactedAndHashesTheFilesOnThePool) {
  testing::TempDir dir;
  testing::WriteFile(dir / "in.mp4", "abc");
  std::vector<std::string> args = {
      "-i",     "file:" + (dir / "in.mp4"),
      "-f",     "lavfi",
      "-i",     "testsrc2",
      "-i",     "http://user:s3cret@127.0.0.1:1/x.mp4?X-Amz-Signature=abc123",
      "out.mp4"};
  boost::asio::io_context io;
  boost::asio::thread_pool pool(1);
  InputAudit audit(io, pool, InputsOf(args), SecretValues(args), 1 << 20);
  auto guard = boost::asio::make_work_guard(io);
  bool done = false;
  audit.Start();
  audit.WhenDone([&] {
    done = true;
    guard.reset();
  });
  io.run_for(30s);
  ASSERT_TRUE(done);
  EXPECT_TRUE(audit.done());
  std::vector<InputRecord> records = audit.Take();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].url, "file:" + (dir / "in.mp4"));
  EXPECT_EQ(records[0].sha256, std::string(kAbcSha256));
  EXPECT_EQ(records[1].kind, InputKind::kLavfi);
  EXPECT_EQ(records[2].kind, InputKind::kUrl);
  EXPECT_EQ(records[2].url.find("s3cret"), std::string::npos) << records[2].url;
  EXPECT_EQ(records[2].url.find("abc123"), std::string::npos) << records[2].url;
  EXPECT_FALSE(records[2].sha256);
}

TEST(InputAudit, WhatIsNotHashedWhenTakenIsReportedAsNotDone) {
  testing::TempDir dir;
  testing::WriteFile(dir / "in.mp4", "abc");
  boost::asio::io_context io;
  boost::asio::thread_pool pool(1);
  // The pool's one thread is busy until the test lets it go: the hash cannot have begun.
  std::promise<void> release;
  boost::asio::post(pool, [gate = release.get_future().share()] { gate.wait(); });
  std::vector<std::string> args = {"-i", dir / "in.mp4", "out.mp4"};
  InputAudit audit(io, pool, InputsOf(args), SecretValues(args), 1 << 20);
  audit.Start();
  bool called = false;
  audit.WhenDone([&] { called = true; });
  EXPECT_FALSE(audit.done());
  std::vector<InputRecord> records = audit.Take();
  release.set_value();
  pool.join();
  io.run();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].sha256);
  EXPECT_EQ(records[0].sha256_skipped, kInputHashUnfinished);
  EXPECT_FALSE(called) << "WhenDone's callback after Take";
}

TEST(InputAudit, WithoutFilesItIsDoneAtOnce) {
  boost::asio::io_context io;
  boost::asio::thread_pool pool(1);
  std::vector<std::string> args = {"-f", "lavfi", "-i", "testsrc2", "-i", "-", "out.mp4"};
  InputAudit audit(io, pool, InputsOf(args), SecretValues(args), 1 << 20);
  audit.Start();
  EXPECT_TRUE(audit.done());
  bool called = false;
  audit.WhenDone([&] { called = true; });
  EXPECT_FALSE(called) << "on a later turn, not inside WhenDone";
  io.run();
  EXPECT_TRUE(called);
  std::vector<InputRecord> records = audit.Take();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].kind, InputKind::kPipe);
}

}  // namespace
}  // namespace ffpod
