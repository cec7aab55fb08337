// `ffpod run` with a wrapper around ffmpeg (docs/run.md "Wrapping ffmpeg in a script"): real
// shell scripts (/bin/sh) around the real ffmpeg. The wrapper's arguments pass untouched, its
// ffmpeg reports progress through FFPOD_PROGRESS_FD, percent comes from that ffmpeg's own
// arguments when they give a total, its failures are classified, a drain stops the inner ffmpeg
// gracefully; ffmpeg run directly keeps its rewrite.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

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

const std::string kLavfi = "testsrc2=size=160x120:rate=25";

struct RunOutcome {
  int status = -1;
  std::vector<boost::json::object> records;
  boost::json::object result;  // the "job finished" record's result document
  std::string err;
};

RunOutcome RunFfpod(const Args& ffpod_flags, const Args& cmd) {
  Args argv = {FFPOD_BINARY, "run", "--listen", ""};
  argv.insert(argv.end(), ffpod_flags.begin(), ffpod_flags.end());
  argv.push_back("--");
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  CommandResult r = testing::RunCommand(argv, 60s);
  RunOutcome o;
  o.status = r.status;
  o.err = r.err;
  o.records = JsonLines(r.err);
  if (auto fin = FindRecord(o.records, "job finished")) {
    o.result = fin->at("result").as_object();
  } else {
    ADD_FAILURE() << "no 'job finished' record; stderr:\n" << r.err;
  }
  return o;
}

// An executable shell script in `dir`.
std::string Script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir / name;
  testing::WriteFile(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
  return path;
}

// The "ffmpeg started" record's arguments.
Args StartedArgs(const std::vector<boost::json::object>& records) {
  Args args;
  auto started = FindRecord(records, "ffmpeg started");
  EXPECT_TRUE(started.has_value());
  if (!started) return args;
  for (const auto& a : started->at("args").as_array()) args.emplace_back(a.as_string());
  return args;
}

