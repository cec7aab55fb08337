// No secret within reach of a job: the real ffpod binary gives ffmpeg, ffprobe
// and the capability probes an environment without ffpod's own credentials
// (fake "ffmpeg" and "ffprobe" scripts write down what they got).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::TempDir;
using Args = std::vector<std::string>;

// A script that writes its environment to `env_file`, one entry a line, then
// waits (at most 10 s) for `wait_for` to exist, when given, and exits 0.
std::string WriteEnvDumper(const TempDir &dir, const std::string &name,
                           const std::string &env_file,
                           const std::string &wait_for = "") {
  std::string path = dir / name;
  std::string wait = wait_for.empty()
                         ? ""
                         : "for i in $(seq 100); do [ -e '" + wait_for +
                               "' ] && break; sleep 0.1; done\n";
  testing::WriteFile(path, "#!/bin/sh\n/usr/bin/env > '" + env_file + "'\n" +
                               wait + "exit 0\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

// ffpod's environment in these tests: credentials of its own, what ffmpeg
// needs, and what the operator passes on with --ffmpeg-env (AWS_ACCESS_KEY_ID)
// and FFPOD_FFMPEG_ENV (MY_APP_*).
const Args kFfpodEnv = {
    "FFPOD_QUEUE=envtest",
    "FFPOD_OBJECT_STORE_SECRET=hunter2-ffpod",
    "FFPOD_FFMPEG_ENV=MY_APP_*",
    "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20hunter2-otel",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-api-key=hunter2-traces",
    "AWS_SECRET_ACCESS_KEY=hunter2-aws",
    "AWS_ACCESS_KEY_ID=AKIA-passed-on",
    "TZ=Europe/Paris",
    "LC_ALL=C.UTF-8",
    "MY_APP_MODE=fast",
};

void ExpectNoCredentialsButWhatFfmpegNeeds(const std::string &env,
                                           const std::string &who) {
  SCOPED_TRACE(who + " got:\n" + env);
  EXPECT_EQ(env.find("hunter2"), std::string::npos);
  EXPECT_EQ(env.find("FFPOD_"), std::string::npos);
  EXPECT_EQ(env.find("OTEL_EXPORTER_OTLP_"), std::string::npos);
  EXPECT_NE(env.find("\nPATH="), std::string::npos);
  EXPECT_NE(env.find("\nTZ=Europe/Paris\n"), std::string::npos);
  EXPECT_NE(env.find("\nLC_ALL=C.UTF-8\n"), std::string::npos);
  EXPECT_NE(env.find("\nMY_APP_MODE=fast\n"), std::string::npos);
  EXPECT_NE(env.find("\nAWS_ACCESS_KEY_ID=AKIA-passed-on\n"),
            std::string::npos);
}

TEST(Secrets, FfmpegAndFfprobeGetAnEnvironmentWithoutFfpodsCredentials) {
  TempDir dir;
  // ffmpeg waits for ffprobe (ffpod stops the probes when ffmpeg has exited).
  std::string ffmpeg =
      WriteEnvDumper(dir, "ffmpeg", dir / "ffmpeg.env", dir / "ffprobe.env");
  std::string ffprobe = WriteEnvDumper(dir, "ffprobe", dir / "ffprobe.env");
  std::string input = dir / "in.mp4";
  testing::WriteFile(input, "not really media");
  CommandResult r =
      testing::RunCommand({FFPOD_BINARY, "run", "--listen", "", "--ffprobe",
                           ffprobe, "--ffmpeg-env", "AWS_ACCESS_KEY_ID", "--",
                           ffmpeg, "-i", input, dir / "out.mp4"},
                          60s, kFfpodEnv);
  ASSERT_TRUE(std::filesystem::exists(dir / "ffmpeg.env")) << r.err;
  ExpectNoCredentialsButWhatFfmpegNeeds(
      "\n" + testing::ReadFile(dir / "ffmpeg.env"), "ffmpeg");
  ASSERT_TRUE(std::filesystem::exists(dir / "ffprobe.env")) << r.err;
  ExpectNoCredentialsButWhatFfmpegNeeds(
      "\n" + testing::ReadFile(dir / "ffprobe.env"), "ffprobe");
}

TEST(Secrets, TheCapabilityProbeGetsAnEnvironmentWithoutFfpodsCredentials) {
  TempDir dir;
  std::string ffmpeg = WriteEnvDumper(dir, "ffmpeg", dir / "ffmpeg.env");
  testing::RunCommand({FFPOD_BINARY, "probe", "--ffmpeg", ffmpeg,
                       "--ffmpeg-env", "AWS_ACCESS_KEY_ID", "--probe-timeout",
                       "5"},
                      120s, kFfpodEnv);
  ASSERT_TRUE(std::filesystem::exists(dir / "ffmpeg.env"));
  ExpectNoCredentialsButWhatFfmpegNeeds(
      "\n" + testing::ReadFile(dir / "ffmpeg.env"), "probe");
}

} // namespace
} // namespace ffpod
