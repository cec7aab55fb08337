// No secret within reach of a job: the real ffpod binary gives ffmpeg, ffprobe and the capability
// probes an environment without ffpod's own credentials (fake "ffmpeg" and "ffprobe" scripts
// write down what they got), and the values of secret options that the real ffmpeg (Debian's
// 5.1) echoes at -loglevel debug reach neither the logs nor the result's stderr_tail.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::TempDir;
using Args = std::vector<std::string>;

// A script that writes its environment to `env_file`, one entry a line, then waits (at most
// 10 s) for `wait_for` to exist, when given, and exits 0. The file appears whole (written
// beside it, then renamed): ffpod runs the same ffmpeg for the job and for `-buildconf`.
std::string WriteEnvDumper(const TempDir& dir, const std::string& name, const std::string& env_file,
                           const std::string& wait_for = "") {
  std::string path = dir / name;
  std::string wait = wait_for.empty() ? ""
                                      : "for i in $(seq 100); do [ -e '" + wait_for +
                                            "' ] && break; sleep 0.1; done\n";
  testing::WriteFile(path, "#!/bin/sh\n/usr/bin/env > '" + env_file + ".$$' && mv '" + env_file +
                               ".$$' '" + env_file + "'\n" + wait + "exit 0\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

// ffpod's environment in these tests: credentials of its own, what ffmpeg needs, and what the
// operator passes on with --ffmpeg-env (AWS_ACCESS_KEY_ID) and FFPOD_FFMPEG_ENV (MY_APP_*).
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

void ExpectNoCredentialsButWhatFfmpegNeeds(const std::string& env, const std::string& who) {
  SCOPED_TRACE(who + " got:\n" + env);
  EXPECT_EQ(env.find("hunter2"), std::string::npos);
  EXPECT_EQ(env.find("FFPOD_"), std::string::npos);
  EXPECT_EQ(env.find("OTEL_EXPORTER_OTLP_"), std::string::npos);
  EXPECT_NE(env.find("\nPATH="), std::string::npos);
  EXPECT_NE(env.find("\nTZ=Europe/Paris\n"), std::string::npos);
  EXPECT_NE(env.find("\nLC_ALL=C.UTF-8\n"), std::string::npos);
  EXPECT_NE(env.find("\nMY_APP_MODE=fast\n"), std::string::npos);
  EXPECT_NE(env.find("\nAWS_ACCESS_KEY_ID=AKIA-passed-on\n"), std::string::npos);
}

TEST(Secrets, FfmpegAndFfprobeGetAnEnvironmentWithoutFfpodsCredentials) {
  TempDir dir;
  // ffmpeg waits for ffprobe (ffpod stops the probes when ffmpeg has exited).
  std::string ffmpeg = WriteEnvDumper(dir, "ffmpeg", dir / "ffmpeg.env", dir / "ffprobe.env");
  std::string ffprobe = WriteEnvDumper(dir, "ffprobe", dir / "ffprobe.env");
  std::string input = dir / "in.mp4";
  testing::WriteFile(input, "not really media");
  CommandResult r = testing::RunCommand(
      {FFPOD_BINARY, "run", "--listen", "", "--ffprobe", ffprobe, "--ffmpeg-env",
       "AWS_ACCESS_KEY_ID", "--", ffmpeg, "-i", input, dir / "out.mp4"},
      60s, kFfpodEnv);
  ASSERT_TRUE(std::filesystem::exists(dir / "ffmpeg.env")) << r.err;
  ExpectNoCredentialsButWhatFfmpegNeeds("\n" + testing::ReadFile(dir / "ffmpeg.env"), "ffmpeg");
  ASSERT_TRUE(std::filesystem::exists(dir / "ffprobe.env")) << r.err;
  ExpectNoCredentialsButWhatFfmpegNeeds("\n" + testing::ReadFile(dir / "ffprobe.env"), "ffprobe");
}

// An environment of its own is not enough: the same user may read another process's
// /proc/PID/environ, and ffpod is often PID 1. ffpod makes itself non-dumpable, so its children
// (no CAP_SYS_PTRACE) cannot read its environment or memory. Run as nobody: root could anyway.
TEST(Secrets, FfmpegCannotReadFfpodsEnvironmentThroughProc) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0777);
  std::string ffmpeg = dir / "ffmpeg";
  testing::WriteFile(ffmpeg, "#!/bin/sh\ncat /proc/$PPID/environ > '" + (dir / "parent.env") +
                                 "' 2>/dev/null\ntouch '" + (dir / "tried") + "'\nexit 0\n");
  ::chmod(ffmpeg.c_str(), 0755);
  std::string input = dir / "in.mp4";
  testing::WriteFile(input, "not really media");
  ::chmod(input.c_str(), 0644);
  CommandResult r = testing::RunCommand(
      {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", FFPOD_BINARY, "run",
       "--listen", "", "--", ffmpeg, "-i", input, dir / "out.mp4"},
      60s, kFfpodEnv);
  ASSERT_TRUE(std::filesystem::exists(dir / "tried")) << r.status << " " << r.err;
  std::string parent = testing::ReadFile(dir / "parent.env");
  EXPECT_EQ(parent.find("hunter2"), std::string::npos) << "ffmpeg read ffpod's environment";
}

