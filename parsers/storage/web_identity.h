// Web identity credentials (IRSA-style pods, docs/storage.md): the request that trades the pod's
// projected service-account token (AWS_WEB_IDENTITY_TOKEN_FILE) for temporary keys of
// AWS_ROLE_ARN through STS AssumeRoleWithWebIdentity, what STS answers, and when to trade again.
// The request is not signed (the token is the proof); it is a POST so that the token travels in
// the body, never in a URL. Pure; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "parsers/common/result.h"
#include "parsers/storage/sigv4.h"

namespace ffpod {

// The form body of AssumeRoleWithWebIdentity (application/x-www-form-urlencoded), asking for
// `duration_s` seconds (STS allows 900 up to the role's maximum).
std::string AssumeRoleWithWebIdentityBody(std::string_view role_arn, std::string_view session_name,
                                          std::string_view token, int duration_s);

struct TemporaryCredentials {
  sigv4::Credentials keys;  // all three set
  std::chrono::system_clock::time_point expiration;
};

// STS's answer: <AssumeRoleWithWebIdentityResponse> with <Credentials> (AccessKeyId,
// SecretAccessKey, SessionToken, Expiration), or an <ErrorResponse>, which becomes the error
// "STS AssumeRoleWithWebIdentity: InvalidIdentityToken (HTTP 400): ...". The error never
// quotes the token.
Result<TemporaryCredentials> ParseAssumeRoleWithWebIdentity(int status, std::string_view body);

// When to trade again: 5 minutes before the keys expire, or half-way through their life when
// that is shorter (`obtained` is when they were received).
std::chrono::system_clock::time_point RefreshAt(const TemporaryCredentials& credentials,
                                                std::chrono::system_clock::time_point obtained);

}  // namespace ffpod
