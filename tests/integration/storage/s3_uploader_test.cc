// The S3 uploader against a real S3-protocol server (s3rver on loopback, read back with boto3),
// directly and through a fault proxy: single PUTs, multipart uploads, presigned PUTs, retries of
// what passes, no retries of what stays, and aborts that leave no parts behind.
#include "supervisor/storage/s3_uploader.h"

#include <gtest/gtest.h>

#include <future>
#include <random>

#include "parsers/storage/s3_protocol.h"
#include "supervisor/storage/sha256.h"
#include "tests/harness/fault_proxy.h"
#include "tests/harness/harness.h"
#include "tests/harness/s3_server.h"

namespace ffpod {
namespace {

using testing::FaultProxy;
using testing::ProxiedRequest;
using testing::ProxyAction;
using testing::S3Server;

constexpr uint64_t kMiB = 1ull << 20;

class StaticKeys : public CredentialSource {
 public:
  Result<sigv4::Credentials> Current() override {
    sigv4::Credentials c;
    c.access_key_id = S3Server::kAccessKey;
    c.secret_access_key = S3Server::kSecretKey;
    return c;
  }
};

// Random bytes (incompressible, and no two parts alike), written to `path`; returns their sha256.
std::string WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(bytes.data() + i, &v, 8);
  }
  testing::WriteFile(path, bytes);
  return Sha256Hex(bytes);
}

UploadTarget Target(const std::string& endpoint, const std::string& bucket,
                    const std::string& key) {
  S3Endpoint e = *ParseS3Endpoint("AWS_ENDPOINT_URL_S3", endpoint);
  UploadTarget t;
  t.address = Address(e, false, S3Object{bucket, key});
  t.region = "us-east-1";
  t.object_url = "s3://" + bucket + "/" + key;
  return t;
}

S3UploaderOptions FastOptions() {
  S3UploaderOptions o;
  o.part_bytes = 5 * kMiB;
  o.parts_in_flight = 3;
  o.max_attempts = 4;
  o.request_timeout = std::chrono::seconds(20);
  o.backoff = {std::chrono::milliseconds(20), std::chrono::milliseconds(100)};
  return o;
}

UploadOutcome UploadAndWait(S3Uploader& uploader, const std::string& path, UploadTarget target) {
  std::promise<UploadOutcome> done;
  uploader.Upload(path, std::move(target), [&](UploadOutcome o) { done.set_value(std::move(o)); });
  return done.get_future().get();
}

std::unique_ptr<S3Uploader> Uploader(S3UploaderOptions options = FastOptions()) {
  auto u = S3Uploader::Start(std::move(options), std::make_shared<StaticKeys>());
  EXPECT_TRUE(u) << u.error().message;
  return std::move(*u);
}

std::vector<std::string> StepNames(const UploadOutcome& o) {
  std::vector<std::string> names;
  for (const auto& s : o.steps) names.push_back(s.name);
  return names;
}

TEST(S3Uploader, ASmallFileIsOnePutReadBackIntact) {
  S3Server s3;
  testing::TempDir dir;
  std::string sha = WriteRandomFile(dir / "out.mp4", 300000, 1);
  auto uploader = Uploader();
  UploadTarget target = Target(s3.endpoint(), s3.bucket(), "jobs/j1/out file.mp4");
  target.content_type = "video/mp4";
  UploadOutcome o = UploadAndWait(*uploader, dir / "out.mp4", target);
  ASSERT_TRUE(o.status.ok()) << o.status.error().message;
  EXPECT_EQ(o.parts, 0u);
  EXPECT_EQ(StepNames(o), std::vector<std::string>{"PutObject"});
  S3Server::Object got = s3.Get("jobs/j1/out file.mp4");
  ASSERT_TRUE(got.exists);
  EXPECT_EQ(got.size, 300000u);
  EXPECT_EQ(got.sha256, sha);
  EXPECT_EQ(got.content_type, "video/mp4");
  EXPECT_EQ(uploader->BytesSent(), 300000u);
}

