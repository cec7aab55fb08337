// The capability probe and `ffpod probe` end to end: the real ffmpeg (Debian's 5.1, which lists
// NVENC/VAAPI/QSV encoders that cannot work on a machine without those devices; in the version
// matrix also 4.3, 7.1 and 9.0), and fake
// "ffmpeg" scripts written into a temporary directory for what a real one cannot be made to do
// on purpose: hang in a test encode, change its mind between two probes, report an exact
// encoder set. Also EncoderWatch, the worker's periodic re-probe behind /readyz.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <re2/re2.h>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "probes/capabilities.h"
#include "probes/os/process.h"
#include "supervisor/modes/encoder_watch.h"
#include "supervisor/modes/probe_command.h"
#include "supervisor/telemetry/ffpod_metrics.h"
#include "supervisor/telemetry/health.h"
#include "supervisor/telemetry/logger.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::CommandResult;
using testing::ReadFile;
using testing::TempDir;
using Args = std::vector<std::string>;

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

// Whether this machine has NVIDIA / DRI device nodes. The assertions about why a hardware
// encoder is unusable hold on machines without them (CI, this project's build hosts).
bool HasNvidia() { return !ListDevices().nvidia.empty(); }
bool HasDri() { return !ListDevices().dri_render.empty() || !ListDevices().dri_card.empty(); }

// The real `ffmpeg -encoders` list, read independently of the parser under test.
bool RealFfmpegLists(const std::string& encoder) {
  static const std::string list =
      testing::RunCommand({"ffmpeg", "-hide_banner", "-encoders"}, 60s).out;
  return list.find(" " + encoder + " ") != std::string::npos;
}

// Why h264_nvenc is unusable on a machine without NVIDIA devices: libcuda is missing, or (Debian's
// 4.3) the build has no NVENC at all.
std::string NvencReason() {
  return RealFfmpegLists("h264_nvenc")
             ? "Cannot load libcuda.so.1"
             : "not in this ffmpeg build (ffmpeg -encoders does not list it)";
}

// Why the QSV encoders are unusable without an Intel GPU, as each release's dispatcher says it
// (real runs: 4.3.7 and 5.1.9 with libmfx, 7.1.5 and 9.0.2 with oneVPL, which 6.0 added).
std::string QsvReason() {
  const FfmpegVersion& v = testing::TestFfmpeg();
  if (!v.AtLeast(4, 4)) return "Failed to create a VAAPI device.";
  if (v.AtLeast(6, 0)) return "Error creating a MFX session: -9.";
  return "Error initializing an internal MFX session: unsupported (-3)";
}

// Writes `content` to `path` through a temporary file and a rename, so a process that starts
// the script meanwhile runs the old or the new one, never half of one.
void ReplaceScript(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".new";
  testing::WriteFile(tmp, content);
  fs::permissions(tmp, fs::perms::owner_all);
  fs::rename(tmp, path);
}

// A fake ffmpeg: answers -version and -encoders like ffmpeg 6.1 with the encoder rows given,
// and runs `test_encode` (shell) for a test encode, with $enc set to the -c:v value.
std::string FakeFfmpeg(const std::string& encoder_rows, const std::string& test_encode) {
  return "#!/bin/sh\n"
         "for a in \"$@\"; do\n"
         "  case \"$a\" in\n"
         "    -version)\n"
         "      echo 'ffmpeg version 6.1.1-3ubuntu5 Copyright (c) 2000-2023 the FFmpeg "
         "developers'\n"
         "      echo 'configuration: --prefix=/usr --enable-gpl --enable-nvenc'\n"
         "      echo 'libavcodec     60. 31.102 / 60. 31.102'\n"
         "      exit 0;;\n"
         "    -encoders)\n"
         "      echo 'Encoders:'\n"
         "      echo ' V..... = Video'\n"
         "      echo ' ------'\n" +
         encoder_rows +
         "      exit 0;;\n"
         "  esac\n"
         "done\n"
         "enc=''; prev=''\n"
         "for a in \"$@\"; do [ \"$prev\" = '-c:v' ] && enc=\"$a\"; prev=\"$a\"; done\n" +
         test_encode + "\n";
}

std::string Row(const std::string& name, const std::string& codec) {
  return "      echo ' V....D " + name + "              " + name + " encoder (codec " + codec +
         ")'\n";
}

