#include "parsers/documents/audit.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>

#include "parsers/common/text.h"
#include "parsers/telemetry/log_format.h"

namespace ffpod {

namespace json = boost::json;

std::string_view InputKindName(InputKind kind) {
  switch (kind) {
    case InputKind::kFile:
      return "file";
    case InputKind::kUrl:
      return "url";
    case InputKind::kLavfi:
      return "lavfi";
    case InputKind::kPipe:
      return "pipe";
    case InputKind::kDevice:
      return "device";
  }
  return "file";
}

namespace {

// libavdevice's input devices (4.x to 8.x): what they read is no file.
bool IsCaptureDevice(std::string_view format) {
  static constexpr std::array<std::string_view, 19> kDevices = {
      "alsa",    "android_camera", "avfoundation", "bktr",    "decklink", "dshow",     "fbdev",
      "gdigrab", "iec61883",       "jack",         "kmsgrab", "libcdio",  "libdc1394", "openal",
      "oss",     "pulse",          "sndio",        "v4l2",    "x11grab"};
  return format == "video4linux2" ||
         std::find(kDevices.begin(), kDevices.end(), format) != kDevices.end();
}

// `scheme:` at the start, as ffmpeg reads a protocol name (two characters at least, so that a
// Windows drive letter would stay a path).
std::optional<std::string_view> ProtocolPrefix(std::string_view url) {
  size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon < 2 || !IsAsciiAlpha(url[0])) return std::nullopt;
  for (char c : url.substr(0, colon)) {
    if (!IsAsciiAlnum(c) && c != '+' && c != '.' && c != '-' && c != '_') return std::nullopt;
  }
  return url.substr(0, colon);
}

// `text` cut to at most `max` bytes at a UTF-8 boundary, the cut marked with how much went.
std::string Bounded(std::string_view text, size_t max) {
  if (text.size() <= max) return SanitizeUtf8(text);
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return SanitizeUtf8(text.substr(0, cut)) + "...[" + std::to_string(text.size() - cut) +
         " more bytes]";
}

json::value OptionalText(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return json::value(*s);
}

json::value TextOrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

void AddProbeJson(const InputRecord& in, json::object& o) {
  if (in.probe) {
    o["probe"] = InputProbeJson(*in.probe);
  } else {
    o["probe"] = nullptr;
    o["probe_skipped"] = in.probe_skipped.empty() ? "not probed" : in.probe_skipped;
  }
}

json::object InputJson(const InputRecord& in) {
  json::object o;
  o["url"] = Bounded(in.url, kAuditMaxArgBytes);
  o["kind"] = InputKindName(in.kind);
  if (in.kind == InputKind::kUrl) AddProbeJson(in, o);
  if (in.kind != InputKind::kFile) return o;
  o["bytes"] = in.bytes ? json::value(*in.bytes) : json::value(nullptr);
  o["mtime"] = OptionalText(in.mtime);
  o["sha256"] = OptionalText(in.sha256);
  if (!in.sha256) {
    o["sha256_skipped"] = in.sha256_skipped.empty() ? "not hashed" : in.sha256_skipped;
  }
  AddProbeJson(in, o);
  return o;
}

void AddArgsJson(const std::optional<std::vector<std::string>>& args, json::object& result) {
  if (!args) {
    result["args"] = nullptr;
    return;
  }
  json::array listed;
  size_t total = 0;
  size_t i = 0;
  for (; i < args->size(); ++i) {
    std::string arg = Bounded((*args)[i], kAuditMaxArgBytes);
    if (total + arg.size() > kAuditMaxArgsBytes) break;
    total += arg.size();
    listed.emplace_back(std::move(arg));
  }
  result["args"] = std::move(listed);
  if (i < args->size()) result["args_omitted"] = args->size() - i;
}

void AddInputsJson(const std::optional<std::vector<InputRecord>>& inputs, json::object& result) {
  if (!inputs) {
    result["inputs"] = nullptr;
    return;
  }
  json::array listed;
  for (size_t i = 0; i < inputs->size() && i < kAuditMaxInputs; ++i) {
    listed.emplace_back(InputJson((*inputs)[i]));
  }
  result["inputs"] = std::move(listed);
  if (inputs->size() > kAuditMaxInputs) result["inputs_omitted"] = inputs->size() - kAuditMaxInputs;
}

}  // namespace

InputKind ClassifyInput(const FfmpegInput& input) {
  if (input.format == "lavfi") return InputKind::kLavfi;
  if (input.reads_stdin) return InputKind::kPipe;
  if (IsCaptureDevice(input.format)) return InputKind::kDevice;
  auto protocol = ProtocolPrefix(input.url);
  if (!protocol) return InputKind::kFile;
  if (*protocol == "file") return InputKind::kFile;
  if (*protocol == "pipe" || *protocol == "fd") return InputKind::kPipe;
  return InputKind::kUrl;
}

std::string InputFilePath(std::string_view url) {
  if (url.starts_with("file:")) url.remove_prefix(5);
  return std::string(url);
}

json::object FfmpegAuditJson(const std::string& path, const std::string& version,
                             const FfmpegBuildAudit& build) {
  json::object o;
  o["path"] = path;
  o["version"] = version;
  o["buildconf_sha256"] = OptionalText(build.buildconf_sha256);
  if (build.libraries) {
    json::object libs;
    for (const auto& [name, v] : *build.libraries) libs[name] = v;
    o["libraries"] = std::move(libs);
  } else {
    o["libraries"] = nullptr;
  }
  return o;
}

void AddAuditJson(const ResultAudit& audit, json::object& result) {
  AddArgsJson(audit.args, result);
  AddInputsJson(audit.inputs, result);
  if (audit.image) {
    const ImageAudit& i = *audit.image;
    result["image"] = json::object{{"image", TextOrNull(i.image)},
                                   {"ffpod_version", i.ffpod_version},
                                   {"node", TextOrNull(i.node)},
                                   {"pod", TextOrNull(i.pod)}};
  } else {
    result["image"] = nullptr;
  }
}

}  // namespace ffpod
