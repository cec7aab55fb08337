// The pure parts of the capability probe on output recorded from ffmpeg 5.1 (Debian 12, no GPU):
// see tests/fixtures/probe/README.md for the commands that produced each file.
#include "probes/capabilities.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "parsers/common/json_text.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

namespace fs = std::filesystem;

std::string Fixture(const std::string& name) {
  return testing::ReadFile(testing::FixturePath("probe/" + name));
}

TEST(TestEncode, ArgumentsPerFamily) {
  const std::vector<std::string> head = {"-hide_banner", "-nostdin", "-nostats", "-loglevel",
                                         "level+warning"};
  const std::vector<std::string> input = {
      "-f", "lavfi", "-i", "testsrc2=size=256x256:rate=25:duration=1", "-frames:v", "5"};
  auto join = [](std::initializer_list<std::vector<std::string>> parts) {
    std::vector<std::string> all;
    for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
    return all;
  };
  EXPECT_EQ(TestEncodeArgs("libx264", EncoderFamily::kSoftware, "/dev/dri/renderD128"),
            join({head, input, {"-pix_fmt", "yuv420p", "-c:v", "libx264", "-f", "null", "-"}}));
  EXPECT_EQ(TestEncodeArgs("h264_nvenc", EncoderFamily::kNvenc, "/dev/dri/renderD128"),
            join({head, input, {"-pix_fmt", "yuv420p", "-c:v", "h264_nvenc", "-f", "null", "-"}}));
  EXPECT_EQ(TestEncodeArgs("hevc_vaapi", EncoderFamily::kVaapi, "/dev/dri/renderD129"),
            join({head,
                  {"-vaapi_device", "/dev/dri/renderD129"},
                  input,
                  {"-vf", "format=nv12,hwupload", "-c:v", "hevc_vaapi", "-f", "null", "-"}}));
  EXPECT_EQ(TestEncodeArgs("h264_qsv", EncoderFamily::kQsv, "/dev/dri/renderD128"),
            join({head, input, {"-vf", "format=nv12", "-c:v", "h264_qsv", "-f", "null", "-"}}));
}

struct VerdictCase {
  const char* fixture;
  int exit_code;
  bool usable;
  const char* reason;
  std::optional<Reason> failure;
};

TEST(TestEncode, VerdictsOnRecordedTestEncodes) {
  const std::vector<VerdictCase> cases = {
      {"ff5.1-test-libx264.stderr", 0, true, "", std::nullopt},
      {"ff5.1-test-libx265.stderr", 0, true, "", std::nullopt},
      {"ff5.1-test-libsvtav1.stderr", 0, true, "", std::nullopt},
      {"ff5.1-test-libvpx-vp9.stderr", 0, true, "", std::nullopt},
      {"ff5.1-test-h264_nvenc.stderr", 1, false, "Cannot load libcuda.so.1",
       Reason::kEncoderUnavailable},
      {"ff5.1-test-hevc_nvenc.stderr", 1, false, "Cannot load libcuda.so.1",
       Reason::kEncoderUnavailable},
      {"ff5.1-test-av1_nvenc.stderr", 1, false, "Unknown encoder 'av1_nvenc'",
       Reason::kEncoderUnavailable},
      {"ff5.1-test-h264_qsv.stderr", 1, false,
       "Error initializing an internal MFX session: unsupported (-3)", Reason::kEncoderUnavailable},
      {"ff5.1-test-hevc_qsv.stderr", 1, false,
       "Error initializing an internal MFX session: unsupported (-3)", Reason::kEncoderUnavailable},
      {"ff5.1-test-h264_vaapi.stderr", 1, false,
       "No VA display found for device /dev/dri/renderD128.", Reason::kEncoderUnavailable},
      {"ff5.1-test-hevc_vaapi.stderr", 1, false,
       "No VA display found for device /dev/dri/renderD128.", Reason::kEncoderUnavailable},
  };
  FfmpegVersion v51 = ParseFfmpegVersion("ffmpeg version 5.1.9-0+deb12u1 Copyright");
  for (const VerdictCase& c : cases) {
    SCOPED_TRACE(c.fixture);
    TestEncodeVerdict v = InterpretTestEncode(ExitStatus::Exited(c.exit_code), Fixture(c.fixture),
                                              false, std::chrono::seconds(15), v51);
    EXPECT_EQ(v.usable, c.usable);
    EXPECT_EQ(v.reason, c.reason);
    EXPECT_EQ(v.failure, c.failure);
  }
}

