// Encoder capability probe: which encoders this ffmpeg build has, and which of them actually
// work on this node right now (`ffpod probe`, and the worker's `--require-encoders` readiness).
//
// An encoder is *listed* when `ffmpeg -encoders` names it (it was compiled in) and *usable* when
// a tiny real test encode with it succeeds here: a hardware encoder is listed by every distro
// build, but it only works with the driver, the device node and a free session. The test encode
// is five 256x256 frames of `testsrc2` into `-f null -`, with the upload chain each family needs
// (see TestEncodeArgs). A test encode that fails is explained by the classifier's evidence line
// (`Cannot load libcuda.so.1`); one that hangs is killed with its process group at the timeout.
//
// Pure parts (the test-encode command and its verdict, the JSON document) are plain functions;
// the encoder list and build configuration parsers are in parsers/ffmpeg/encoders.h. The
// runner, ProbeCapabilities, runs the commands on an
// io_context with RunCommand (probes/os/process.h), at most `concurrency` test encodes at a time.
//
// Threading: the pure parts are thread-compatible; ProbeCapabilities and its callback run on the
// io_context's one thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/ffmpeg/encoders.h"
#include "parsers/ffmpeg/exit_status.h"
#include "parsers/ffmpeg/ffmpeg_version.h"
#include "parsers/ffmpeg/line_splitter.h"
#include "parsers/ffmpeg/reasons.h"
#include "probes/os/process.h"

namespace ffpod {

// ------------------------------------------------------------------------------------------
// Devices
// ------------------------------------------------------------------------------------------

// Where to look for device nodes (tests point these at a temporary tree).
struct DevicePaths {
  std::string dri_dir = "/dev/dri";  // renderD*, card*
  std::string dev_dir = "/dev";      // nvidia*
};

struct Devices {
  std::vector<std::string> dri_render;  // /dev/dri/renderD128, ... (sorted)
  std::vector<std::string> dri_card;    // /dev/dri/card0, ...
  std::vector<std::string> nvidia;      // /dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm, ...
};

// Lists the device nodes present. A missing directory lists nothing.
Devices ListDevices(const DevicePaths& where = {});

// The render node the VAAPI test encode uses: the first one present, else the conventional
// /dev/dri/renderD128 (ffmpeg then says why it cannot open it).
std::string VaapiTestDevice(const Devices& devices);

// ------------------------------------------------------------------------------------------
// Test encode
// ------------------------------------------------------------------------------------------

// The arguments (after the program name) of the test encode of `encoder`:
//   -hide_banner -nostdin -nostats -loglevel level+warning [-vaapi_device NODE]
//   -f lavfi -i testsrc2=size=256x256:rate=25:duration=1 -frames:v 5
//   software, NVENC: -pix_fmt yuv420p
//   VAAPI:           -vf format=nv12,hwupload          (frames uploaded to the render node)
//   QSV:             -vf format=nv12                   (system-memory NV12 into the encoder's
//                                                       own MFX session on the default node)
//   -c:v <encoder> -f null -
// QSV takes NV12 frames from memory rather than an `-init_hw_device qsv` upload chain: that
// proves the same MFX session and encoder, and when it fails the encoder names the MFX status
// (`Error initializing an internal MFX session: unsupported (-3)`) where device creation only
// prints `Device creation failed: -542398533.`.
std::vector<std::string> TestEncodeArgs(std::string_view encoder, EncoderFamily family,
                                        const std::string& vaapi_device);

// What a finished test encode says about the encoder.
struct TestEncodeVerdict {
  bool usable = false;
  std::string reason;             // one sentence when not usable; empty when usable
  std::optional<Reason> failure;  // the classified failure reason when not usable
};

// Decides from how the test encode ended: usable when ffmpeg exited 0 and the failure
// classifier finds no error evidence in its stderr. Otherwise the reason is the evidence
// line's message without its `[ctx @ ptr] [level]` prefixes ("Cannot load libcuda.so.1"),
// or, without evidence, a sentence from the exit status. A test encode killed at the timeout
// is unusable with reason "the test encode did not finish within N s and was killed".
// `start_error` is RunCommand's message when ffmpeg could not be executed.
TestEncodeVerdict InterpretTestEncode(const ExitStatus& exit, std::string_view stderr_text,
                                      bool timed_out, std::chrono::milliseconds timeout,
                                      const FfmpegVersion& version,
                                      std::string_view start_error = {});

// ------------------------------------------------------------------------------------------
// The capability document
// ------------------------------------------------------------------------------------------

struct EncoderCapability {
  std::string name;
  std::string codec;
  EncoderFamily family = EncoderFamily::kSoftware;
  bool listed = false;              // `ffmpeg -encoders` names it
  bool usable = false;              // its test encode succeeded
  std::string reason;               // why it is not usable; empty when usable
  std::optional<Reason> failure;    // classified failure of the test encode, when one failed
  std::optional<int64_t> probe_ms;  // the test encode's wall time; absent when none ran

  bool hardware() const { return family != EncoderFamily::kSoftware; }
};

struct Capabilities {
  std::string ffmpeg_path;   // the executable as resolved on $PATH
  std::string ffmpeg_error;  // why ffmpeg itself could not be run; empty when it ran
  FfmpegBuild build;
  std::vector<EncoderCapability> encoders;  // the probed encoders, in the requested order
  Devices devices;
  int64_t probe_ms = 0;  // wall time of the whole probe

  // The entry for `name`, or nullptr when it was not probed.
  const EncoderCapability* Find(std::string_view name) const;
};

// The JSON document of `ffpod probe` (docs/probe.md):
// {"ffmpeg":{"path","version","release","configuration":[...],"libraries":{...},"error"},
//  "encoders":[{"name","codec","family","hardware","listed","usable","reason","failure",
//               "probe_ms"}],
//  "devices":{"dri_render":[...],"dri_card":[...],"nvidia":[...]},"probe_ms":N}
// `reason`, `failure`, `probe_ms` of an encoder and `error` are null when they do not apply.
boost::json::object CapabilitiesJson(const Capabilities& caps);

// ------------------------------------------------------------------------------------------
// The runner
// ------------------------------------------------------------------------------------------

struct CapabilityProbeOptions {
  std::string ffmpeg = "ffmpeg";  // executable: a path, or a name looked up on $PATH
  // Encoders to test, in report order; empty means KnownEncoders(). Names ffpod does not know
  // are probed too (family from the name's suffix).
  std::vector<std::string> encoders;
  // Time limit of each command: `-version`, `-encoders` and every test encode.
  std::chrono::milliseconds timeout{15000};
  int concurrency = 2;  // test encodes running at once (at least 1)
  DevicePaths device_paths;
};

// Runs `ffmpeg -version` and `ffmpeg -encoders`, lists the devices, then test-encodes every
// requested encoder that is listed (at most `concurrency` at a time) and calls `done` once, on
// the loop, with the whole document. Encoders that are not listed get no test encode. When
// ffmpeg cannot be run at all, `ffmpeg_error` says why and every encoder is unlisted with that
// reason. Pending commands keep `done` alive; when the io_context is stopped and destroyed
// before they finish, `done` is never called (children die with ffpod: parent-death signal).
void ProbeCapabilities(Processes& processes, const CapabilityProbeOptions& options,
                       std::function<void(Capabilities)> done);

}  // namespace ffpod
