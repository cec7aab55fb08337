#include "parsers/telemetry/trace_context.h"

#include <gtest/gtest.h>

#include <string>

#include "parsers/documents/job.h"

namespace ffpod {
namespace {

constexpr char kExample[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesTheW3CExample) {
  auto ctx = ParseTraceparent(kExample);
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(ToHex(ctx->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ToHex(ctx->span_id), "00f067aa0ba902b7");
  EXPECT_EQ(ctx->trace_id[0], 0x4b);
  EXPECT_EQ(ctx->trace_id[15], 0x36);
  EXPECT_EQ(ctx->span_id[7], 0xb7);
  EXPECT_EQ(ctx->trace_flags, 0x01);
  EXPECT_TRUE(ctx->sampled());
  EXPECT_TRUE(ctx->remote);
  EXPECT_TRUE(ctx->valid());
  EXPECT_EQ(ctx->trace_state, "");
  EXPECT_EQ(FormatTraceparent(*ctx), kExample);
}

TEST(Traceparent, FlagsBeyondSampledAreKept) {
  auto ctx = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(ctx.has_value());
  EXPECT_FALSE(ctx->sampled());
  ctx = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(ctx.has_value());
  EXPECT_TRUE(ctx->sampled());
  EXPECT_EQ(ctx->trace_flags, 0x03);
  EXPECT_EQ(FormatTraceparent(*ctx), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
}

TEST(Traceparent, FutureVersionsParseTheirFirstFields) {
  auto ctx = ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever");
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(ToHex(ctx->span_id), "00f067aa0ba902b7");
  // A re-emitted traceparent is always version 00.
  EXPECT_EQ(FormatTraceparent(*ctx), kExample);
  EXPECT_TRUE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(Traceparent, RejectsWhatW3CRejects) {
  const char* bad[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",    // short
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // 00 has exactly 55
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",  // 00 has exactly 55
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // extension not after '-'
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // uppercase
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",   // uppercase
      "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version not hex
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",   // trace-id not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",   // flags not hex
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace-id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero parent-id
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // separator
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",   // separator
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",   // separator
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // leading space
  };
  for (const char* tp : bad) {
    EXPECT_FALSE(ParseTraceparent(tp).has_value()) << tp;
    // The job document's validation agrees.
    EXPECT_FALSE(IsValidTraceparent(tp)) << tp;
  }
  EXPECT_TRUE(IsValidTraceparent(kExample));
}

TEST(Traceparent, InvalidTracestateIsDroppedTheTraceparentStays) {
  auto ctx = ParseTraceparent(kExample, "rojo=00f067aa0ba902b7, Congo=t61rcWkgMzE");
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(ctx->trace_state, "");
  ctx = ParseTraceparent(kExample, " rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE ");
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(ctx->trace_state, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
}

TEST(Tracestate, Normalizes) {
  EXPECT_EQ(NormalizeTracestate(""), "");
  EXPECT_EQ(NormalizeTracestate(" , ,"), "");
  EXPECT_EQ(NormalizeTracestate("a=1"), "a=1");
  EXPECT_EQ(NormalizeTracestate("a=1,,b=2 , \t c=3"), "a=1,b=2,c=3");
  // Multi-tenant keys, and every character a key and a value may hold.
  EXPECT_EQ(NormalizeTracestate("fw529a3039@dt=fw4;0;0;0;0;0;0;ad"),
            "fw529a3039@dt=fw4;0;0;0;0;0;0;ad");
  EXPECT_EQ(NormalizeTracestate("0tenant@sys_-*/=v"), "0tenant@sys_-*/=v");
  EXPECT_EQ(NormalizeTracestate("k_-*/9=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~ x"),
            "k_-*/9=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~ x");
  // The value may start with a space (chr), the member's OWS around it is trimmed.
  EXPECT_EQ(NormalizeTracestate("a= x"), "a= x");
}

TEST(Tracestate, RejectsInvalid) {
  const char* bad[] = {
      "a",                    // no '='
      "A=1",                  // uppercase key
      "1a=1",                 // simple key must start with a letter
      "a=",                   // empty value
      "a=1,a=2",              // duplicate key
      "a=b=c",                // '=' in value
      "a=\x01",               // control character
      "a=\xc3\xa9",           // non-ASCII
      "@dt=1",                // empty tenant
      "t@=1",                 // empty system id
      "t@Dt=1",               // system id starts with a letter, lowercase
      "t@abcdefghijklmno=1",  // system id longer than 14
      "a b=1",                // space in key
  };
  for (const char* ts : bad) {
    EXPECT_FALSE(NormalizeTracestate(ts).has_value()) << ts;
  }
  // A trailing space is OWS before the next separator, not part of the value.
  EXPECT_EQ(NormalizeTracestate("a=x "), "a=x");
}

TEST(Tracestate, ThirtyTwoMembersAtMost) {
  std::string ts;
  for (int i = 0; i < 32; ++i) ts += (i ? ",k" : "k") + std::to_string(i) + "=v";
  EXPECT_EQ(NormalizeTracestate(ts), ts);
  EXPECT_FALSE(NormalizeTracestate(ts + ",k32=v").has_value());
  // Empty members do not count.
  EXPECT_EQ(NormalizeTracestate(ts + ",,"), ts);
}

TEST(Tracestate, KeyAndValueLengthLimits) {
  std::string key256 = "a" + std::string(255, 'b');
  std::string value256(256, 'v');
  EXPECT_TRUE(NormalizeTracestate(key256 + "=" + value256).has_value());
  EXPECT_FALSE(NormalizeTracestate(key256 + "b=v").has_value());
  EXPECT_FALSE(NormalizeTracestate("a=" + value256 + "v").has_value());
  std::string tenant241 = "t" + std::string(240, 'x');
  EXPECT_TRUE(NormalizeTracestate(tenant241 + "@system12345678=v").has_value());
  EXPECT_FALSE(NormalizeTracestate(tenant241 + "x@sys=v").has_value());
}

TEST(Ids, HexRoundTrip) {
  auto t = TraceIdFromHex("0102030405060708090a0b0c0d0e0f10");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ((*t)[0], 1);
  EXPECT_EQ((*t)[15], 16);
  EXPECT_EQ(ToHex(*t), "0102030405060708090a0b0c0d0e0f10");
  EXPECT_FALSE(TraceIdFromHex("0102030405060708090a0b0c0d0e0f1").has_value());
  EXPECT_FALSE(TraceIdFromHex("0102030405060708090A0B0C0D0E0F10").has_value());
  auto s = SpanIdFromHex("ffeeddccbbaa9988");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(ToHex(*s), "ffeeddccbbaa9988");
  EXPECT_FALSE(SpanIdFromHex("ffeeddccbbaa998").has_value());
  EXPECT_TRUE(IsZeroId(*SpanIdFromHex("0000000000000000")));
  EXPECT_FALSE(IsZeroId(*s));
}

TEST(Ids, MadeFromRandomBitsBigEndian) {
  EXPECT_EQ(ToHex(MakeTraceId(0x0123456789abcdefULL, 0xfedcba9876543210ULL)),
            "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(ToHex(MakeSpanId(0x00f067aa0ba902b7ULL)), "00f067aa0ba902b7");
  // An all-zero draw would be invalid: it becomes ...01.
  EXPECT_EQ(ToHex(MakeTraceId(0, 0)), "00000000000000000000000000000001");
  EXPECT_EQ(ToHex(MakeSpanId(0)), "0000000000000001");
  EXPECT_EQ(ToHex(MakeTraceId(0, 1)), "00000000000000000000000000000001");
}

TEST(Contexts, RootAndChild) {
  SpanContext root = NewRootContext(MakeTraceId(1, 2), MakeSpanId(3));
  EXPECT_TRUE(root.valid());
  EXPECT_TRUE(root.sampled());
  EXPECT_FALSE(root.remote);
  EXPECT_EQ(root.trace_state, "");

  auto parent = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
                                 "congo=t61rcWkgMzE");
  ASSERT_TRUE(parent.has_value());
  SpanContext child = ChildContext(*parent, MakeSpanId(0xabc));
  EXPECT_EQ(child.trace_id, parent->trace_id);
  EXPECT_EQ(ToHex(child.span_id), "0000000000000abc");
  EXPECT_EQ(child.trace_flags, 0x00);
  EXPECT_EQ(child.trace_state, "congo=t61rcWkgMzE");
  EXPECT_FALSE(child.remote);
  EXPECT_EQ(FormatTraceparent(child), "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000abc-00");
}

}  // namespace
}  // namespace ffpod
