#include "parsers/storage/s3_protocol.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TEST(S3Protocol, ReadsTheErrorDocument) {
  // As S3 sends it (AWS S3 API Reference, "Error responses").
  const char* body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
      "<Message>The specified bucket does not exist</Message><BucketName>media</BucketName>"
      "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
  S3Error e = ParseS3Error(404, body);
  EXPECT_EQ(e.code, "NoSuchBucket");
  EXPECT_EQ(e.message, "The specified bucket does not exist");
  EXPECT_EQ(DescribeS3Error(404, e),
            "NoSuchBucket (HTTP 404): The specified bucket does not exist");
  S3Error bare = ParseS3Error(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(bare.code, "HTTP 502");
  EXPECT_EQ(DescribeS3Error(502, bare), "HTTP 502");
  EXPECT_EQ(XmlElementText("<a><Key>x &amp; y &lt;z&gt;</Key></a>", "Key"), "x & y <z>");
  EXPECT_EQ(XmlElementText("<a><Key>unclosed</a>", "Key"), std::nullopt);
}

TEST(S3Protocol, RetriesWhatPassesAndNotWhatStays) {
  EXPECT_TRUE(IsRetryableS3Error(503, "SlowDown"));
  EXPECT_TRUE(IsRetryableS3Error(500, "InternalError"));
  EXPECT_TRUE(IsRetryableS3Error(400, "RequestTimeout"));
  EXPECT_TRUE(IsRetryableS3Error(403, "RequestTimeTooSkewed"));
  EXPECT_TRUE(IsRetryableS3Error(429, "HTTP 429"));
  EXPECT_TRUE(IsRetryableS3Error(502, "HTTP 502"));
  EXPECT_FALSE(IsRetryableS3Error(403, "AccessDenied"));
  EXPECT_FALSE(IsRetryableS3Error(404, "NoSuchBucket"));
  EXPECT_FALSE(IsRetryableS3Error(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(IsRetryableS3Error(400, "ExpiredToken"));
  EXPECT_FALSE(IsRetryableS3Error(400, "EntityTooLarge"));
}

TEST(S3Protocol, PlansOnePutOrPartsWithinTheLimits) {
  std::optional<PartPlan> small = PlanParts(16 * kMiB, 16 * kMiB);
  ASSERT_TRUE(small);
  EXPECT_FALSE(small->multipart);
  std::optional<PartPlan> p = PlanParts(100 * kMiB + 1, 16 * kMiB);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->multipart);
  EXPECT_EQ(p->part_bytes, 16 * kMiB);
  EXPECT_EQ(p->parts, 7u);
  EXPECT_EQ(PartAt(*p, 100 * kMiB + 1, 1).offset, 0u);
  EXPECT_EQ(PartAt(*p, 100 * kMiB + 1, 7).offset, 96 * kMiB);
  EXPECT_EQ(PartAt(*p, 100 * kMiB + 1, 7).length, 4 * kMiB + 1);
  // 1 TiB in 16 MiB parts would be 65536 parts: the size grows to fit 10000.
  std::optional<PartPlan> big = PlanParts(1ull << 40, 16 * kMiB);
  ASSERT_TRUE(big);
  EXPECT_LE(big->parts, kS3MaxParts);
  EXPECT_EQ(big->part_bytes % kMiB, 0u);
  EXPECT_GE(static_cast<uint64_t>(big->parts) * big->part_bytes, 1ull << 40);
  EXPECT_LT(static_cast<uint64_t>(big->parts - 1) * big->part_bytes, 1ull << 40);
  EXPECT_FALSE(PlanParts(kS3MaxObjectBytes + 1, 16 * kMiB));
}

TEST(S3Protocol, CompletesWithEveryPartInOrder) {
  EXPECT_EQ(CompleteMultipartBody({{"\"e1\"", "AAA="}, {"\"e2\"", ""}}),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag>"
            "<ChecksumSHA256>AAA=</ChecksumSHA256></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(S3Protocol, EncodesTheChecksumAsBase64OfTheDigest) {
  // sha256("") and its base64, as `printf '' | openssl dgst -sha256 -binary | base64` gives.
  EXPECT_EQ(ChecksumHeader("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(ChecksumHeader("xyz"), "");
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
}

}  // namespace
}  // namespace ffpod
