// The audit trail of every result (docs/queue.md, "The result document"), from the real ffpod
// binary with the real ffmpeg (Debian's 5.1) and, for the worker and --report-redis, a real
// redis-server: the ffmpeg build (buildconf_sha256 as `ffmpeg -buildconf | sha256sum` gives it,
// the library versions), the arguments as run, the inputs (sha256 as `sha256sum` gives it, the
// size limit) and the image; and no secret of a URL input anywhere in it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "tests/harness/ffpod_worker.h"
#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::RedisServer;
using testing::TempDir;
using Args = std::vector<std::string>;
namespace json = boost::json;

// The first word `sh -c COMMAND` prints: a sha256sum.
std::string Sha256Of(const std::string& command) {
  CommandResult r = testing::RunCommand({"sh", "-c", command});
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out.substr(0, r.out.find(' '));
}

std::string FileSha256(const std::string& path) { return Sha256Of("sha256sum '" + path + "'"); }

// libavutil's loaded version as `ffmpeg -version` prints it ("57. 28.100 / 57. 28.100"), with
// the blanks taken out.
std::string LibavutilVersion() {
  CommandResult r = testing::RunCommand({"ffmpeg", "-hide_banner", "-version"});
  std::smatch m;
  std::regex re(R"(libavutil +[0-9. ]+/ *([0-9. ]+)\n)");
  if (!std::regex_search(r.out, m, re)) {
    ADD_FAILURE() << r.out;
    return "";
  }
  std::string v;
  for (char c : m[1].str()) {
    if (c != ' ') v += c;
  }
  return v;
}

std::string MakeInput(const TempDir& dir, const std::string& name, const Args& how) {
  std::string path = dir / name;
  Args argv = {"ffmpeg", "-v", "error", "-f", "lavfi", "-i"};
  argv.insert(argv.end(), how.begin(), how.end());
  argv.push_back(path);
  CommandResult made = testing::RunCommand(argv);
  EXPECT_EQ(made.status, 0) << made.err;
  return path;
}

std::vector<std::string> Strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

// The ffmpeg block has the build's hash and library versions as the real ffmpeg gives them.
void ExpectFfmpegBuild(const json::object& result) {
  const json::object& ffmpeg = result.at("ffmpeg").as_object();
  ASSERT_TRUE(ffmpeg.at("buildconf_sha256").is_string()) << json::serialize(ffmpeg);
  EXPECT_EQ(ffmpeg.at("buildconf_sha256").as_string(),
            Sha256Of("ffmpeg -buildconf 2>/dev/null | sha256sum"));
  ASSERT_TRUE(ffmpeg.at("libraries").is_object()) << json::serialize(ffmpeg);
  const json::object& libs = ffmpeg.at("libraries").as_object();
  ASSERT_TRUE(libs.contains("libavutil")) << json::serialize(libs);
  EXPECT_EQ(libs.at("libavutil").as_string(), LibavutilVersion());
  EXPECT_TRUE(libs.contains("libavcodec"));
  EXPECT_TRUE(libs.contains("libavformat"));
}

// What ffprobe itself says of `path`, asked on its own: the audit's `probe` must agree.
void ExpectProbeOf(const json::value& input, const std::string& path) {
  ASSERT_TRUE(input.at("probe").is_object()) << input.at("probe_skipped");
  CommandResult r = testing::RunCommand(
      {"ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", path});
  ASSERT_EQ(r.status, 0) << r.err;
  json::value truth = json::parse(r.out);
  const json::object& probe = input.at("probe").as_object();
  const json::object& format = truth.at("format").as_object();
  EXPECT_EQ(probe.at("format").as_string(), format.at("format_name").as_string());
  EXPECT_DOUBLE_EQ(probe.at("duration_s").to_number<double>(),
                   std::stod(std::string(format.at("duration").as_string())));
  EXPECT_EQ(probe.at("bit_rate").as_int64(),
            std::stoll(std::string(format.at("bit_rate").as_string())));
  const json::array& streams = probe.at("streams").as_array();
  const json::array& want = truth.at("streams").as_array();
  ASSERT_EQ(streams.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const json::object& s = streams[i].as_object();
    const json::object& w = want[i].as_object();
    EXPECT_EQ(s.at("type").as_string(), w.at("codec_type").as_string());
    EXPECT_EQ(s.at("codec").as_string(), w.at("codec_name").as_string());
    if (w.at("codec_type") == "video") {
      EXPECT_EQ(s.at("width").as_int64(), w.at("width").as_int64());
      EXPECT_EQ(s.at("height").as_int64(), w.at("height").as_int64());
      EXPECT_EQ(s.at("pix_fmt").as_string(), w.at("pix_fmt").as_string());
      EXPECT_GT(s.at("frame_rate").to_number<double>(), 0);
    } else if (w.at("codec_type") == "audio") {
      EXPECT_EQ(s.at("channels").as_int64(), w.at("channels").as_int64());
      EXPECT_EQ(s.at("sample_rate").as_int64(),
                std::stoll(std::string(w.at("sample_rate").as_string())));
      EXPECT_FALSE(s.contains("width"));
    }
  }
}