TEST(TestEncode, VerdictsWithoutEvidence) {
  FfmpegVersion unknown;
  // Killed at the timeout: the reason says so, whatever stderr held.
  auto hung = InterpretTestEncode(ExitStatus::Signaled(9), "[h264_nvenc @ 0x1] [error] x\n", true,
                                  std::chrono::milliseconds(1500), unknown);
  EXPECT_FALSE(hung.usable);
  EXPECT_EQ(hung.reason, "the test encode did not finish within 1.5 s and was killed");
  EXPECT_EQ(hung.failure, Reason::kTimeout);
  auto hung15 =
      InterpretTestEncode(ExitStatus::Signaled(9), "", true, std::chrono::seconds(15), unknown);
  EXPECT_EQ(hung15.reason, "the test encode did not finish within 15 s and was killed");

  // Failed with nothing recognisable on stderr: the exit status speaks.
  auto crashed = InterpretTestEncode(ExitStatus::Signaled(11), "garbage\n", false,
                                     std::chrono::seconds(15), unknown);
  EXPECT_FALSE(crashed.usable);
  EXPECT_NE(crashed.reason.find("SIGSEGV"), std::string::npos) << crashed.reason;
  EXPECT_EQ(crashed.failure, Reason::kKilled);

  // Exit 0 is not enough when stderr carries a failure that ffmpeg exits 0 after.
  auto full = InterpretTestEncode(ExitStatus::Exited(0),
                                  "[error] Error writing trailer of -: No space left on device\n",
                                  false, std::chrono::seconds(15), unknown);
  EXPECT_FALSE(full.usable);
  EXPECT_EQ(full.failure, Reason::kDiskFull);
  EXPECT_EQ(full.reason, "Error writing trailer of -: No space left on device");

  auto missing =
      InterpretTestEncode(ExitStatus::NotStarted(127), "", false, std::chrono::seconds(15), unknown,
                          "executable \"ffmpeg\" was not found on PATH");
  EXPECT_FALSE(missing.usable);
  EXPECT_EQ(missing.reason, "executable \"ffmpeg\" was not found on PATH");
  EXPECT_FALSE(missing.failure.has_value());

  auto clean =
      InterpretTestEncode(ExitStatus::Exited(0), "", false, std::chrono::seconds(15), unknown);
  EXPECT_TRUE(clean.usable);
  EXPECT_TRUE(clean.reason.empty());
}

TEST(Devices, ListsRenderNodesCardsAndNvidiaNodesInNaturalOrder) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "dri/by-path");
  for (const char* n : {"renderD129", "renderD128", "card10", "card2", "card1", "other"}) {
    testing::WriteFile(dir.path() / "dri" / n, "");
  }
  fs::create_directories(dir.path() / "dev/nvidia-caps");  // a directory: not a device
  for (const char* n : {"nvidiactl", "nvidia1", "nvidia0", "nvidia-uvm", "null"}) {
    testing::WriteFile(dir.path() / "dev" / n, "");
  }
  Devices d = ListDevices({.dri_dir = dir / "dri", .dev_dir = dir / "dev"});
  EXPECT_EQ(d.dri_render,
            (std::vector<std::string>{dir / "dri/renderD128", dir / "dri/renderD129"}));
  EXPECT_EQ(d.dri_card,
            (std::vector<std::string>{dir / "dri/card1", dir / "dri/card2", dir / "dri/card10"}));
  // Numbered GPUs first (natural order), then the control nodes.
  EXPECT_EQ(d.nvidia, (std::vector<std::string>{dir / "dev/nvidia0", dir / "dev/nvidia1",
                                                dir / "dev/nvidia-uvm", dir / "dev/nvidiactl"}));
  EXPECT_EQ(VaapiTestDevice(d), dir / "dri/renderD128");

  Devices none = ListDevices({.dri_dir = dir / "absent", .dev_dir = dir / "absent"});
  EXPECT_TRUE(none.dri_render.empty());
  EXPECT_TRUE(none.dri_card.empty());
  EXPECT_TRUE(none.nvidia.empty());
  EXPECT_EQ(VaapiTestDevice(none), "/dev/dri/renderD128");
}

