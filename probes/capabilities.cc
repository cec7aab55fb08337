#include "probes/capabilities.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <charconv>
#include <deque>
#include <filesystem>
#include <memory>
#include <system_error>
#include <tuple>

#include "parsers/common/result.h"
#include "parsers/common/text.h"
#include "parsers/ffmpeg/classifier.h"
#include "parsers/ffmpeg/log_line.h"

namespace ffpod {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using std::chrono::steady_clock;

namespace {

// "15 s", "0.5 s", "1.25 s".
std::string Seconds(std::chrono::milliseconds d) {
  char buf[32];
  double s = static_cast<double>(d.count()) / 1000.0;
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), s);
  return ec == std::errc() ? std::string(buf, end) + " s" : std::to_string(d.count()) + " ms";
}

int64_t ElapsedMs(steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - since).count();
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Devices
// ------------------------------------------------------------------------------------------

namespace {

// Natural order: "card2" before "card10", "renderD128" before "renderD129".
bool NaturalLess(const std::string& a, const std::string& b) {
  auto split = [](const std::string& s) {
    size_t digits = s.size();
    while (digits > 0 && IsDigit(s[digits - 1])) --digits;
    uint64_t n = 0;
    for (size_t i = digits; i < s.size() && i < digits + 18; ++i) n = n * 10 + (s[i] - '0');
    return std::make_tuple(s.substr(0, digits), digits == s.size() ? 0 : 1, n, s);
  };
  return split(a) < split(b);
}

// Entries of `dir` whose name starts with `prefix` (directories excluded), sorted naturally.
std::vector<std::string> ListPrefixed(const std::string& dir, std::string_view prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return {};
  for (fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;
    std::string name = it->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    std::error_code type_ec;
    if (it->is_directory(type_ec)) continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end(), NaturalLess);
  std::vector<std::string> paths;
  paths.reserve(names.size());
  for (const std::string& n : names) paths.push_back((fs::path(dir) / n).string());
  return paths;
}

}  // namespace

Devices ListDevices(const DevicePaths& where) {
  Devices d;
  d.dri_render = ListPrefixed(where.dri_dir, "renderD");
  d.dri_card = ListPrefixed(where.dri_dir, "card");
  d.nvidia = ListPrefixed(where.dev_dir, "nvidia");
  return d;
}

std::string VaapiTestDevice(const Devices& devices) {
  return devices.dri_render.empty() ? std::string("/dev/dri/renderD128") : devices.dri_render[0];
}

// ------------------------------------------------------------------------------------------
// Test encode
// ------------------------------------------------------------------------------------------

namespace {
constexpr std::string_view kTestSource = "testsrc2=size=256x256:rate=25:duration=1";
}  // namespace

std::vector<std::string> TestEncodeArgs(std::string_view encoder, EncoderFamily family,
                                        const std::string& vaapi_device) {
  std::vector<std::string> args = {"-hide_banner", "-nostdin", "-nostats", "-loglevel",
                                   "level+warning"};
  if (family == EncoderFamily::kVaapi) {
    args.insert(args.end(), {"-vaapi_device", vaapi_device});
  }
  args.insert(args.end(), {"-f", "lavfi", "-i", std::string(kTestSource), "-frames:v", "5"});
  switch (family) {
    case EncoderFamily::kSoftware:
    case EncoderFamily::kNvenc:
      args.insert(args.end(), {"-pix_fmt", "yuv420p"});
      break;
    case EncoderFamily::kVaapi:
      args.insert(args.end(), {"-vf", "format=nv12,hwupload"});
      break;
    case EncoderFamily::kQsv:
      args.insert(args.end(), {"-vf", "format=nv12"});
      break;
  }
  args.insert(args.end(), {"-c:v", std::string(encoder), "-f", "null", "-"});
  return args;
}

TestEncodeVerdict InterpretTestEncode(const ExitStatus& exit, std::string_view stderr_text,
                                      bool timed_out, std::chrono::milliseconds timeout,
                                      const FfmpegVersion& version, std::string_view start_error) {
  TestEncodeVerdict v;
  if (timed_out) {
    v.reason = "the test encode did not finish within " + Seconds(timeout) + " and was killed";
    v.failure = Reason::kTimeout;
    return v;
  }
  if (exit.kind == ExitStatus::Kind::kNotStarted) {
    v.reason = start_error.empty()
                   ? "ffmpeg could not be executed (status " + std::to_string(exit.code) + ")"
                   : std::string(start_error);
    return v;
  }
  ClassifierContext context;
  context.inputs = {std::string(kTestSource)};
  context.outputs = {"-"};
  context.version = version;
  FailureClassifier classifier(std::move(context));
  LineSplitter splitter;
  auto observe = [&](const SplitLine& l) { classifier.Observe(l.text); };
  splitter.Feed(stderr_text, observe);
  splitter.Finish(observe);
  Classification c = classifier.Classify(exit, StopCause::kNone, /*oom_kill_rose=*/false);
  if (exit.Succeeded() && c.reason == Reason::kOk) {
    v.usable = true;
    return v;
  }
  v.failure = c.reason;
  if (!c.evidence.empty()) v.reason = std::string(Trim(DecodeLogLine(c.evidence).message));
  if (v.reason.empty()) v.reason = c.message;
  if (v.reason.empty()) {
    v.reason = "the test encode failed with exit status " + std::to_string(exit.ShellCode());
  }
  return v;
}

