#include "parsers/classifier.h"

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

#include "parsers/line_splitter.h"
#include "parsers/redact.h"
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
    // A line decided: for a cause the message is that line; for a stop marker it is a sentence.
    if (c.reason != Reason::kKilled && c.reason != Reason::kOk) {
      std::string trimmed = c.evidence;
      while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\r')) {
        trimmed.pop_back();
      }
      EXPECT_EQ(c.message, trimmed);
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

}  // namespace
}  // namespace ffpod
