// A declared HLS playlist through the worker's atomic publishing, with the real ffmpeg and a
// real redis-server: the playlist is written under a temporary name and published last by
// rename, while its segments are written in place under the names the published playlist
// lists; a retry after a drain rewrites the same segments and leaves nothing behind.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::FfpodWorker;
using testing::JobDocument;
using testing::JobField;
using testing::Produce;
using testing::RedisServer;
using testing::TempDir;
using testing::WaitFor;
namespace fs = std::filesystem;

const std::vector<std::string> kFast = {"--heartbeat", "1",           "--retry-base",
                                        "0.2",         "--retry-max", "1"};

// `seconds` of 25 fps video and 48 kHz audio into an HLS playlist of one-second segments.
std::vector<std::string> HlsArgs(const std::string& playlist, double seconds, bool realtime,
                                 const std::vector<std::string>& output_options = {}) {
  std::vector<std::string> args;
  if (realtime) args.push_back("-re");
  for (const char* a : {"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i",
                        "sine=sample_rate=48000"}) {
    args.emplace_back(a);
  }
  args.insert(args.end(),
              {"-t", std::to_string(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
               "-c:a", "aac", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"});
  args.insert(args.end(), output_options.begin(), output_options.end());
  args.push_back(playlist);
  return args;
}

// The playlist's media lines (the segment names), in order.
std::vector<std::string> Listed(const std::string& playlist) {
  std::ifstream in(playlist);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') names.push_back(line);
  }
  return names;
}

std::set<std::string> FilesIn(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".log") names.insert(e.path().filename().string());
  }
  return names;
}

double Duration(const std::string& path) {
  testing::CommandResult r = testing::RunCommand(
      {"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path}, 30s);
  return r.status == 0 ? std::stod(r.out) : -1;
}

// Every file in `dir` is the playlist or a segment it lists once; nothing is hidden.
void ExpectOnlyThePlaylistAndItsSegments(const std::string& dir, const std::string& playlist,
                                         const std::string& segment_prefix) {
  std::vector<std::string> listed = Listed(dir + "/" + playlist);
  ASSERT_FALSE(listed.empty());
  std::set<std::string> expected(listed.begin(), listed.end());
  EXPECT_EQ(expected.size(), listed.size()) << "a segment is listed twice";
  for (size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(listed[i], segment_prefix + std::to_string(i) + ".ts");
  }
  expected.insert(playlist);
  EXPECT_EQ(FilesIn(dir), expected);
}

TEST(WorkerHls, ThePublishedPlaylistListsSegmentsNamedAfterIt) {
  RedisServer redis;
  TempDir dir;
  fs::create_directories(dir / "plain");
  fs::create_directories(dir / "named");
  std::string plain = dir / "plain/out.m3u8";
  std::string named = dir / "named/index.m3u8";
  Produce(redis, JobDocument("hls-plain", HlsArgs(plain, 4, false), {plain}));
  Produce(redis,
          JobDocument("hls-named",
                      HlsArgs(named, 4, false, {"-hls_segment_filename", dir / "named/seg_%d.ts"}),
                      {named}));
  FfpodWorker w(redis.Url(), "w-hls", dir, kFast);
  for (const char* id : {"hls-plain", "hls-named"}) {
    ASSERT_TRUE(WaitFor([&] { return JobField(redis, id, "state") == "succeeded"; }, 60s))
        << id << ": " << JobField(redis, id, "state") << "\n"
        << w.Log().substr(0, 4000);
  }
  ExpectOnlyThePlaylistAndItsSegments(dir / "plain", "out.m3u8", "out");
  ExpectOnlyThePlaylistAndItsSegments(dir / "named", "index.m3u8", "seg_");
  EXPECT_NEAR(Duration(plain), 4.0, 0.1);
  EXPECT_NEAR(Duration(named), 4.0, 0.1);
  // The result names the published playlist, hashed.
  auto results = testing::Results(redis);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    const auto& outputs = r.result.at("outputs").as_array();
    ASSERT_EQ(outputs.size(), 1u);
    std::string path(outputs[0].at("path").as_string());
    EXPECT_TRUE(path == plain || path == named) << path;
    EXPECT_EQ(outputs[0].at("sha256").as_string().size(), 64u);
    // ... with its segments counted, never listed one by one.
    std::vector<std::string> listed = Listed(path);
    int64_t bytes = 0;
    for (const auto& name : listed) {
      bytes += static_cast<int64_t>(fs::file_size(fs::path(path).parent_path() / name));
    }
    const auto& segments = outputs[0].at("segments");
    EXPECT_EQ(segments.at("count").as_int64(), static_cast<int64_t>(listed.size()));
    EXPECT_EQ(segments.at("bytes").as_int64(), bytes);
    EXPECT_NEAR(segments.at("duration_s").to_number<double>(), 4.0, 0.1);
  }
}

// A segment lost between ffmpeg's end and the publishing (a volume that dropped a write, a
// clean-up job with the wrong pattern): the playlist would have a hole. A stand-in ffmpeg runs
// the real one and then deletes a middle segment; the job is output_invalid, retried once, then
// dead, and no playlist is ever published.
TEST(WorkerHls, APlaylistWithAHoleIsNeverPublished) {
  RedisServer redis;
  TempDir dir;
  fs::create_directories(dir / "hls");
  std::string playlist = dir / "hls/out.m3u8";
  std::string ffmpeg = dir / "ffmpeg";
  testing::WriteFile(
      ffmpeg, "#!/bin/sh\nffmpeg \"$@\"\nrc=$?\nrm -f '" + (dir / "hls/out2.ts") + "'\nexit $rc\n");
  fs::permissions(ffmpeg, fs::perms::owner_all);
  Produce(redis, JobDocument("hls-holed", HlsArgs(playlist, 5, false), {playlist}));
  std::vector<std::string> flags = kFast;
  flags.insert(flags.end(), {"--ffmpeg", ffmpeg});
  FfpodWorker w(redis.Url(), "w-holed", dir, flags);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "hls-holed", "state") == "dead"; }, 60s))
      << JobField(redis, "hls-holed", "state") << "\n"
      << w.Log().substr(0, 4000);
  EXPECT_FALSE(fs::exists(playlist));
  auto results = testing::Results(redis);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.result.at("reason").as_string(), "output_invalid");
    std::string message(r.result.at("message").as_string());
    EXPECT_EQ(message,
              "playlist " + playlist + " lists 1 file that does not exist (first: out2.ts)");
    EXPECT_EQ(r.result.at("verification").at("status").as_string(), "failed");
  }
  for (const auto& e : fs::directory_iterator(dir / "hls")) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".")) << e.path() << " left behind";
  }
}

