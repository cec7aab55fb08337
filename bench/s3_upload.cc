// Upload throughput and CPU per GiB: ffpod's S3 uploader against boto3's own transfer
// (upload_file with the same part size and parts in flight), the same file to the same loopback
// S3-protocol server (s3rver, as the storage tests run it), in interleaved rounds.
//
//   build/bench/s3_upload [MiB] [rounds] [part MiB] [in flight]   (defaults: 512 4 16 4)
//
// Prints a Markdown table with the median of each: wall seconds, MiB/s, and the CPU seconds the
// uploading process itself spent per GiB (s3rver's own CPU is the same for both and not counted).
// Both are bounded by what s3rver (one Node.js process) takes in, so the speeds compare the two
// clients on the same server, not against a real store.
#include <sys/resource.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <random>

#include "parsers/storage/s3_location.h"
#include "supervisor/storage/credentials.h"
#include "supervisor/storage/s3_uploader.h"
#include "tests/harness/harness.h"
#include "tests/harness/s3_server.h"

namespace ffpod {
namespace {

double CpuSeconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Round {
  double seconds;
  double cpu_seconds;
};

Round UploadWithFfpod(S3Uploader& uploader, const testing::S3Server& s3, const std::string& path,
                      const std::string& key) {
  UploadTarget target;
  target.address =
      Address(*ParseS3Endpoint("endpoint", s3.endpoint()), false, S3Object{s3.bucket(), key});
  target.region = "us-east-1";
  target.object_url = "s3://" + s3.bucket() + "/" + key;
  std::promise<UploadOutcome> done;
  double c0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  uploader.Upload(path, target, [&](UploadOutcome o) { done.set_value(std::move(o)); });
  UploadOutcome o = done.get_future().get();
  auto t1 = std::chrono::steady_clock::now();
  double c1 = CpuSeconds();
  if (!o.status.ok()) {
    std::fprintf(stderr, "%s\n", o.status.error().message.c_str());
    std::exit(1);
  }
  return {std::chrono::duration<double>(t1 - t0).count(), c1 - c0};
}

Round UploadWithBoto3(const testing::S3Server& s3, const std::string& path, const std::string& key,
                      uint64_t part_bytes, int in_flight) {
  testing::CommandResult r = testing::RunCommand(
      {"/usr/bin/python3", std::string(FFPOD_SOURCE_DIR) + "/bench/s3_upload_boto3.py",
       s3.endpoint(), s3.bucket(), key, path, std::to_string(part_bytes),
       std::to_string(in_flight)},
      std::chrono::minutes(10));
  if (r.status != 0) {
    std::fprintf(stderr, "boto3: %s\n", r.err.c_str());
    std::exit(1);
  }
  boost::json::value v = boost::json::parse(r.out);
  return {v.at("seconds").to_number<double>(), v.at("cpu_seconds").to_number<double>()};
}

int Main(int argc, char** argv) {
  uint64_t mib = argc > 1 ? std::stoull(argv[1]) : 512;
  int rounds = argc > 2 ? std::stoi(argv[2]) : 4;
  uint64_t part_mib = argc > 3 ? std::stoull(argv[3]) : 16;
  int in_flight = argc > 4 ? std::stoi(argv[4]) : 4;
  testing::S3Server s3;
  testing::TempDir dir;
  std::string path = dir / "media.bin";
  {
    std::mt19937_64 rng(42);
    std::string bytes(mib << 20, '\0');
    for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
      uint64_t x = rng();
      std::memcpy(bytes.data() + i, &x, 8);
    }
    testing::WriteFile(path, bytes);
  }
  S3UploaderOptions options;
  options.part_bytes = part_mib << 20;
  options.parts_in_flight = in_flight;
  S3Settings keys;
  keys.auth = S3Settings::Auth::kKeys;
  keys.keys.access_key_id = testing::S3Server::kAccessKey;
  keys.keys.secret_access_key = testing::S3Server::kSecretKey;
  auto uploader = S3Uploader::Start(options, MakeCredentialSource(keys));
  if (!uploader) return 1;
  std::vector<double> f_s, f_cpu, b_s, b_cpu;
  for (int r = 0; r < rounds; ++r) {
    Round f = UploadWithFfpod(**uploader, s3, path, "ffpod-" + std::to_string(r));
    Round b =
        UploadWithBoto3(s3, path, "boto3-" + std::to_string(r), options.part_bytes, in_flight);
    f_s.push_back(f.seconds);
    f_cpu.push_back(f.cpu_seconds);
    b_s.push_back(b.seconds);
    b_cpu.push_back(b.cpu_seconds);
  }
  double gib = static_cast<double>(mib) / 1024;
  std::printf("%llu MiB, %llu MiB parts, %d in flight, median of %d rounds\n\n",
              static_cast<unsigned long long>(mib), static_cast<unsigned long long>(part_mib),
              in_flight, rounds);
  std::printf("| client | seconds | MiB/s | CPU s per GiB |\n|---|---|---|---|\n");
  std::printf("| ffpod | %.2f | %.0f | %.2f |\n", Median(f_s), mib / Median(f_s),
              Median(f_cpu) / gib);
  std::printf("| boto3 %s | %.2f | %.0f | %.2f |\n", "upload_file", Median(b_s), mib / Median(b_s),
              Median(b_cpu) / gib);
  return 0;
}

}  // namespace
}  // namespace ffpod

int main(int argc, char** argv) { return ffpod::Main(argc, argv); }
