// The result's audit trail (docs/queue.md, "The result document"): how inputs are told apart,
// and the JSON shape and bounds of the ffmpeg build, args, inputs and image.
#include "parsers/documents/audit.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "parsers/documents/job.h"
#include "parsers/ffmpeg/encoders.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

namespace json = boost::json;

InputRecord Input(const std::string& url, InputKind kind) {
  InputRecord r;
  r.url = url;
  r.kind = kind;
  return r;
}

TEST(Audit, InputsAreToldApartByFormatStdinAndProtocol) {
  struct Case {
    std::vector<std::string> args;
    InputKind kind;
  };
  const Case cases[] = {
      {{"-i", "in.mp4"}, InputKind::kFile},
      {{"-i", "/media/in put.mov"}, InputKind::kFile},
      {{"-i", "file:/media/in.mp4"}, InputKind::kFile},
      {{"-i", "./c:d.mp4"}, InputKind::kFile},
      {{"-f", "concat", "-i", "list.txt"}, InputKind::kFile},
      {{"-i", "https://u:p@media.example/in.mp4?X-Amz-Signature=abc"}, InputKind::kUrl},
      {{"-i", "srt://10.0.0.1:9000"}, InputKind::kUrl},
      {{"-i", "concat:a.ts|b.ts"}, InputKind::kUrl},
      {{"-f", "lavfi", "-i", "testsrc2=size=64x48"}, InputKind::kLavfi},
      {{"-i", "-"}, InputKind::kPipe},
      {{"-i", "pipe:0"}, InputKind::kPipe},
      {{"-i", "pipe:3"}, InputKind::kPipe},
      {{"-i", "fd:4"}, InputKind::kPipe},
      {{"-f", "v4l2", "-i", "/dev/video0"}, InputKind::kDevice},
      {{"-f", "x11grab", "-i", ":0.0"}, InputKind::kDevice},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    args.push_back("out.mp4");
    FfmpegCommand cmd = AnalyzeFfmpegArgs(args);
    ASSERT_EQ(cmd.inputs.size(), 1u) << c.args.back();
    EXPECT_EQ(InputKindName(ClassifyInput(cmd.inputs[0])), InputKindName(c.kind)) << c.args.back();
  }
  EXPECT_EQ(InputFilePath("file:/media/in.mp4"), "/media/in.mp4");
  EXPECT_EQ(InputFilePath("in.mp4"), "in.mp4");
}

// The libraries come from `ffmpeg -version` as recorded (tests/fixtures/probe/README.md), keyed
// by name with the loaded version.
TEST(Audit, FfmpegBlockHasTheBuildHashAndTheLibraries) {
  FfmpegBuild build =
      ParseBuildInfo(testing::ReadFile(testing::FixturePath("probe/ff5.1-version.txt")));
  FfmpegBuildAudit audit;
  audit.buildconf_sha256 = std::string(64, 'a');
  audit.libraries = build.libraries;
  json::object o = FfmpegAuditJson("/usr/bin/ffmpeg", "5.1.9-0+deb12u1", audit);
  EXPECT_EQ(o.at("path"), "/usr/bin/ffmpeg");
  EXPECT_EQ(o.at("version"), "5.1.9-0+deb12u1");
  EXPECT_EQ(o.at("buildconf_sha256").as_string(), std::string(64, 'a'));
  const json::object& libs = o.at("libraries").as_object();
  EXPECT_EQ(libs.size(), 8u);
  EXPECT_EQ(libs.at("libavutil"), "57.28.100");
  EXPECT_EQ(libs.at("libavcodec"), "59.37.100");
  EXPECT_EQ(libs.at("libavdevice"), "59.7.100");
  EXPECT_EQ(libs.at("libpostproc"), "56.6.100");

  json::object unknown = FfmpegAuditJson("ffmpeg", "", FfmpegBuildAudit{});
  EXPECT_TRUE(unknown.at("buildconf_sha256").is_null());
  EXPECT_TRUE(unknown.at("libraries").is_null());
}

