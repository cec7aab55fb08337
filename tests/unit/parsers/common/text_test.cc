#include "parsers/common/text.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>

namespace ffpod {
namespace {

TEST(TextClasses, AsciiOnly) {
  for (char c : std::string_view("0123456789")) EXPECT_TRUE(IsDigit(c)) << c;
  for (char c : std::string_view("/:aA \x80\xff")) EXPECT_FALSE(IsDigit(c)) << c;
  EXPECT_TRUE(IsAsciiAlpha('a') && IsAsciiAlpha('z') && IsAsciiAlpha('A') && IsAsciiAlpha('Z'));
  EXPECT_FALSE(IsAsciiAlpha('@') || IsAsciiAlpha('[') || IsAsciiAlpha('`') || IsAsciiAlpha('{'));
  EXPECT_FALSE(IsAsciiAlpha('\xe9'));  // Latin-1 e-acute is no letter here, whatever the locale
  EXPECT_TRUE(IsAsciiLower('q') && !IsAsciiLower('Q') && IsAsciiUpper('Q') && !IsAsciiUpper('q'));
  EXPECT_TRUE(IsAsciiAlnum('7') && IsAsciiAlnum('x') && !IsAsciiAlnum('_') && !IsAsciiAlnum('-'));
  for (char c : std::string_view(" \t\n\v\f\r")) EXPECT_TRUE(IsAsciiSpace(c)) << int{c};
  for (char c : std::string_view("\x08\x0e\x1f_a\xa0")) EXPECT_FALSE(IsAsciiSpace(c)) << int{c};
}

TEST(TextClasses, Case) {
  EXPECT_EQ(AsciiLower('A'), 'a');
  EXPECT_EQ(AsciiLower('Z'), 'z');
  EXPECT_EQ(AsciiLower('a'), 'a');
  EXPECT_EQ(AsciiLower('%'), '%');
  EXPECT_EQ(AsciiLower('\xc9'), '\xc9');
  EXPECT_EQ(AsciiUpper('a'), 'A');
  EXPECT_EQ(AsciiUpper('z'), 'Z');
  EXPECT_EQ(AsciiUpper('Z'), 'Z');
  EXPECT_EQ(AsciiUpper('_'), '_');
}

TEST(TextTrim, DefaultIsAsciiWhitespace) {
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \t\r\n\v\f"), "");
  EXPECT_EQ(Trim("  a b \n"), "a b");
  EXPECT_EQ(Trim("a"), "a");
  EXPECT_EQ(TrimLeft("  a  "), "a  ");
  EXPECT_EQ(TrimRight("  a  "), "  a");
  EXPECT_EQ(Trim("\xa0"
                 "a"),
            "\xa0"
            "a");  // a no-break space is not ASCII whitespace
}

TEST(TextTrim, ChosenCharacters) {
  EXPECT_EQ(Trim(" \t12\r", " \t\r"), "12");
  EXPECT_EQ(Trim("\n12\n", " \t\r"), "\n12\n");
  EXPECT_EQ(Trim("__token__", "_"), "token");
  EXPECT_EQ(Trim("___", "_"), "");
  EXPECT_EQ(TrimRight("stats \r\n", "\r\n "), "stats");
}

TEST(TextTrim, ConsumeSuffix) {
  std::string_view s = "12kB";
  EXPECT_FALSE(ConsumeSuffix(&s, "KiB"));
  EXPECT_EQ(s, "12kB");
  EXPECT_TRUE(ConsumeSuffix(&s, "kB"));
  EXPECT_EQ(s, "12");
  EXPECT_TRUE(ConsumeSuffix(&s, ""));
  EXPECT_EQ(s, "12");
  std::string_view shorter = "x";
  EXPECT_FALSE(ConsumeSuffix(&shorter, "kbits/s"));
  std::string_view whole = "x";
  EXPECT_TRUE(ConsumeSuffix(&whole, "x"));
  EXPECT_EQ(whole, "");
}

TEST(TextTrim, LeadingDigits) {
  EXPECT_EQ(LeadingDigits(""), "");
  EXPECT_EQ(LeadingDigits("abc"), "");
  EXPECT_EQ(LeadingDigits("12_q"), "12");
  EXPECT_EQ(LeadingDigits("007"), "007");
  EXPECT_EQ(LeadingDigits("-1"), "");
}

TEST(TextNumbers, ParseDurationSeconds) {
  EXPECT_EQ(ParseDurationSeconds("30s"), 30);
  EXPECT_EQ(ParseDurationSeconds("15m"), 900);
  EXPECT_EQ(ParseDurationSeconds("2h"), 7200);
  EXPECT_EQ(ParseDurationSeconds("7d"), 604800);
  EXPECT_EQ(ParseDurationSeconds("0s"), 0);
  EXPECT_EQ(ParseDurationSeconds("36500d"), 36500LL * 86400);
  for (const char* bad : {"", "s", "15", "1.5h", "-1d", "+1d", "1w", "2 h", " 2h", "2H", "1e3s",
                          "99999999999999999999s", "40000d"}) {
    EXPECT_FALSE(ParseDurationSeconds(bad).has_value()) << bad;
  }
}

TEST(TextNumbers, ParseInt64) {
  EXPECT_EQ(ParseInt64("0"), 0);
  EXPECT_EQ(ParseInt64("-0"), 0);
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_EQ(ParseInt64("-42"), -42);
  EXPECT_EQ(ParseInt64("007"), 7);
  EXPECT_EQ(ParseInt64("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseInt64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  for (std::string_view bad : {"", "-", "+1", " 1", "1 ", "1.0", "1e3", "0x1", "1a", "N/A",
                               "9223372036854775808", "-9223372036854775809", "--1", "\xd9\xa1"}) {
    EXPECT_FALSE(ParseInt64(bad).has_value()) << bad;
  }
}

TEST(TextNumbers, ParseUint64) {
  EXPECT_EQ(ParseUint64("0"), 0u);
  EXPECT_EQ(ParseUint64("0065535"), 65535u);
  EXPECT_EQ(ParseUint64("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  for (std::string_view bad : {"", "-0", "-1", "+1", " 1", "1 ", "1.5", "N/A",
                               "18446744073709551616", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseUint64(bad).has_value()) << bad;
  }
}

TEST(TextNumbers, ParseDoubleForms) {
  EXPECT_EQ(ParseDouble("12"), 12.0);
  EXPECT_EQ(ParseDouble("12.5"), 12.5);
  EXPECT_EQ(ParseDouble("-0.5"), -0.5);
  EXPECT_EQ(ParseDouble(".5"), 0.5);
  EXPECT_EQ(ParseDouble("5."), 5.0);
  EXPECT_EQ(ParseDouble("1e3"), 1000.0);
  EXPECT_EQ(ParseDouble("1E-3"), 0.001);
  EXPECT_EQ(ParseDouble("1e-310"), 1e-310);  // subnormal: still a double
  std::optional<double> negative_zero = ParseDouble("-0.0");
  ASSERT_TRUE(negative_zero.has_value());
  EXPECT_TRUE(std::signbit(*negative_zero));  // kept: callers that print it add 0.0
}

TEST(TextNumbers, ParseDoubleRejects) {
  for (std::string_view bad : {"", "-", ".", "+1", " 1", "1 ", "1,5", "1e", "1x", "0x1p3", "N/A",
                               "1e999", "-1e999", "1e-999", "nan", "-nan", "nan(1)", "NaN"}) {
    EXPECT_FALSE(ParseDouble(bad).has_value()) << bad;
    EXPECT_FALSE(ParseDouble(bad, Infinities::kAccept).has_value()) << bad;
  }
}

TEST(TextNumbers, ParseDoubleInfinities) {
  for (std::string_view inf : {"inf", "-inf", "INF", "Infinity"}) {
    EXPECT_FALSE(ParseDouble(inf).has_value()) << inf;
    std::optional<double> v = ParseDouble(inf, Infinities::kAccept);
    ASSERT_TRUE(v.has_value()) << inf;
    EXPECT_TRUE(std::isinf(*v)) << inf;
    EXPECT_EQ(std::signbit(*v), inf.front() == '-') << inf;
  }
  EXPECT_FALSE(ParseDouble("infx", Infinities::kAccept).has_value());
  EXPECT_FALSE(ParseDouble("+inf", Infinities::kAccept).has_value());
}

TEST(TextHex, DigitValue) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('G'), -1);
  EXPECT_EQ(HexDigitValue(' '), -1);
  EXPECT_EQ(HexDigitValue('f', HexCase::kLower), 15);
  EXPECT_EQ(HexDigitValue('F', HexCase::kLower), -1);
  EXPECT_EQ(HexDigitValue('F', HexCase::kUpper), 15);
  EXPECT_EQ(HexDigitValue('f', HexCase::kUpper), -1);
  EXPECT_EQ(HexDigitValue('7', HexCase::kUpper), 7);
  EXPECT_EQ(LowerHexDigit(0), '0');
  EXPECT_EQ(LowerHexDigit(11), 'b');
  EXPECT_EQ(LowerHexDigit(0x1f), 'f');  // only the low four bits count
}

