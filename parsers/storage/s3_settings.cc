#include "parsers/storage/s3_settings.h"

namespace ffpod {
namespace {

std::optional<std::string> Get(const EnvironmentLookup& getenv, std::string_view name) {
  std::optional<std::string> v = getenv(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

// Both or neither of `a` and `b`: an error names the one that is missing.
Status Pair(const EnvironmentLookup& getenv, std::string_view a, std::string_view b) {
  bool has_a = Get(getenv, a).has_value();
  bool has_b = Get(getenv, b).has_value();
  if (has_a == has_b) return Status::Ok();
  return Error{std::string(has_a ? a : b) + " is set but " + std::string(has_a ? b : a) +
               " is not: set both, or neither"};
}

Result<S3Endpoint> Endpoint(const EnvironmentLookup& getenv, std::string_view specific,
                            S3Endpoint fallback) {
  for (std::string_view name : {specific, std::string_view("AWS_ENDPOINT_URL")}) {
    if (auto url = Get(getenv, name)) return ParseS3Endpoint(name, *url);
  }
  return fallback;
}

}  // namespace

Result<S3Settings> S3SettingsFromEnvironment(const EnvironmentLookup& getenv) {
  S3Settings s;
  s.region =
      Get(getenv, "AWS_REGION").value_or(Get(getenv, "AWS_DEFAULT_REGION").value_or("us-east-1"));
  if (Status st = Pair(getenv, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"); !st)
    return st.error();
  if (Status st = Pair(getenv, "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"); !st) {
    return st.error();
  }
  if (auto id = Get(getenv, "AWS_ACCESS_KEY_ID")) {
    s.auth = S3Settings::Auth::kKeys;
    s.keys.access_key_id = *id;
    s.keys.secret_access_key = *Get(getenv, "AWS_SECRET_ACCESS_KEY");
    s.keys.session_token = Get(getenv, "AWS_SESSION_TOKEN").value_or("");
  } else if (auto file = Get(getenv, "AWS_WEB_IDENTITY_TOKEN_FILE")) {
    s.auth = S3Settings::Auth::kWebIdentity;
    s.web_identity_token_file = *file;
    s.role_arn = *Get(getenv, "AWS_ROLE_ARN");
    s.role_session_name = Get(getenv, "AWS_ROLE_SESSION_NAME").value_or("ffpod");
  }
  Result<S3Endpoint> endpoint = Endpoint(getenv, "AWS_ENDPOINT_URL_S3", AwsS3Endpoint(s.region));
  if (!endpoint) return endpoint.error();
  s.endpoint = *endpoint;
  S3Endpoint sts;
  sts.host = "sts." + s.region + ".amazonaws.com";
  Result<S3Endpoint> sts_endpoint = Endpoint(getenv, "AWS_ENDPOINT_URL_STS", sts);
  if (!sts_endpoint) return sts_endpoint.error();
  s.sts_endpoint = *sts_endpoint;
  if (auto style = Get(getenv, "AWS_S3_FORCE_PATH_STYLE")) {
    if (*style != "true" && *style != "false") {
      return Error{"AWS_S3_FORCE_PATH_STYLE=" + *style + ": must be true or false"};
    }
    s.force_path_style = *style == "true";
  }
  return s;
}

}  // namespace ffpod
