// `ffpod run` end to end: the real ffpod binary supervising the real ffmpeg (Debian's 5.1, or
// in the version matrix another release first on PATH) on lavfi sources. Every failure reason
// this machine can produce comes from a real run.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <thread>

#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::BackgroundProcess;
using testing::CommandResult;
using testing::FindRecord;
using testing::JsonLines;
using testing::ProcessOptions;
using testing::ReadFile;
using testing::TempDir;
using Args = std::vector<std::string>;

const char* kLavfi = "testsrc2=size=160x120:rate=25";

struct RunOutcome {
  int status = -1;
  std::vector<boost::json::object> records;
  std::string out;
  boost::json::object result;  // the "job finished" record's result document
};

RunOutcome RunFfpod(const Args& ffpod_flags, const Args& ffmpeg_cmd,
                    std::chrono::milliseconds timeout = 60s) {
  Args argv = {FFPOD_BINARY, "run", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), ffpod_flags.begin(), ffpod_flags.end());
  argv.push_back("--");
  argv.insert(argv.end(), ffmpeg_cmd.begin(), ffmpeg_cmd.end());
  CommandResult r = testing::RunCommand(argv, timeout);
  RunOutcome o;
  o.status = r.status;
  o.out = r.out;
  o.records = JsonLines(r.err);
  if (auto fin = FindRecord(o.records, "job finished")) {
    o.result = fin->at("result").as_object();
  } else {
    ADD_FAILURE() << "no 'job finished' record; stderr:\n" << r.err;
  }
  return o;
}

std::string Reason(const RunOutcome& o) {
  return o.result.contains("reason") ? std::string(o.result.at("reason").as_string()) : "";
}

std::string Message(const RunOutcome& o) {
  return o.result.contains("message") ? std::string(o.result.at("message").as_string()) : "";
}

// A short real input file for the tests that need a known duration.
std::string MakeInput(const TempDir& dir, double seconds, const std::string& name = "in.mp4") {
  std::string path = dir / name;
  CommandResult r = testing::RunCommand({"ffmpeg",
                                         "-v",
                                         "error",
                                         "-f",
                                         "lavfi",
                                         "-i",
                                         kLavfi,
                                         "-f",
                                         "lavfi",
                                         "-i",
                                         "sine=frequency=440",
                                         "-t",
                                         std::to_string(seconds),
                                         "-c:v",
                                         "libx264",
                                         "-preset",
                                         "ultrafast",
                                         "-c:a",
                                         "aac",
                                         "-y",
                                         path});
  EXPECT_EQ(r.status, 0) << r.err;
  return path;
}

TEST(Run, SucceedsAndReportsTheResult) {
  TempDir dir;
  RunOutcome o = RunFfpod({}, {"ffmpeg", "-f", "lavfi", "-i", kLavfi, "-t", "2", "-c:v", "libx264",
                               "-preset", "ultrafast", dir / "out.mp4"});
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(Reason(o), "ok");
  EXPECT_EQ(o.result.at("status").as_string(), "succeeded");
  EXPECT_EQ(o.result.at("exit").at("code").as_int64(), 0);
  EXPECT_EQ(o.result.at("progress").at("frames").as_int64(), 50);
  EXPECT_NEAR(o.result.at("progress").at("out_time_s").to_number<double>(), 2.0, 0.1);
  EXPECT_EQ(o.result.at("ffmpeg").at("version").as_string(), testing::TestFfmpeg().text);
  EXPECT_TRUE(std::filesystem::file_size(dir / "out.mp4") > 1000);
  // ffmpeg's lines are forwarded with their level and component.
  bool forwarded = false;
  for (const auto& r : o.records) {
    if (r.contains("source") && r.at("source") == "ffmpeg" && r.contains("component") &&
        r.at("component") == "libx264" && r.at("ffmpeg_level") == "info") {
      forwarded = true;
    }
  }
  EXPECT_TRUE(forwarded);
}