// A drain stops the first attempt between segments; the job goes back to the queue and another
// worker writes the whole playlist again: the same segment names, overwritten, and no file of
// the first attempt left over.
TEST(WorkerHls, ARetryAfterADrainRewritesTheSameSegmentsAndLeavesNothingBehind) {
  RedisServer redis;
  TempDir dir;
  fs::create_directories(dir / "hls");
  std::string playlist = dir / "hls/live.m3u8";
  Produce(redis, JobDocument("hls-drained", HlsArgs(playlist, 8, true), {playlist}));
  auto a = std::make_unique<FfpodWorker>(
      redis.Url(), "w-a", dir,
      std::vector<std::string>{"--heartbeat", "1", "--grace-period", "4", "--drain-margin", "1"});
  ASSERT_TRUE(WaitFor([&] { return fs::exists(dir / "hls/live2.ts"); }, 30s))
      << a->Log().substr(0, 4000);
  EXPECT_FALSE(fs::exists(playlist)) << "the playlist must not appear before the job succeeds";
  a->process().Signal(SIGTERM);
  ASSERT_TRUE(a->process().Wait(10s).has_value());
  EXPECT_FALSE(fs::exists(playlist));
  EXPECT_EQ(JobField(redis, "hls-drained", "state"), "pending");

  FfpodWorker b(redis.Url(), "w-b", dir, kFast);
  ASSERT_TRUE(WaitFor([&] { return JobField(redis, "hls-drained", "state") == "succeeded"; }, 60s))
      << b.Log().substr(0, 4000);
  ExpectOnlyThePlaylistAndItsSegments(dir / "hls", "live.m3u8", "live");
  EXPECT_NEAR(Duration(playlist), 8.0, 0.1);
}

}  // namespace
}  // namespace ffpod