TEST(S3Uploader, ALargeFileGoesInPartsInOrder) {
  S3Server s3;
  testing::TempDir dir;
  uint64_t size = 17 * kMiB + 12345;  // 4 parts of 5 MiB, the last short
  std::string sha = WriteRandomFile(dir / "big.mkv", size, 2);
  auto uploader = Uploader();
  UploadOutcome o =
      UploadAndWait(*uploader, dir / "big.mkv", Target(s3.endpoint(), s3.bucket(), "big.mkv"));
  ASSERT_TRUE(o.status.ok()) << o.status.error().message;
  EXPECT_EQ(o.parts, 4u);
  std::vector<std::string> names = StepNames(o);
  ASSERT_EQ(names.size(), 6u);
  EXPECT_EQ(names.front(), "CreateMultipartUpload");
  EXPECT_EQ(names.back(), "CompleteMultipartUpload");
  S3Server::Object got = s3.Get("big.mkv");
  EXPECT_EQ(got.size, size);
  EXPECT_EQ(got.sha256, sha);
  EXPECT_EQ(s3.OpenMultipartUploads(), 0);
}

TEST(S3Uploader, APresignedPutNeedsNoKeys) {
  S3Server s3;
  testing::TempDir dir;
  std::string sha = WriteRandomFile(dir / "out.mp4", 123456, 3);
  std::string url = s3.Presign("PUT", "presigned/out.mp4", 300);
  UploadTarget target;
  target.presigned = *ParsePresignedUrl("put_url", url);
  auto uploader = Uploader();
  UploadOutcome o = UploadAndWait(*uploader, dir / "out.mp4", target);
  ASSERT_TRUE(o.status.ok()) << o.status.error().message;
  ASSERT_TRUE(s3.Get("presigned/out.mp4").exists);
  EXPECT_EQ(s3.Get("presigned/out.mp4").sha256, sha);
  // The error and the steps never quote the URL's signature.
  std::string signature = url.substr(url.find("X-Amz-Signature=") + 16);
  for (const auto& s : o.steps) EXPECT_EQ(s.name.find(signature), std::string::npos);
}

TEST(S3Uploader, AnExpiredPresignedUrlIsFinalAndNotRetried) {
  S3Server s3;
  testing::TempDir dir;
  WriteRandomFile(dir / "out.mp4", 1000, 4);
  std::string url = s3.Presign("PUT", "late.mp4", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  UploadTarget target;
  target.presigned = *ParsePresignedUrl("put_url", url);
  auto uploader = Uploader();
  UploadOutcome o = UploadAndWait(*uploader, dir / "out.mp4", target);
  ASSERT_FALSE(o.status.ok());
  EXPECT_FALSE(o.retryable);
  EXPECT_EQ(o.error_code, "AccessDenied");
  ASSERT_EQ(o.steps.size(), 1u);
  EXPECT_EQ(o.steps[0].attempts, 1);
  EXPECT_EQ(o.status.error().message.find("X-Amz-Signature"), std::string::npos)
      << o.status.error().message;
  EXPECT_FALSE(s3.Get("late.mp4").exists);
}

TEST(S3Uploader, AMissingBucketIsFinalWithItsCode) {
  S3Server s3;
  testing::TempDir dir;
  WriteRandomFile(dir / "out.mp4", 1000, 5);
  auto uploader = Uploader();
  UploadOutcome o =
      UploadAndWait(*uploader, dir / "out.mp4", Target(s3.endpoint(), "no-such-bucket", "k.mp4"));
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.error_code, "NoSuchBucket");
  EXPECT_FALSE(o.retryable);
  EXPECT_EQ(o.steps.at(0).attempts, 1);
  EXPECT_NE(o.status.error().message.find("upload of " + dir / "out.mp4" +
                                          " to s3://no-such-bucket/k.mp4: NoSuchBucket (HTTP 404)"),
            std::string::npos)
      << o.status.error().message;
}

TEST(S3Uploader, APartThatFailsTwiceIsRetriedAndTheObjectIsWhole) {
  S3Server s3;
  std::atomic<int> part2_failures{0};
  FaultProxy proxy(s3.port(), [&](const ProxiedRequest& r, int) {
    if (r.method == "PUT" && r.target.find("partNumber=2&") != std::string::npos &&
        part2_failures < 2) {
      ++part2_failures;
      return part2_failures == 1
                 ? ProxyAction::Answer(
                       503, testing::S3ErrorBody("SlowDown", "Please reduce your request rate."))
                 : ProxyAction::Cut(1 << 20);
    }
    return ProxyAction::Forward();
  });
  testing::TempDir dir;
  uint64_t size = 12 * kMiB;
  std::string sha = WriteRandomFile(dir / "f.ts", size, 6);
  auto uploader = Uploader();
  UploadOutcome o =
      UploadAndWait(*uploader, dir / "f.ts", Target(proxy.endpoint(), s3.bucket(), "f.ts"));
  ASSERT_TRUE(o.status.ok()) << o.status.error().message;
  EXPECT_EQ(part2_failures.load(), 2);
  int part2_sent = 0;
  for (const auto& r : proxy.requests()) {
    part2_sent += r.method == "PUT" && r.target.find("partNumber=2&") != std::string::npos;
  }
  EXPECT_EQ(part2_sent, 3);
  for (const auto& s : o.steps) {
    // A kept-alive connection cut before any answer is tried again at once on a fresh one, which
    // is not a new attempt (supervisor/net/https_sender.h): the 503 counted, the cut did not.
    EXPECT_EQ(s.attempts, s.name == "UploadPart 2" ? 2 : 1) << s.name;
  }
  EXPECT_EQ(s3.Get("f.ts").sha256, sha);
}

