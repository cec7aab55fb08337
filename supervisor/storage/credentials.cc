#include "supervisor/storage/credentials.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <sstream>

#include "parsers/common/text.h"
#include "supervisor/net/https_connection.h"

namespace ffpod {

namespace asio = boost::asio;
using std::chrono::system_clock;

namespace {

constexpr std::chrono::seconds kStsTimeout{10};
constexpr int kSessionSeconds = 3600;

class StaticCredentials : public CredentialSource {
 public:
  explicit StaticCredentials(sigv4::Credentials keys) : keys_(std::move(keys)) {}
  Result<sigv4::Credentials> Current() override { return keys_; }

 private:
  const sigv4::Credentials keys_;
};

class NoCredentials : public CredentialSource {
 public:
  Result<sigv4::Credentials> Current() override {
    return Error{
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
        "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN"};
  }
};

// One request on a connection of its own, waited for on an io_context of its own.
Result<HttpAnswer> SendOnce(const HttpsSenderOptions& options, const HttpsRequest& request) {
  auto io = std::make_shared<asio::io_context>();
  std::optional<Result<HttpAnswer>> answer;
  {
    HttpsConnection connection(*io, options, io);
    const auto deadline = std::chrono::steady_clock::now() + options.request_timeout;
    asio::co_spawn(
        *io,
        [&]() -> asio::awaitable<void> { answer = co_await connection.Send(request, deadline); },
        [](const std::exception_ptr&) {});
    io->run();
  }
  if (!answer) return Error{"the request to " + options.host_header + " did not complete"};
  return std::move(*answer);
}

}  // namespace

std::shared_ptr<CredentialSource> MakeCredentialSource(const S3Settings& settings,
                                                       TlsClientFiles tls) {
  switch (settings.auth) {
    case S3Settings::Auth::kKeys:
      return std::make_shared<StaticCredentials>(settings.keys);
    case S3Settings::Auth::kWebIdentity:
      return std::make_shared<WebIdentityCredentials>(settings, std::move(tls));
    case S3Settings::Auth::kNone:
      break;
  }
  return std::make_shared<NoCredentials>();
}

WebIdentityCredentials::WebIdentityCredentials(S3Settings settings, TlsClientFiles tls, Now now)
    : settings_(std::move(settings)), tls_(std::move(tls)), now_(std::move(now)) {}

int WebIdentityCredentials::trades() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trades_;
}

Result<sigv4::Credentials> WebIdentityCredentials::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  system_clock::time_point now = now_();
  if (held_ && now < refresh_at_) return held_->keys;
  Result<TemporaryCredentials> traded = Trade();
  if (traded) {
    held_ = std::move(*traded);
    refresh_at_ = RefreshAt(*held_, now);
    return held_->keys;
  }
  if (held_ && now < held_->expiration) return held_->keys;
  return traded.error();
}

Result<TemporaryCredentials> WebIdentityCredentials::Trade() {
  ++trades_;
  std::ifstream file(settings_.web_identity_token_file);
  std::stringstream token;
  token << file.rdbuf();
  if (!file || token.str().empty()) {
    return Error{"web identity: cannot read the token file " + settings_.web_identity_token_file +
                 " (AWS_WEB_IDENTITY_TOKEN_FILE)"};
  }
  HttpsSenderOptions o;
  o.host = settings_.sts_endpoint.host;
  o.port = settings_.sts_endpoint.port;
  o.tls = settings_.sts_endpoint.tls;
  o.tls_files = tls_;
  o.host_header = settings_.sts_endpoint.host;
  if (o.port != (o.tls ? 443 : 80)) o.host_header += ":" + std::to_string(o.port);
  o.keep_alive = false;
  o.request_timeout = kStsTimeout;
  o.lookup_error = "resolving " + o.host;
  o.send_error = "sending to " + o.host_header;
  o.read_error = "reading the answer of " + o.host_header;
  HttpsRequest request;
  request.method = boost::beast::http::verb::post;
  request.target = "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = AssumeRoleWithWebIdentityBody(settings_.role_arn, settings_.role_session_name,
                                               Trim(token.str()), kSessionSeconds);
  Result<HttpAnswer> answer = SendOnce(o, request);
  if (!answer) return Error{"STS AssumeRoleWithWebIdentity: " + answer.error().message};
  return ParseAssumeRoleWithWebIdentity(answer->status, answer->body);
}

}  // namespace ffpod
