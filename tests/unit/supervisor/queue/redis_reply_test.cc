// The RESP2 reply reader on byte streams: the same replies whole, split or byte by byte, and
// every malformed or over-bound reply a protocol error that names what was wrong, without
// allocating from a declared count or length.
#include "supervisor/queue/redis_reply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ffpod {
namespace {

using ::testing::HasSubstr;

// Feeds `stream` in pieces cut at `cuts` and collects replies until the first error.
struct Parsed {
  std::vector<RedisReply> replies;
  std::string error;  // empty when none
};

Parsed Parse(const std::string& stream, const std::vector<size_t>& cuts = {},
             RedisReplyLimits limits = {}) {
  RedisReplyReader reader(limits);
  Parsed out;
  size_t pos = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    reader.Feed(stream.data() + pos, end - pos);
    pos = end;
    for (;;) {
      auto next = reader.Next();
      if (!next.ok()) {
        out.error = next.error().message;
        return out;
      }
      if (!next->has_value()) break;
      out.replies.push_back(std::move(**next));
    }
  }
  return out;
}

std::string ErrorOf(const std::string& stream, RedisReplyLimits limits = {}) {
  Parsed whole = Parse(stream, {}, limits);
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
  Parsed bytes = Parse(stream, every_byte, limits);
  EXPECT_EQ(whole.error, bytes.error) << "whole and byte by byte disagree on " << stream;
  EXPECT_EQ(whole.replies, bytes.replies);
  return whole.error;
}

TEST(RedisReplyReader, SameRepliesWholeOrByteByByteOrSplit) {
  const std::string stream =
      std::string(
          "+OK\r\n:42\r\n:-7\r\n$-1\r\n*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n-ERR x\r\n"
          "$0\r\n\r\n*0\r\n*-1\r\n$5\r\na\r\nb") +
      std::string(1, '\0') + "\r\n-NOSCRIPT No matching script.\r\n";
  const std::vector<RedisReply> expected = {
      RedisReply::Status("OK"),
      RedisReply::Integer(42),
      RedisReply::Integer(-7),
      RedisReply::Nil(),
      RedisReply::Array({RedisReply::String("foo"),
                         RedisReply::Array({RedisReply::Integer(1), RedisReply::Error("ERR x")}),
                         RedisReply::String("")}),
      RedisReply::Array({}),
      RedisReply::Nil(),
      RedisReply::String(std::string("a\r\nb\0", 5)),
      RedisReply::Error("NOSCRIPT No matching script."),
  };
  EXPECT_EQ(Parse(stream).replies, expected);
  EXPECT_EQ(Parse(stream).error, "");
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
  EXPECT_EQ(Parse(stream, every_byte).replies, expected);
  for (size_t i = 1; i < stream.size(); ++i) {
    EXPECT_EQ(Parse(stream, {i}).replies, expected) << "split at " << i;
  }
}

TEST(RedisReplyReader, IncompleteIsNotMalformed) {
  for (std::string partial : {"*1\r\n$3\r\nab", "$10\r\n", "*2\r\n:1\r\n", ":12", "+OK\r"}) {
    Parsed p = Parse(partial);
    EXPECT_EQ(p.error, "") << partial;
    EXPECT_TRUE(p.replies.empty()) << partial;
  }
}

TEST(RedisReplyReader, MalformedStreamsAreProtocolErrors) {
  for (std::string bad : {"?what\r\n", "*2\r\n:1\r\n!x\r\n", "*1\r\n*1\r\n*1\r\n?\r\n",
                          "$3\r\nabcd\r\n", ":12x\r\n", ":99999999999999999999\r\n"}) {
    EXPECT_THAT(ErrorOf(bad), HasSubstr("protocol error: ")) << bad;
  }
}

TEST(RedisReplyReader, HugeArrayCountIsAProtocolErrorNotAnAllocation) {
  // The reply that crashed the worker with std::bad_alloc.
  EXPECT_EQ(ErrorOf("*2147483647\r\n"),
            "protocol error: array of 2147483647 elements exceeds the limit of 1048576");
  EXPECT_EQ(ErrorOf("*9223372036854775807\r\n"),
            "protocol error: array of 9223372036854775807 elements exceeds the limit of 1048576");
  EXPECT_THAT(ErrorOf("*99999999999999999999\r\n"), HasSubstr("is not a number"));
}

TEST(RedisReplyReader, HugeBulkLengthIsRefusedAtItsHeader) {
  EXPECT_EQ(ErrorOf("$2147483647\r\n"),
            "protocol error: bulk string of 2147483647 bytes exceeds the limit of 67108864");
  RedisReplyLimits small;
  small.max_bulk_bytes = 4;
  EXPECT_EQ(Parse("$4\r\nabcd\r\n", {}, small).replies,
            std::vector<RedisReply>{RedisReply::String("abcd")});
  EXPECT_EQ(ErrorOf("$5\r\n", small),
            "protocol error: bulk string of 5 bytes exceeds the limit of 4");
}