TEST(Run, PercentHonoursSeekAndLimits) {
  TempDir dir;
  std::string in = MakeInput(dir, 6);
  // 6 s input, -ss 1 then -t 3: the expected output is 3 s, so percent reaches 100 and never
  // passes it. With -re the encode takes about 3 s, giving several progress records.
  RunOutcome o = RunFfpod({"--progress-log-interval", "0.3"},
                          {"ffmpeg", "-re", "-ss", "1", "-i", in, "-t", "3", "-c:v", "libx264",
                           "-preset", "ultrafast", "-c:a", "aac", dir / "out.mp4"});
  ASSERT_EQ(o.status, 0);
  std::vector<double> percents;
  bool last_had_eta = false;
  for (const auto& r : o.records) {
    if (r.at("msg") == "progress" && r.contains("percent")) {
      percents.push_back(r.at("percent").to_number<double>());
      last_had_eta = r.contains("eta_s");  // known once a speed is
    }
  }
  EXPECT_TRUE(last_had_eta);
  ASSERT_GE(percents.size(), 4u);
  for (double p : percents) {
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 100.0);
  }
  // About one third after one second, i.e. measured against 3 s, not against 6 s or 5 s.
  EXPECT_GT(percents.back(), 60.0);
  EXPECT_LT(percents.front(), 40.0);
}

TEST(Run, UnknownDurationHasNoPercent) {
  TempDir dir;
  // lavfi without a limit: no total. ffmpeg stops on -frames, which does not give a duration.
  // 2.4 s at 1x: 7.0+ reports no time until the first packet is muxed (0.5 s in on 9.0).
  RunOutcome o = RunFfpod({"--progress-log-interval", "0.2"},
                          {"ffmpeg", "-re", "-f", "lavfi", "-i", kLavfi, "-frames:v", "60", "-c:v",
                           "libx264", "-preset", "ultrafast", dir / "out.mp4"});
  ASSERT_EQ(o.status, 0);
  int with_time = 0;
  for (const auto& r : o.records) {
    if (r.at("msg") == "progress") {
      EXPECT_FALSE(r.contains("percent")) << boost::json::serialize(r);
      EXPECT_FALSE(r.contains("eta_s"));
      if (r.contains("out_time_s")) ++with_time;
    }
  }
  EXPECT_GE(with_time, 2);
}

// With -progress taken by the user, ffpod's progress comes from ffmpeg's stderr stats line
// (frame=... time=... speed=...), and the user's progress file still gets every block.
TEST(Run, StatsLineProgressWhenTheUserTakesProgress) {
  TempDir dir;
  std::string in = MakeInput(dir, 3);
  RunOutcome o = RunFfpod({"--progress-log-interval", "0.2"},
                          {"ffmpeg", "-re", "-i", in, "-progress", dir / "user.progress", "-c:v",
                           "libx264", "-preset", "ultrafast", "-c:a", "aac", dir / "out.mp4"});
  ASSERT_EQ(o.status, 0);
  EXPECT_EQ(Reason(o), "ok");
  EXPECT_EQ(o.result.at("progress").at("frames").as_int64(), 75);
  EXPECT_NEAR(o.result.at("progress").at("out_time_s").to_number<double>(), 3.0, 0.1);
  std::vector<double> percents;
  for (const auto& r : o.records) {
    if (r.at("msg") == "progress" && r.contains("percent")) {
      percents.push_back(r.at("percent").to_number<double>());
    }
  }
  ASSERT_GE(percents.size(), 2u);
  for (double p : percents) EXPECT_LE(p, 100.0);
  EXPECT_GT(percents.back(), 50.0);
  std::string user = ReadFile(dir / "user.progress");
  EXPECT_NE(user.find("out_time_us="), std::string::npos) << user;
  EXPECT_NE(user.find("progress=end"), std::string::npos) << user;
}

struct FailureCase {
  std::string name;
  Args cmd;  // ffmpeg command; "{dir}" is replaced by the temp dir
  std::string reason;
  int ffmpeg_exit;       // with --exit-codes ffmpeg, up to 6.0 (errors exit 1)
  int averror_exit;      // the same from 6.1 on (the AVERROR's low byte)
  int classified_exit;   // with --exit-codes classified
  std::string evidence;  // a substring of the result's message
  // Where the real 4.3 says something else (Debian's 4.3 has no NVENC, its QSV fails on VAAPI).
  std::string evidence_4_3 = "";
};

// The exit status and the evidence the release under test gives (tests/harness TestFfmpeg()).
int ExpectedExit(const FailureCase& c) {
  return testing::TestFfmpeg().ExitsWithAverror() ? c.averror_exit : c.ffmpeg_exit;
}
std::string ExpectedEvidence(const FailureCase& c) {
  return !c.evidence_4_3.empty() && !testing::TestFfmpeg().AtLeast(4, 4) ? c.evidence_4_3
                                                                         : c.evidence;
}