// The media duration ffprobe reads from `path`; negative when it cannot read it.
double ProbedDuration(const std::string& path) {
  CommandResult probe = testing::RunCommand(
      {"ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path});
  if (probe.status != 0 || probe.out.empty()) return -1;
  return std::stod(probe.out);
}

TEST(RunWrapper, ArgumentsReachTheScriptUntouched) {
  TempDir dir;
  // The script records what it got: its arguments, and the progress fd ffpod offers it.
  std::string script = Script(dir, "args.sh",
                              "printf '%s\\n' \"$@\" > \"$0.args\"\n"
                              "echo \"$FFPOD_PROGRESS_FD\" > \"$0.fd\"\n"
                              "[ -w /dev/fd/$FFPOD_PROGRESS_FD ] && echo writable >> \"$0.fd\"\n");
  Args given = {"-i", "in.mp4", "-loglevel", "quiet", "-y", "-progress", "x", "--", "out.mp4"};
  Args cmd = {script};
  cmd.insert(cmd.end(), given.begin(), given.end());
  RunOutcome o = RunFfpod({}, cmd);
  EXPECT_EQ(o.status, 0) << o.err;
  std::string expected;
  for (const auto& a : given) expected += a + "\n";
  EXPECT_EQ(ReadFile(script + ".args"), expected);
  EXPECT_EQ(ReadFile(script + ".fd"), "3\nwritable\n");
  EXPECT_EQ(StartedArgs(o.records), given);
  EXPECT_EQ(FindRecord(o.records, "ffmpeg started")->at("command_kind"), "wrapper");
  EXPECT_EQ(o.result.at("reason").as_string(), "ok");
  // `sh -c` is a wrapper too: nothing is added in front of the shell's arguments.
  RunOutcome sh = RunFfpod({}, {"sh", "-c", "echo \"$0 $*\" > " + dir / "sh.txt", "zero", "a b"});
  EXPECT_EQ(sh.status, 0);
  EXPECT_EQ(ReadFile(dir / "sh.txt"), "zero a b\n");
  EXPECT_EQ(StartedArgs(sh.records),
            (Args{"-c", "echo \"$0 $*\" > " + dir / "sh.txt", "zero", "a b"}));
}

TEST(RunWrapper, ProgressArrivesThroughFfpodProgressFd) {
  TempDir dir;
  std::string script =
      Script(dir, "encode.sh",
             "exec ffmpeg -nostats -progress \"pipe:$FFPOD_PROGRESS_FD\" -y -f lavfi -i " + kLavfi +
                 " -t 2 -c:v libx264 -preset ultrafast \"$1\"\n");
  RunOutcome o = RunFfpod({"--progress-log-interval", "0.2"}, {script, dir / "out.mp4"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.result.at("reason").as_string(), "ok");
  EXPECT_EQ(o.result.at("progress").at("frames").as_int64(), 50);
  EXPECT_NEAR(o.result.at("progress").at("out_time_s").to_number<double>(), 2.0, 0.1);
  EXPECT_EQ(o.result.at("ffmpeg").at("version").as_string(), "5.1.9-0+deb12u1");
  EXPECT_NEAR(ProbedDuration(dir / "out.mp4"), 2.0, 0.1);
}

// A short real input file.
void MakeInput(const std::string& path, int seconds) {
  CommandResult r = testing::RunCommand({"ffmpeg", "-v", "error", "-f", "lavfi", "-i", kLavfi, "-t",
                                         std::to_string(seconds), "-c:v", "libx264", "-preset",
                                         "ultrafast", "-y", path});
  ASSERT_EQ(r.status, 0) << r.err;
}

// The percent of every progress record.
std::vector<double> Percents(const std::vector<boost::json::object>& records) {
  std::vector<double> percents;
  for (const auto& r : records) {
    if (r.at("msg") == "progress" && r.contains("percent")) {
      percents.push_back(r.at("percent").to_number<double>());
    }
  }
  return percents;
}

TEST(RunWrapper, PercentComesFromTheInnerFfmpegsOwnArguments) {
  TempDir ffpod_dir, script_dir;
  // A 20 s file where ffpod runs, a 4 s one of the same name where the script's ffmpeg runs:
  // ffmpeg's relative path is relative to its own directory.
  MakeInput(ffpod_dir / "in.mp4", 20);
  MakeInput(script_dir / "in.mp4", 4);
  std::string script = Script(script_dir, "encode.sh",
                              "cd \"$(dirname \"$0\")\"\n"
                              "exec ffmpeg -nostats -progress \"pipe:$FFPOD_PROGRESS_FD\" -re -i "
                              "in.mp4 -c:v libx264 -preset ultrafast -y out.mp4\n");
  CommandResult r = testing::RunCommand(
      {"sh", "-c", "cd \"$0\" && exec \"$@\"", ffpod_dir.path().string(), FFPOD_BINARY, "run",
       "--listen", "", "--progress-log-interval", "0.3", "--", script},
      60s);
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<double> percents = Percents(JsonLines(r.err));
  ASSERT_GE(percents.size(), 4u) << r.err;
  for (double p : percents) EXPECT_LE(p, 100.0);
  // Measured against 4 s, not 20 s (which would stay under 20 %).
  EXPECT_GT(percents.back(), 60.0);
}

TEST(RunWrapper, NoPercentWithoutAKnownTotal) {
  TempDir dir;
  // -frames does not give a duration, and lavfi has none: no total, no percent.
  RunOutcome o = RunFfpod({"--progress-log-interval", "0.2"},
                          {"sh", "-c",
                           "exec ffmpeg -nostats -progress pipe:$FFPOD_PROGRESS_FD -re -y -f lavfi "
                           "-i " +
                               kLavfi + " -frames:v 30 -c:v libx264 -preset ultrafast \"$0\"",
                           dir / "out.mp4"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.result.at("progress").at("frames").as_int64(), 30);
  EXPECT_TRUE(Percents(o.records).empty()) << o.err;
  int with_time = 0;
  for (const auto& r : o.records) {
    if (r.at("msg") == "progress" && r.contains("out_time_s")) ++with_time;
  }
  EXPECT_GE(with_time, 2);
}

TEST(RunWrapper, StatsLinesAreTheProgressWhenTheFdIsUnused) {
  TempDir dir;
  RunOutcome o = RunFfpod({}, {"sh", "-c",
                               "ffmpeg -y -f lavfi -i " + kLavfi +
                                   " -t 2 -c:v libx264 -preset ultrafast \"$0\"; exit $?",
                               dir / "out.mp4"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.result.at("progress").at("frames").as_int64(), 50);
  EXPECT_NEAR(o.result.at("progress").at("out_time_s").to_number<double>(), 2.0, 0.1);
}

TEST(RunWrapper, AFailingFfmpegInsideIsClassified) {
  TempDir dir;
  std::string script = Script(dir, "fail.sh",
                              "echo preparing >&2\n"
                              "ffmpeg -nostats -progress \"pipe:$FFPOD_PROGRESS_FD\" -i \"$1\" "
                              "-y \"$2\"\n"
                              "status=$?\n"
                              "echo \"ffmpeg exited $status\" >&2\n"
                              "exit $status\n");
  RunOutcome o = RunFfpod({}, {script, dir / "missing.mp4", dir / "o.mp4"});
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.result.at("reason").as_string(), "input_missing") << o.err;
  EXPECT_EQ(o.result.at("status").as_string(), "failed");
  std::string message(o.result.at("message").as_string());
  EXPECT_NE(message.find("missing.mp4: No such file or directory"), std::string::npos) << message;
  const auto& tail = o.result.at("stderr_tail").as_array();
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(tail.front().as_string(), "preparing");
  EXPECT_EQ(tail.back().as_string(), "ffmpeg exited 1");
  RunOutcome classified =
      RunFfpod({"--exit-codes", "classified"}, {script, dir / "missing.mp4", dir / "o.mp4"});
  EXPECT_EQ(classified.status, 10);
}

TEST(RunWrapper, ADrainStopsTheInnerFfmpegGracefully) {
  TempDir dir;
  // No exec: the shell stays between ffpod and ffmpeg, and waits for it.
  std::string script = Script(dir, "long.sh",
                              "ffmpeg -nostats -progress \"pipe:$FFPOD_PROGRESS_FD\" -re -y -f "
                              "lavfi -i " +
                                  kLavfi +
                                  " -t 60 -c:v libx264 -preset ultrafast \"$1\"\n"
                                  "status=$?\n"
                                  "echo \"ffmpeg exited $status\" >&2\n"
                                  "exit $status\n");
  ProcessOptions opts;
  opts.argv = {FFPOD_BINARY,
               "run",
               "--listen",
               "",
               "--grace-period",
               "20",
               "--progress-log-interval",
               "0.2",
               "--",
               script,
               dir / "out.mp4"};
  opts.stderr_path = dir / "log";
  BackgroundProcess ffpod(opts);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (const auto& r : JsonLines(ReadFile(dir / "log"))) {
          if (r.at("msg") == "progress" && r.contains("out_time_s") &&
              r.at("out_time_s").to_number<double>() >= 1.5) {
            return true;
          }
        }
        return false;
      },
      20s))
      << ReadFile(dir / "log");
  ffpod.Signal(SIGTERM);
  auto status = ffpod.Wait(30s);
  ASSERT_TRUE(status.has_value());
  auto records = JsonLines(ReadFile(dir / "log"));
  auto stopping = FindRecord(records, "stopping ffmpeg gracefully");
  ASSERT_TRUE(stopping.has_value());
  EXPECT_EQ(stopping->at("method"), "SIGINT to the process group");
  EXPECT_FALSE(FindRecord(records, "ffmpeg did not stop in time").has_value());
  auto fin = FindRecord(records, "job finished");
  ASSERT_TRUE(fin.has_value());
  const auto& result = fin->at("result").as_object();
  EXPECT_EQ(result.at("reason").as_string(), "preempted");
  EXPECT_EQ(result.at("status").as_string(), "preempted");
  // ffmpeg finished its output (its own words, forwarded by the script) ...
  std::string tail = boost::json::serialize(result.at("stderr_tail"));
  EXPECT_NE(tail.find("Exiting normally, received signal 2."), std::string::npos) << tail;
  // ... and the shell, which waited for it, reacted to the SIGINT after it: dash dies of it.
  EXPECT_EQ(result.at("exit").at("signal").as_int64(), SIGINT);
  EXPECT_EQ(*status, 128 + SIGINT);
  double duration = ProbedDuration(dir / "out.mp4");
  EXPECT_GT(duration, 1.0);
  EXPECT_LT(duration, 30.0);
}

TEST(RunWrapper, FfmpegRunDirectlyKeepsItsRewriteAndTheKindCanBeForced) {
  TempDir dir;
  Args encode = {"-f", "lavfi", "-i", kLavfi, "-t", "1", "-c:v", "libx264", "-preset", "ultrafast"};
  auto with_output = [&](const std::string& out) {
    Args a = encode;
    a.push_back(out);
    return a;
  };
  Args rewrite = {"-loglevel", "+level", "-n", "-nostats", "-progress", "pipe:3"};
  auto rewritten = [&](const std::string& out) {
    Args a = rewrite;
    Args rest = with_output(out);
    a.insert(a.end(), rest.begin(), rest.end());
    return a;
  };
  Args direct = {"ffmpeg"};
  for (const auto& a : with_output(dir / "a.mp4")) direct.push_back(a);
  RunOutcome o = RunFfpod({}, direct);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(StartedArgs(o.records), rewritten(dir / "a.mp4"));
  EXPECT_EQ(o.result.at("progress").at("frames").as_int64(), 25);
  // An ffmpeg under another name: --command-kind ffmpeg gives it the rewrite.
  std::string ffmpeg = testing::RunCommand({"sh", "-c", "command -v ffmpeg"}).out;
  ffmpeg = ffmpeg.substr(0, ffmpeg.find('\n'));
  std::filesystem::create_symlink(ffmpeg, dir / "encoder");
  Args renamed = {dir / "encoder"};
  for (const auto& a : with_output(dir / "b.mp4")) renamed.push_back(a);
  RunOutcome forced = RunFfpod({"--command-kind", "ffmpeg"}, renamed);
  EXPECT_EQ(forced.status, 0) << forced.err;
  EXPECT_EQ(StartedArgs(forced.records), rewritten(dir / "b.mp4"));
  // Without it the name decides: a wrapper, arguments untouched.
  RunOutcome unforced =
      RunFfpod({}, {dir / "encoder", "-y", "-f", "lavfi", "-i", kLavfi, "-t", "1", dir / "c.mp4"});
  EXPECT_EQ(unforced.status, 0) << unforced.err;
  EXPECT_EQ(StartedArgs(unforced.records),
            (Args{"-y", "-f", "lavfi", "-i", kLavfi, "-t", "1", dir / "c.mp4"}));
  // And ffmpeg itself can be run as given.
  Args as_given = {"ffmpeg", "-y"};
  for (const auto& a : with_output(dir / "d.mp4")) as_given.push_back(a);
  RunOutcome wrapper = RunFfpod({"--command-kind", "wrapper"}, as_given);
  EXPECT_EQ(wrapper.status, 0) << wrapper.err;
  EXPECT_EQ(StartedArgs(wrapper.records), Args(as_given.begin() + 1, as_given.end()));
  // Its stats lines are the progress.
  EXPECT_EQ(wrapper.result.at("progress").at("frames").as_int64(), 25);
}

}  // namespace
}  // namespace ffpod
