// docs/configuration.md names every flag of every command with its environment variable, so a
// flag added, renamed or removed in parsers/config/config.cc without the docs fails here.
#include <gtest/gtest.h>

#include <sstream>

#include "parsers/config/config.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

TEST(ConfigDocs, EveryFlagAndVariableIsDocumented) {
  std::string docs = testing::ReadFile(std::string(FFPOD_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_FALSE(docs.empty());
  int flags = 0;
  for (Command c : {Command::kRun, Command::kWorker, Command::kEnqueue, Command::kStatus,
                    Command::kPause, Command::kProbe, Command::kCancel}) {
    std::istringstream help(HelpText(c));
    std::string line;
    while (std::getline(help, line)) {
      if (line.rfind("  --", 0) == 0) {
        std::string flag = line.substr(2, line.find(' ', 2) - 2);
        EXPECT_NE(docs.find("`" + flag), std::string::npos) << flag << " is not documented";
        EXPECT_NE(docs.find("`" + FlagEnvVar(flag) + "`"), std::string::npos) << flag;
        ++flags;
      }
    }
  }
  EXPECT_GT(flags, 40);
}

}  // namespace
}  // namespace ffpod