TEST(RedisReplyReader, NegativeLengthsOtherThanMinusOneAreRefused) {
  EXPECT_EQ(ErrorOf("$-2\r\n"),
            "protocol error: bulk string length -2 is negative (only -1, nil, is)");
  EXPECT_EQ(ErrorOf("*-5\r\n"), "protocol error: array length -5 is negative (only -1, nil, is)");
  EXPECT_THAT(ErrorOf("*-0\r\n"), HasSubstr("is negative"));
}

TEST(RedisReplyReader, NonDigitLengthsAreRefused) {
  for (std::string bad :
       {"$+3\r\n", "$ 3\r\n", "$3 \r\n", "$0x10\r\n", "$\r\n", "*abc\r\n", "*1.5\r\n", "$-\r\n"}) {
    EXPECT_THAT(ErrorOf(bad), HasSubstr("is not a number")) << bad;
  }
  EXPECT_EQ(ErrorOf("$ab\r\n"), "protocol error: bulk string length \"ab\" is not a number");
}

TEST(RedisReplyReader, OverlongLinesAreRefusedWithoutTheirEnd) {
  // No CRLF ever comes: the reader gives up after the bound instead of buffering forever.
  EXPECT_EQ(ErrorOf("*" + std::string(40, '1')),
            "protocol error: a number line is longer than 32 bytes");
  EXPECT_EQ(ErrorOf(":" + std::string(33, '1') + "\r\n"),
            "protocol error: a number line is longer than 32 bytes");
  RedisReplyLimits small;
  small.max_line_bytes = 8;
  EXPECT_EQ(Parse("+12345678\r\n", {}, small).replies,
            std::vector<RedisReply>{RedisReply::Status("12345678")});
  EXPECT_EQ(ErrorOf("-1234567890", small),
            "protocol error: a status or error line is longer than 8 bytes");
}

TEST(RedisReplyReader, NestingDeeperThanTheBoundIsRefused) {
  std::string eight, nine;
  for (int i = 0; i < 8; ++i) eight += "*1\r\n";
  nine = eight + "*1\r\n:1\r\n";
  eight += ":1\r\n";
  Parsed ok = Parse(eight);
  EXPECT_EQ(ok.error, "");
  ASSERT_EQ(ok.replies.size(), 1u);
  EXPECT_EQ(ErrorOf(nine), "protocol error: arrays nested more than 8 deep");
}

TEST(RedisReplyReader, ElementsOfAllArraysOfOneReplyAreBoundedTogether) {
  RedisReplyLimits small;
  small.max_elements = 4;
  EXPECT_EQ(Parse("*2\r\n*2\r\n:1\r\n:2\r\n:3\r\n", {}, small).replies.size(), 1u);
  EXPECT_EQ(ErrorOf("*2\r\n*3\r\n", small),
            "protocol error: the arrays of one reply hold more than 4 elements together");
  // The count is per reply: the next reply starts from zero.
  EXPECT_EQ(Parse("*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n", {}, small)
                .replies.size(),
            2u);
}

TEST(RedisReplyReader, WholeReplyIsBoundedInBytes) {
  RedisReplyLimits small;
  small.max_reply_bytes = 32;
  // 4 + 2 * (4 + 5 + 2) = 26 bytes: fits.
  EXPECT_EQ(Parse("*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n", {}, small).replies.size(), 1u);
  EXPECT_EQ(ErrorOf("*3\r\n$5\r\nhello\r\n$5\r\nworld\r\n$5\r\n", small),
            "protocol error: reply exceeds the limit of 32 bytes");
  // Per reply: many small replies in a row are fine.
  std::string many;
  for (int i = 0; i < 20; ++i) many += "+OK\r\n";
  EXPECT_EQ(Parse(many, {}, small).replies.size(), 20u);
}

TEST(RedisReplyReader, AnErrorIsFinal) {
  RedisReplyReader reader;
  reader.Feed("*-3\r\n+OK\r\n", 10);
  auto first = reader.Next();
  ASSERT_FALSE(first.ok());
  reader.Feed("+OK\r\n", 5);
  auto again = reader.Next();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, first.error().message);
}

TEST(RedisReply, ErrorCodesAndRendering) {
  EXPECT_TRUE(RedisReply::Error("NOSCRIPT No matching script.").IsErrorCode("NOSCRIPT"));
  EXPECT_TRUE(RedisReply::Error("NOSCRIPT").IsErrorCode("NOSCRIPT"));
  EXPECT_FALSE(RedisReply::Error("NOSCRIPTS x").IsErrorCode("NOSCRIPT"));
  EXPECT_FALSE(RedisReply::String("NOSCRIPT x").IsErrorCode("NOSCRIPT"));
  EXPECT_EQ(RedisReply::Array({RedisReply::Nil(), RedisReply::Integer(3),
                               RedisReply::String(std::string("a\"\x01", 3)),
                               RedisReply::Error("ERR x"), RedisReply::Status("OK")})
                .ToString(),
            "[(nil), (integer) 3, \"a\\\"\\x01\", (error) ERR x, OK]");
}

}  // namespace
}  // namespace ffpod