// Test names and failure messages show the case's name, not its bytes.
void PrintTo(const FailureCase& c, std::ostream* os) { *os << c.name; }

Args Expand(const Args& cmd, const std::string& dir) {
  Args out;
  for (auto a : cmd) {
    size_t p = a.find("{dir}");
    if (p != std::string::npos) a.replace(p, 5, dir);
    out.push_back(a);
  }
  return out;
}

class RunFailure : public ::testing::TestWithParam<FailureCase> {};

TEST_P(RunFailure, IsClassifiedFromARealRun) {
  const FailureCase& c = GetParam();
  TempDir dir;
  // Noise that no demuxer accepts, for input_invalid.
  std::string noise(8192, '\0');
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 7919 + 13) % 251);
  testing::WriteFile(dir.path() / "garbage.bin", noise);
  Args cmd = Expand(c.cmd, dir.path().string());
  RunOutcome raw = RunFfpod({}, cmd);
  EXPECT_EQ(Reason(raw), c.reason) << Message(raw);
  EXPECT_EQ(raw.status, ExpectedExit(c));
  EXPECT_NE(Message(raw).find(ExpectedEvidence(c)), std::string::npos) << Message(raw);
  EXPECT_EQ(raw.result.at("status").as_string(), c.reason == "ok" ? "succeeded" : "failed");
  std::filesystem::remove(dir.path() / "o.mp4");  // some failures leave one behind
  RunOutcome classified = RunFfpod({"--exit-codes", "classified"}, cmd);
  EXPECT_EQ(Reason(classified), c.reason);
  EXPECT_EQ(classified.status, c.classified_exit);
}

INSTANTIATE_TEST_SUITE_P(
    RealFfmpeg, RunFailure,
    ::testing::Values(FailureCase{"input_missing",
                                  {"ffmpeg", "-i", "{dir}/nope.mp4", "{dir}/o.mp4"},
                                  "input_missing",
                                  1,
                                  254,
                                  10,
                                  "No such file or directory"},
                      FailureCase{"input_invalid_noise",
                                  {"ffmpeg", "-i", "{dir}/garbage.bin", "{dir}/o.mp4"},
                                  "input_invalid",
                                  1,
                                  183,
                                  11,
                                  "Invalid data found when processing input"},
                      FailureCase{"bad_arguments_option",
                                  {"ffmpeg", "-f", "lavfi", "-i", "testsrc2", "-bogus_option", "1",
                                   "{dir}/o.mp4"},
                                  "bad_arguments",
                                  1,
                                  8,
                                  12,
                                  "bogus_option"},
                      FailureCase{"bad_arguments_filter",
                                  {"ffmpeg", "-f", "lavfi", "-i", "testsrc2", "-t", "1", "-vf",
                                   "nosuchfilter", "{dir}/o.mp4"},
                                  "bad_arguments",
                                  1,
                                  8,
                                  12,
                                  "nosuchfilter"},
                      FailureCase{"encoder_unavailable_nvenc",
                                  {"ffmpeg", "-f", "lavfi", "-i", "testsrc2", "-t", "1", "-c:v",
                                   "h264_nvenc", "{dir}/o.mp4"},
                                  "encoder_unavailable",
                                  1,
                                  255,
                                  20,
                                  "libcuda.so.1",
                                  "Unknown encoder 'h264_nvenc'"},
                      FailureCase{"encoder_unavailable_qsv",
                                  {"ffmpeg", "-f", "lavfi", "-i", "testsrc2", "-t", "1", "-c:v",
                                   "h264_qsv", "{dir}/o.mp4"},
                                  "encoder_unavailable",
                                  1,
                                  171,
                                  20,
                                  "MFX session",
                                  "Failed to create a VAAPI device"},
                      FailureCase{"encoder_unavailable_vaapi",
                                  {"ffmpeg", "-vaapi_device", "/dev/dri/renderD128", "-f", "lavfi",
                                   "-i", "testsrc2", "-t", "1", "-vf", "format=nv12,hwupload",
                                   "-c:v", "h264_vaapi", "{dir}/o.mp4"},
                                  "encoder_unavailable",
                                  1,
                                  234,
                                  20,
                                  "renderD128"},
                      FailureCase{"network_refused",
                                  {"ffmpeg", "-i", "tcp://127.0.0.1:1", "{dir}/o.mp4"},
                                  "network",
                                  1,
                                  145,
                                  30,
                                  "Connection refused"},
                      FailureCase{"output_failed",
                                  {"ffmpeg", "-f", "lavfi", "-i", "testsrc2", "-t", "1",
                                   "{dir}/missing-dir/o.mp4"},
                                  "output_failed",
                                  1,
                                  254,
                                  32,
                                  "missing-dir/o.mp4"},
                      FailureCase{"disk_full_exit_0",
                                  {"ffmpeg", "-f", "lavfi", "-i", "testsrc2", "-t", "1", "-c:v",
                                   "mpeg2video", "-f", "mpegts", "-y", "/dev/full"},
                                  "disk_full",
                                  0,
                                  228,
                                  31,
                                  "No space left on device"},
                      FailureCase{"disk_full_header",
                                  {"ffmpeg", "-f", "lavfi", "-i", "testsrc2", "-t", "1", "-f",
                                   "mp4", "-y", "/dev/full"},
                                  "disk_full",
                                  1,
                                  228,
                                  31,
                                  "No space left on device"}),
    [](const ::testing::TestParamInfo<FailureCase>& info) { return info.param.name; });

