#include "supervisor/storage/s3_requests.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "parsers/storage/sigv4.h"
#include "supervisor/storage/sha256.h"

namespace ffpod {

namespace asio = boost::asio;
using boost::beast::http::verb;
using std::chrono::system_clock;

namespace {

const sigv4::Hashes& OpenSslHashes() {
  static const sigv4::Hashes hashes{Sha256Hex, HmacSha256};
  return hashes;
}

std::string AttemptsText(int attempts) {
  return "; after " + std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
}

}  // namespace

S3Requests::S3Requests(asio::io_context& io, std::weak_ptr<void> io_owner,
                       const S3UploaderOptions& options,
                       std::shared_ptr<CredentialSource> credentials, UploadTarget target,
                       std::function<bool()> cancelled)
    : io_(io),
      io_owner_(std::move(io_owner)),
      options_(options),
      credentials_(std::move(credentials)),
      target_(std::move(target)),
      cancelled_(std::move(cancelled)),
      retry_timer_(io),
      random_(std::random_device{}()) {
  if (target_.presigned) {
    http_.host = target_.presigned->host;
    http_.port = target_.presigned->port;
    http_.tls = target_.presigned->tls;
    http_.host_header = target_.presigned->host_header;
  } else {
    http_.host = target_.address.host;
    http_.port = target_.address.port;
    http_.tls = target_.address.tls;
    http_.host_header = target_.address.host_header;
  }
  http_.tls_files = options_.tls;
  http_.request_timeout = options_.request_timeout;
  http_.lookup_error = "resolving " + http_.host;
  http_.send_error = "sending to " + http_.host_header;
  http_.read_error = "reading the answer of " + http_.host_header;
  main_connection_ = NewConnection();
}

std::string S3Requests::target_name() const {
  return target_.presigned ? "its put_url (" + target_.presigned->host_header + ")"
                           : target_.object_url;
}

S3Connection S3Requests::NewConnection() {
  return std::make_unique<HttpsConnection>(io_, http_, io_owner_);
}

Result<HttpsRequest> S3Requests::Build(const Step& step) {
  HttpsRequest request;
  request.method = step.method;
  request.body = step.body;
  if (target_.presigned) {
    request.target = target_.presigned->target;
    request.headers = step.headers;
    request.headers.emplace_back("Content-MD5", Base64(Md5(step.body)));
    return request;
  }
  Result<sigv4::Credentials> keys = credentials_->Current();
  if (!keys) return keys.error();
  sigv4::Request r;
  r.method = std::string(boost::beast::http::to_string(step.method));
  r.host = target_.address.host_header;
  r.path = target_.address.path;
  r.query = step.query;
  r.headers = step.headers;
  r.payload_sha256 = step.body_sha256.empty() ? Sha256Hex(step.body) : step.body_sha256;
  if (step.method == verb::put) {
    r.headers.emplace_back("x-amz-checksum-sha256", ChecksumHeader(r.payload_sha256));
  }
  sigv4::Scope scope;
  scope.region = target_.region;
  scope.amz_date = sigv4::AmzDate(system_clock::now());
  sigv4::SignedRequest signed_request = sigv4::SignHeaders(OpenSslHashes(), *keys, scope, r);
  request.target = sigv4::UriEncode(r.path, true);
  char separator = '?';
  for (const auto& [name, value] : r.query) {
    request.target +=
        separator + sigv4::UriEncode(name, false) + '=' + sigv4::UriEncode(value, false);
    separator = '&';
  }
  for (auto& header : signed_request.headers) {
    if (header.first != "host") request.headers.push_back(std::move(header));
  }
  return request;
}

StepFailure S3Requests::Judge(const Result<HttpAnswer>& attempt) {
  if (!attempt) return StepFailure{attempt.error().message, "network", true};
  const HttpAnswer& a = attempt.value();
  S3Error e = ParseS3Error(a.status, a.body);
  return StepFailure{DescribeS3Error(a.status, e), e.code, IsRetryableS3Error(a.status, e.code)};
}

// GCC 12 reports asio's coroutine-frame deallocation in this function as mismatched with its
// allocation: a false positive (both are awaitable_frame_base's own operators), silenced here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<StepResult> S3Requests::Send(S3Connection& connection, Step step) {
  UploadStep record;
  record.name = step.name;
  record.start = system_clock::now();
  record.bytes = step.body.size();
  Backoff backoff(options_.backoff);
  StepResult result;
  for (int attempt = 1;; ++attempt) {
    record.attempts = attempt;
    if (step.cancellable && cancelled_()) {
      result.failure = StepFailure{"cancelled", "cancelled", true};
      break;
    }
    Result<HttpsRequest> request = Build(step);
    if (!request) {
      result.failure = StepFailure{request.error().message, "credentials", true};
      break;
    }
    // (GCC 12 coroutines: no temporaries around co_await.)
    const auto deadline = std::chrono::steady_clock::now() + options_.request_timeout;
    Result<HttpAnswer> answer = co_await connection->Send(*request, deadline);
    // CompleteMultipartUpload may answer 200 and still fail, with an <Error> body.
    if (answer && answer->status / 100 == 2 && answer->body.find("<Error>") == std::string::npos) {
      result.answer = std::move(answer.value());
      break;
    }
    result.failure = Judge(answer);
    if (!result.failure.retryable || attempt >= options_.max_attempts) {
      result.failure.error += AttemptsText(attempt);
      break;
    }
    retry_timer_.expires_after(backoff.Next(random_));
    co_await retry_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  record.end = system_clock::now();
  if (!result.answer) {
    record.error = result.failure.error;
    last_failure_ = result.failure;
  }
  steps_.push_back(std::move(record));
  co_return result;
}
#pragma GCC diagnostic pop

asio::awaitable<StepResult> S3Requests::PutObject(std::string body) {
  Step step;
  step.name = "PutObject";
  step.method = verb::put;
  step.body = std::move(body);
  if (!target_.content_type.empty())
    step.headers.emplace_back("Content-Type", target_.content_type);
  co_return co_await Send(main_connection_, std::move(step));
}

asio::awaitable<Result<std::string>> S3Requests::CreateMultipartUpload() {
  Step step;
  step.name = "CreateMultipartUpload";
  step.method = verb::post;
  step.query = {{"uploads", ""}};
  step.headers = {{"x-amz-checksum-algorithm", "SHA256"}};
  if (!target_.content_type.empty())
    step.headers.emplace_back("Content-Type", target_.content_type);
  StepResult r = co_await Send(main_connection_, std::move(step));
  if (!r.answer) co_return Error{r.failure.error};
  std::optional<std::string> id = XmlElementText(r.answer->body, "UploadId");
  if (!id || id->empty()) {
    last_failure_ = StepFailure{"the store's answer to CreateMultipartUpload holds no UploadId",
                                "InvalidResponse", true};
    co_return Error{last_failure_.error};
  }
  co_return std::move(*id);
}

asio::awaitable<StepResult> S3Requests::UploadPart(S3Connection& connection,
                                                   const std::string& upload_id, uint32_t number,
                                                   std::string body, std::string sha256_hex) {
  Step step;
  step.name = "UploadPart " + std::to_string(number);
  step.method = verb::put;
  step.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
  step.body = std::move(body);
  step.body_sha256 = std::move(sha256_hex);
  co_return co_await Send(connection, std::move(step));
}

asio::awaitable<StepResult> S3Requests::CompleteMultipartUpload(
    const std::string& upload_id, const std::vector<CompletedPart>& parts) {
  Step step;
  step.name = "CompleteMultipartUpload";
  step.method = verb::post;
  step.query = {{"uploadId", upload_id}};
  step.headers = {{"Content-Type", "application/xml"}};
  step.body = CompleteMultipartBody(parts);
  co_return co_await Send(main_connection_, std::move(step));
}

asio::awaitable<void> S3Requests::AbortMultipartUpload(const std::string& upload_id) {
  Step step;
  step.name = "AbortMultipartUpload";
  step.method = verb::delete_;
  step.query = {{"uploadId", upload_id}};
  step.cancellable = false;
  StepFailure kept = last_failure_;
  co_await Send(main_connection_, std::move(step));
  last_failure_ = kept;
}

}  // namespace ffpod