// ------------------------------------------------------------------------------------------
// The capability document
// ------------------------------------------------------------------------------------------

const EncoderCapability* Capabilities::Find(std::string_view name) const {
  for (const EncoderCapability& e : encoders) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

boost::json::object CapabilitiesJson(const Capabilities& caps) {
  namespace json = boost::json;
  json::object ffmpeg;
  ffmpeg["path"] = caps.ffmpeg_path;
  const FfmpegVersion& v = caps.build.version;
  ffmpeg["version"] = v.text.empty() ? json::value(nullptr) : json::value(v.text);
  if (v.known) {
    ffmpeg["release"] =
        std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
  } else {
    ffmpeg["release"] = nullptr;
  }
  json::array configuration;
  for (const std::string& f : caps.build.configuration) configuration.emplace_back(f);
  ffmpeg["configuration"] = std::move(configuration);
  json::object libraries;
  for (const auto& [name, version] : caps.build.libraries) libraries[name] = version;
  ffmpeg["libraries"] = std::move(libraries);
  ffmpeg["error"] =
      caps.ffmpeg_error.empty() ? json::value(nullptr) : json::value(caps.ffmpeg_error);

  json::array encoders;
  for (const EncoderCapability& e : caps.encoders) {
    json::object o;
    o["name"] = e.name;
    o["codec"] = e.codec;
    o["family"] = EncoderFamilyName(e.family);
    o["hardware"] = e.hardware();
    o["listed"] = e.listed;
    o["usable"] = e.usable;
    o["reason"] = e.reason.empty() ? json::value(nullptr) : json::value(e.reason);
    o["failure"] = e.failure ? json::value(ReasonName(*e.failure)) : json::value(nullptr);
    o["probe_ms"] = e.probe_ms ? json::value(*e.probe_ms) : json::value(nullptr);
    encoders.push_back(std::move(o));
  }

  auto paths = [](const std::vector<std::string>& list) {
    json::array a;
    for (const std::string& p : list) a.emplace_back(p);
    return a;
  };
  json::object devices;
  devices["dri_render"] = paths(caps.devices.dri_render);
  devices["dri_card"] = paths(caps.devices.dri_card);
  devices["nvidia"] = paths(caps.devices.nvidia);

  json::object doc;
  doc["ffmpeg"] = std::move(ffmpeg);
  doc["encoders"] = std::move(encoders);
  doc["devices"] = std::move(devices);
  doc["probe_ms"] = caps.probe_ms;
  return doc;
}

// ------------------------------------------------------------------------------------------
// The runner
// ------------------------------------------------------------------------------------------

namespace {

constexpr size_t kMaxTestOutput = 256 * 1024;

// OK when a short informational command (`-version`, `-encoders`) ran and exited 0; otherwise
// the error says why it gave nothing usable.
Status CheckInfoCommand(const std::string& ffmpeg, std::string_view what, const CommandOutput& out,
                        std::chrono::milliseconds timeout) {
  if (out.exit.kind == ExitStatus::Kind::kNotStarted) {
    return Error{out.err.empty() ? "cannot execute \"" + ffmpeg + "\"" : out.err};
  }
  if (out.timed_out) {
    return Error{ffmpeg + " " + std::string(what) + " did not finish within " + Seconds(timeout)};
  }
  if (!out.exit.Succeeded()) {
    return Error{ffmpeg + " " + std::string(what) + " exited with status " +
                 std::to_string(out.exit.ShellCode())};
  }
  return Status::Ok();
}

// One probe in flight. Every pending command holds a reference, so it lives until the last
// one reported (or the io_context is destroyed with them).
class ProbeRun : public std::enable_shared_from_this<ProbeRun> {
 public:
  ProbeRun(Processes& processes, CapabilityProbeOptions options,
           std::function<void(Capabilities)> done)
      : processes_(processes), options_(std::move(options)), done_(std::move(done)) {
    options_.concurrency = std::max(1, options_.concurrency);
  }

  void Start() {
    started_ = steady_clock::now();
    std::string resolved = FindExecutable(options_.ffmpeg);
    caps_.ffmpeg_path = resolved.empty() ? options_.ffmpeg : resolved;
    auto self = shared_from_this();
    processes_.Run(options_.ffmpeg, {"-hide_banner", "-version"}, options_.timeout,
                   [self](const CommandOutput& out) {
                     Status ran = CheckInfoCommand(self->options_.ffmpeg, "-version", out,
                                                   self->options_.timeout);
                     if (ran.ok()) {
                       self->caps_.build = ParseBuildInfo(out.out);
                     } else if (self->caps_.ffmpeg_error.empty()) {
                       self->caps_.ffmpeg_error = ran.error().message;
                     }
                     self->InfoDone();
                   });
    processes_.Run(options_.ffmpeg, {"-hide_banner", "-encoders"}, options_.timeout,
                   [self](const CommandOutput& out) {
                     Status listed = CheckInfoCommand(self->options_.ffmpeg, "-encoders", out,
                                                      self->options_.timeout);
                     if (listed.ok()) {
                       EncoderListParser parser;
                       parser.Feed(out.out);
                       parser.Finish();
                       if (!parser.saw_table()) {
                         listed =
                             Error{self->options_.ffmpeg + " -encoders printed no encoder table"};
                       }
                       self->listed_ = parser.encoders();
                     }
                     if (!listed.ok() && self->caps_.ffmpeg_error.empty()) {
                       self->caps_.ffmpeg_error = listed.error().message;
                     }
                     self->InfoDone();
                   });
  }

 private:
  void InfoDone() {
    if (--info_pending_ > 0) return;
    caps_.devices = ListDevices(options_.device_paths);
    vaapi_device_ = VaapiTestDevice(caps_.devices);

    std::vector<std::string> names = options_.encoders;
    if (names.empty()) {
      for (const KnownEncoder& k : KnownEncoders()) names.emplace_back(k.name);
    }
    for (const std::string& name : names) {
      if (caps_.Find(name) != nullptr) continue;  // asked twice
      EncoderCapability cap;
      cap.name = name;
      const KnownEncoder* known = FindKnownEncoder(name);
      cap.family = known ? known->family : EncoderFamilyOf(name);
      if (known) cap.codec = std::string(known->codec);
      const ListedEncoder* listed = nullptr;
      for (const ListedEncoder& l : listed_) {
        if (l.name == name) listed = &l;
      }
      if (!caps_.ffmpeg_error.empty()) {
        cap.reason = caps_.ffmpeg_error;
      } else if (listed == nullptr) {
        cap.reason = "not in this ffmpeg build (ffmpeg -encoders does not list it)";
      } else {
        cap.listed = true;
        if (cap.codec.empty()) cap.codec = listed->codec;
        if (listed->media != 'V') {
          cap.reason = "not a video encoder (ffpod test-encodes video encoders only)";
        } else {
          queue_.push_back(caps_.encoders.size());
        }
      }
      caps_.encoders.push_back(std::move(cap));
    }
    remaining_ = queue_.size();
    if (remaining_ == 0) {
      Finish();
      return;
    }
    Pump();
  }

  void Pump() {
    while (running_ < options_.concurrency && !queue_.empty()) {
      size_t index = queue_.front();
      queue_.pop_front();
      ++running_;
      const EncoderCapability& cap = caps_.encoders[index];
      auto t0 = steady_clock::now();
      auto self = shared_from_this();
      processes_.Run(
          options_.ffmpeg, TestEncodeArgs(cap.name, cap.family, vaapi_device_), options_.timeout,
          [self, index, t0](const CommandOutput& out) {
            EncoderCapability& c = self->caps_.encoders[index];
            c.probe_ms = ElapsedMs(t0);
            TestEncodeVerdict v =
                InterpretTestEncode(out.exit, out.err, out.timed_out, self->options_.timeout,
                                    self->caps_.build.version, out.err);
            c.usable = v.usable;
            c.reason = std::move(v.reason);
            c.failure = v.failure;
            --self->running_;
            if (--self->remaining_ == 0) {
              self->Finish();
            } else {
              self->Pump();
            }
          },
          kMaxTestOutput);
    }
  }

  void Finish() {
    caps_.probe_ms = ElapsedMs(started_);
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(caps_));
  }

  Processes& processes_;
  CapabilityProbeOptions options_;
  std::function<void(Capabilities)> done_;
  Capabilities caps_;
  steady_clock::time_point started_;
  int info_pending_ = 2;
  std::vector<ListedEncoder> listed_;
  std::string vaapi_device_;
  std::deque<size_t> queue_;
  int running_ = 0;
  size_t remaining_ = 0;
};

}  // namespace

void ProbeCapabilities(Processes& processes, const CapabilityProbeOptions& options,
                       std::function<void(Capabilities)> done) {
  auto run = std::make_shared<ProbeRun>(processes, options, std::move(done));
  run->Start();
}

}  // namespace ffpod