TEST(Run, StderrTailHasNoLevelTags) {
  TempDir dir;
  RunOutcome o = RunFfpod(
      {}, {"ffmpeg", "-f", "lavfi", "-i", kLavfi, "-t", "1", "-vf", "nosuchfilter", dir / "o.mp4"});
  EXPECT_NE(o.status, 0);
  ASSERT_TRUE(o.result.contains("stderr_tail"));
  const auto& tail = o.result.at("stderr_tail").as_array();
  ASSERT_FALSE(tail.empty());
  bool component = false;
  for (const auto& v : tail) {
    std::string line(v.as_string());
    for (const char* tag : {"[error] ", "[info] ", "[fatal] ", "[warning] "}) {
      EXPECT_EQ(line.find(tag), std::string::npos) << line;
    }
    // The context prefix stays, as ffmpeg prints it without -loglevel +level.
    if (line.starts_with("[AVFilterGraph @ 0x") &&
        line.ends_with("] No such filter: 'nosuchfilter'")) {
      component = true;
    }
  }
  EXPECT_TRUE(component) << boost::json::serialize(tail);
  // 6.1+ parses the graph with the options: it fails before transcoding, without the wrapper.
  EXPECT_EQ(tail.back().as_string(), testing::TestFfmpeg().AtLeast(6, 1)
                                         ? "Error opening output files: Filter not found"
                                         : "Conversion failed!");
}

TEST(Run, NetworkRefusedOverHttp) {
  TempDir dir;
  int port = testing::FreePort();
  RunOutcome o = RunFfpod(
      {}, {"ffmpeg", "-i", "http://127.0.0.1:" + std::to_string(port) + "/in.mp4", dir / "o.mp4"});
  EXPECT_EQ(Reason(o), "network");
  EXPECT_NE(Message(o).find("Connection refused"), std::string::npos) << Message(o);
}

TEST(Run, KilledBySomeoneElse) {
  TempDir dir;
  ProcessOptions opts;
  opts.argv = {FFPOD_BINARY, "run",  "--listen", "",        "--exit-codes", "classified", "--",
               "ffmpeg",     "-re",  "-f",       "lavfi",   "-i",           kLavfi,       "-t",
               "30",         "-c:v", "libx264",  "-preset", "ultrafast",    dir / "o.mp4"};
  opts.stderr_path = dir / "log";
  BackgroundProcess ffpod(opts);
  pid_t ffmpeg = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (pid_t c : testing::ChildrenOf(ffpod.pid())) {
          if (testing::IsJobFfmpeg(c)) ffmpeg = c;
        }
        return ffmpeg > 0;
      },
      10s));
  std::this_thread::sleep_for(1s);
  ::kill(ffmpeg, SIGKILL);
  auto status = ffpod.Wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 43);
  auto records = JsonLines(ReadFile(dir / "log"));
  auto fin = FindRecord(records, "job finished");
  ASSERT_TRUE(fin.has_value());
  EXPECT_EQ(fin->at("result").at("reason").as_string(), "killed");
  EXPECT_EQ(fin->at("result").at("exit").at("signal").as_int64(), 9);
}