TEST(S3Uploader, AStoreDownForTheWholeUploadIsRetryableAndAborted) {
  S3Server s3;
  FaultProxy proxy(s3.port(), [&](const ProxiedRequest& r, int) {
    if (r.method == "PUT")
      return ProxyAction::Answer(503, testing::S3ErrorBody("ServiceUnavailable", "down"));
    return ProxyAction::Forward();
  });
  testing::TempDir dir;
  WriteRandomFile(dir / "f.ts", 11 * kMiB, 7);
  auto uploader = Uploader();
  UploadOutcome o =
      UploadAndWait(*uploader, dir / "f.ts", Target(proxy.endpoint(), s3.bucket(), "f.ts"));
  ASSERT_FALSE(o.status.ok());
  EXPECT_TRUE(o.retryable);
  EXPECT_EQ(o.error_code, "ServiceUnavailable");
  EXPECT_NE(o.status.error().message.find("; after 4 attempts"), std::string::npos)
      << o.status.error().message;
  // The multipart upload was aborted (s3rver does not implement the abort; the proxy saw it).
  bool aborted = false;
  for (const auto& r : proxy.requests())
    aborted |= r.method == "DELETE" && r.target.find("uploadId=") != std::string::npos;
  EXPECT_TRUE(aborted);
  EXPECT_EQ(StepNames(o).back(), "AbortMultipartUpload");
  EXPECT_FALSE(s3.Get("f.ts").exists);
}

TEST(S3Uploader, NoStoreAtAllIsANetworkErrorAfterEveryAttempt) {
  testing::TempDir dir;
  WriteRandomFile(dir / "f.mp4", 1000, 8);
  auto uploader = Uploader();
  UploadOutcome o = UploadAndWait(
      *uploader, dir / "f.mp4",
      Target("http://127.0.0.1:" + std::to_string(testing::FreePort()), "media", "f.mp4"));
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.error_code, "network");
  EXPECT_TRUE(o.retryable);
  EXPECT_EQ(o.steps.at(0).attempts, 4);
}

TEST(S3Uploader, ACancelStopsBetweenPartsAndAborts) {
  S3Server s3;
  std::promise<void> first_part;
  std::atomic<bool> signalled{false};
  std::shared_future<void> release;
  std::promise<void> go;
  release = go.get_future().share();
  FaultProxy proxy(s3.port(), [&](const ProxiedRequest& r, int) {
    if (r.method == "PUT" && !signalled.exchange(true)) {
      first_part.set_value();
      release.wait();
    }
    return ProxyAction::Forward();
  });
  testing::TempDir dir;
  WriteRandomFile(dir / "f.ts", 30 * kMiB, 9);
  S3UploaderOptions options = FastOptions();
  options.parts_in_flight = 1;
  auto uploader = Uploader(options);
  std::promise<UploadOutcome> done;
  uint64_t id = uploader->Upload(dir / "f.ts", Target(proxy.endpoint(), s3.bucket(), "f.ts"),
                                 [&](UploadOutcome o) { done.set_value(std::move(o)); });
  first_part.get_future().wait();
  uploader->Cancel(id);
  go.set_value();
  UploadOutcome o = done.get_future().get();
  EXPECT_TRUE(o.cancelled);
  EXPECT_FALSE(o.status.ok());
  EXPECT_EQ(StepNames(o).back(), "AbortMultipartUpload");
  EXPECT_LT(o.steps.size(), 8u);  // 6 parts were never all sent
  EXPECT_FALSE(s3.Get("f.ts").exists);
}

}  // namespace
}  // namespace ffpod
