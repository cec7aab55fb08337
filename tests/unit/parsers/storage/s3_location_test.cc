#include "parsers/storage/s3_location.h"

#include <gtest/gtest.h>

namespace ffpod {
namespace {

TEST(S3Url, SplitsBucketAndDecodesTheKey) {
  Result<S3Object> o = ParseS3Url("s3://media-out/ladder%2042/720p.mp4");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->bucket, "media-out");
  EXPECT_EQ(o->key, "ladder 42/720p.mp4");
  EXPECT_EQ(S3Url(*o), "s3://media-out/ladder 42/720p.mp4");
  Result<S3Object> prefix = ParseS3Url("s3://media-out/hls/");
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->key, "hls/");
}

TEST(S3Url, ErrorsNameWhatIsWrong) {
  struct Case {
    const char* url;
    const char* error;
  } cases[] = {
      {"https://b/k", "s3 URL https://b/k: must begin with s3://"},
      {"s3://bucket", "s3 URL s3://bucket: names no key (s3://bucket/key)"},
      {"s3://bucket/", "s3 URL s3://bucket/: names no key (s3://bucket/key)"},
      {"s3://ab/k", "s3 URL s3://ab/k: bucket name ab must be 3 to 63 characters"},
      {"s3://Media/k",
       "s3 URL s3://Media/k: bucket name Media may hold only a-z, 0-9, '.' and '-'"},
      {"s3://-media/k",
       "s3 URL s3://-media/k: bucket name -media must begin and end with a letter or a digit"},
      {"s3://a..b/k", "s3 URL s3://a..b/k: bucket name a..b must not hold \"..\""},
      {"s3://10.0.0.1/k",
       "s3 URL s3://10.0.0.1/k: bucket name 10.0.0.1 must not look like an IP address"},
      {"s3://media/a%zz", "s3 URL s3://media/a%zz: key has a malformed %-escape"},
  };
  for (const Case& c : cases) {
    Result<S3Object> o = ParseS3Url(c.url);
    ASSERT_FALSE(o) << c.url;
    EXPECT_EQ(o.error().message, c.error);
  }
  EXPECT_FALSE(ParseS3Url("s3://media/" + std::string(1025, 'k')));
  EXPECT_TRUE(ParseS3Url("s3://media/" + std::string(1024, 'k')));
}

TEST(S3Endpoint, ReadsSchemeHostAndPort) {
  Result<S3Endpoint> e = ParseS3Endpoint("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_FALSE(e->tls);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 9000);
  EXPECT_TRUE(e->custom);
  Result<S3Endpoint> r2 =
      ParseS3Endpoint("AWS_ENDPOINT_URL", "https://acct.r2.cloudflarestorage.com/");
  ASSERT_TRUE(r2);
  EXPECT_TRUE(r2->tls);
  EXPECT_EQ(r2->port, 443);
  Result<S3Endpoint> v6 = ParseS3Endpoint("AWS_ENDPOINT_URL", "http://[::1]:9000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
}

TEST(S3Endpoint, RefusesWhatIsNotAnEndpoint) {
  EXPECT_EQ(ParseS3Endpoint("AWS_ENDPOINT_URL_S3", "minio:9000").error().message,
            "AWS_ENDPOINT_URL_S3=minio:9000: must begin with http:// or https://");
  EXPECT_EQ(
      ParseS3Endpoint("AWS_ENDPOINT_URL", "https://h/bucket").error().message,
      "AWS_ENDPOINT_URL=https://h/bucket: must be a scheme, a host and an optional port only");
  EXPECT_EQ(ParseS3Endpoint("AWS_ENDPOINT_URL", "https://u:p@h").error().message,
            "AWS_ENDPOINT_URL=https://u:p@h: must be a scheme, a host and an optional port only");
  EXPECT_EQ(ParseS3Endpoint("AWS_ENDPOINT_URL", "http://h:99999").error().message,
            "AWS_ENDPOINT_URL=http://h:99999: port must be 1 to 65535");
}

TEST(S3Address, AwsIsVirtualHostUnlessForcedOrDotted) {
  S3Endpoint aws = AwsS3Endpoint("eu-west-1");
  S3Object o{"media", "out/a.mp4"};
  S3Address a = Address(aws, false, o);
  EXPECT_EQ(a.host, "media.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a.host_header, "media.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a.path, "/out/a.mp4");
  EXPECT_TRUE(a.tls);
  EXPECT_EQ(a.port, 443);
  S3Address forced = Address(aws, true, o);
  EXPECT_EQ(forced.host_header, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(forced.path, "/media/out/a.mp4");
  S3Address dotted = Address(aws, false, S3Object{"media.example", "k"});
  EXPECT_EQ(dotted.host_header, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(dotted.path, "/media.example/k");
}

TEST(S3Address, ACustomEndpointIsPathStyleWithItsPort) {
  S3Endpoint e = *ParseS3Endpoint("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000");
  S3Address a = Address(e, false, S3Object{"media", "hls/index.m3u8"});
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9000);
  EXPECT_EQ(a.host_header, "127.0.0.1:9000");
  EXPECT_EQ(a.path, "/media/hls/index.m3u8");
  S3Endpoint v6 = *ParseS3Endpoint("AWS_ENDPOINT_URL_S3", "https://[::1]");
  EXPECT_EQ(Address(v6, false, S3Object{"media", "k"}).host_header, "[::1]");
  S3Endpoint plain80 = *ParseS3Endpoint("AWS_ENDPOINT_URL_S3", "http://minio:80");
  EXPECT_EQ(Address(plain80, false, S3Object{"media", "k"}).host_header, "minio");
}

TEST(PresignedUrl, SplitsOriginAndTargetAsSigned) {
  Result<PresignedTarget> t = ParsePresignedUrl(
      "put_url of output out.mp4",
      "https://media.s3.amazonaws.com/out/a%20b.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-"
      "Signature=abc");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->host, "media.s3.amazonaws.com");
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(t->host_header, "media.s3.amazonaws.com");
  EXPECT_EQ(t->target, "/out/a%20b.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc");
  Result<PresignedTarget> local =
      ParsePresignedUrl("put_url", "http://127.0.0.1:9000/media/k?X-Amz-Signature=1");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->host_header, "127.0.0.1:9000");
}

TEST(PresignedUrl, ErrorsNeverQuoteTheSignature) {
  for (const char* url : {"https://h/k", "ftp://h/k?X-Amz-Signature=secret",
                          "https://u:secret@h/k?X-Amz-Signature=secret"}) {
    Result<PresignedTarget> t = ParsePresignedUrl("put_url of output out.mp4", url);
    ASSERT_FALSE(t) << url;
    EXPECT_EQ(t.error().message.find("secret"), std::string::npos) << t.error().message;
    EXPECT_EQ(t.error().message.rfind("put_url of output out.mp4", 0), 0u) << t.error().message;
  }
  EXPECT_EQ(ParsePresignedUrl("put_url", "ftp://h/k?s=1").error().message,
            "put_url: must begin with http:// or https://");
}

}  // namespace
}  // namespace ffpod
