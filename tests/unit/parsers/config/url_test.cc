#include "parsers/config/url.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

TEST(PercentDecode, Cases) {
  EXPECT_EQ(PercentDecode("a%20b%2c%2C+"), "a b,,+");
  EXPECT_EQ(PercentDecode(""), "");
  EXPECT_EQ(PercentDecode("%e2%82%AC"), "\xe2\x82\xac");
  EXPECT_FALSE(PercentDecode("%").has_value());
  EXPECT_FALSE(PercentDecode("%2").has_value());
  EXPECT_FALSE(PercentDecode("%g0").has_value());
}

TEST(PercentDecode, KeepsEveryOtherByte) {
  EXPECT_EQ(PercentDecode("a b=&#?/[]\xff"), "a b=&#?/[]\xff");
  EXPECT_EQ(PercentDecode("s%00x"), std::string("s\0x", 3));
}

TEST(PercentEncode, AllButUnreserved) {
  EXPECT_EQ(PercentEncode("/etc/ca.pem"), "%2Fetc%2Fca.pem");
  EXPECT_EQ(PercentEncode("Az09-._~ @%"), "Az09-._~%20%40%25");
  EXPECT_EQ(PercentDecode(PercentEncode("p@ss:w/rd\x01")), "p@ss:w/rd\x01");
}

Authority Parsed(std::string_view text) {
  auto a = ParseAuthority(text);
  EXPECT_TRUE(std::holds_alternative<Authority>(a)) << text;
  return std::holds_alternative<Authority>(a) ? std::get<Authority>(a) : Authority{};
}

AuthorityError Refused(std::string_view text) {
  auto a = ParseAuthority(text);
  EXPECT_TRUE(std::holds_alternative<AuthorityError>(a)) << text;
  return std::holds_alternative<AuthorityError>(a) ? std::get<AuthorityError>(a) : AuthorityError{};
}

TEST(ParseAuthority, HostsAndPorts) {
  Authority a = Parsed("redis.queue.svc:6380");
  EXPECT_EQ(a.host, "redis.queue.svc");
  EXPECT_FALSE(a.ipv6);
  EXPECT_TRUE(a.has_port);
  EXPECT_EQ(a.port, "6380");
  a = Parsed("[fe80::1:2]");
  EXPECT_EQ(a.host, "fe80::1:2");
  EXPECT_TRUE(a.ipv6);
  EXPECT_FALSE(a.has_port);
  a = Parsed("h:");  // a ':' with nothing after it: the caller says what a port must be
  EXPECT_TRUE(a.has_port);
  EXPECT_EQ(a.port, "");
  EXPECT_EQ(Parsed("10.0.0.7").host, "10.0.0.7");
  // A name that begins like an IPv4 address (Boost.URL 1.81's parse_authority refuses these).
  EXPECT_EQ(Parsed("10.0.0.7a:1").host, "10.0.0.7a");
  EXPECT_EQ(Parsed("1.2.3.4.5").host, "1.2.3.4.5");
  EXPECT_EQ(Parsed("h!x").host, "h!x");  // RFC 3986 allows it; a caller's rule may not
  auto strict = ParseAuthority("h!x:1", [](char c) { return c != '!'; });
  ASSERT_TRUE(std::holds_alternative<AuthorityError>(strict));
  EXPECT_EQ(std::get<AuthorityError>(strict).problem, AuthorityProblem::kBadHost);
}

TEST(ParseAuthority, ProblemsInOrder) {
  struct Case {
    std::string_view text;
    AuthorityProblem problem;
    std::string_view named;
  };
  const Case cases[] = {
      {"[::1", AuthorityProblem::kUnclosedBracket, "::1"},
      {"[]:1", AuthorityProblem::kNotIpv6, ""},
      {"[h.example]:1", AuthorityProblem::kNotIpv6, "h.example"},
      {"[v1.x]", AuthorityProblem::kNotIpv6, "v1.x"},
      {"[::1]x", AuthorityProblem::kAfterBracket, "x"},
      {"[::1]:x", AuthorityProblem::kBadPort, "x"},
      {"::1:6379", AuthorityProblem::kBareIpv6, "::1:6379"},
      {"", AuthorityProblem::kNoHost, ""},
      {":6379", AuthorityProblem::kNoHost, ""},
      {":x", AuthorityProblem::kNoHost, ""},
      {"h<x:x", AuthorityProblem::kBadHost, "h<x"},
      {"h:12ab", AuthorityProblem::kBadPort, "12ab"},
      {"h:-1", AuthorityProblem::kBadPort, "-1"},
      {"ho st", AuthorityProblem::kBadHost, "ho st"},
      {"h<x:1", AuthorityProblem::kBadHost, "h<x"},
      {"u:p@h", AuthorityProblem::kBadHost, "u:p@h"},
  };
  for (const auto& c : cases) {
    AuthorityError e = Refused(c.text);
    EXPECT_EQ(e.problem, c.problem) << c.text;
    EXPECT_EQ(e.text, c.named) << c.text;
  }
}

}  // namespace
}  // namespace ffpod