void ExpectFileInput(const json::value& input, const std::string& path) {
  SCOPED_TRACE(json::serialize(input));
  EXPECT_EQ(input.at("url").as_string(), path);
  EXPECT_EQ(input.at("kind").as_string(), "file");
  EXPECT_EQ(input.at("bytes").as_int64(), static_cast<int64_t>(std::filesystem::file_size(path)));
  EXPECT_TRUE(input.at("mtime").is_string());
  ASSERT_TRUE(input.at("sha256").is_string());
  EXPECT_EQ(input.at("sha256").as_string(), FileSha256(path));
  EXPECT_FALSE(input.as_object().contains("sha256_skipped"));
  ExpectProbeOf(input, path);
  EXPECT_FALSE(input.as_object().contains("probe_skipped"));
}

std::string FfpodVersion() {
  CommandResult r = testing::RunCommand({FFPOD_BINARY, "--version"});
  std::string v = r.out.substr(0, r.out.find('\n'));
  return v.starts_with("ffpod ") ? v.substr(6) : v;
}

const char* kImage = "registry.example/media/ffpod-ffmpeg-cpu@sha256:0123abcd";

// What run reports: its `job finished` record and, with --report-redis, the stream entry.
TEST(Run, TheResultCarriesTheAuditTrail) {
  RedisServer redis;
  TempDir dir;
  std::string in = MakeInput(dir, "in.mp4",
                             {"testsrc2=size=160x120:rate=25:duration=1", "-f", "lavfi", "-i",
                              "sine=frequency=440:duration=1", "-c:v", "libx264", "-c:a", "aac"});
  std::string out = dir / "out.mp4";
  // -re: a second of encoding, while the build probe and the input's hash run alongside.
  CommandResult r = testing::RunCommand(
      {FFPOD_BINARY, "run",     "--listen", "",        "--id",      "audit-1", "--report-redis",
       redis.Url(),  "--image", kImage,     "--",      "ffmpeg",    "-re",     "-i",
       in,           "-c:v",    "libx264",  "-preset", "ultrafast", out},
      60s, {"NODE_NAME=node-7", "POD_NAME=audit-pod"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto fin = testing::FindRecord(testing::JsonLines(r.err), "job finished");
  ASSERT_TRUE(fin) << r.err;
  json::object result = fin->at("result").as_object();
  ExpectFfmpegBuild(result);
  std::vector<std::string> args = Strings(result.at("args"));
  // As run: ffpod's rewrite (the progress channel, never the overwrite prompt) included.
  for (const std::string& a : {std::string("-progress"), std::string("-n"), in, out}) {
    EXPECT_NE(std::find(args.begin(), args.end(), a), args.end()) << a;
  }
  ASSERT_EQ(result.at("inputs").as_array().size(), 1u);
  ExpectFileInput(result.at("inputs").as_array()[0], in);
  EXPECT_EQ(json::serialize(result.at("image")),
            json::serialize(json::object{{"image", kImage},
                                         {"ffpod_version", FfpodVersion()},
                                         {"node", "node-7"},
                                         {"pod", "audit-pod"}}));
  auto entries = testing::Results(redis);
  ASSERT_EQ(entries.size(), 1u);
  for (const char* key : {"ffmpeg", "args", "inputs", "image"}) {
    EXPECT_EQ(json::serialize(entries[0].result.at(key)), json::serialize(result.at(key))) << key;
  }
}

// A presigned URL with a password, and a secret header: no secret anywhere in what run reports.
TEST(Run, AUrlInputsSecretsAreNowhereInTheResult) {
  RedisServer redis;
  CommandResult r = testing::RunCommand(
      {FFPOD_BINARY, "run", "--listen", "", "--report-redis", redis.Url(), "--", "ffmpeg",
       "-headers", "X-Team: hdr-s3cret\r\n", "-i",
       "http://user:pw-s3cret@127.0.0.1:1/x.mp4?X-Amz-Signature=sig-abc123&X-Amz-Date=20261122",
       "-f", "null", "-"},
      60s);
  auto fin = testing::FindRecord(testing::JsonLines(r.err), "job finished");
  ASSERT_TRUE(fin) << r.err;
  std::string doc = json::serialize(fin->at("result"));
  auto entries = testing::Results(redis);
  ASSERT_EQ(entries.size(), 1u);
  std::string entry = json::serialize(entries[0].result);
  for (const char* secret : {"pw-s3cret", "sig-abc123", "hdr-s3cret"}) {
    EXPECT_EQ(doc.find(secret), std::string::npos) << secret << " in " << doc;
    EXPECT_EQ(entry.find(secret), std::string::npos) << secret << " in " << entry;
    EXPECT_EQ(r.err.find(secret), std::string::npos) << secret << " in the log";
  }
  std::vector<std::string> args = Strings(fin->at("result").at("args"));
  auto headers = std::find(args.begin(), args.end(), "-headers");
  ASSERT_NE(headers, args.end());
  EXPECT_EQ(*(headers + 1), "REDACTED");
  const json::value& input = fin->at("result").at("inputs").as_array()[0];
  EXPECT_EQ(json::serialize(input),
            R"({"url":"http://REDACTED@127.0.0.1:1/x.mp4?X-Amz-Signature=REDACTED)"
            R"(&X-Amz-Date=20261122","kind":"url","probe":null,)"
            R"("probe_skipped":"not a local file: ffpod never reads a network input twice"})");
}

const Args kFast = {"--heartbeat", "1", "--retry-base", "0.2", "--retry-max", "1"};

// The worker's stream entry and state hash: the same trail, with the size limit of
// --input-hash-max-mib (1 MiB here) on a larger input, and a URL input's secrets redacted.
TEST(Worker, EveryResultCarriesTheAuditTrail) {
  RedisServer redis;
  TempDir dir;
  std::string in = MakeInput(dir, "in.mp4", {"testsrc2=size=160x120:rate=25:duration=1"});
  // Raw video: a few MiB, over the limit.
  std::string big =
      MakeInput(dir, "big.nut", {"testsrc2=size=320x240:rate=25:duration=1", "-c:v", "rawvideo"});
  ASSERT_GT(std::filesystem::file_size(big), 1u << 20);
  std::string out = dir / "out.mp4";
  testing::Produce(redis, testing::JobDocument("audit-ok",
                                               {"-i", in, "-i", big, "-map", "0:v", "-c:v",
                                                "libx264", "-preset", "ultrafast", out},
                                               {out}));
  testing::Produce(redis,
                   testing::JobDocument(
                       "audit-url",
                       {"-i", "http://user:pw-s3cret@127.0.0.1:1/x.mp4?X-Amz-Signature=sig-abc123",
                        dir / "o.mp4"},
                       {}, {{"max_attempts", 1}}));
  Args flags = kFast;
  flags.insert(flags.end(), {"--input-hash-max-mib", "1"});
  testing::FfpodWorker w(redis.Url(), "w-audit", dir, flags,
                         {std::string("FFPOD_IMAGE=") + kImage, "NODE_NAME=node-9"});
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return testing::JobField(redis, "audit-ok", "state") == "succeeded" &&
               testing::JobField(redis, "audit-url", "state") == "dead";
      },
      120s))
      << w.Log();
  auto entries = testing::Results(redis);
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) {
    SCOPED_TRACE(e.id);
    testing::ExpectResultShape(e.result, e.id);
    ExpectFfmpegBuild(e.result);
    EXPECT_EQ(e.result.at("image").at("image").as_string(), kImage);
    EXPECT_EQ(e.result.at("image").at("node").as_string(), "node-9");
    EXPECT_TRUE(e.result.at("image").at("pod").is_null());
    // The state hash holds the same document.
    json::value hashed = json::parse(testing::JobField(redis, e.id, "result"));
    EXPECT_EQ(json::serialize(hashed.at("inputs")), json::serialize(e.result.at("inputs")));
    EXPECT_EQ(json::serialize(hashed.at("args")), json::serialize(e.result.at("args")));
  }
  const json::object& ok = entries[0].id == "audit-ok" ? entries[0].result : entries[1].result;
  const json::object& url = entries[0].id == "audit-ok" ? entries[1].result : entries[0].result;
  std::vector<std::string> args = Strings(ok.at("args"));
  EXPECT_NE(std::find(args.begin(), args.end(), "-y"), args.end()) << "the worker's rewrite";
  // ffmpeg wrote the temporary; the argument list says so.
  EXPECT_EQ(std::find(args.begin(), args.end(), out), args.end());
  const json::array& inputs = ok.at("inputs").as_array();
  ASSERT_EQ(inputs.size(), 2u);
  ExpectFileInput(inputs[0], in);
  EXPECT_TRUE(inputs[1].at("sha256").is_null());
  EXPECT_EQ(inputs[1].at("sha256_skipped").as_string(), "larger than --input-hash-max-mib (1 MiB)");
  EXPECT_EQ(inputs[1].at("bytes").as_int64(),
            static_cast<int64_t>(std::filesystem::file_size(big)));

  EXPECT_EQ(url.at("reason").as_string(), "network");
  std::string doc = json::serialize(url);
  // The dead-letter entry keeps the job document as the producer wrote it; its result is ours.
  json::value dead = json::parse(redis.Command({"LINDEX", "ffpod:dead", "0"}).str);
  std::string dead_result = json::serialize(dead.at("result"));
  for (const char* secret : {"pw-s3cret", "sig-abc123"}) {
    EXPECT_EQ(doc.find(secret), std::string::npos) << secret << " in " << doc;
    EXPECT_EQ(dead_result.find(secret), std::string::npos) << secret << " in " << dead_result;
  }
  const json::value& url_input = url.at("inputs").as_array()[0];
  EXPECT_EQ(url_input.at("kind").as_string(), "url");
  EXPECT_TRUE(url_input.at("probe").is_null());
  EXPECT_EQ(url_input.at("probe_skipped").as_string(),
            "not a local file: ffpod never reads a network input twice");
}

}  // namespace
}  // namespace ffpod