// Someone else (not ffpod) sends ffmpeg one SIGTERM: ffmpeg stops gracefully (exit 255, trailer
// written, `Exiting normally, received signal 15.`), and the result says it was killed by it.
TEST(Run, TerminatedBySomeoneElseStopsGracefully) {
  TempDir dir;
  ProcessOptions opts;
  opts.argv = {FFPOD_BINARY, "run",  "--listen", "",        "--exit-codes", "classified", "--",
               "ffmpeg",     "-re",  "-f",       "lavfi",   "-i",           kLavfi,       "-t",
               "30",         "-c:v", "libx264",  "-preset", "ultrafast",    dir / "o.mp4"};
  opts.stderr_path = dir / "log";
  BackgroundProcess ffpod(opts);
  pid_t ffmpeg = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (pid_t c : testing::ChildrenOf(ffpod.pid())) {
          if (testing::IsJobFfmpeg(c)) ffmpeg = c;
        }
        return ffmpeg > 0;
      },
      10s));
  std::this_thread::sleep_for(2s);  // transcoding, not opening the input
  ::kill(ffmpeg, SIGTERM);
  auto status = ffpod.Wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 43);
  auto fin = FindRecord(JsonLines(ReadFile(dir / "log")), "job finished");
  ASSERT_TRUE(fin.has_value());
  EXPECT_EQ(fin->at("result").at("reason").as_string(), "killed");
  EXPECT_EQ(fin->at("result").at("exit").at("code").as_int64(), 255);
  std::string message(fin->at("result").at("message").as_string());
  EXPECT_NE(message.find("SIGTERM (signal 15) that ffpod did not send"), std::string::npos)
      << message;
  CommandResult probe = testing::RunCommand({"ffprobe", "-v", "error", "-show_entries",
                                             "format=duration", "-of", "csv=p=0", dir / "o.mp4"});
  EXPECT_EQ(probe.status, 0) << probe.err;
  EXPECT_GT(std::atof(probe.out.c_str()), 0.2);
}

TEST(Run, FfmpegNotFoundIs127AndNamesThePath) {
  TempDir dir;
  CommandResult r = testing::RunCommand(
      {FFPOD_BINARY, "run", "--listen", "", "--", "/nonexistent/ffmpeg", "-version"});
  EXPECT_EQ(r.status, 127);
  EXPECT_NE(r.err.find("/nonexistent/ffmpeg"), std::string::npos) << r.err;
  r = testing::RunCommand(
      {FFPOD_BINARY, "run", "--listen", "", "--", FFPOD_SOURCE_DIR "/CMakeLists.txt", "-version"});
  EXPECT_EQ(r.status, 126) << r.err;
}

