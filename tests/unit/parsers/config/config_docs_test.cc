// docs/configuration.md against the tables --help is printed from (parsers/config/config_table.h,
// OtelVariables()): every flag and every environment variable has its row, with the variable,
// the commands, the help sentence and the default the code has, and no row names something the
// code does not have. A flag or variable added, renamed, removed or given another default
// without the docs fails here.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/config/config_table.h"
#include "parsers/config/otel_config.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

// The cells of a Markdown table row, trimmed and unescaped ("\|" is "|"); empty for any other
// line.
std::vector<std::string> Cells(const std::string& line) {
  if (!line.starts_with("|")) return {};
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      size_t b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

// The rows of every table in the doc whose first cell is code (`--flag`, `VARIABLE`), by what
// that cell names.
std::map<std::string, std::vector<std::string>> DocRows() {
  std::string docs = testing::ReadFile(std::string(FFPOD_SOURCE_DIR) + "/docs/configuration.md");
  EXPECT_FALSE(docs.empty());
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream lines(docs);
  std::string line;
  while (std::getline(lines, line)) {
    auto cells = Cells(line);
    if (cells.empty() || !cells[0].starts_with('`') || !cells[0].ends_with('`')) continue;
    std::string name = cells[0].substr(1, cells[0].size() - 2);
    EXPECT_EQ(rows.count(name), 0u) << name << " has two rows";
    rows[name] = cells;
  }
  return rows;
}

// The last cell: the help sentence first (a link may follow), the code's default last.
void ExpectDescription(const std::string& name, const std::string& cell, std::string_view help,
                       const std::string& default_text) {
  EXPECT_TRUE(cell.starts_with(help)) << name << ": the code says \"" << help << "\"";
  if (default_text.empty()) {
    EXPECT_EQ(cell.find("(default:"), std::string::npos) << name << " has no default";
  } else {
    EXPECT_TRUE(cell.ends_with("(default: " + default_text + ")"))
        << name << ": the code's default is " << default_text;
  }
}

TEST(ConfigDocs, EveryFlagHasItsRow) {
  auto rows = DocRows();
  for (const Flag& f : Flags()) {
    std::string head(f.name);
    if (!f.value_hint.empty()) head += " " + std::string(f.value_hint);
    ASSERT_EQ(rows.count(head), 1u) << head << " is not documented";
    const auto& cells = rows[head];
    ASSERT_EQ(cells.size(), 4u) << head;
    EXPECT_EQ(cells[1], "`" + FlagEnvVar(f.name) + "`") << head;
    EXPECT_EQ(cells[2], CommandsText(f.commands)) << head;
    ExpectDescription(head, cells[3], f.help, DefaultText(f));
  }
}

TEST(ConfigDocs, EveryOtherVariableHasItsRow) {
  auto rows = DocRows();
  for (const Variable& v : Variables()) {
    std::string name(v.name);
    ASSERT_EQ(rows.count(name), 1u) << name << " is not documented";
    const auto& cells = rows[name];
    ASSERT_EQ(cells.size(), 3u) << name;
    EXPECT_EQ(cells[1], CommandsText(v.commands)) << name;
    ExpectDescription(name, cells[2], v.help, DefaultText(v));
  }
  const OtelConfig defaults;
  for (const OtelVariable& v : OtelVariables()) {
    std::string name(v.name);
    ASSERT_EQ(rows.count(name), 1u) << name << " is not documented";
    const auto& cells = rows[name];
    ASSERT_EQ(cells.size(), 3u) << name;
    EXPECT_EQ(cells[1], CommandsText(kTracingCommands)) << name;
    ExpectDescription(name, cells[2], v.help, v.default_text ? v.default_text(defaults) : "");
  }
}

TEST(ConfigDocs, NoRowForWhatTheCodeDoesNotHave) {
  std::set<std::string> known;
  for (const Flag& f : Flags()) {
    known.insert(std::string(f.name) + (f.value_hint.empty() ? "" : " ") +
                 std::string(f.value_hint));
  }
  for (const Variable& v : Variables()) known.emplace(v.name);
  for (const OtelVariable& v : OtelVariables()) known.emplace(v.name);
  for (const auto& [name, cells] : DocRows()) {
    EXPECT_EQ(known.count(name), 1u) << name << " is documented but not in the code";
  }
}

// The OTEL_* names otel_config.cc reads are in OtelVariables() ("[TRACES_]X" stands for
// OTEL_EXPORTER_OTLP_X and OTEL_EXPORTER_OTLP_TRACES_X).
TEST(ConfigDocs, OtelVariablesListsEveryVariableTheParserReads) {
  std::set<std::string> listed;
  for (const OtelVariable& v : OtelVariables()) listed.emplace(v.name);
  auto covered = [&](const std::string& name) {
    static const std::regex kSignal("OTEL_EXPORTER_OTLP_(TRACES_)?(.+)");
    std::smatch m;
    return listed.count(name) == 1 ||
           (std::regex_match(name, m, kSignal) &&
            listed.count("OTEL_EXPORTER_OTLP_[TRACES_]" + m[2].str()) == 1);
  };
  std::string source =
      testing::ReadFile(std::string(FFPOD_SOURCE_DIR) + "/parsers/config/otel_config.cc");
  ASSERT_FALSE(source.empty());
  int names = 0;
  static const std::regex kName("\"(OTEL_[A-Z_]*[A-Z])\"");
  for (std::sregex_iterator it(source.begin(), source.end(), kName), end; it != end; ++it) {
    EXPECT_TRUE(covered((*it)[1].str())) << (*it)[1].str() << " is read but not listed";
    ++names;
  }
  static const std::regex kSuffix("GetSignal\\([^,]+, \"([A-Z_]+)\"");
  for (std::sregex_iterator it(source.begin(), source.end(), kSuffix), end; it != end; ++it) {
    EXPECT_TRUE(covered("OTEL_EXPORTER_OTLP_" + (*it)[1].str())) << (*it)[1].str();
    ++names;
  }
  EXPECT_GT(names, 15);
}

}  // namespace
}  // namespace ffpod
