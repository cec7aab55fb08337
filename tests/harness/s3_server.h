// A real S3-protocol server for tests: s3rver (npm, tests/s3/package.json, installed by the
// first test that needs it), on a free loopback port with its own data directory and one bucket.
// It serves PUT, multipart, GET and presigned URLs, and checks the key id and a presigned URL's
// expiry, but no Signature V4 (its code says so), so signatures are proven against botocore's
// signer instead (tests/integration/storage/sigv4_reference_test.cc). It implements no
// AbortMultipartUpload: tests see the abort through tests/harness/fault_proxy.h. Objects are read
// back, and presigned URLs made, with Debian's python3-boto3 (tests/s3/objects.py). Test-only code;
// throws std::runtime_error when the server cannot be started.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/harness/harness.h"

namespace ffpod::testing {

// Installs tests/s3's packages from its lockfile once (under a lock: tests run in parallel).
// Returns why the server cannot run (empty when it can); a failed install fails the test.
std::string EnsureS3ServerPackages();

class S3Server {
 public:
  // Starts s3rver with `bucket` and waits until it serves (30 s limit).
  explicit S3Server(std::string bucket = "media");
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  int port() const { return port_; }
  const std::string& bucket() const { return bucket_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // s3rver's one key pair.
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  struct Object {
    bool exists = false;
    uint64_t size = 0;
    std::string sha256;
    std::string content_type;
  };
  // The object at `key` as boto3 reads it back.
  Object Get(const std::string& key) const;
  // Keys under `prefix`, sorted.
  std::vector<std::string> List(const std::string& prefix) const;
  // Multipart uploads begun and neither completed nor aborted, from s3rver's data directory
  // (s3rver lists none over the protocol).
  int OpenMultipartUploads() const;
  // A presigned PUT (or GET) URL for `key`, valid `expires_s`, made by boto3.
  std::string Presign(const std::string& method, const std::string& key, int expires_s) const;

 private:
  std::string Objects(const std::vector<std::string>& args) const;

  std::string bucket_;
  int port_ = 0;
  TempDir dir_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace ffpod::testing