TEST(Audit, AFileInputHasItsSizeTimeAndHashAndOtherInputsOnlyUrlAndKind) {
  ResultAudit audit;
  InputRecord file = Input("/media/in.mp4", InputKind::kFile);
  file.bytes = 1234;
  file.mtime = "2026-11-22T10:00:00.000Z";
  file.sha256 = std::string(64, 'b');
  file.probe = InputProbe{"mov,mp4,m4a,3gp,3g2,mj2", 6.0, 1000, {}};
  InputRecord big = Input("/media/huge.mxf", InputKind::kFile);
  big.bytes = int64_t{1} << 40;
  big.mtime = "2026-11-22T10:00:00.000Z";
  big.sha256_skipped = "larger than --input-hash-max-mib (65536 MiB)";
  big.probe_skipped = "ffprobe timed out";
  InputRecord url = Input("https://media.example/x.mp4?X-Amz-Signature=REDACTED", InputKind::kUrl);
  url.probe_skipped = "not a local file";
  audit.inputs = std::vector<InputRecord>{file, big, url};
  audit.args = std::vector<std::string>{"-i", "/media/in.mp4", "out.mp4"};
  audit.image = ImageAudit{"registry.example/ffpod@sha256:abc", "0.1.0", "node-3", ""};
  json::object o;
  AddAuditJson(audit, o);
  EXPECT_EQ(json::serialize(o.at("args")), R"(["-i","/media/in.mp4","out.mp4"])");
  const json::array& inputs = o.at("inputs").as_array();
  ASSERT_EQ(inputs.size(), 3u);
  EXPECT_EQ(json::serialize(inputs[0]), R"({"url":"/media/in.mp4","kind":"file","bytes":1234,)"
                                        R"("mtime":"2026-11-22T10:00:00.000Z","sha256":")" +
                                            std::string(64, 'b') +
                                            R"(","probe":{"format":"mov,mp4,m4a,3gp,3g2,mj2",)"
                                            R"("duration_s":6E0,"bit_rate":1000,"streams":[]}})");
  EXPECT_TRUE(inputs[1].at("sha256").is_null());
  EXPECT_EQ(inputs[1].at("sha256_skipped"), "larger than --input-hash-max-mib (65536 MiB)");
  EXPECT_EQ(inputs[1].at("bytes").as_int64(), int64_t{1} << 40);
  EXPECT_TRUE(inputs[1].at("probe").is_null());
  EXPECT_EQ(inputs[1].at("probe_skipped"), "ffprobe timed out");
  EXPECT_EQ(json::serialize(inputs[2]),
            R"({"url":"https://media.example/x.mp4?X-Amz-Signature=REDACTED","kind":"url",)"
            R"("probe":null,"probe_skipped":"not a local file"})");
  EXPECT_EQ(json::serialize(o.at("image")),
            R"({"image":"registry.example/ffpod@sha256:abc","ffpod_version":"0.1.0",)"
            R"("node":"node-3","pod":null})");
  EXPECT_FALSE(o.contains("args_omitted"));
  EXPECT_FALSE(o.contains("inputs_omitted"));
}

TEST(Audit, NoFfmpegRunMeansNullArgsInputsAndImage) {
  json::object o;
  AddAuditJson(ResultAudit{}, o);
  EXPECT_TRUE(o.at("args").is_null());
  EXPECT_TRUE(o.at("inputs").is_null());
  EXPECT_TRUE(o.at("image").is_null());
}

TEST(Audit, TheListsAreBoundedAndSayWhatWasLeftOut) {
  ResultAudit audit;
  std::vector<std::string> args = {std::string(kAuditMaxArgBytes + 100, 'x')};
  // 100 arguments of 1000 bytes: not all fit in the 64 KiB with the first.
  for (int i = 0; i < 100; ++i) args.push_back(std::string(1000, 'y'));
  audit.args = args;
  std::vector<InputRecord> inputs(kAuditMaxInputs + 6);
  for (auto& in : inputs) in = Input("pipe:0", InputKind::kPipe);
  audit.inputs = inputs;
  json::object o;
  AddAuditJson(audit, o);
  const json::array& listed = o.at("args").as_array();
  std::string first(listed[0].as_string());
  EXPECT_EQ(first, std::string(kAuditMaxArgBytes, 'x') + "...[100 more bytes]");
  size_t total = 0;
  for (const auto& a : listed) total += a.as_string().size();
  EXPECT_LE(total, kAuditMaxArgsBytes);
  EXPECT_EQ(listed.size() + o.at("args_omitted").as_uint64(), args.size());
  EXPECT_GT(o.at("args_omitted").as_uint64(), 0u);
  EXPECT_EQ(o.at("inputs").as_array().size(), kAuditMaxInputs);
  EXPECT_EQ(o.at("inputs_omitted").as_uint64(), 6u);
}

TEST(Audit, ACutNeverSplitsAUtf8Character) {
  ResultAudit audit;
  // "é" is two bytes: a cut at an odd byte count would fall inside one.
  std::string accents;
  while (accents.size() < kAuditMaxArgBytes + 10) accents += "\xc3\xa9";
  audit.args = std::vector<std::string>{"x" + accents};
  json::object o;
  AddAuditJson(audit, o);
  std::string cut(o.at("args").as_array()[0].as_string());
  EXPECT_EQ(cut.find("\xef\xbf\xbd"), std::string::npos) << "a replacement character";
  EXPECT_NE(cut.find("more bytes]"), std::string::npos);
}

TEST(Audit, TheResultDocumentCarriesTheAuditFields) {
  ResultDoc r;
  r.id = "clip-42";
  r.ffmpeg_path = "/usr/bin/ffmpeg";
  r.ffmpeg_version = "5.1.9";
  r.audit.args = std::vector<std::string>{"-i", "in.mp4", "out.mp4"};
  r.audit.inputs = std::vector<InputRecord>{};
  json::value v = json::parse(SerializeResult(r));
  const json::object& o = v.as_object();
  const json::object& ffmpeg = o.at("ffmpeg").as_object();
  for (const char* key : {"path", "version", "buildconf_sha256", "libraries"}) {
    EXPECT_TRUE(ffmpeg.contains(key)) << key;
  }
  EXPECT_EQ(o.at("args").as_array().size(), 3u);
  EXPECT_TRUE(o.at("inputs").as_array().empty());
  EXPECT_TRUE(o.at("image").is_null());
  EXPECT_EQ(o.at("worker").at("id"), "");
}

}  // namespace
}  // namespace ffpod