TEST(Secrets, TheCapabilityProbeGetsAnEnvironmentWithoutFfpodsCredentials) {
  TempDir dir;
  std::string ffmpeg = WriteEnvDumper(dir, "ffmpeg", dir / "ffmpeg.env");
  testing::RunCommand({FFPOD_BINARY, "probe", "--ffmpeg", ffmpeg, "--ffmpeg-env",
                       "AWS_ACCESS_KEY_ID", "--probe-timeout", "5"},
                      120s, kFfpodEnv);
  ASSERT_TRUE(std::filesystem::exists(dir / "ffmpeg.env"));
  ExpectNoCredentialsButWhatFfmpegNeeds("\n" + testing::ReadFile(dir / "ffmpeg.env"), "probe");
}

// The "job finished" record's result, from ffpod run's log.
boost::json::object ResultOf(const CommandResult& r) {
  auto records = testing::JsonLines(r.err);
  auto fin = testing::FindRecord(records, "job finished");
  if (!fin) {
    ADD_FAILURE() << "no 'job finished' record; stderr:\n" << r.err;
    return {};
  }
  return fin->at("result").as_object();
}

TEST(Secrets, FfmpegsDebugEchoOfSecretOptionsReachesNeitherTheLogsNorTheResult) {
  TempDir dir;
  int port = testing::FreePort();
  // Nothing listens on the port: ffmpeg has printed its whole command line by then.
  CommandResult r =
      testing::RunCommand({FFPOD_BINARY,
                           "run",
                           "--listen",
                           "",
                           "--log-level",
                           "debug",
                           "--",
                           "ffmpeg",
                           "-loglevel",
                           "debug",
                           "-headers",
                           "X-Team: t34m-s3cret\r\nAuthorization: Basic aHVudGVyMg==\r\n",
                           "-cookies",
                           "sid=c00kie-v4l; path=/",
                           "-passphrase",
                           "SRTsecret99",
                           "-i",
                           "http://127.0.0.1:" + std::to_string(port) + "/in.mp4",
                           "-f",
                           "null",
                           "-"},
                          60s);
  boost::json::object result = ResultOf(r);
  std::string tail = boost::json::serialize(result["stderr_tail"]);
  for (const char* secret : {"t34m-s3cret", "aHVudGVyMg", "c00kie-v4l", "SRTsecret99"}) {
    EXPECT_EQ(r.err.find(secret), std::string::npos) << secret << " in:\n" << r.err;
    EXPECT_EQ(tail.find(secret), std::string::npos) << secret << " in:\n" << tail;
  }
  // The lines are there, their values are not.
  EXPECT_NE(r.err.find("matched as AVOption 'passphrase' with argument 'REDACTED'"),
            std::string::npos)
      << r.err;
}

TEST(Secrets, FfmpegsErrorAboutASecretOptionValueDoesNotQuoteIt) {
  TempDir dir;
  std::string input = dir / "in.mp4";
  CommandResult made = testing::RunCommand({"ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                                            "testsrc2=size=64x48:rate=5:duration=0.4", input});
  ASSERT_EQ(made.status, 0) << made.err;
  // "[mov,mp4,...] Error setting option decryption_key to value NOTHEXs3cret." at error level.
  CommandResult r =
      testing::RunCommand({FFPOD_BINARY, "run", "--listen", "", "--", "ffmpeg", "-decryption_key",
                           "NOTHEXs3cret", "-i", input, "-f", "null", "-"},
                          60s);
  boost::json::object result = ResultOf(r);
  std::string doc = boost::json::serialize(result);
  EXPECT_EQ(r.err.find("NOTHEXs3cret"), std::string::npos) << r.err;
  EXPECT_EQ(doc.find("NOTHEXs3cret"), std::string::npos) << doc;
  EXPECT_NE(r.err.find("Error setting option decryption_key to value REDACTED"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace ffpod
