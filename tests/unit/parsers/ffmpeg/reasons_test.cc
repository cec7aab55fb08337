// The reasons table of parsers/ffmpeg/reasons.cc against what does not come from it: the table of
// docs/failure-reasons.md (read here, row by row), the podFailurePolicy example in the same
// document, and the enum-to-name pairs that dashboards and alerts match on, written out below.
#include "parsers/ffmpeg/reasons.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/common/text.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

std::string FailureReasonsDoc() {
  return testing::ReadFile(std::string(FFPOD_SOURCE_DIR) + "/docs/failure-reasons.md");
}

// The cells of a Markdown table row, trimmed: "| a | b |" -> {"a", "b"}.
std::vector<std::string> Cells(const std::string& row) {
  std::vector<std::string> cells;
  std::istringstream in(row.substr(1));
  for (std::string cell; std::getline(in, cell, '|');) cells.emplace_back(Trim(cell));
  return cells;
}

struct DocRow {
  std::string name;
  std::string retryable;  // "-", "no", "yes", "yes (another pool)"
  std::string counts;     // "yes", "**no**"
  std::string exit_code;  // "0".."255", "none"
};

// The rows of the table whose header starts "| reason | retryable |", in document order.
std::vector<DocRow> DocReasons(const std::string& doc) {
  std::vector<DocRow> rows;
  std::istringstream in(doc);
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.starts_with("| reason | retryable |")) {
      in_table = true;
      continue;
    }
    if (!in_table || line.starts_with("|---")) continue;
    if (!line.starts_with("| `")) break;
    std::vector<std::string> c = Cells(line);
    if (c.size() < 4) break;
    rows.push_back({c[0].substr(1, c[0].size() - 2), c[1], c[2], c[3]});
  }
  return rows;
}

TEST(Reasons, TableIsTheDocumentedOne) {
  std::vector<DocRow> doc = DocReasons(FailureReasonsDoc());
  ASSERT_EQ(doc.size(), 19u) << "docs/failure-reasons.md: the reasons table was not found";
  ASSERT_EQ(AllReasons().size(), doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    const DocRow& d = doc[i];
    const ReasonInfo& info = AllReasons()[i];
    SCOPED_TRACE(d.name);
    EXPECT_EQ(info.name, d.name) << "row " << i;
    EXPECT_EQ(info.retryable, d.retryable.starts_with("yes")) << d.retryable;
    EXPECT_TRUE(d.retryable.starts_with("yes") || d.retryable == "no" || d.retryable == "-");
    EXPECT_EQ(info.counts_as_attempt, d.counts == "yes") << d.counts;
    EXPECT_TRUE(d.counts == "yes" || d.counts == "**no**") << d.counts;
    std::optional<int64_t> code = d.exit_code == "none" ? -1 : ParseInt64(d.exit_code);
    ASSERT_TRUE(code.has_value()) << d.exit_code;
    EXPECT_EQ(info.classified_exit, *code);
    EXPECT_EQ(&GetReasonInfo(info.reason), &info);
  }
}

// The enum constants and the fixed names they carry (a swapped pair in the table fails here
// even when the documented rows still line up).
TEST(Reasons, EnumCarriesItsName) {
  const std::pair<Reason, std::string_view> kNames[] = {
      {Reason::kOk, "ok"},
      {Reason::kInputMissing, "input_missing"},
      {Reason::kInputInvalid, "input_invalid"},
      {Reason::kBadArguments, "bad_arguments"},
      {Reason::kEncoderUnavailable, "encoder_unavailable"},
      {Reason::kGpuBusy, "gpu_busy"},
      {Reason::kNetwork, "network"},
      {Reason::kDiskFull, "disk_full"},
      {Reason::kOutputFailed, "output_failed"},
      {Reason::kOutputInvalid, "output_invalid"},
      {Reason::kOomKilled, "oom_killed"},
      {Reason::kStalled, "stalled"},
      {Reason::kTimeout, "timeout"},
      {Reason::kKilled, "killed"},
      {Reason::kPreempted, "preempted"},
      {Reason::kCancelled, "cancelled"},
      {Reason::kWorkerLost, "worker_lost"},
      {Reason::kBadJob, "bad_job"},
      {Reason::kUnknown, "unknown"},
  };
  for (const auto& [reason, name] : kNames) {
    EXPECT_EQ(ReasonName(reason), name);
    EXPECT_EQ(GetReasonInfo(reason).reason, reason) << name;
    EXPECT_EQ(ReasonFromName(name), reason) << name;
  }
}

TEST(Reasons, UnknownNamesAreNotReasons) {
  EXPECT_FALSE(ReasonFromName("").has_value());
  EXPECT_FALSE(ReasonFromName("OK").has_value());
  EXPECT_FALSE(ReasonFromName("input-missing").has_value());
  EXPECT_FALSE(ReasonFromName("disk_full ").has_value());
}

// The same facts as the document states them in prose and in its podFailurePolicy example.
TEST(Reasons, DocumentedPolicyFacts) {
  EXPECT_FALSE(GetReasonInfo(Reason::kPreempted).counts_as_attempt);
  EXPECT_FALSE(GetReasonInfo(Reason::kBadJob).counts_as_attempt);
  EXPECT_EQ(GetReasonInfo(Reason::kWorkerLost).classified_exit, -1);
  EXPECT_EQ(GetReasonInfo(Reason::kBadJob).classified_exit, -1);
  EXPECT_EQ(GetReasonInfo(Reason::kPreempted).classified_exit, 143);  // 128 + SIGTERM

  // "action: FailJob ... values: [10, 11, 12, 32, 42, 44]": exactly the not-retryable failures.
  std::string doc = FailureReasonsDoc();
  size_t fail_job = doc.find("- action: FailJob");
  ASSERT_NE(fail_job, std::string::npos);
  size_t open = doc.find("values: [", fail_job);
  size_t close = doc.find(']', open);
  ASSERT_NE(close, std::string::npos);
  std::set<int64_t> documented;
  std::istringstream values(doc.substr(open + 9, close - open - 9));
  for (std::string v; std::getline(values, v, ',');) {
    std::optional<int64_t> code = ParseInt64(Trim(v));
    ASSERT_TRUE(code.has_value()) << v;
    documented.insert(*code);
  }
  std::set<int64_t> final_codes;
  for (const ReasonInfo& info : AllReasons()) {
    if (!info.retryable && info.reason != Reason::kOk && info.classified_exit >= 0) {
      final_codes.insert(info.classified_exit);
    }
  }
  EXPECT_EQ(final_codes, documented);
}

TEST(Reasons, ClassifiedExitCodesAreDistinct) {
  std::set<int> seen;
  for (const ReasonInfo& info : AllReasons()) {
    if (info.classified_exit < 0) continue;
    EXPECT_TRUE(seen.insert(info.classified_exit).second) << info.name;
    // A Kubernetes exit code: 0..255, and 0 only for success.
    EXPECT_LE(info.classified_exit, 255);
    EXPECT_EQ(info.classified_exit == 0, info.reason == Reason::kOk) << info.name;
  }
}

}  // namespace
}  // namespace ffpod
