// SigV4 on the examples AWS publishes for S3 ("Signature Calculations for the Authorization
// Header" and "Authenticating Requests: Using Query Parameters", AWS S3 API Reference: the
// examplebucket requests of 2013-05-24 with the documentation's example keys), and the encoding
// rules one by one. The same steps are compared with botocore's signer on many more requests in
// tests/integration/storage/sigv4_reference_test.cc.
#include "parsers/storage/sigv4.h"

#include <gtest/gtest.h>

#include "parsers/telemetry/log_format.h"
#include "supervisor/storage/sha256.h"

namespace ffpod::sigv4 {
namespace {

Hashes OpenSsl() { return Hashes{.sha256_hex = Sha256Hex, .hmac_sha256 = HmacSha256}; }

Credentials ExampleKeys() {
  Credentials c;
  c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return c;
}

Scope ExampleScope() {
  Scope s;
  s.region = "us-east-1";
  s.amz_date = "20130524T000000Z";
  return s;
}

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(SigV4, SignsTheDocumentedGetObjectExample) {
  Request r;
  r.method = "GET";
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  r.payload_sha256 = kEmptySha256;
  SignedRequest s = SignHeaders(OpenSsl(), ExampleKeys(), ExampleScope(), r);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" +
                std::string(kEmptySha256) +
                "\nx-amz-date:20130524T000000Z\n\n"
                "host;range;x-amz-content-sha256;x-amz-date\n" +
                kEmptySha256);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.headers.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PresignsTheDocumentedExample) {
  Request r;
  r.method = "GET";
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  PresignedUrl p = Presign(OpenSsl(), ExampleKeys(), ExampleScope(), r, 86400);
  EXPECT_EQ(p.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(p.path_and_query,
            "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%"
            "2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-"
            "Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, DatesAreUtcSecondsWithoutSeparators) {
  EXPECT_EQ(AmzDate(*ParseTimestamp("2026-12-07T23:15:59.750Z")), "20261207T231559Z");
  EXPECT_EQ(AmzDate(*ParseTimestamp("2013-05-24T00:00:00Z")), "20130524T000000Z");
}

TEST(SigV4, EncodesAllButTheUnreservedBytes) {
  EXPECT_EQ(UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(UriEncode("a b+c=d&e/f", false), "a%20b%2Bc%3Dd%26e%2Ff");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriEncode("\xc3\xa9", true), "%C3%A9");  // é, byte by byte, upper-case hex
}

TEST(SigV4, NeverNormalisesTheKey) {
  Request r;
  r.method = "PUT";
  r.host = "h";
  r.path = "/b/a//./../c";
  r.payload_sha256 = kEmptySha256;
  EXPECT_EQ(CanonicalRequest(r).substr(0, 17), "PUT\n/b/a//./../c\n");
}

TEST(SigV4, SortsTheQueryByEncodedNameThenValue) {
  Request r;
  r.method = "PUT";
  r.host = "h";
  r.path = "/k";
  r.query = {{"uploadId", "x/y"}, {"partNumber", "10"}, {"b", "2"}, {"b", "1"}, {"uploads", ""}};
  r.payload_sha256 = kEmptySha256;
  EXPECT_NE(CanonicalRequest(r).find("\nb=1&b=2&partNumber=10&uploadId=x%2Fy&uploads=\n"),
            std::string::npos)
      << CanonicalRequest(r);
}

TEST(SigV4, LowercasesSortsAndFoldsHeaders) {
  Request r;
  r.method = "PUT";
  r.host = "h";
  r.path = "/k";
  r.headers = {{"X-Amz-Meta-Note", "  two   words\there "},
               {"Content-Type", "video/mp4"},
               {"x-amz-meta-note", "again"}};
  r.payload_sha256 = kEmptySha256;
  EXPECT_NE(CanonicalRequest(r).find("content-type:video/mp4\nhost:h\n"
                                     "x-amz-meta-note:two words here,again\n\n"
                                     "content-type;host;x-amz-meta-note\n"),
            std::string::npos)
      << CanonicalRequest(r);
}

TEST(SigV4, ASessionTokenIsSignedAndSent) {
  Credentials c = ExampleKeys();
  c.session_token = "token/with+chars";
  Request r;
  r.method = "GET";
  r.host = "h";
  r.path = "/k";
  r.payload_sha256 = kEmptySha256;
  SignedRequest s = SignHeaders(OpenSsl(), c, ExampleScope(), r);
  EXPECT_NE(s.canonical_request.find("x-amz-security-token:token/with+chars\n"), std::string::npos);
  EXPECT_NE(s.headers.back().second.find("x-amz-date;x-amz-security-token, "), std::string::npos);
  PresignedUrl p = Presign(OpenSsl(), c, ExampleScope(), r, 60);
  EXPECT_NE(p.path_and_query.find("&X-Amz-Security-Token=token%2Fwith%2Bchars&"),
            std::string::npos);
}

TEST(SigV4, ExpiryIsKeptWithinS3sLimits) {
  Request r;
  r.method = "GET";
  r.host = "h";
  r.path = "/k";
  EXPECT_NE(Presign(OpenSsl(), ExampleKeys(), ExampleScope(), r, 0)
                .path_and_query.find("X-Amz-Expires=1&"),
            std::string::npos);
  EXPECT_NE(Presign(OpenSsl(), ExampleKeys(), ExampleScope(), r, 999999)
                .path_and_query.find("X-Amz-Expires=604800&"),
            std::string::npos);
}

}  // namespace
}  // namespace ffpod::sigv4