// Runs `io` until `condition` holds or `timeout` passes.
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& condition,
              std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(20ms);
  }
  return true;
}

// Runs ProbeCapabilities on a fresh loop and returns its document.
std::optional<Capabilities> Probe(const CapabilityProbeOptions& options,
                                  std::chrono::milliseconds limit = 240s) {
  boost::asio::io_context io;
  ChildReaper reaper(io, false);
  OsProcesses processes(io, reaper);
  std::optional<Capabilities> result;
  ProbeCapabilities(processes, options, [&](Capabilities caps) { result = std::move(caps); });
  RunUntil(
      io, [&] { return result.has_value(); }, limit);
  return result;
}

CommandResult FfpodProbe(const Args& flags) {
  Args argv = {FFPOD_BINARY, "probe"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return testing::RunCommand(argv, 240s);
}

const json::object* EncoderEntry(const json::value& doc, const std::string& name) {
  for (const json::value& e : doc.at("encoders").as_array()) {
    if (e.at("name").as_string() == name) return &e.as_object();
  }
  return nullptr;
}

std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : ""; }

// The rendered sample of ffpod_encoder_usable{encoder=NAME}, or "" when absent.
std::string UsableSample(const FfpodMetrics& metrics, const std::string& encoder) {
  std::string prefix = "ffpod_encoder_usable{encoder=\"" + encoder + "\"} ";
  std::istringstream lines(metrics.Render());
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(prefix)) return line.substr(prefix.size());
  }
  return "";
}

// ------------------------------------------------------------------------------------------
// The real ffmpeg
// ------------------------------------------------------------------------------------------

TEST(ProbeRealFfmpeg, SoftwareEncodersWorkAndHardwareOnesSayWhyNot) {
  CapabilityProbeOptions options;
  options.timeout = 120s;
  auto caps = Probe(options);
  ASSERT_TRUE(caps.has_value());
  EXPECT_EQ(caps->ffmpeg_error, "");
  EXPECT_TRUE(caps->build.version.known);
  EXPECT_TRUE(fs::path(caps->ffmpeg_path).is_absolute()) << caps->ffmpeg_path;
  ASSERT_EQ(caps->encoders.size(), KnownEncoders().size());

  for (const EncoderCapability& e : caps->encoders) {
    SCOPED_TRACE(e.name);
    EXPECT_EQ(e.listed, RealFfmpegLists(e.name));
    if (!e.listed) {
      EXPECT_FALSE(e.usable);
      EXPECT_EQ(e.reason, "not in this ffmpeg build (ffmpeg -encoders does not list it)");
      EXPECT_FALSE(e.probe_ms.has_value());
    } else {
      EXPECT_TRUE(e.probe_ms.has_value());
      EXPECT_EQ(e.usable, e.reason.empty());
    }
  }
  const EncoderCapability* x264 = caps->Find("libx264");
  ASSERT_NE(x264, nullptr);
  EXPECT_TRUE(x264->listed);
  EXPECT_TRUE(x264->usable) << x264->reason;

  if (!HasNvidia()) {
    const EncoderCapability* nvenc = caps->Find("h264_nvenc");
    EXPECT_FALSE(nvenc->usable);
    EXPECT_EQ(nvenc->reason, NvencReason());
    if (nvenc->listed) {
      EXPECT_EQ(nvenc->failure, Reason::kEncoderUnavailable);
    }
  }
  if (!HasDri()) {
    for (const char* name : {"h264_vaapi", "hevc_vaapi"}) {
      const EncoderCapability* e = caps->Find(name);
      ASSERT_TRUE(e->listed) << name;
      EXPECT_FALSE(e->usable);
      EXPECT_EQ(e->reason, "No VA display found for device /dev/dri/renderD128.") << name;
    }
    for (const char* name : {"h264_qsv", "hevc_qsv"}) {
      const EncoderCapability* e = caps->Find(name);
      ASSERT_TRUE(e->listed) << name;
      EXPECT_FALSE(e->usable);
      EXPECT_EQ(e->reason, QsvReason()) << name;
      EXPECT_EQ(e->failure, Reason::kEncoderUnavailable);
    }
  }
}

