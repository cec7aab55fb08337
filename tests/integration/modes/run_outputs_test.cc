// `ffpod run --output`: the worker's atomic publishing in a pod's or a Job's run, with the real
// ffmpeg. A drained run leaves nothing at the final path, so the Job's retry (a new process)
// succeeds; without --output the same retry fails on ffmpeg's refusal to overwrite.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::BackgroundProcess;
using testing::EncodeArgs;
using testing::TempDir;
using testing::WaitFor;
namespace fs = std::filesystem;
using Args = std::vector<std::string>;

Args RunArgv(const Args& flags, const Args& ffmpeg_args) {
  Args argv = {FFPOD_BINARY, "run", "--listen", "", "--exit-codes", "classified"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("--");
  argv.push_back("ffmpeg");
  argv.insert(argv.end(), ffmpeg_args.begin(), ffmpeg_args.end());
  return argv;
}

std::set<std::string> FilesIn(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// The "job finished" record's result.
boost::json::object FinishedResult(const std::string& log) {
  auto records = testing::JsonLines(log);
  auto finished = testing::FindRecord(records, "job finished");
  EXPECT_TRUE(finished.has_value()) << log;
  return finished ? finished->at("result").as_object() : boost::json::object{};
}

// Starts a real-time encode of 60 s into `out`, SIGTERMs it once ffmpeg runs, returns the exit
// status.
int DrainedRun(const TempDir& dir, const std::string& out, const Args& flags) {
  testing::ProcessOptions opts;
  Args all = flags;
  all.insert(all.end(), {"--grace-period", "5", "--drain-margin", "2"});
  opts.argv = RunArgv(all, EncodeArgs(out, 60, true));
  opts.stderr_path = dir / "drained.log";
  BackgroundProcess ffpod(opts);
  EXPECT_TRUE(WaitFor(
      [&] {
        return testing::ReadFile(dir / "drained.log").find("ffmpeg started") != std::string::npos;
      },
      20s));
  std::this_thread::sleep_for(2s);
  ffpod.Signal(SIGTERM);
  return ffpod.Wait(10s).value_or(-1);
}

TEST(RunOutputs, ADrainedRunLeavesNothingAtTheFinalPathAndTheRetrySucceeds) {
  TempDir dir;
  fs::create_directories(dir / "out");
  std::string out = dir / "out/clip.mp4";
  EXPECT_EQ(DrainedRun(dir, out, {"--output", out}), 143);
  EXPECT_TRUE(FilesIn(dir / "out").empty()) << "the drained run left a file behind";

  // The Job's retry: a new process, the same arguments.
  testing::CommandResult retry =
      testing::RunCommand(RunArgv({"--output", out}, EncodeArgs(out, 2)), 60s);
  ASSERT_EQ(retry.status, 0) << retry.err;
  EXPECT_EQ(FilesIn(dir / "out"), std::set<std::string>{"clip.mp4"});
  boost::json::object result = FinishedResult(retry.err);
  ASSERT_EQ(result.at("outputs").as_array().size(), 1u);
  const auto& published = result.at("outputs").as_array()[0].as_object();
  EXPECT_EQ(published.at("path").as_string(), out);
  EXPECT_EQ(published.at("bytes").as_int64(), static_cast<int64_t>(fs::file_size(out)));
  testing::CommandResult sum = testing::RunCommand({"sha256sum", out}, 10s);
  EXPECT_EQ(sum.out.substr(0, 64), published.at("sha256").as_string());
}

// What --output fixes: without it the drain leaves a partial (playable) file at the final path,
// and the retry's ffmpeg refuses to overwrite it (exit 32, which a Job's podFailurePolicy
// turns into FailJob).
TEST(RunOutputs, WithoutOutputTheRetryOfADrainedRunFails) {
  TempDir dir;
  std::string out = dir / "clip.mp4";
  EXPECT_EQ(DrainedRun(dir, out, {}), 143);
  EXPECT_TRUE(fs::exists(out));
  testing::CommandResult retry = testing::RunCommand(RunArgv({}, EncodeArgs(out, 2)), 60s);
  EXPECT_EQ(retry.status, 32) << retry.err;
}

TEST(RunOutputs, AFailedRunRemovesItsTemporariesAndLeavesTheOldFile) {
  TempDir dir;
  fs::create_directories(dir / "out");
  std::string out = dir / "out/clip.mp4";
  testing::WriteFile(out, "the previous version");
  Args args = {"-f",   "lavfi",           "-i", "testsrc2=size=160x120:rate=25", "-t", "1",
               "-c:v", "no_such_encoder", out};
  testing::CommandResult r = testing::RunCommand(RunArgv({"--output", out}, args), 60s);
  EXPECT_EQ(r.status, 20) << r.err;  // encoder_unavailable
  EXPECT_EQ(FilesIn(dir / "out"), std::set<std::string>{"clip.mp4"});
  EXPECT_EQ(testing::ReadFile(out), "the previous version");
}

TEST(RunOutputs, ASuccessfulRunReplacesTheFileAndRemovesTemporariesOfKilledRuns) {
  TempDir dir;
  fs::create_directories(dir / "out");
  std::string out = dir / "out/clip.mp4";
  testing::WriteFile(out, "the previous version");
  // What a SIGKILLed pod of the same Job left.
  std::string stale = dir / "out/.clip.ffpod-pod-a-run17.mp4";
  testing::WriteFile(stale, "half an encode");
  testing::CommandResult r =
      testing::RunCommand(RunArgv({"--output", out}, EncodeArgs(out, 1)), 60s);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(FilesIn(dir / "out"), std::set<std::string>{"clip.mp4"});
  EXPECT_GT(fs::file_size(out), 1000u);
  EXPECT_TRUE(
      testing::FindRecord(testing::JsonLines(r.err), "removed temporary outputs of earlier runs")
          .has_value());
}

// ffmpeg exits 0, the rename fails (a directory is in the way): not a success, whatever the
// exit-code policy, and the temporary goes.
TEST(RunOutputs, ARenameThatFailsIsOutputFailedNotExitZero) {
  TempDir dir;
  std::string out = dir / "clip.mp4";
  fs::create_directories(out + "/taken");
  testing::CommandResult classified =
      testing::RunCommand(RunArgv({"--output", out}, EncodeArgs(out, 1)), 60s);
  EXPECT_EQ(classified.status, 32) << classified.err;
  EXPECT_EQ(FinishedResult(classified.err).at("reason").as_string(), "output_failed");
  Args mirrored = RunArgv({"--output", out}, EncodeArgs(out, 1));
  mirrored[5] = "ffmpeg";  // --exit-codes ffmpeg: ffmpeg's own 0 would say success
  testing::CommandResult r = testing::RunCommand(mirrored, 60s);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(FilesIn(dir.path().string()), std::set<std::string>{"clip.mp4"});
}

TEST(RunOutputs, AnOutputTheCommandDoesNotWriteIsRefusedBeforeFfmpegStarts) {
  TempDir dir;
  std::string out = dir / "clip.mp4";
  testing::CommandResult r =
      testing::RunCommand(RunArgv({"--output", dir / "other.mp4"}, EncodeArgs(out, 1)), 30s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--output " + (dir / "other.mp4") +
                       " is not an output of the ffmpeg command (its outputs: " + out + ")"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(RunOutputs, AWrapperCannotHaveOutputsPublished) {
  TempDir dir;
  std::string out = dir / "clip.mp4";
  testing::CommandResult r = testing::RunCommand(
      {FFPOD_BINARY, "run", "--listen", "", "--output", out, "--", "sh", "-c", "exit 0"}, 30s);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--output needs ffpod to run ffmpeg itself"), std::string::npos) << r.err;
}

// Three seconds of video into an HLS playlist of one-second segments.
Args HlsArgs(const std::string& playlist) {
  return {"-f",
          "lavfi",
          "-i",
          "testsrc2=size=160x120:rate=25",
          "-t",
          "3",
          "-c:v",
          "libx264",
          "-preset",
          "ultrafast",
          "-g",
          "25",
          "-f",
          "hls",
          "-hls_time",
          "1",
          "-hls_playlist_type",
          "vod",
          playlist};
}

TEST(RunOutputs, AnHlsPlaylistIsPublishedLastWithSegmentsNamedAfterIt) {
  TempDir dir;
  fs::create_directories(dir / "hls");
  std::string playlist = dir / "hls/index.m3u8";
  Args args = HlsArgs(playlist);
  testing::CommandResult r = testing::RunCommand(RunArgv({"--output", playlist}, args), 60s);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(FilesIn(dir / "hls"),
            (std::set<std::string>{"index.m3u8", "index0.ts", "index1.ts", "index2.ts"}));
  EXPECT_NE(testing::ReadFile(playlist).find("\nindex2.ts\n"), std::string::npos);
  auto fin = testing::FindRecord(testing::JsonLines(r.err), "job finished");
  ASSERT_TRUE(fin) << r.err;
  const auto& output = fin->at("result").at("outputs").at(0);
  EXPECT_EQ(output.at("path").as_string(), playlist);
  EXPECT_EQ(output.at("segments").at("count").as_int64(), 3);
  int64_t bytes = 0;
  for (int i = 0; i < 3; ++i) {
    bytes += static_cast<int64_t>(fs::file_size(dir / ("hls/index" + std::to_string(i) + ".ts")));
  }
  EXPECT_EQ(output.at("segments").at("bytes").as_int64(), bytes);
}

// The same playlist with a hole (a stand-in ffmpeg deletes a segment after the real one ran):
// run exits 33 and publishes nothing.
TEST(RunOutputs, APlaylistWithAHoleIsOutputInvalidAndNotPublished) {
  TempDir dir;
  fs::create_directories(dir / "hls");
  std::string playlist = dir / "hls/index.m3u8";
  std::string ffmpeg = dir / "ffmpeg";
  testing::WriteFile(ffmpeg, "#!/bin/sh\nffmpeg \"$@\"\nrc=$?\nrm -f '" + (dir / "hls/index1.ts") +
                                 "'\nexit $rc\n");
  fs::permissions(ffmpeg, fs::perms::owner_all);
  Args argv = {FFPOD_BINARY, "run",    "--listen",       "",       "--exit-codes", "classified",
               "--output",   playlist, "--command-kind", "ffmpeg", "--",           ffmpeg};
  Args hls = HlsArgs(playlist);
  argv.insert(argv.end(), hls.begin(), hls.end());
  testing::CommandResult r = testing::RunCommand(argv, 60s);
  EXPECT_EQ(r.status, 33) << r.err;
  EXPECT_FALSE(fs::exists(playlist));
  EXPECT_EQ(FilesIn(dir / "hls"), (std::set<std::string>{"index0.ts", "index2.ts"}));
  EXPECT_NE(r.err.find("lists 1 file that does not exist (first: index1.ts)"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace ffpod
