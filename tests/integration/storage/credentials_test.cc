// Web identity against a stand-in STS on loopback (STS cannot exist here: its answers have the
// shape of AWS's STS API reference example, tests/fixtures/storage/), then an upload to the real
// S3 test server with the keys traded for.
#include "supervisor/storage/credentials.h"

#include <gtest/gtest.h>

#include <future>

#include "parsers/telemetry/log_format.h"
#include "tests/harness/harness.h"
#include "tests/harness/otlp_receiver.h"
#include "tests/harness/s3_server.h"

namespace ffpod {
namespace {

using std::chrono::minutes;
using std::chrono::system_clock;
using testing::ReceivedRequest;
using testing::Receiver;
using testing::Reply;

// The fixture's answer with these keys, valid until `expiration`.
std::string StsAnswer(const std::string& key_id, const std::string& secret,
                      system_clock::time_point expiration) {
  std::string xml =
      testing::ReadFile(testing::FixturePath("storage/sts-assume-role-with-web-identity.xml"));
  auto replace = [&](const std::string& element, const std::string& value) {
    size_t open = xml.find("<" + element + ">") + element.size() + 2;
    size_t close = xml.find("</" + element + ">", open);
    xml.replace(open, close - open, value);
  };
  replace("AccessKeyId", key_id);
  replace("SecretAccessKey", secret);
  replace("Expiration", FormatTimestamp(expiration).substr(0, 19) + "Z");
  return xml;
}

struct Sts {
  testing::TempDir dir;
  system_clock::time_point now = system_clock::now();
  std::atomic<int> fail_next{0};
  Receiver receiver{[this](const ReceivedRequest&, size_t) {
    if (fail_next > 0) {
      --fail_next;
      return testing::Answer(
          400,
          "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
          "<Message>Incorrect token audience</Message></Error></ErrorResponse>");
    }
    return testing::Answer(200, StsAnswer(testing::S3Server::kAccessKey,
                                          testing::S3Server::kSecretKey, now + minutes(60)));
  }};

  S3Settings Settings() const {
    S3Settings s;
    s.auth = S3Settings::Auth::kWebIdentity;
    s.web_identity_token_file = dir / "token";
    s.role_arn = "arn:aws:iam::123456789012:role/ffpod-uploader";
    s.role_session_name = "ffpod-w1";
    s.region = "us-east-1";
    s.sts_endpoint = *ParseS3Endpoint("AWS_ENDPOINT_URL_STS",
                                      "http://127.0.0.1:" + std::to_string(receiver.port()));
    return s;
  }
};

TEST(WebIdentityCredentials, TradesTheTokenAndTradesAgainBeforeExpiry) {
  Sts sts;
  testing::WriteFile(sts.dir / "token", "eyJhbGciOiJSUzI1NiJ9.first+token/=\n");
  system_clock::time_point clock = sts.now;
  WebIdentityCredentials source(sts.Settings(), {}, [&] { return clock; });
  Result<sigv4::Credentials> keys = source.Current();
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->access_key_id, testing::S3Server::kAccessKey);
  EXPECT_EQ(keys->session_token, "AQoDYXdzEE0a8ANQ2xpZW50NO1ewxE5TijQyp+IEXAMPLE&more");
  ASSERT_EQ(sts.receiver.requests().size(), 1u);
  const ReceivedRequest r = sts.receiver.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.headers.at("content-type"), "application/x-www-form-urlencoded");
  EXPECT_NE(r.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fffpod-uploader"),
            std::string::npos);
  EXPECT_NE(r.body.find("&WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.first%2Btoken%2F%3D"),
            std::string::npos)
      << r.body;
  // Within the keys' life (refresh 5 minutes before the hour): no new trade.
  clock += minutes(54);
  ASSERT_TRUE(source.Current());
  EXPECT_EQ(source.trades(), 1);
  // Then the rotated token is read and traded.
  testing::WriteFile(sts.dir / "token", "second-token");
  clock += minutes(2);
  ASSERT_TRUE(source.Current());
  EXPECT_EQ(source.trades(), 2);
  ASSERT_EQ(sts.receiver.requests().size(), 2u);
  EXPECT_NE(sts.receiver.requests()[1].body.find("WebIdentityToken=second-token"),
            std::string::npos);
}

TEST(WebIdentityCredentials, AFailedTradeKeepsValidKeysAndNamesStsErrorOnceTheyExpire) {
  Sts sts;
  testing::WriteFile(sts.dir / "token", "the-token-value");
  system_clock::time_point clock = sts.now;
  WebIdentityCredentials source(sts.Settings(), {}, [&] { return clock; });
  ASSERT_TRUE(source.Current());
  sts.fail_next = 100;
  clock += minutes(57);  // past the refresh, before the expiry: the held keys serve
  ASSERT_TRUE(source.Current());
  clock += minutes(4);  // expired
  Result<sigv4::Credentials> keys = source.Current();
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message,
            "STS AssumeRoleWithWebIdentity: InvalidIdentityToken (HTTP 400): Incorrect token "
            "audience");
  EXPECT_EQ(keys.error().message.find("the-token-value"), std::string::npos);
}

TEST(WebIdentityCredentials, AMissingTokenFileIsNamed) {
  Sts sts;
  WebIdentityCredentials source(sts.Settings(), {});
  Result<sigv4::Credentials> keys = source.Current();
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message, "web identity: cannot read the token file " + sts.dir / "token" +
                                      " (AWS_WEB_IDENTITY_TOKEN_FILE)");
  EXPECT_TRUE(sts.receiver.requests().empty());
}

TEST(WebIdentityCredentials, NoCredentialsSaysWhatToSet) {
  S3Settings none;
  Result<sigv4::Credentials> keys = MakeCredentialSource(none)->Current();
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().message,
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
            "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN");
}

TEST(WebIdentityCredentials, TheTradedKeysUpload) {
  Sts sts;
  testing::S3Server s3;
  testing::WriteFile(sts.dir / "token", "token");
  testing::WriteFile(sts.dir / "out.mp4", std::string(4096, 'x'));
  auto uploader = S3Uploader::Start(S3UploaderOptions{}, MakeCredentialSource(sts.Settings()));
  ASSERT_TRUE(uploader);
  UploadTarget target;
  target.address = Address(*ParseS3Endpoint("AWS_ENDPOINT_URL_S3", s3.endpoint()), false,
                           S3Object{s3.bucket(), "irsa/out.mp4"});
  target.region = "us-east-1";
  target.object_url = "s3://media/irsa/out.mp4";
  std::promise<UploadOutcome> done;
  (*uploader)->Upload(sts.dir / "out.mp4", target,
                      [&](UploadOutcome o) { done.set_value(std::move(o)); });
  UploadOutcome o = done.get_future().get();
  ASSERT_TRUE(o.status.ok()) << o.status.error().message;
  EXPECT_EQ(s3.Get("irsa/out.mp4").size, 4096u);
  EXPECT_EQ(sts.receiver.requests().size(), 1u);
}

}  // namespace
}  // namespace ffpod