TEST(ProbeCommand, JsonDocumentFromTheRealFfmpeg) {
  CommandResult r = FfpodProbe({});
  ASSERT_EQ(r.status, 0) << r.err;
  json::value doc = json::parse(r.out);
  // Pretty-printed: one member per line, two-space indentation.
  EXPECT_TRUE(r.out.starts_with("{\n  \"ffmpeg\": {\n    \"path\": ")) << r.out.substr(0, 80);
  EXPECT_EQ(r.out, PrettyJson(doc));

  std::string first_line = testing::RunCommand({"ffmpeg", "-version"}, 60s).out;
  first_line = first_line.substr(0, first_line.find('\n'));
  FfmpegVersion v = ParseFfmpegVersion(first_line);
  const json::object& ff = doc.at("ffmpeg").as_object();
  EXPECT_EQ(Str(ff.at("version")), v.text);
  EXPECT_EQ(Str(ff.at("release")), std::to_string(v.major) + "." + std::to_string(v.minor) + "." +
                                       std::to_string(v.patch));
  EXPECT_TRUE(ff.at("error").is_null());
  bool has_gpl = false;
  for (const json::value& f : ff.at("configuration").as_array()) has_gpl |= f == "--enable-gpl";
  EXPECT_TRUE(has_gpl);
  EXPECT_TRUE(ff.at("libraries").as_object().contains("libavcodec"));

  ASSERT_EQ(doc.at("encoders").as_array().size(), KnownEncoders().size());
  const json::object* x264 = EncoderEntry(doc, "libx264");
  ASSERT_NE(x264, nullptr);
  EXPECT_EQ(x264->at("usable"), true);
  EXPECT_EQ(x264->at("family"), "software");
  EXPECT_EQ(x264->at("hardware"), false);
  EXPECT_TRUE(x264->at("reason").is_null());
  EXPECT_TRUE(x264->at("probe_ms").is_int64());
  const json::object* nvenc = EncoderEntry(doc, "h264_nvenc");
  EXPECT_EQ(nvenc->at("family"), "nvenc");
  EXPECT_EQ(nvenc->at("hardware"), true);
  EXPECT_EQ(nvenc->at("codec"), "h264");
  if (!HasNvidia()) {
    EXPECT_EQ(nvenc->at("listed"), RealFfmpegLists("h264_nvenc"));
    EXPECT_EQ(nvenc->at("usable"), false);
    EXPECT_EQ(Str(nvenc->at("reason")), NvencReason());
    if (RealFfmpegLists("h264_nvenc")) {
      EXPECT_EQ(nvenc->at("failure"), "encoder_unavailable");
    }
  }
  const json::object& devices = doc.at("devices").as_object();
  EXPECT_EQ(devices.at("nvidia").as_array().size(), ListDevices().nvidia.size());
  EXPECT_EQ(devices.at("dri_render").as_array().size(), ListDevices().dri_render.size());

  // The log on stderr says how many were usable.
  auto records = testing::JsonLines(r.err);
  auto done = testing::FindRecord(records, "probe finished: ");
  ASSERT_TRUE(done.has_value()) << r.err;
}

TEST(ProbeCommand, RequireExitsZeroOnlyWhenEveryRequiredEncoderIsUsable) {
  CommandResult ok = FfpodProbe({"--require", "libx264", "--format", "nfd"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find("ffpod.io/encoder.libx264=true\n"), std::string::npos) << ok.out;

  if (!HasNvidia()) {
    CommandResult missing = FfpodProbe({"--require", "libx264,h264_nvenc"});
    EXPECT_EQ(missing.status, 1);
    EXPECT_TRUE(json::parse(missing.out).is_object());  // the document is still printed
    auto records = testing::JsonLines(missing.err);
    auto rec = testing::FindRecord(records, "required encoders not usable: ");
    ASSERT_TRUE(rec.has_value()) << missing.err;
    EXPECT_EQ(Str(rec->at("msg")),
              "required encoders not usable: h264_nvenc (" + NvencReason() + ")");
    EXPECT_EQ(Str(rec->at("unusable").as_object().at("h264_nvenc")), NvencReason());
    EXPECT_FALSE(rec->at("unusable").as_object().contains("libx264"));

    // FFPOD_REQUIRE is the same flag.
    Args argv = {FFPOD_BINARY, "probe", "--format", "nfd"};
    CommandResult env = testing::RunCommand(argv, 240s, {"FFPOD_REQUIRE=h264_nvenc"});
    EXPECT_EQ(env.status, 1) << env.err;
  }
}

TEST(ProbeCommand, UnknownRequiredEncoderIsAUsageError) {
  TempDir dir;
  // Nothing may be probed: the fake ffmpeg would leave a mark.
  fs::path ffmpeg = dir.path() / "ffmpeg";
  ReplaceScript(ffmpeg, "#!/bin/sh\ntouch '" + (dir / "ran") + "'\nexit 0\n");
  CommandResult r = FfpodProbe({"--ffmpeg", ffmpeg.string(), "--require", "libx264,h264_nvnec"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--require: unknown encoder \"h264_nvnec\""), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "ran"));
}

