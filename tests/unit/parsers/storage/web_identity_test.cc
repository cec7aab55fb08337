#include "parsers/storage/web_identity.h"

#include <gtest/gtest.h>

#include "parsers/telemetry/log_format.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using std::chrono::minutes;
using std::chrono::system_clock;

TEST(WebIdentity, TheBodyCarriesTheTokenEncoded) {
  EXPECT_EQ(AssumeRoleWithWebIdentityBody("arn:aws:iam::123456789012:role/ffpod", "ffpod-w1",
                                          "eyJ.a+b/c=", 3600),
            "Action=AssumeRoleWithWebIdentity&DurationSeconds=3600"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fffpod&RoleSessionName=ffpod-w1"
            "&Version=2011-06-15&WebIdentityToken=eyJ.a%2Bb%2Fc%3D");
}

// The answer's shape is AWS STS API Reference's AssumeRoleWithWebIdentity example, with an EKS
// provider (tests/fixtures/storage/sts-assume-role-with-web-identity.xml).
TEST(WebIdentity, ReadsTheTemporaryKeys) {
  std::string body =
      testing::ReadFile(testing::FixturePath("storage/sts-assume-role-with-web-identity.xml"));
  Result<TemporaryCredentials> c = ParseAssumeRoleWithWebIdentity(200, body);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->keys.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(c->keys.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
  EXPECT_EQ(c->keys.session_token, "AQoDYXdzEE0a8ANQ2xpZW50NO1ewxE5TijQyp+IEXAMPLE&more");
  EXPECT_EQ(FormatTimestamp(c->expiration), "2026-12-08T00:15:59.000Z");
}

TEST(WebIdentity, AnErrorNamesStsCodeButNeverTheToken) {
  const char* body =
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
      "</Type><Code>InvalidIdentityToken</Code><Message>Incorrect token audience</Message>"
      "</Error><RequestId>c6104cbe</RequestId></ErrorResponse>";
  Result<TemporaryCredentials> c = ParseAssumeRoleWithWebIdentity(400, body);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "STS AssumeRoleWithWebIdentity: InvalidIdentityToken (HTTP 400): Incorrect token "
            "audience");
  EXPECT_FALSE(ParseAssumeRoleWithWebIdentity(200, "<Credentials></Credentials>"));
  EXPECT_EQ(ParseAssumeRoleWithWebIdentity(200,
                                           "<AccessKeyId>a</AccessKeyId><SecretAccessKey>b"
                                           "</SecretAccessKey><SessionToken>c</SessionToken>"
                                           "<Expiration>soon</Expiration>")
                .error()
                .message,
            "STS AssumeRoleWithWebIdentity: the credentials' Expiration soon is not a time");
}

TEST(WebIdentity, RefreshesFiveMinutesEarlyOrAtHalfLife) {
  system_clock::time_point now = *ParseTimestamp("2026-12-07T23:00:00Z");
  TemporaryCredentials hour;
  hour.expiration = now + minutes(60);
  EXPECT_EQ(RefreshAt(hour, now), now + minutes(55));
  TemporaryCredentials short_lived;
  short_lived.expiration = now + minutes(6);
  EXPECT_EQ(RefreshAt(short_lived, now), now + minutes(3));
}

}  // namespace
}  // namespace ffpod
