// How ffpod reaches an S3-protocol store, read from the environment the way the AWS SDKs read it
// (docs/storage.md): keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or web
// identity (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME), the region
// (AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1), the endpoint (AWS_ENDPOINT_URL_S3, else
// AWS_ENDPOINT_URL, else AWS's regional one; STS: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL,
// else https://sts.<region>.amazonaws.com) and AWS_S3_FORCE_PATH_STYLE. Pure: the environment is
// passed in as a lookup. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "parsers/common/result.h"
#include "parsers/storage/s3_location.h"
#include "parsers/storage/sigv4.h"

namespace ffpod {

struct S3Settings {
  enum class Auth { kNone, kKeys, kWebIdentity };
  Auth auth = Auth::kNone;
  sigv4::Credentials keys;              // kKeys
  std::string web_identity_token_file;  // kWebIdentity
  std::string role_arn;                 // kWebIdentity
  std::string role_session_name;        // kWebIdentity: AWS_ROLE_SESSION_NAME, else "ffpod"
  std::string region;
  S3Endpoint endpoint;
  S3Endpoint sts_endpoint;
  bool force_path_style = false;
};

using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The settings, or an error naming the variable that is wrong: a key without its secret (or the
// reverse), a token file without a role, a malformed endpoint, AWS_S3_FORCE_PATH_STYLE other
// than true/false. An empty variable counts as unset. No credentials at all is not an error
// (presigned put_urls need none): Auth::kNone.
Result<S3Settings> S3SettingsFromEnvironment(const EnvironmentLookup& getenv);

}  // namespace ffpod
