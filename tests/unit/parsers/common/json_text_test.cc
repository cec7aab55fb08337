#include "parsers/common/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

namespace ffpod {
namespace {

TEST(JsonText, NumbersForPeople) {
  boost::json::object o;
  o["a"] = 12.5;
  o["b"] = 0.04;
  o["c"] = 3.0;
  o["d"] = 1e-7;
  o["e"] = 42;
  o["f"] = std::numeric_limits<double>::quiet_NaN();
  o["g"] = -std::numeric_limits<double>::infinity();
  o["h"] = static_cast<uint64_t>(18446744073709551615ULL);
  EXPECT_EQ(
      JsonText(o),
      R"({"a":12.5,"b":0.04,"c":3,"d":1e-07,"e":42,"f":null,"g":null,"h":18446744073709551615})");
}

TEST(JsonText, StructureAndEscapingRoundTrip) {
  boost::json::value v = boost::json::parse(
      R"({"s":"q\"uote\\ \n tab\t \u0001","arr":[true,false,null,{"x":[]}],"o":{}})");
  std::string text = JsonText(v);
  EXPECT_EQ(boost::json::parse(text), v);
  EXPECT_EQ(text, R"({"s":"q\"uote\\ \n tab\t \u0001","arr":[true,false,null,{"x":[]}],"o":{}})");
}

}  // namespace
}  // namespace ffpod