TEST(CapabilitiesDocument, ExactJson) {
  Capabilities caps;
  caps.ffmpeg_path = "/usr/bin/ffmpeg";
  caps.build = ParseBuildInfo(
      "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\n"
      "configuration: --prefix=/usr --enable-libx264\n"
      "libavcodec     59. 37.100 / 59. 37.100\n");
  EncoderCapability x264;
  x264.name = "libx264";
  x264.codec = "h264";
  x264.listed = true;
  x264.usable = true;
  x264.probe_ms = 412;
  EncoderCapability nvenc;
  nvenc.name = "h264_nvenc";
  nvenc.codec = "h264";
  nvenc.family = EncoderFamily::kNvenc;
  nvenc.listed = true;
  nvenc.reason = "Cannot load libcuda.so.1";
  nvenc.failure = Reason::kEncoderUnavailable;
  nvenc.probe_ms = 95;
  EncoderCapability av1;
  av1.name = "av1_qsv";
  av1.codec = "av1";
  av1.family = EncoderFamily::kQsv;
  av1.reason = "not in this ffmpeg build (ffmpeg -encoders does not list it)";
  caps.encoders = {x264, nvenc, av1};
  caps.devices.dri_render = {"/dev/dri/renderD128"};
  caps.probe_ms = 700;
  EXPECT_EQ(
      JsonText(CapabilitiesJson(caps)),
      R"j({"ffmpeg":{"path":"/usr/bin/ffmpeg","version":"5.1.9-0+deb12u1","release":"5.1.9",)j"
      R"j("configuration":["--prefix=/usr","--enable-libx264"],)j"
      R"j("libraries":{"libavcodec":"59.37.100"},"error":null},)j"
      R"j("encoders":[{"name":"libx264","codec":"h264","family":"software","hardware":false,)j"
      R"j("listed":true,"usable":true,"reason":null,"failure":null,"probe_ms":412},)j"
      R"j({"name":"h264_nvenc","codec":"h264","family":"nvenc","hardware":true,"listed":true,)j"
      R"j("usable":false,"reason":"Cannot load libcuda.so.1","failure":"encoder_unavailable",)j"
      R"j("probe_ms":95},)j"
      R"j({"name":"av1_qsv","codec":"av1","family":"qsv","hardware":true,"listed":false,)j"
      R"j("usable":false,"reason":"not in this ffmpeg build (ffmpeg -encoders does not list it)",)j"
      R"j("failure":null,"probe_ms":null}],)j"
      R"j("devices":{"dri_render":["/dev/dri/renderD128"],"dri_card":[],"nvidia":[]},)j"
      R"j("probe_ms":700})j");
  EXPECT_EQ(caps.Find("h264_nvenc"), &caps.encoders[1]);
  EXPECT_EQ(caps.Find("libx265"), nullptr);

  Capabilities broken;
  broken.ffmpeg_path = "/opt/none/ffmpeg";
  broken.ffmpeg_error = "executable \"/opt/none/ffmpeg\" was not found on PATH";
  auto doc = CapabilitiesJson(broken);
  EXPECT_EQ(JsonText(doc.at("ffmpeg")),
            R"j({"path":"/opt/none/ffmpeg","version":null,"release":null,"configuration":[],)j"
            R"j("libraries":{},"error":"executable \"/opt/none/ffmpeg\" was not found on PATH"})j");
}

}  // namespace
}  // namespace ffpod
