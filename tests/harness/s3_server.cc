#include "tests/harness/s3_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <stdexcept>

namespace ffpod::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string S3Dir() { return std::string(FFPOD_SOURCE_DIR) + "/tests/s3"; }

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string EnsureS3ServerPackages() { return EnsureNpmPackages(S3Dir()); }

S3Server::S3Server(std::string bucket) : bucket_(std::move(bucket)) {
  std::string why = EnsureS3ServerPackages();
  if (!why.empty()) throw std::runtime_error("no S3 test server: " + why);
  port_ = FreePort();
  fs::create_directories(dir_.path() / "data");
  ProcessOptions o;
  o.argv = {"node", S3Dir() + "/node_modules/s3rver/bin/s3rver.js",
            "-d",   (dir_.path() / "data").string(),
            "-a",   "127.0.0.1",
            "-p",   std::to_string(port_),
            "-s",   "--configure-bucket",
            bucket_};
  o.stdout_path = dir_ / "s3rver.log";
  o.stderr_path = dir_ / "s3rver.err";
  process_ = std::make_unique<BackgroundProcess>(o);
  if (!WaitFor([&] { return Accepts(port_); }, std::chrono::seconds(30))) {
    throw std::runtime_error("s3rver did not start: " + ReadFile(dir_.path() / "s3rver.err"));
  }
}

S3Server::~S3Server() = default;

std::string S3Server::Objects(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"/usr/bin/python3", S3Dir() + "/objects.py", endpoint(),
                                   bucket_};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, std::chrono::seconds(60));
  if (r.status != 0) throw std::runtime_error("tests/s3/objects.py failed: " + r.err);
  return r.out;
}

S3Server::Object S3Server::Get(const std::string& key) const {
  json::value parsed = json::parse(Objects({"get", key}));
  const json::object& o = parsed.as_object();
  Object out;
  out.exists = o.at("exists").as_bool();
  if (!out.exists) return out;
  out.size = o.at("size").to_number<uint64_t>();
  out.sha256 = std::string(o.at("sha256").as_string());
  out.content_type = std::string(o.at("content_type").as_string());
  return out;
}

std::vector<std::string> S3Server::List(const std::string& prefix) const {
  std::vector<std::string> out;
  json::value keys = json::parse(Objects({"list", prefix}));
  for (const auto& v : keys.as_array()) out.emplace_back(v.as_string());
  return out;
}

int S3Server::OpenMultipartUploads() const {
  fs::path uploads = dir_.path() / "data" / bucket_ / "._S3rver_uploads";
  if (!fs::exists(uploads)) return 0;
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(uploads)) ++n;
  return n;
}

std::string S3Server::Presign(const std::string& method, const std::string& key,
                              int expires_s) const {
  json::value url = json::parse(Objects({"presign", method, key, std::to_string(expires_s)}));
  return std::string(url.as_string());
}

}  // namespace ffpod::testing