TEST(TextHex, EncodeDecode) {
  const std::array<uint8_t, 4> bytes = {0x00, 0x0a, 0xf0, 0xff};
  EXPECT_EQ(LowerHex(bytes), "000af0ff");
  EXPECT_EQ(LowerHex({}), "");
  std::string out = "x=";
  AppendLowerHex(out, bytes);
  EXPECT_EQ(out, "x=000af0ff");

  std::array<uint8_t, 4> back{};
  ASSERT_TRUE(DecodeHex("000af0ff", back));
  EXPECT_EQ(back, bytes);
  ASSERT_TRUE(DecodeHex("000AF0FF", back));
  EXPECT_EQ(back, bytes);
  EXPECT_TRUE(DecodeHex("000af0ff", back, HexCase::kLower));
  EXPECT_FALSE(DecodeHex("000AF0FF", back, HexCase::kLower));
  EXPECT_FALSE(DecodeHex("000af0f", back));    // too short
  EXPECT_FALSE(DecodeHex("000af0fff", back));  // too long
  EXPECT_FALSE(DecodeHex("000af0fg", back));
  EXPECT_FALSE(DecodeHex(" 00af0ff", back));
  EXPECT_TRUE(DecodeHex("", std::span<uint8_t>()));
}

}  // namespace
}  // namespace ffpod