TEST(Run, BadFlagsExit2WithOneSentence) {
  CommandResult r =
      testing::RunCommand({FFPOD_BINARY, "run", "--grace-period", "x", "--", "ffmpeg"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "ffpod: --grace-period expects a number of seconds from 1 to 604800, got \"x\"\n");
  r = testing::RunCommand({FFPOD_BINARY, "run", "--", "ffmpeg"}, 10s, {"FFPOD_STALL_TIMEOUT=-3"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("FFPOD_STALL_TIMEOUT"), std::string::npos);
}

TEST(Run, NeverHangsOnTheOverwritePrompt) {
  TempDir dir;
  testing::WriteFile(dir.path() / "exists.mp4", "precious");
  auto start = std::chrono::steady_clock::now();
  RunOutcome o =
      RunFfpod({}, {"ffmpeg", "-f", "lavfi", "-i", kLavfi, "-t", "1", dir / "exists.mp4"}, 30s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_EQ(Reason(o), "output_failed");
  EXPECT_NE(Message(o).find("already exists"), std::string::npos) << Message(o);
  EXPECT_EQ(ReadFile(dir.path() / "exists.mp4"), "precious");
}

TEST(Run, StdoutMediaIsByteIdentical) {
  TempDir dir;
  Args cmd = {"ffmpeg",    "-f",        "lavfi", "-i",     kLavfi,  "-f",      "lavfi",
              "-i",        "sine",      "-t",    "2",      "-c:v",  "libx264", "-preset",
              "ultrafast", "-threads",  "1",     "-c:a",   "mp2",   "-fflags", "+bitexact",
              "-flags",    "+bitexact", "-f",    "mpegts", "pipe:1"};
  Args bare = cmd;
  bare.insert(bare.begin() + 1, {"-v", "error", "-nostdin"});
  CommandResult direct = testing::RunCommand(bare);
  ASSERT_EQ(direct.status, 0) << direct.err;
  RunOutcome wrapped = RunFfpod({}, cmd);
  ASSERT_EQ(wrapped.status, 0);
  ASSERT_GT(direct.out.size(), 10000u);
  EXPECT_EQ(wrapped.out.size(), direct.out.size());
  EXPECT_TRUE(wrapped.out == direct.out);
}

TEST(Run, StdinMediaPassesThrough) {
  TempDir dir;
  std::string in = MakeInput(dir, 2, "in.ts");
  ProcessOptions opts;
  opts.argv = {FFPOD_BINARY, "run",  "--listen",      "", "--", "ffmpeg", "-i", "-",
               "-c",         "copy", dir / "copy.mkv"};
  opts.stdin_path = in;
  opts.stderr_path = dir / "log";
  BackgroundProcess ffpod(opts);
  auto status = ffpod.Wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << ReadFile(dir / "log");
  CommandResult probe =
      testing::RunCommand({"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                           "csv=p=0", dir / "copy.mkv"});
  EXPECT_NEAR(std::stod(probe.out), 2.0, 0.1);
}

TEST(Run, TerminationLogWrittenOnlyWhenItExists) {
  TempDir dir;
  std::string log = dir / "termination-log";
  testing::WriteFile(log, "");
  RunOutcome o =
      RunFfpod({"--termination-log", log}, {"ffmpeg", "-i", dir / "missing.mp4", dir / "o.mp4"});
  EXPECT_EQ(Reason(o), "input_missing");
  std::string summary = ReadFile(log);
  // A missing input exits 1 up to 6.0, 254 (ENOENT) from 6.1 on.
  std::string exit = testing::TestFfmpeg().ExitsWithAverror() ? "254" : "1";
  EXPECT_EQ(summary.rfind("failed: reason=input_missing exit=" + exit + " message=", 0), 0u)
      << summary;
  // 6.1+ says it without the path, in the [in#0] context.
  EXPECT_NE(summary.find(testing::TestFfmpeg().AtLeast(6, 1)
                             ? "Error opening input: No such file or directory"
                             : "missing.mp4: No such file or directory"),
            std::string::npos)
      << summary;
  EXPECT_EQ(summary.back(), '\n');
  std::string absent = dir / "not-mounted";
  RunFfpod({"--termination-log", absent}, {"ffmpeg", "-i", dir / "missing.mp4", dir / "o.mp4"});
  EXPECT_FALSE(std::filesystem::exists(absent));
}

TEST(Run, SecretsNeverReachTheLogs) {
  TempDir dir;
  int port = testing::FreePort();
  std::string url = "http://alice:hunter2@127.0.0.1:" + std::to_string(port) +
                    "/v.mp4?X-Amz-Signature=deadbeefcafe&x=1";
  CommandResult r = testing::RunCommand(
      {FFPOD_BINARY, "run", "--listen", "", "--", "ffmpeg", "-i", url, dir / "o.mp4"});
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("deadbeefcafe"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("REDACTED"), std::string::npos);
}

TEST(Run, MetricsAndStatusWhileEncoding) {
  TempDir dir;
  std::string in = MakeInput(dir, 4);
  ProcessOptions opts;
  opts.argv = {FFPOD_BINARY, "run",     "--listen",  "127.0.0.1:0", "--linger", "30",
               "--",         "ffmpeg",  "-re",       "-i",          in,         "-c:v",
               "libx264",    "-preset", "ultrafast", "-c:a",        "aac",      dir / "o.mp4"};
  opts.stderr_path = dir / "log";
  BackgroundProcess ffpod(opts);
  std::optional<int> port;
  ASSERT_TRUE(
      testing::WaitFor([&] { return (port = testing::LoggedPort(dir / "log")).has_value(); }, 10s));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto s = testing::HttpGet(*port, "/status");
        if (s.status != 200) return false;
        auto v = boost::json::parse(s.body);
        auto& jobs = v.at("jobs").as_array();
        return !jobs.empty() && !jobs[0].at("percent").is_null() &&
               jobs[0].at("percent").to_number<double>() > 10;
      },
      10s));
  auto status = boost::json::parse(testing::HttpGet(*port, "/status").body).as_object();
  EXPECT_EQ(status.at("mode").as_string(), "run");
  EXPECT_EQ(status.at("state").as_string(), "running");
  auto job = status.at("jobs").at(0).as_object();
  EXPECT_LE(job.at("percent").to_number<double>(), 100.0);
  EXPECT_FALSE(job.at("speed").is_null());
  EXPECT_FALSE(job.at("frames").is_null());
  auto metrics = testing::HttpGet(*port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("ffpod_progress_ratio{slot=\"0\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("ffpod_jobs_in_flight 1"), std::string::npos);
  EXPECT_EQ(testing::HttpGet(*port, "/readyz").status, 200);
  EXPECT_EQ(testing::HttpGet(*port, "/healthz").status, 200);
  // After the job: the result is counted and ffpod lingers so the last scrape sees it.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto m = testing::HttpGet(*port, "/metrics");
        return m.body.find("ffpod_jobs_total{result=\"succeeded\",reason=\"ok\"} 1") !=
               std::string::npos;
      },
      20s));
  auto after = testing::HttpGet(*port, "/metrics").body;
  EXPECT_NE(after.find("ffpod_jobs_in_flight 0"), std::string::npos);
  EXPECT_NE(after.find("ffpod_progress_ratio{slot=\"0\"} 1"), std::string::npos);
  EXPECT_EQ(boost::json::parse(testing::HttpGet(*port, "/status").body).at("state").as_string(),
            "stopped");
  EXPECT_EQ(testing::HttpGet(*port, "/readyz").status, 503);
  ffpod.Signal(SIGTERM);  // leaves the linger at once
  auto code = ffpod.Wait(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST(Run, ReportRedisPushesTheResultToTheStream) {
  testing::RedisServer redis;
  TempDir dir;
  RunOutcome o = RunFfpod({"--report-redis", redis.Url(), "--queue", "media", "--id", "job-7"},
                          {"ffmpeg", "-i", dir / "missing.mp4", dir / "o.mp4"});
  EXPECT_EQ(Reason(o), "input_missing");
  auto entries = redis.Command({"XRANGE", "media:results", "-", "+"});
  ASSERT_EQ(entries.elements.size(), 1u);
  const auto& fields = entries.elements[0].elements[1].elements;
  std::map<std::string, std::string> f;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) f[fields[i].str] = fields[i + 1].str;
  EXPECT_EQ(f["id"], "job-7");
  EXPECT_EQ(f["status"], "failed");
  EXPECT_EQ(boost::json::parse(f["result"]).at("reason").as_string(), "input_missing");
  // Redis down: ffpod still exits, after a bounded wait, with the job's own status.
  auto start = std::chrono::steady_clock::now();
  RunOutcome down =
      RunFfpod({"--report-redis", "redis://127.0.0.1:" + std::to_string(testing::FreePort())},
               {"ffmpeg", "-i", dir / "missing.mp4", dir / "o.mp4"});
  EXPECT_EQ(down.status, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  auto bad = testing::RunCommand(
      {FFPOD_BINARY, "run", "--report-redis", "http://x", "--", "ffmpeg", "-version"});
  EXPECT_EQ(bad.status, 2);
}

TEST(Run, ASignalWhileReportingCutsTheReportToTheGracePeriod) {
  // Redis is down, so pushing the result would wait its whole 10 s budget; a SIGTERM then must
  // bring the exit within the new grace period (3 s here), with the job's own status.
  TempDir dir;
  testing::ProcessOptions opts;
  opts.argv = {FFPOD_BINARY,
               "run",
               "--listen",
               "127.0.0.1:0",
               "--grace-period",
               "3",
               "--drain-margin",
               "1",
               "--report-redis",
               "redis://127.0.0.1:" + std::to_string(testing::FreePort()),
               "--",
               "ffmpeg",
               "-i",
               dir / "missing.mp4",
               dir / "o.mp4"};
  opts.stderr_path = dir / "ffpod.log";
  testing::BackgroundProcess ffpod(opts);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return ReadFile(dir / "ffpod.log").find("job finished") != std::string::npos; }, 30s));
  auto signalled = std::chrono::steady_clock::now();
  ffpod.Signal(SIGTERM);
  auto code = ffpod.Wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);  // input_missing
  // Without the cut the report would run to its 10 s budget.
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 3s);
  EXPECT_NE(ReadFile(dir / "ffpod.log").find("result not pushed to Redis in time"),
            std::string::npos);
}

}  // namespace
}  // namespace ffpod
