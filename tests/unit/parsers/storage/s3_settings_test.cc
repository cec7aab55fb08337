#include "parsers/storage/s3_settings.h"

#include <gtest/gtest.h>

#include <map>

namespace ffpod {
namespace {

EnvironmentLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(S3Settings, KeysRegionAndAwsEndpoint) {
  Result<S3Settings> s = S3SettingsFromEnvironment(Env({{"AWS_ACCESS_KEY_ID", "AKID"},
                                                        {"AWS_SECRET_ACCESS_KEY", "secret"},
                                                        {"AWS_SESSION_TOKEN", "tok"},
                                                        {"AWS_REGION", "eu-west-1"},
                                                        {"AWS_DEFAULT_REGION", "us-west-2"}}));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->auth, S3Settings::Auth::kKeys);
  EXPECT_EQ(s->keys.access_key_id, "AKID");
  EXPECT_EQ(s->keys.secret_access_key, "secret");
  EXPECT_EQ(s->keys.session_token, "tok");
  EXPECT_EQ(s->region, "eu-west-1");
  EXPECT_EQ(s->endpoint.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(s->endpoint.custom);
  EXPECT_EQ(s->sts_endpoint.host, "sts.eu-west-1.amazonaws.com");
  EXPECT_FALSE(s->force_path_style);
}

TEST(S3Settings, DefaultsWithNothingSet) {
  Result<S3Settings> s = S3SettingsFromEnvironment(Env({{"AWS_ACCESS_KEY_ID", ""}}));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->auth, S3Settings::Auth::kNone);
  EXPECT_EQ(s->region, "us-east-1");
  EXPECT_EQ(s->endpoint.host, "s3.us-east-1.amazonaws.com");
  S3Settings fallback = *S3SettingsFromEnvironment(Env({{"AWS_DEFAULT_REGION", "ap-south-1"}}));
  EXPECT_EQ(fallback.region, "ap-south-1");
}

TEST(S3Settings, TheS3EndpointWinsOverTheGeneralOne) {
  S3Settings s = *S3SettingsFromEnvironment(Env({{"AWS_ENDPOINT_URL", "http://all:1"},
                                                 {"AWS_ENDPOINT_URL_S3", "http://s3only:9000"},
                                                 {"AWS_S3_FORCE_PATH_STYLE", "true"}}));
  EXPECT_EQ(s.endpoint.host, "s3only");
  EXPECT_EQ(s.endpoint.port, 9000);
  EXPECT_EQ(s.sts_endpoint.host, "all");
  EXPECT_TRUE(s.force_path_style);
  S3Settings sts = *S3SettingsFromEnvironment(
      Env({{"AWS_ENDPOINT_URL", "http://all:1"}, {"AWS_ENDPOINT_URL_STS", "http://sts:2"}}));
  EXPECT_EQ(sts.endpoint.host, "all");
  EXPECT_EQ(sts.sts_endpoint.host, "sts");
}

TEST(S3Settings, WebIdentityWhenNoKeys) {
  S3Settings s = *S3SettingsFromEnvironment(
      Env({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/token"},
           {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ffpod"}}));
  EXPECT_EQ(s.auth, S3Settings::Auth::kWebIdentity);
  EXPECT_EQ(s.web_identity_token_file, "/var/run/secrets/eks.amazonaws.com/token");
  EXPECT_EQ(s.role_arn, "arn:aws:iam::123456789012:role/ffpod");
  EXPECT_EQ(s.role_session_name, "ffpod");
}

TEST(S3Settings, HalfAPairIsAnErrorNamingTheMissingVariable) {
  EXPECT_EQ(S3SettingsFromEnvironment(Env({{"AWS_ACCESS_KEY_ID", "AKID"}})).error().message,
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither");
  EXPECT_EQ(S3SettingsFromEnvironment(Env({{"AWS_ROLE_ARN", "arn"}})).error().message,
            "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not: set both, or neither");
  EXPECT_EQ(S3SettingsFromEnvironment(Env({{"AWS_S3_FORCE_PATH_STYLE", "yes"}})).error().message,
            "AWS_S3_FORCE_PATH_STYLE=yes: must be true or false");
  EXPECT_EQ(S3SettingsFromEnvironment(Env({{"AWS_ENDPOINT_URL_S3", "minio:9000"}})).error().message,
            "AWS_ENDPOINT_URL_S3=minio:9000: must begin with http:// or https://");
}

}  // namespace
}  // namespace ffpod
