// The requests of one upload (supervisor/storage/s3_uploader.h): each S3 step built, signed
// (SigV4 with the credentials of the moment) or sent as presigned, tried again with backoff while
// the failure may pass, and recorded for the upload's span. Used by S3Uploader only.
//
// Threading: the uploader's thread (its io_context's) only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "parsers/policy/backoff.h"
#include "parsers/storage/s3_protocol.h"
#include "supervisor/net/https_connection.h"
#include "supervisor/storage/s3_uploader.h"

namespace ffpod {

struct StepFailure {
  std::string error;       // "AccessDenied (HTTP 403): Access Denied; after 1 attempt"
  std::string code;        // the store's code, "network", "local" or "cancelled"
  bool retryable = false;  // whether a later attempt of the job may succeed
};

struct StepResult {
  std::optional<HttpAnswer> answer;  // set: a 2xx answer
  StepFailure failure;               // otherwise
};

// A kept-alive connection to the store, one per part in flight.
using S3Connection = std::unique_ptr<HttpsConnection>;

class S3Requests {
 public:
  S3Requests(boost::asio::io_context& io, std::weak_ptr<void> io_owner,
             const S3UploaderOptions& options, std::shared_ptr<CredentialSource> credentials,
             UploadTarget target, std::function<bool()> cancelled);

  bool presigned() const { return target_.presigned.has_value(); }
  // How messages name the destination: s3://bucket/key, or "its put_url" (never the URL).
  std::string target_name() const;
  S3Connection NewConnection();

  boost::asio::awaitable<StepResult> PutObject(std::string body);
  // The UploadId, or an error (last_failure() says more).
  boost::asio::awaitable<Result<std::string>> CreateMultipartUpload();
  boost::asio::awaitable<StepResult> UploadPart(S3Connection& connection,
                                                const std::string& upload_id, uint32_t number,
                                                std::string body, std::string sha256_hex);
  boost::asio::awaitable<StepResult> CompleteMultipartUpload(
      const std::string& upload_id, const std::vector<CompletedPart>& parts);
  // Best effort: tried like any step, never cancelled; a failure is recorded in its step only.
  boost::asio::awaitable<void> AbortMultipartUpload(const std::string& upload_id);

  const StepFailure& last_failure() const { return last_failure_; }
  std::vector<UploadStep> TakeSteps() { return std::move(steps_); }

 private:
  struct Step {
    std::string name;
    boost::beast::http::verb method = boost::beast::http::verb::put;
    sigv4::Pairs query;
    sigv4::Pairs headers;
    std::string body;
    std::string body_sha256;  // empty: computed
    bool cancellable = true;
  };
  boost::asio::awaitable<StepResult> Send(S3Connection& connection, Step step);
  // One attempt's request, signed now.
  Result<HttpsRequest> Build(const Step& step);
  // What a failed attempt means.
  StepFailure Judge(const Result<HttpAnswer>& attempt);

  boost::asio::io_context& io_;
  std::weak_ptr<void> io_owner_;
  const S3UploaderOptions& options_;
  std::shared_ptr<CredentialSource> credentials_;
  UploadTarget target_;
  std::function<bool()> cancelled_;
  HttpsSenderOptions http_;
  S3Connection main_connection_;
  boost::asio::steady_timer retry_timer_;  // the backoff between attempts
  std::mt19937_64 random_;
  StepFailure last_failure_;
  std::vector<UploadStep> steps_;
};

}  // namespace ffpod
