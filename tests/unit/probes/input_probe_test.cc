#include "probes/input_probe.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

std::optional<int64_t> Duration(std::string_view text) {
  return ParseFfprobeDuration(R"({"format":{"duration":")" + std::string(text) + "\"}}");
}

TEST(ParseFfprobeDuration, TheDecimalFfprobeWrites) {
  EXPECT_EQ(Duration("12.345000"), 12345000);
  EXPECT_EQ(Duration("0.000001"), 1);
  EXPECT_EQ(Duration("3600"), 3600000000);
  EXPECT_EQ(Duration("1e3"), 1000000000);
  EXPECT_EQ(Duration("1000000000.000000"), 1000000000000000);  // the largest accepted
}

TEST(ParseFfprobeDuration, NothingToStandBehind) {
  for (std::string_view bad : {"", "N/A", "0", "0.000000", "-1.5", "1000000000.5", "inf", "nan",
                               "12.5s", "12,5", " 12.5", "+12.5", "0x1p3"}) {
    EXPECT_EQ(Duration(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(ParseFfprobeDuration(R"({"format":{"duration":12.5}})"), std::nullopt);
  EXPECT_EQ(ParseFfprobeDuration(R"({"format":{}})"), std::nullopt);
  EXPECT_EQ(ParseFfprobeDuration(R"({"format":[]})"), std::nullopt);
  EXPECT_EQ(ParseFfprobeDuration("{}"), std::nullopt);
  EXPECT_EQ(ParseFfprobeDuration("not json"), std::nullopt);
}

}  // namespace
}  // namespace ffpod
