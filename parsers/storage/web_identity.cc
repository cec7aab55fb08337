#include "parsers/storage/web_identity.h"

#include <algorithm>
#include <optional>

#include "parsers/storage/s3_protocol.h"
#include "parsers/telemetry/log_format.h"

namespace ffpod {

std::string AssumeRoleWithWebIdentityBody(std::string_view role_arn, std::string_view session_name,
                                          std::string_view token, int duration_s) {
  using sigv4::UriEncode;
  return "Action=AssumeRoleWithWebIdentity&DurationSeconds=" + std::to_string(duration_s) +
         "&RoleArn=" + UriEncode(role_arn, false) +
         "&RoleSessionName=" + UriEncode(session_name, false) +
         "&Version=2011-06-15&WebIdentityToken=" + UriEncode(token, false);
}

Result<TemporaryCredentials> ParseAssumeRoleWithWebIdentity(int status, std::string_view body) {
  const std::string what = "STS AssumeRoleWithWebIdentity: ";
  if (status != 200) return Error{what + DescribeS3Error(status, ParseS3Error(status, body))};
  TemporaryCredentials out;
  std::optional<std::string> id = XmlElementText(body, "AccessKeyId");
  std::optional<std::string> secret = XmlElementText(body, "SecretAccessKey");
  std::optional<std::string> token = XmlElementText(body, "SessionToken");
  std::optional<std::string> expiration = XmlElementText(body, "Expiration");
  if (!id || !secret || !token || !expiration || id->empty() || secret->empty() || token->empty()) {
    return Error{what + "the answer holds no credentials"};
  }
  auto when = ParseTimestamp(*expiration);
  if (!when) return Error{what + "the credentials' Expiration " + *expiration + " is not a time"};
  out.keys.access_key_id = std::move(*id);
  out.keys.secret_access_key = std::move(*secret);
  out.keys.session_token = std::move(*token);
  out.expiration = *when;
  return out;
}

std::chrono::system_clock::time_point RefreshAt(const TemporaryCredentials& credentials,
                                                std::chrono::system_clock::time_point obtained) {
  auto life = credentials.expiration - obtained;
  auto early = std::min<std::chrono::system_clock::duration>(std::chrono::minutes(5), life / 2);
  return credentials.expiration - early;
}

}  // namespace ffpod