TEST(ProbeCommand, NfdLinesFromTheRealFfmpeg) {
  CommandResult r = FfpodProbe({"--format", "nfd"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string first_line = testing::RunCommand({"ffmpeg", "-version"}, 60s).out;
  FfmpegVersion v = ParseFfmpegVersion(first_line.substr(0, first_line.find('\n')));
  std::string expected = "ffpod.io/ffmpeg.version=" + std::to_string(v.major) + "." +
                         std::to_string(v.minor) + "." + std::to_string(v.patch) + "\n";
  for (const KnownEncoder& e : KnownEncoders()) {
    if (!RealFfmpegLists(std::string(e.name))) continue;
    // Which hardware encoders work depends on the machine; software ones work everywhere.
    bool usable = e.family == EncoderFamily::kSoftware;
    if (!usable && (HasNvidia() || HasDri())) {
      expected.clear();
      break;
    }
    expected += "ffpod.io/encoder." + std::string(e.name) + (usable ? "=true\n" : "=false\n");
  }
  if (!expected.empty()) {
    EXPECT_EQ(r.out, expected);
  }
  // Every line is a valid node-feature-discovery feature with a valid label value.
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(RE2::FullMatch(
        line,
        R"(ffpod\.io/(?:ffmpeg\.version|encoder\.[a-z0-9_-]+)=(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?))"))
        << line;
  }
}

// ------------------------------------------------------------------------------------------
// Fake ffmpeg
// ------------------------------------------------------------------------------------------

TEST(ProbeFakeFfmpeg, NfdLinesAreExact) {
  TempDir dir;
  fs::path ffmpeg = dir.path() / "ffmpeg";
  ReplaceScript(ffmpeg, FakeFfmpeg(Row("libx264", "h264") + Row("libx265", "hevc") +
                                       Row("h264_nvenc", "h264") + Row("h264_vaapi", "h264") +
                                       "      echo ' A..... aac   AAC (Advanced Audio Coding)'\n",
                                   "case \"$enc\" in\n"
                                   "  lib*) exit 0;;\n"
                                   "  h264_nvenc) echo '[h264_nvenc @ 0x5] [error] Cannot load "
                                   "libcuda.so.1' >&2; exit 1;;\n"
                                   "  *) echo '[AVHWDeviceContext @ 0x6] [error] No VA display "
                                   "found for device /dev/dri/renderD128.' >&2; exit 1;;\n"
                                   "esac"));
  CommandResult r = FfpodProbe({"--ffmpeg", ffmpeg.string(), "--format", "nfd"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "ffpod.io/ffmpeg.version=6.1.1\n"
            "ffpod.io/encoder.libx264=true\n"
            "ffpod.io/encoder.libx265=true\n"
            "ffpod.io/encoder.h264_nvenc=false\n"
            "ffpod.io/encoder.h264_vaapi=false\n");

  CommandResult j = FfpodProbe({"--ffmpeg", ffmpeg.string()});
  EXPECT_EQ(j.status, 0) << j.err;
  json::value doc = json::parse(j.out);
  EXPECT_EQ(Str(doc.at("ffmpeg").at("path")), ffmpeg.string());
  EXPECT_EQ(doc.at("ffmpeg").at("version"), "6.1.1-3ubuntu5");
  EXPECT_EQ(doc.at("ffmpeg").at("libraries").at("libavcodec"), "60.31.102");
  EXPECT_EQ(EncoderEntry(doc, "h264_vaapi")->at("reason"),
            "No VA display found for device /dev/dri/renderD128.");
  EXPECT_EQ(EncoderEntry(doc, "hevc_qsv")->at("listed"), false);
}

TEST(ProbeFakeFfmpeg, HangingTestEncodeIsKilledAtTheTimeout) {
  TempDir dir;
  fs::path ffmpeg = dir.path() / "ffmpeg";
  // h264_nvenc hangs in a child of the script (as an encoder stuck in a driver call would);
  // both pids are written down to check that the whole process group died.
  ReplaceScript(ffmpeg, FakeFfmpeg(Row("libx264", "h264") + Row("h264_nvenc", "h264"),
                                   "case \"$enc\" in\n"
                                   "  h264_nvenc) echo $$ > '" +
                                       (dir / "sh.pid") +
                                       "'\n"
                                       "    sleep 600 & echo $! > '" +
                                       (dir / "sleep.pid") +
                                       "'\n"
                                       "    wait; exit 0;;\n"
                                       "  *) exit 0;;\n"
                                       "esac"));
  CapabilityProbeOptions options;
  options.ffmpeg = ffmpeg.string();
  options.encoders = {"libx264", "h264_nvenc"};
  options.timeout = 1500ms;
  auto caps = Probe(options);
  ASSERT_TRUE(caps.has_value());
  const EncoderCapability* nvenc = caps->Find("h264_nvenc");
  ASSERT_NE(nvenc, nullptr);
  EXPECT_TRUE(nvenc->listed);
  EXPECT_FALSE(nvenc->usable);
  EXPECT_EQ(nvenc->reason, "the test encode did not finish within 1.5 s and was killed");
  EXPECT_EQ(nvenc->failure, Reason::kTimeout);
  ASSERT_TRUE(nvenc->probe_ms.has_value());
  EXPECT_GE(*nvenc->probe_ms, 1500);  // it was waited for, not abandoned early
  EXPECT_TRUE(caps->Find("libx264")->usable);

  for (const char* file : {"sh.pid", "sleep.pid"}) {
    std::string text = ReadFile(dir.path() / file);
    ASSERT_FALSE(text.empty()) << file;
    pid_t pid = std::stoi(text);
    EXPECT_TRUE(testing::WaitFor([&] { return testing::ProcessGoneOrZombie(pid); }, 10s))
        << file << " " << pid;
  }

  // The same through the command line: the reason is in the document.
  CommandResult r = FfpodProbe({"--ffmpeg", ffmpeg.string(), "--probe-timeout", "1"});
  EXPECT_EQ(r.status, 0) << r.err;
  json::value doc = json::parse(r.out);
  EXPECT_EQ(EncoderEntry(doc, "h264_nvenc")->at("reason"),
            "the test encode did not finish within 1 s and was killed");
  EXPECT_EQ(EncoderEntry(doc, "h264_nvenc")->at("failure"), "timeout");
}

TEST(ProbeFakeFfmpeg, AtMostTwoTestEncodesRunAtOnce) {
  TempDir dir;
  fs::path ffmpeg = dir.path() / "ffmpeg";
  std::string rows;
  for (const char* n : {"libx264", "libx265", "libsvtav1", "libvpx-vp9", "h264_nvenc"}) {
    rows += Row(n, "x");
  }
  // Each test encode marks itself running, records how many are running, and stays 1 s.
  std::string d = dir.path().string();
  ReplaceScript(ffmpeg, FakeFfmpeg(rows, "touch '" + d +
                                             "/running.'$$\n"
                                             "ls '" +
                                             d + "' | grep -c '^running\\.' >> '" + d +
                                             "/counts'\n"
                                             "sleep 1\n"
                                             "rm -f '" +
                                             d +
                                             "/running.'$$\n"
                                             "exit 0"));
  CapabilityProbeOptions options;
  options.ffmpeg = ffmpeg.string();
  options.timeout = 60s;
  auto caps = Probe(options);
  ASSERT_TRUE(caps.has_value());
  int usable = 0;
  for (const EncoderCapability& e : caps->encoders) usable += e.usable;
  EXPECT_EQ(usable, 5);
  std::istringstream counts(ReadFile(dir.path() / "counts"));
  int max = 0, n = 0, lines = 0;
  while (counts >> n) {
    max = std::max(max, n);
    ++lines;
  }
  EXPECT_EQ(lines, 5);
  EXPECT_EQ(max, 2);
}

TEST(ProbeFakeFfmpeg, FfmpegThatCannotRun) {
  TempDir dir;
  std::string missing = dir / "no-such-ffmpeg";
  CapabilityProbeOptions options;
  options.ffmpeg = missing;
  options.encoders = {"libx264"};
  auto caps = Probe(options);
  ASSERT_TRUE(caps.has_value());
  EXPECT_NE(caps->ffmpeg_error, "");
  EXPECT_FALSE(caps->encoders.at(0).listed);
  EXPECT_EQ(caps->encoders.at(0).reason, caps->ffmpeg_error);

  CommandResult json_out = FfpodProbe({"--ffmpeg", missing});
  EXPECT_EQ(json_out.status, 1);
  EXPECT_EQ(Str(json::parse(json_out.out).at("ffmpeg").at("error")), caps->ffmpeg_error);
  CommandResult nfd = FfpodProbe({"--ffmpeg", missing, "--format", "nfd"});
  EXPECT_EQ(nfd.status, 1);
  EXPECT_EQ(nfd.out, "");  // no labels rather than all-false labels

  // An ffmpeg that runs but prints no encoder table.
  fs::path odd = dir.path() / "ffmpeg";
  ReplaceScript(odd, "#!/bin/sh\necho 'ffmpeg version 7.1 Copyright'\nexit 0\n");
  options.ffmpeg = odd.string();
  caps = Probe(options);
  ASSERT_TRUE(caps.has_value());
  EXPECT_EQ(caps->ffmpeg_error, odd.string() + " -encoders printed no encoder table");
}

// ------------------------------------------------------------------------------------------
// Label values and the pretty printer
// ------------------------------------------------------------------------------------------

TEST(ProbeOutput, LabelValuesAndPrettyJson) {
  EXPECT_EQ(LabelValue("5.1.9-0+deb12u1"), "5.1.9-0_deb12u1");
  EXPECT_EQ(LabelValue("N-118000-gabc123"), "N-118000-gabc123");
  EXPECT_EQ(LabelValue("-x-"), "x");
  EXPECT_EQ(LabelValue("++"), "");
  EXPECT_EQ(LabelValue(std::string(80, 'a')), std::string(63, 'a'));

  Capabilities git;
  git.build = ParseBuildInfo("ffmpeg version N-118000-gabc123 Copyright\n");
  EXPECT_EQ(NfdFeatureLines(git), "ffpod.io/ffmpeg.version=N-118000-gabc123\n");
  Capabilities none;
  EXPECT_EQ(NfdFeatureLines(none), "");

  json::value v = json::parse(R"({"a":[1,{"b":null,"c":[]}],"d":{},"e":"x\"y","f":0.5})");
  EXPECT_EQ(PrettyJson(v),
            "{\n"
            "  \"a\": [\n"
            "    1,\n"
            "    {\n"
            "      \"b\": null,\n"
            "      \"c\": []\n"
            "    }\n"
            "  ],\n"
            "  \"d\": {},\n"
            "  \"e\": \"x\\\"y\",\n"
            "  \"f\": 0.5\n"
            "}\n");
}

// ------------------------------------------------------------------------------------------
// EncoderWatch
// ------------------------------------------------------------------------------------------

class EncoderWatchTest : public ::testing::Test {
 protected:
  EncoderWatchTest()
      : reaper_(io_, false),
        board_("worker"),
        log_fd_(::open((dir_ / "log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)),
        logger_(LogFormat::kJson, Severity::kDebug, log_fd_) {}
  ~EncoderWatchTest() override { ::close(log_fd_); }

  std::optional<std::string> Check() {
    auto checks = board_.Readiness().checks;
    auto it = checks.find(EncoderWatch::kCheckName);
    if (it == checks.end()) return "absent";
    return it->second;
  }

  TempDir dir_;
  boost::asio::io_context io_;
  ChildReaper reaper_;
  OsProcesses processes_{io_, reaper_};
  FfpodMetrics metrics_;
  StatusBoard board_;
  int log_fd_;
  Logger logger_;
};

TEST_F(EncoderWatchTest, ReadinessFollowsTheEncoderAcrossReprobes) {
  fs::path ffmpeg = dir_.path() / "ffmpeg";
  const std::string rows = Row("h264_nvenc", "h264") + Row("libx264", "h264");
  const std::string works = FakeFfmpeg(rows, "exit 0");
  const std::string fails = FakeFfmpeg(
      rows,
      "case \"$enc\" in\n"
      "  h264_nvenc) echo '[h264_nvenc @ 0x5] [error] Cannot load libcuda.so.1' >&2\n"
      "    echo '[error] Error initializing output stream 0:0 -- Error while opening encoder "
      "for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or "
      "height' >&2; exit 1;;\n"
      "  *) exit 0;;\n"
      "esac");
  ReplaceScript(ffmpeg, works);

  EncoderWatch watch(io_, processes_, metrics_, board_, logger_, ffmpeg.string(),
                     {"h264_nvenc", "libx264", "h264_nvenc"}, 200ms, 30s);
  std::vector<bool> updates;
  watch.OnUpdate([&](bool all) { updates.push_back(all); });
  watch.Start();
  EXPECT_FALSE(watch.AllUsable());
  EXPECT_EQ(Check(), "waiting for the first probe of h264_nvenc, libx264");
  EXPECT_FALSE(board_.Readiness().Ready());

  ASSERT_TRUE(RunUntil(
      io_, [&] { return watch.probes() >= 1; }, 120s));
  EXPECT_TRUE(watch.AllUsable());
  EXPECT_EQ(Check(), std::nullopt);
  EXPECT_EQ(UsableSample(metrics_, "h264_nvenc"), "1");
  EXPECT_EQ(UsableSample(metrics_, "libx264"), "1");
  ASSERT_EQ(watch.last().size(), 2u);  // the duplicate was dropped

  // The GPU goes away.
  ReplaceScript(ffmpeg, fails);
  ASSERT_TRUE(RunUntil(
      io_, [&] { return !watch.AllUsable(); }, 120s));
  EXPECT_EQ(Check(), "h264_nvenc: " + NvencReason());
  EXPECT_FALSE(board_.Readiness().Ready());
  EXPECT_EQ(UsableSample(metrics_, "h264_nvenc"), "0");
  EXPECT_EQ(UsableSample(metrics_, "libx264"), "1");
  int probes_when_failed = watch.probes();

  // It stays unusable across further probes, and the change is logged once.
  ASSERT_TRUE(RunUntil(
      io_, [&] { return watch.probes() >= probes_when_failed + 2; }, 120s));
  EXPECT_FALSE(watch.AllUsable());

  // And comes back.
  ReplaceScript(ffmpeg, works);
  ASSERT_TRUE(RunUntil(
      io_, [&] { return watch.AllUsable(); }, 120s));
  EXPECT_EQ(Check(), std::nullopt);
  EXPECT_EQ(UsableSample(metrics_, "h264_nvenc"), "1");

  // (Stop, and the schedule itself, are tested on simulated time in
  // tests/unit/supervisor/modes/encoder_watch_test.cc.)
  watch.Stop();
  int probes_at_stop = watch.probes();
  ASSERT_EQ(static_cast<int>(updates.size()), probes_at_stop);
  EXPECT_TRUE(updates.front());
  EXPECT_FALSE(updates[probes_when_failed - 1]);
  EXPECT_TRUE(updates.back());

  auto records = testing::JsonLines(ReadFile(dir_.path() / "log"));
  int lost = 0, back = 0;
  for (const auto& r : records) {
    std::string msg(r.at("msg").as_string());
    if (msg == "encoder no longer usable: h264_nvenc: Cannot load libcuda.so.1") {
      ++lost;
      EXPECT_EQ(r.at("level"), "warning");
      EXPECT_EQ(r.at("failure"), "encoder_unavailable");
    }
    back += msg == "encoder usable again";
  }
  EXPECT_EQ(lost, 1);
  EXPECT_EQ(back, 1);
}

TEST_F(EncoderWatchTest, RealFfmpegRequiringNvencIsNotReady) {
  if (HasNvidia()) GTEST_SKIP() << "this machine has NVIDIA device nodes";
  EncoderWatch watch(io_, processes_, metrics_, board_, logger_, "ffmpeg",
                     {"libx264", "h264_nvenc"}, 300s, 120s);
  watch.Start();
  ASSERT_TRUE(RunUntil(
      io_, [&] { return watch.probes() >= 1; }, 240s));
  EXPECT_FALSE(watch.AllUsable());
  EXPECT_EQ(Check(), "h264_nvenc: " + NvencReason());
  EXPECT_EQ(UsableSample(metrics_, "libx264"), "1");
  EXPECT_EQ(UsableSample(metrics_, "h264_nvenc"), "0");
}

}  // namespace
}  // namespace ffpod
