#include "parsers/ffmpeg/classifier.h"
#include "parsers/ffmpeg/classifier_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/ffmpeg/line_splitter.h"
#include "parsers/telemetry/redact.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Table-driven: every recorded or source-derived fixture in tests/fixtures/failures.
// ---------------------------------------------------------------------------------------------

struct Fixture {
  std::string name;
  std::string stderr_bytes;
  ClassifierContext context;
  ExitStatus exit;
  StopCause stop = StopCause::kNone;
  bool oom = false;
  std::string reason;
  std::optional<std::string> evidence;  // raw line, unredacted
};

StopCause ParseStop(std::string_view s) {
  if (s == "drain") return StopCause::kDrain;
  if (s == "stall") return StopCause::kStall;
  if (s == "timeout") return StopCause::kTimeout;
  if (s == "cancel") return StopCause::kCancel;
  EXPECT_EQ(s, "none");
  return StopCause::kNone;
}

std::vector<std::string> Strings(const json::value& v) {
  std::vector<std::string> out;
  for (const json::value& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

std::vector<Fixture> LoadFixtures() {
  std::vector<Fixture> out;
  fs::path dir = testing::FixturePath("failures");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    json::object meta = json::parse(testing::ReadFile(file)).as_object();
    Fixture f;
    f.name = file.stem().string();
    f.stderr_bytes = testing::ReadFile(fs::path(file).replace_extension(".stderr"));
    f.context.inputs = Strings(meta.at("inputs"));
    f.context.outputs = Strings(meta.at("outputs"));
    f.context.version = ParseFfmpegVersion(meta.at("ffmpeg_version").as_string());
    const json::object& exit = meta.at("exit").as_object();
    f.exit = exit.contains("signal") ? ExitStatus::Signaled(exit.at("signal").to_number<int>())
                                     : ExitStatus::Exited(exit.at("code").to_number<int>());
    f.stop = ParseStop(meta.at("stop").as_string());
    f.oom = meta.at("oom_kill_rose").as_bool();
    const json::object& expected = meta.at("expected").as_object();
    f.reason = expected.at("reason").as_string();
    if (!expected.at("evidence").is_null()) {
      f.evidence = std::string(expected.at("evidence").as_string());
    }
    out.push_back(std::move(f));
  }
  return out;
}

const std::vector<Fixture>& Fixtures() {
  static const std::vector<Fixture>* fixtures = new std::vector<Fixture>(LoadFixtures());
  return *fixtures;
}

// A naive splitter: every run of \r and \n ends a line.
std::vector<std::string> NaiveLines(std::string_view bytes) {
  std::vector<std::string> lines;
  std::string current;
  for (char c : bytes) {
    if (c == '\r' || c == '\n') {
      if (!current.empty()) lines.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) lines.push_back(current);
  return lines;
}

Classification ClassifyLines(const Fixture& f, const std::vector<std::string>& lines) {
  FailureClassifier classifier(f.context);
  for (const std::string& line : lines) classifier.Observe(line);
  return classifier.Classify(f.exit, f.stop, f.oom);
}

// The real splitter, fed `chunk` bytes at a time.
Classification ClassifySplit(const Fixture& f, size_t chunk) {
  FailureClassifier classifier(f.context);
  LineSplitter splitter;
  auto sink = [&](const SplitLine& l) { classifier.Observe(l.text); };
  std::string_view bytes = f.stderr_bytes;
  for (size_t i = 0; i < bytes.size(); i += chunk) splitter.Feed(bytes.substr(i, chunk), sink);
  splitter.Finish(sink);
  return classifier.Classify(f.exit, f.stop, f.oom);
}

class FixtureTest : public ::testing::TestWithParam<size_t> {};

TEST_P(FixtureTest, ClassifiesAsRecorded) {
  const Fixture& f = Fixtures()[GetParam()];
  SCOPED_TRACE(f.name);
  Classification c = ClassifyLines(f, NaiveLines(f.stderr_bytes));
  EXPECT_EQ(ReasonName(c.reason), f.reason);
  if (f.evidence) {
    EXPECT_EQ(c.evidence, RedactText(*f.evidence));
    // A line decided: for a cause the message is that line in human form (no level tag, no
    // pointer); for a stop marker it is a sentence.
    if (c.reason != Reason::kKilled && c.reason != Reason::kOk) {
      EXPECT_EQ(c.message, HumanEvidence(c.evidence));
      EXPECT_EQ(c.message.find("[error]"), std::string::npos) << c.message;
      EXPECT_EQ(c.message.find(" @ 0x"), std::string::npos) << c.message;
    }
  } else {
    EXPECT_EQ(c.evidence, "");
  }
  EXPECT_FALSE(c.message.empty());
  EXPECT_LE(c.message.size(), kMaxEvidenceBytes);
  // Secrets in the recorded URLs never reach the result.
  for (std::string_view secret : {"abc123secret", "AKIAEXAMPLE", "hunter2"}) {
    EXPECT_EQ(c.message.find(secret), std::string::npos) << c.message;
    EXPECT_EQ(c.evidence.find(secret), std::string::npos) << c.evidence;
  }
}

TEST(HumanEvidence, DropsTagsAndPointersKeepsTheComponent) {
  EXPECT_EQ(HumanEvidence("[tcp @ 0x55d1c2a0] [error] Connection to tcp://127.0.0.1:1 failed: "
                          "Connection refused"),
            "tcp: Connection to tcp://127.0.0.1:1 failed: Connection refused");
  EXPECT_EQ(HumanEvidence("[error] in.mp4: No such file or directory   "),
            "in.mp4: No such file or directory");
  EXPECT_EQ(HumanEvidence("[vost#0:0/h264_nvenc @ 0x1] [enc:h264_nvenc @ 0x2] Error while opening "
                          "encoder"),
            "enc:h264_nvenc: Error while opening encoder");
  EXPECT_EQ(HumanEvidence("Conversion failed!"), "Conversion failed!");
}

TEST_P(FixtureTest, SameResultWholeLineByLineAndByteByByte) {
  const Fixture& f = Fixtures()[GetParam()];
  SCOPED_TRACE(f.name);
  Classification naive = ClassifyLines(f, NaiveLines(f.stderr_bytes));
  for (size_t chunk : {f.stderr_bytes.size() + 1, size_t{1}, size_t{7}}) {
    Classification split = ClassifySplit(f, chunk);
    EXPECT_EQ(split.reason, naive.reason) << "chunk " << chunk;
    EXPECT_EQ(split.message, naive.message) << "chunk " << chunk;
    EXPECT_EQ(split.evidence, naive.evidence) << "chunk " << chunk;
  }
}

TEST_P(FixtureTest, ARecordedStopByFfpodDecidesFirst) {
  const Fixture& f = Fixtures()[GetParam()];
  SCOPED_TRACE(f.name);
  FailureClassifier classifier(f.context);
  for (const std::string& line : NaiveLines(f.stderr_bytes)) classifier.Observe(line);
  EXPECT_EQ(classifier.Classify(f.exit, StopCause::kDrain, false).reason, Reason::kPreempted);
  EXPECT_EQ(classifier.Classify(f.exit, StopCause::kStall, false).reason, Reason::kStalled);
  EXPECT_EQ(classifier.Classify(f.exit, StopCause::kTimeout, true).reason, Reason::kTimeout);
  EXPECT_EQ(classifier.Classify(f.exit, StopCause::kCancel, false).reason, Reason::kCancelled);
}

// Tagged recordings: where a level is inferred for a line with its `[level]` tag removed, it is
// the level FFmpeg printed.
TEST_P(FixtureTest, InferredLevelsMatchTheTags) {
  const Fixture& f = Fixtures()[GetParam()];
  SCOPED_TRACE(f.name);
  int checked = 0;
  for (const std::string& line : NaiveLines(f.stderr_bytes)) {
    LogLine tagged = DecodeLogLine(line);
    if (!tagged.level_tagged || tagged.component == "x264" || tagged.component == "libva") {
      continue;
    }
    std::string untagged = line;
    std::string tag = "[" + std::string(LogLevelName(tagged.level)) + "] ";
    untagged.erase(untagged.find(tag), tag.size());
    LogLine inferred = DecodeLogLine(untagged);
    EXPECT_FALSE(inferred.level_tagged);
    EXPECT_EQ(inferred.message, tagged.message);
    if (inferred.level != LogLevel::kUnknown) {
      EXPECT_EQ(LogLevelName(inferred.level), LogLevelName(tagged.level)) << line;
      ++checked;
    }
  }
  if (f.name.ends_with("-tagged") && f.evidence && !f.evidence->starts_with("x264")) {
    EXPECT_GT(checked, 0);
  }
}

std::string FixtureName(const ::testing::TestParamInfo<size_t>& info) {
  std::string name = Fixtures()[info.param].name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Failures, FixtureTest, ::testing::Range(size_t{0}, Fixtures().size()),
                         FixtureName);

TEST(FixtureSet, CoversEveryReasonFfmpegCanCause) {
  std::set<std::string> seen;
  for (const Fixture& f : Fixtures()) seen.insert(f.reason);
  for (std::string_view r :
       {"ok", "input_missing", "input_invalid", "bad_arguments", "encoder_unavailable", "gpu_busy",
        "network", "disk_full", "output_failed", "killed", "oom_killed", "unknown", "preempted"}) {
    EXPECT_TRUE(seen.count(std::string(r))) << r;
  }
  EXPECT_GE(Fixtures().size(), 100u);
}

// ---------------------------------------------------------------------------------------------
// Focused rules.
// ---------------------------------------------------------------------------------------------

ClassifierContext Context(std::vector<std::string> inputs, std::vector<std::string> outputs,
                          const char* version = "ffmpeg version 5.1.9-0+deb12u1") {
  ClassifierContext c;
  c.inputs = std::move(inputs);
  c.outputs = std::move(outputs);
  c.version = ParseFfmpegVersion(version);
  return c;
}

Classification ClassifyAll(const std::vector<std::string>& lines, ExitStatus exit,
                           ClassifierContext context = {}, StopCause stop = StopCause::kNone,
                           bool oom = false) {
  FailureClassifier classifier(std::move(context));
  for (const std::string& line : lines) classifier.Observe(line);
  return classifier.Classify(exit, stop, oom);
}

const ExitStatus kExit0 = ExitStatus::Exited(0);
const ExitStatus kExit1 = ExitStatus::Exited(1);

TEST(Classify, StopsByFfpodDecideFirst) {
  const std::vector<std::string> disk_full = {
      "Error writing trailer of /dev/full: No space left "
      "on device"};
  Classification c = ClassifyAll(disk_full, kExit0, {}, StopCause::kDrain);
  EXPECT_EQ(c.reason, Reason::kPreempted);
  EXPECT_EQ(c.message, "ffpod stopped ffmpeg for the drain (exit status 0)");
  EXPECT_EQ(c.evidence, "");
  c = ClassifyAll({}, ExitStatus::Signaled(SIGKILL), {}, StopCause::kTimeout, true);
  EXPECT_EQ(c.reason, Reason::kTimeout);
  EXPECT_EQ(c.message,
            "the job ran past its timeout and ffpod stopped ffmpeg (killed by SIGKILL (signal 9))");
  EXPECT_EQ(ClassifyAll({}, ExitStatus::Exited(255), {}, StopCause::kStall).reason,
            Reason::kStalled);
  EXPECT_EQ(ClassifyAll({"Exiting normally, received signal 2."}, ExitStatus::Exited(255), {},
                        StopCause::kCancel)
                .reason,
            Reason::kCancelled);
}

TEST(Classify, Signals) {
  Classification oom = ClassifyAll({}, ExitStatus::Signaled(SIGKILL), {}, StopCause::kNone, true);
  EXPECT_EQ(oom.reason, Reason::kOomKilled);
  EXPECT_NE(oom.message.find("oom_kill"), std::string::npos);
  Classification killed = ClassifyAll({}, ExitStatus::Signaled(SIGKILL));
  EXPECT_EQ(killed.reason, Reason::kKilled);
  EXPECT_EQ(killed.message, "ffmpeg was killed by SIGKILL (signal 9) that ffpod did not send");
  // The OOM killer only sends SIGKILL: any other signal is not an OOM kill.
  Classification segv =
      ClassifyAll({}, ExitStatus::Signaled(SIGSEGV, true), {}, StopCause::kNone, true);
  EXPECT_EQ(segv.reason, Reason::kKilled);
  EXPECT_EQ(segv.message,
            "ffmpeg was killed by SIGSEGV (signal 11), core dumped that ffpod did not send");
  // A death by signal wins over any line.
  EXPECT_EQ(ClassifyAll({"Connection refused"}, ExitStatus::Signaled(SIGHUP)).reason,
            Reason::kKilled);
}

TEST(Classify, Exit255IsASignalOnlyWithTheExitingNormallyLine) {
  const std::string acknowledged = "[info] Exiting normally, received signal 15.";
  Classification c = ClassifyAll({acknowledged}, ExitStatus::Exited(255));
  EXPECT_EQ(c.reason, Reason::kKilled);
  EXPECT_EQ(c.message,
            "ffmpeg stopped on SIGTERM (signal 15) that ffpod did not send (exit status 255)");
  EXPECT_EQ(c.evidence, acknowledged);

  // 6.1+: 255 is AVERROR(EPERM), e.g. NVENC without libcuda.
  ClassifierContext v61 = Context({}, {"out.mp4"}, "ffmpeg version 6.1.1");
  c = ClassifyAll({"[h264_nvenc @ 0x1] Cannot load libcuda.so.1", "Conversion failed!"},
                  ExitStatus::Exited(255), v61);
  EXPECT_EQ(c.reason, Reason::kEncoderUnavailable);
  c = ClassifyAll({"Conversion failed!"}, ExitStatus::Exited(255), v61);
  EXPECT_EQ(c.reason, Reason::kUnknown);
  EXPECT_EQ(c.message,
            "ffmpeg exited with status 255 without an error line ffpod recognises "
            "(AVERROR(EPERM), Operation not permitted)");
  c = ClassifyAll({}, ExitStatus::Exited(255), Context({}, {}));
  EXPECT_EQ(c.reason, Reason::kUnknown);
  EXPECT_EQ(c.message,
            "ffmpeg exited with status 255 without an error line ffpod recognises (FFmpeg "
            "5.1.9-0+deb12u1 uses 255 after SIGINT/SIGTERM, but it printed no `Exiting normally` "
            "line)");
}

TEST(Classify, HardExit123) {
  Classification c =
      ClassifyAll({"Received > 3 system signals, hard exiting"}, ExitStatus::Exited(123));
  EXPECT_EQ(c.reason, Reason::kKilled);
  EXPECT_EQ(c.evidence, "Received > 3 system signals, hard exiting");
  c = ClassifyAll({}, ExitStatus::Exited(123));
  EXPECT_EQ(c.reason, Reason::kUnknown);
  EXPECT_NE(c.message.find("more than 3 signals"), std::string::npos);
}

TEST(Classify, AverrorStatusIsNeverTheOnlyEvidence) {
  ClassifierContext v71 = Context({"in.mp4"}, {"out.mp4"}, "ffmpeg version n7.1");
  for (int code : {254, 234, 183, 145, 8, 228, 187, 244}) {
    Classification c = ClassifyAll({"[info] Stream mapping:"}, ExitStatus::Exited(code), v71);
    EXPECT_EQ(c.reason, Reason::kUnknown) << code;
    EXPECT_NE(c.message.find("status " + std::to_string(code)), std::string::npos);
  }
  EXPECT_EQ(ClassifyAll({}, ExitStatus::Exited(228), v71).message,
            "ffmpeg exited with status 228 without an error line ffpod recognises "
            "(AVERROR(ENOSPC), No space left on device)");
  // Unknown version: the 6.1+ meaning, said as such.
  EXPECT_EQ(ClassifyAll({}, ExitStatus::Exited(183)).message,
            "ffmpeg exited with status 183 without an error line ffpod recognises (from FFmpeg "
            "6.1 on: AVERROR_INVALIDDATA, Invalid data found when processing input)");
  // 5.1 never exits with AVERROR values.
  EXPECT_EQ(ClassifyAll({}, ExitStatus::Exited(228), Context({}, {})).message,
            "ffmpeg exited with status 228 without an error line ffpod recognises");
  EXPECT_EQ(ClassifyAll({}, ExitStatus::Exited(69), Context({}, {})).message,
            "ffmpeg exited with status 69 without an error line ffpod recognises (the decode "
            "error rate passed -max_error_rate)");
  EXPECT_EQ(ClassifyAll({}, ExitStatus::NotStarted(127)).message,
            "ffmpeg could not be started (not found, exit 127)");
}

TEST(Classify, ExitZero) {
  Classification ok = ClassifyAll({"[info] Stream mapping:"}, kExit0);
  EXPECT_EQ(ok.reason, Reason::kOk);
  EXPECT_EQ(ok.message, "ffmpeg exited with status 0");
  Classification q = ClassifyAll({"[q] command received. Exiting."}, kExit0);
  EXPECT_EQ(q.reason, Reason::kOk);
  EXPECT_EQ(q.evidence, "[q] command received. Exiting.");
  // Evidence FFmpeg exits 0 after.
  struct ExitZeroCase {
    std::vector<std::string> lines;
    Reason reason;
  };
  const ExitZeroCase cases[] = {
      {{"Error writing trailer of /dev/full: No space left on device"}, Reason::kDiskFull},
      {{"[q] command received. Exiting.", "Error closing file out.ts: No space left on device"},
       Reason::kDiskFull},
      {{"Error writing trailer of out.mp4: Input/output error"}, Reason::kOutputFailed},
      {{"Error closing file out.mp4: Input/output error"}, Reason::kOutputFailed},
      {{"File 'out.mp4' already exists. Exiting.", "Error opening output file out.mp4."},
       Reason::kOutputFailed},
      {{"File 'out.mp4' already exists. Overwrite? [y/N] Not overwriting - exiting"},
       Reason::kOutputFailed},
      {{"[out#0/mp4 @ 0x1] Nothing was written into output file, because at least one of its "
        "streams received no packets."},
       Reason::kOutputFailed},
      {{"[in#0/mpegts @ 0x1] Error during demuxing: Connection timed out"}, Reason::kNetwork},
      {{"[in#0/mpegts @ 0x1] Error during demuxing: Input/output error"}, Reason::kNetwork},
      {{"[in#0/mpegts @ 0x1] Error during demuxing: Invalid data found when processing input"},
       Reason::kInputInvalid},
  };
  for (const ExitZeroCase& c : cases) {
    EXPECT_EQ(ClassifyAll(c.lines, kExit0).reason, c.reason) << c.lines.back();
  }
}

TEST(Classify, ExitZeroMidStreamErrorsOnlyInTheirReportedForm) {
  // 5.1 reports a mid-stream read error as `<input url>: <error>` and exits 0.
  ClassifierContext ctx = Context({"http://cam/live.ts"}, {"out.ts"});
  EXPECT_EQ(ClassifyAll({"http://cam/live.ts: Connection timed out"}, kExit0, ctx).reason,
            Reason::kNetwork);
  EXPECT_EQ(ClassifyAll({"http://cam/live.ts: Connection reset by peer"}, kExit0, ctx).reason,
            Reason::kNetwork);
  // Without context, a URL-looking head counts.
  EXPECT_EQ(ClassifyAll({"http://cam/live.ts: Connection timed out"}, kExit0).reason,
            Reason::kNetwork);
  // Retried errors (-reconnect) and connect attempts of a reconnect are not failures.
  EXPECT_EQ(
      ClassifyAll({"[http @ 0x1] Will reconnect at 1234 in 1 second(s), error=Connection refused.",
                   "[tcp @ 0x2] Connection to tcp://cam:80 failed: Connection refused"},
                  kExit0, ctx)
          .reason,
      Reason::kOk);
  // Non-fatal decode errors leave exit 0 alone.
  EXPECT_EQ(
      ClassifyAll({"Error while decoding stream #0:0: Invalid data found when processing input",
                   "[h264 @ 0x1] error while decoding MB 3 11"},
                  kExit0, ctx)
          .reason,
      Reason::kOk);
  // An output named first is not a mid-stream input error.
  EXPECT_EQ(ClassifyAll({"out.ts: Connection timed out"}, kExit0, ctx).reason, Reason::kOk);
}

TEST(Classify, NoSuchFileByDirection) {
  ClassifierContext ctx = Context({"/data/in.mp4"}, {"/data/out/in.mp4"});
  EXPECT_EQ(ClassifyAll({"/data/in.mp4: No such file or directory"}, kExit1, ctx).reason,
            Reason::kInputMissing);
  EXPECT_EQ(ClassifyAll({"/data/out/in.mp4: No such file or directory"}, kExit1, ctx).reason,
            Reason::kOutputFailed);
  // A URL that is a prefix of another one is not named by it.
  ClassifierContext part = Context({"a.mp4"}, {"a.mp4.part"});
  EXPECT_EQ(ClassifyAll({"a.mp4.part: No such file or directory"}, kExit1, part).reason,
            Reason::kOutputFailed);
  EXPECT_EQ(ClassifyAll({"a.mp4: No such file or directory"}, kExit1, part).reason,
            Reason::kInputMissing);
  // 6.1+ says which side in the context prefix or the wording.
  ClassifierContext none;
  EXPECT_EQ(ClassifyAll({"[in#0 @ 0x1] Error opening input: No such file or directory"},
                        ExitStatus::Exited(254), none)
                .reason,
            Reason::kInputMissing);
  EXPECT_EQ(
      ClassifyAll({"[out#0/mp4 @ 0x1] Error opening output x/o.mp4: No such file or directory"},
                  ExitStatus::Exited(254), none)
          .reason,
      Reason::kOutputFailed);
  EXPECT_EQ(ClassifyAll({"Failed to open progress URL \"/nodir/p.txt\": No such file or directory"},
                        kExit1, none)
                .reason,
            Reason::kOutputFailed);
  // Nothing says which side: an input (the common case).
  EXPECT_EQ(ClassifyAll({"x.mp4: No such file or directory"}, kExit1, none).reason,
            Reason::kInputMissing);
}

TEST(Classify, PermissionAndHttpByDirection) {
  ClassifierContext ctx = Context({"https://in.example/a.mp4"}, {"https://out.example/b.mp4"});
  EXPECT_EQ(ClassifyAll({"https://in.example/a.mp4: Permission denied"}, kExit1, ctx).reason,
            Reason::kInputMissing);
  EXPECT_EQ(ClassifyAll({"https://out.example/b.mp4: Permission denied"}, kExit1, ctx).reason,
            Reason::kOutputFailed);
  EXPECT_EQ(ClassifyAll({"https://in.example/a.mp4: Server returned 403 Forbidden (access denied)"},
                        kExit1, ctx)
                .reason,
            Reason::kInputMissing);
  EXPECT_EQ(
      ClassifyAll({"https://out.example/b.mp4: Server returned 404 Not Found"}, kExit1, ctx).reason,
      Reason::kOutputFailed);
  EXPECT_EQ(ClassifyAll({"https://in.example/a.mp4: Server returned 400 Bad Request"}, kExit1, ctx)
                .reason,
            Reason::kInputMissing);
  EXPECT_EQ(
      ClassifyAll({"https://in.example/a.mp4: Server returned 5XX Server Error reply"}, kExit1, ctx)
          .reason,
      Reason::kNetwork);
  EXPECT_EQ(
      ClassifyAll({"https://in.example/a.mp4: Server returned 429 Too Many Requests"}, kExit1, ctx)
          .reason,
      Reason::kNetwork);
  // The warning names no side; the error line that follows does, and wins.
  Classification c = ClassifyAll({"[https @ 0x1] HTTP error 404 Not Found",
                                  "https://out.example/b.mp4: Server returned 404 Not Found"},
                                 kExit1, ctx);
  EXPECT_EQ(c.reason, Reason::kOutputFailed);
  EXPECT_EQ(c.evidence, "https://out.example/b.mp4: Server returned 404 Not Found");
  EXPECT_EQ(ClassifyAll({"[https @ 0x1] HTTP error 503 Service Unavailable"}, kExit1, ctx).reason,
            Reason::kNetwork);
}

TEST(Classify, BrokenPipe) {
  EXPECT_EQ(
      ClassifyAll({"av_interleaved_write_frame(): Broken pipe"}, kExit1, Context({}, {"pipe:1"}))
          .reason,
      Reason::kOutputFailed);
  EXPECT_EQ(ClassifyAll({"av_interleaved_write_frame(): Broken pipe"}, kExit1,
                        Context({}, {"rtmp://ingest/live/key"}))
                .reason,
            Reason::kNetwork);
  EXPECT_EQ(
      ClassifyAll({"[tcp @ 0x1] Error writing to tcp://ingest:1935: Broken pipe"}, kExit1).reason,
      Reason::kNetwork);
}

TEST(Classify, GpuBusyBeatsTheNoCapableDevicesThatFollows) {
  Classification c =
      ClassifyAll({"[h264_nvenc @ 0x1] OpenEncodeSessionEx failed: incompatible client key "
                   "(21): (no details)",
                   "[h264_nvenc @ 0x1] No capable devices found"},
                  kExit1);
  EXPECT_EQ(c.reason, Reason::kGpuBusy);
  // Even when a capability line came first.
  c = ClassifyAll(
      {"[h264_nvenc @ 0x1] 10 bit encode not supported",
       "[h264_nvenc @ 0x2] OpenEncodeSessionEx failed: out of memory (10): (no details)"},
      kExit1);
  EXPECT_EQ(c.reason, Reason::kGpuBusy);
  EXPECT_EQ(ClassifyAll({"[h264_nvenc @ 0x1] No capable devices found"}, kExit1).reason,
            Reason::kEncoderUnavailable);
  EXPECT_EQ(ClassifyAll({"[h264_nvenc @ 0x1] OpenEncodeSessionEx failed: no encode device (1): (no "
                         "details)"},
                        kExit1)
                .reason,
            Reason::kEncoderUnavailable);
  EXPECT_EQ(ClassifyAll(
                {"[AVHWDeviceContext @ 0x1] cu->cuCtxCreate(&hwctx->cuda_ctx, desired_flags, "
                 "hwctx->internal->cuda_device) failed -> CUDA_ERROR_OUT_OF_MEMORY: out of memory"},
                kExit1)
                .reason,
            Reason::kGpuBusy);
  // NVENC capability lines count only from an NVENC encoder.
  EXPECT_EQ(ClassifyAll({"[libx264 @ 0x1] 10 bit encode not supported"}, kExit1).reason,
            Reason::kUnknown);
  EXPECT_EQ(
      ClassifyAll({"libva error: vaGetDriverNameByIndex() failed with unknown libva error"}, kExit1)
          .reason,
      Reason::kEncoderUnavailable);
}

TEST(Classify, HardwareDeviceContextLines) {
  // A device that cannot be opened is no missing input, whatever errno it carries.
  Classification c = ClassifyAll(
      {"[AVHWDeviceContext @ 0x55] Failed to open /dev/dri/renderD128: Permission denied",
       "Device creation failed: -13."},
      kExit1, Context({"in.mp4"}, {"out.mp4"}));
  EXPECT_EQ(c.reason, Reason::kEncoderUnavailable);
  EXPECT_EQ(c.evidence,
            "[AVHWDeviceContext @ 0x55] Failed to open /dev/dri/renderD128: Permission denied");
  // A stronger rule on the same line still wins.
  EXPECT_EQ(ClassifyAll({"[AVHWDeviceContext @ 0x55] cu->cuCtxCreate(...) failed -> "
                         "CUDA_ERROR_OUT_OF_MEMORY: out of memory"},
                        kExit1)
                .reason,
            Reason::kGpuBusy);
  // The same text from another component is about an input.
  EXPECT_EQ(ClassifyAll({"[file @ 0x55] /data/in.mp4: Permission denied"}, kExit1).reason,
            Reason::kInputMissing);
}

TEST(Classify, DiskFullAnywhereWins) {
  Classification c =
      ClassifyAll({"[tcp @ 0x1] Connection to tcp://a:1 failed: Connection refused",
                   "[out#0/mp4 @ 0x2] Task finished with error code: -28 (No space left on "
                   "device)"},
                  ExitStatus::Exited(228));
  EXPECT_EQ(c.reason, Reason::kDiskFull);
  EXPECT_EQ(ClassifyAll({"Error writing trailer of x.mp4: Disk quota exceeded"}, kExit0).reason,
            Reason::kDiskFull);
}

TEST(Classify, FirstCauseWinsOverLaterLinesAndWrappers) {
  Classification c =
      ClassifyAll({"x264 [error]: invalid preset 'notapreset'",
                   "[libx264 @ 0x1] Error setting preset/tune notapreset/(null).",
                   "Error initializing output stream 0:0 -- Error while opening encoder "
                   "for output stream #0:0 - maybe incorrect parameters such as bit_rate",
                   "Conversion failed!"},
                  kExit1);
  EXPECT_EQ(c.reason, Reason::kBadArguments);
  EXPECT_EQ(c.evidence, "x264 [error]: invalid preset 'notapreset'");
  c = ClassifyAll({"[vost#0:0 @ 0x1] Unknown encoder 'foo264'", "Error opening output file o.mp4.",
                   "Error opening output files: Encoder not found"},
                  ExitStatus::Exited(8));
  EXPECT_EQ(c.evidence, "[vost#0:0 @ 0x1] Unknown encoder 'foo264'");
  // A wrapper alone still says what it wraps.
  c = ClassifyAll({"Error opening input files: Connection refused"}, ExitStatus::Exited(145));
  EXPECT_EQ(c.reason, Reason::kNetwork);
  EXPECT_EQ(c.evidence, "Error opening input files: Connection refused");
  EXPECT_EQ(ClassifyAll({"Error splitting the argument list: Option not found"}, kExit1).reason,
            Reason::kBadArguments);
  EXPECT_EQ(ClassifyAll({"Conversion failed!"}, kExit1).reason, Reason::kUnknown);
  // A weak line (decode error) gives way to a real cause that follows.
  c = ClassifyAll({"Error while decoding stream #0:0: Invalid data found when processing input",
                   "http://cam/live.ts: Connection reset by peer"},
                  kExit1);
  EXPECT_EQ(c.reason, Reason::kNetwork);
}

TEST(Classify, InfoLinesAndDumpsAreNeverEvidence) {
  const std::vector<std::string> lines = {
      "[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'No space left on device.mp4':",
      "    title           : Connection refused",
      "  Metadata:",
      "Input #0, lavfi, from 'Unknown encoder 'x'':",
      "frame=   75 fps=0.0 q=-1.0 Lsize=      88kB time=00:00:03.00 bitrate= 240.5kbits/s",
      "[libx264 @ 0x1] [info] profile High, level 1.3 Permission denied",
      "[http @ 0x1] [verbose] Connection refused"};
  EXPECT_EQ(ClassifyAll(lines, kExit0).reason, Reason::kOk);
  EXPECT_EQ(ClassifyAll(lines, kExit1).reason, Reason::kUnknown);
}

TEST(Classify, MessageIsTheRedactedEvidenceCutToSize) {
  Classification c = ClassifyAll(
      {"[error] https://u:hunter2@cdn.example/in.m3u8?token=tok123: Server returned 404 Not "
       "Found   "},
      kExit1, Context({"https://u:hunter2@cdn.example/in.m3u8?token=tok123"}, {}));
  EXPECT_EQ(c.reason, Reason::kInputMissing);
  EXPECT_EQ(c.evidence,
            "[error] https://REDACTED@cdn.example/in.m3u8?token=REDACTED: Server returned 404 Not "
            "Found   ");
  EXPECT_EQ(c.message,
            "https://REDACTED@cdn.example/in.m3u8?token=REDACTED: Server returned 404 Not Found");
  // A long line is cut below the limit, never inside a UTF-8 sequence.
  std::string long_line = "moov atom not found ";
  while (long_line.size() < 5000) long_line += "\xc3\xa9";
  c = ClassifyAll({long_line}, kExit1);
  EXPECT_EQ(c.reason, Reason::kInputInvalid);
  EXPECT_LE(c.evidence.size(), kMaxEvidenceBytes);
  EXPECT_GE(c.evidence.size(), kMaxEvidenceBytes - 1);
  EXPECT_EQ(c.evidence.size() % 2, 0u);  // 20 ASCII bytes, then whole 2-byte characters
  EXPECT_EQ(c.message, c.evidence);
}

TEST(Classify, MemoryStaysBoundedOnEndlessErrors) {
  FailureClassifier classifier(Context({"in.ts"}, {"out.ts"}));
  for (int i = 0; i < 200000; ++i) {
    classifier.Observe("[h264 @ 0x55] [error] error while decoding MB " + std::to_string(i) +
                       " 11");
    classifier.Observe(
        "[error] Error while decoding stream #0:0: Invalid data found when "
        "processing input");
  }
  classifier.Observe("[in#0/mpegts @ 0x1] [error] Error during demuxing: Connection reset by peer");
  Classification c = classifier.Classify(ExitStatus::Exited(69), StopCause::kNone, false);
  EXPECT_EQ(c.reason, Reason::kNetwork);
  EXPECT_EQ(classifier.last_error_line(),
            "[in#0/mpegts @ 0x1] [error] Error during demuxing: Connection reset by peer");
}

TEST(FailureClassifier, LastErrorLineAndAcknowledgedSignal) {
  FailureClassifier classifier(Context({}, {}));
  EXPECT_EQ(classifier.last_error_line(), "");
  EXPECT_FALSE(classifier.acknowledged_signal().has_value());
  classifier.Observe("[info] Stream mapping:");
  EXPECT_EQ(classifier.last_error_line(), "");
  classifier.Observe("[error] rtmp://live:s3cret@ingest/app: Connection refused");
  EXPECT_EQ(classifier.last_error_line(), "[error] rtmp://REDACTED@ingest/app: Connection refused");
  classifier.Observe("Unknown encoder 'foo'");  // fatal, inferred without a tag
  EXPECT_EQ(classifier.last_error_line(), "Unknown encoder 'foo'");
  classifier.Observe("[info] Exiting normally, received signal 2.");
  ASSERT_TRUE(classifier.acknowledged_signal().has_value());
  EXPECT_EQ(*classifier.acknowledged_signal(), 2);
  EXPECT_EQ(classifier.last_error_line(), "Unknown encoder 'foo'");
}

TEST(KnownMessageLevel, Levels) {
  EXPECT_EQ(KnownMessageLevel("Conversion failed!"), LogLevel::kInfo);
  EXPECT_EQ(KnownMessageLevel("Exiting normally, received signal 15."), LogLevel::kInfo);
  EXPECT_EQ(KnownMessageLevel("Error opening input files: Connection refused"), LogLevel::kFatal);
  EXPECT_EQ(KnownMessageLevel("HTTP error 404 Not Found"), LogLevel::kWarning);
  EXPECT_EQ(KnownMessageLevel("in.mp4: Invalid data found when processing input"),
            LogLevel::kError);
  EXPECT_EQ(KnownMessageLevel("Received > 3 system signals, hard exiting"), std::nullopt);
  EXPECT_EQ(KnownMessageLevel("using SAR=1/1"), std::nullopt);
  EXPECT_EQ(KnownMessageLevel(""), std::nullopt);
}

}  // namespace
}  // namespace ffpod
