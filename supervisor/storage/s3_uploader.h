// Uploads local files to an S3-protocol store (docs/storage.md), on a thread of its own so that
// reading, hashing and sending never stall the caller's loop.
//
// One upload is a file to one object. A file of at most `part_bytes` goes in one PUT; a larger
// one as a multipart upload: CreateMultipartUpload, its parts `parts_in_flight` at a time (each
// on its own kept-alive connection, read from the file only when it is sent, so memory stays at
// parts_in_flight x part_bytes), then CompleteMultipartUpload. Every request carries the SHA-256
// of its body, signed (x-amz-content-sha256) and as x-amz-checksum-sha256, so the store refuses
// bytes that changed on the way; a presigned `put_url` gets one PUT with Content-MD5 instead
// (its signature covers no header ffpod adds). Each request is tried up to `max_attempts` times
// with backoff when the network fails or the store answers 5xx, 408, 429 or a passing error
// (parsers/storage/s3_protocol.h IsRetryableS3Error); a final error (AccessDenied, NoSuchBucket,
// an expired presigned URL...) is not retried. A multipart upload that fails or is cancelled is
// aborted (AbortMultipartUpload), so no orphaned parts stay billed. Uploading the same file to
// the same key again is harmless: same key, same bytes.
//
// Cancel takes effect between requests: a request in flight ends within `request_timeout`.
//
// Threading: Upload, Cancel, BytesSent and Shutdown may be called from any thread. `done` is
// called once per upload, on the uploader's thread: post it to your own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/policy/backoff.h"
#include "parsers/storage/s3_location.h"
#include "parsers/storage/sigv4.h"
#include "supervisor/net/tls_client.h"

namespace ffpod {

struct S3UploaderOptions {
  uint64_t part_bytes = 16ull << 20;  // within S3's [5 MiB, 5 GiB]
  int parts_in_flight = 4;
  int max_attempts = 5;  // per request
  std::chrono::milliseconds request_timeout{120000};
  BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::milliseconds(8000)};
  TlsClientFiles tls;
};

// The keys to sign with now (rotated keys are picked up at the next request). Thread-safe.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  virtual Result<sigv4::Credentials> Current() = 0;
};

// Where a file goes: an object ffpod signs for, or a presigned PUT URL.
struct UploadTarget {
  S3Address address;  // signed: where and how
  std::string region;
  std::string object_url;                    // s3://bucket/key, for messages
  std::optional<PresignedTarget> presigned;  // set: a presigned PUT, no signing
  std::string content_type;                  // empty: application/octet-stream
};

// One request of an upload, for its span.
struct UploadStep {
  std::string name;  // "PutObject", "CreateMultipartUpload", "UploadPart 3", ...
  std::chrono::system_clock::time_point start;
  std::chrono::system_clock::time_point end;
  uint64_t bytes = 0;
  int attempts = 0;
  std::string error;  // empty: it succeeded
};

struct UploadOutcome {
  Status status;           // failed: "upload of PATH to s3://b/k: <code> (HTTP 403): <message>"
  std::string error_code;  // failed: the store's code ("AccessDenied"), "network" or "local"
  bool retryable = false;  // failed: whether a later attempt may succeed
  bool cancelled = false;
  uint64_t bytes = 0;  // the file's size
  uint32_t parts = 0;  // 0: a single PUT
  std::vector<UploadStep> steps;
};

class S3Uploader {
 public:
  using Done = std::function<void(UploadOutcome)>;

  // Fails with a sentence naming what is wrong: a part size outside S3's limits, no parts in
  // flight, an unreadable TLS CA file.
  static Result<std::unique_ptr<S3Uploader>> Start(S3UploaderOptions options,
                                                   std::shared_ptr<CredentialSource> credentials);
  ~S3Uploader();
  S3Uploader(const S3Uploader&) = delete;
  S3Uploader& operator=(const S3Uploader&) = delete;

  // Starts uploading `path`; returns its id (for Cancel).
  uint64_t Upload(std::string path, UploadTarget target, Done done);
  // Stops upload `id` at its next request; `done` then gets `cancelled`.
  void Cancel(uint64_t id);
  // Bytes acknowledged by the store so far, all uploads together.
  uint64_t BytesSent() const;
  // Cancels every upload, waits for their `done` (at most one request_timeout), ends the thread.
  void Shutdown();

  struct State;  // the uploader thread's, shared with the uploads it runs

 private:
  explicit S3Uploader(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
  std::thread thread_;
  bool shut_down_ = false;
};

}  // namespace ffpod
