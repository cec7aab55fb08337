#include "supervisor/modes/probe_command.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <iostream>
#include <optional>

#include "parsers/common/json_text.h"
#include "parsers/common/text.h"
#include "probes/os/process.h"

namespace ffpod {

namespace json = boost::json;

namespace {

void AppendPretty(std::string& out, const json::value& v, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<size_t>(d) * 2, ' ');
  };
  if (v.is_object()) {
    const json::object& o = v.get_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& kv : o) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      AppendJsonText(out, json::string(kv.key()));
      out += ": ";
      AppendPretty(out, kv.value(), depth + 1);
    }
    newline(depth);
    out += '}';
  } else if (v.is_array()) {
    const json::array& a = v.get_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const json::value& item : a) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      AppendPretty(out, item, depth + 1);
    }
    newline(depth);
    out += ']';
  } else {
    AppendJsonText(out, v);
  }
}

bool LabelChar(char c) { return IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.'; }

// Writes all of `text` to stdout; false when stdout is closed or full.
bool WriteStdout(const std::string& text) {
  std::cout << text;
  std::cout.flush();
  return static_cast<bool>(std::cout);
}

}  // namespace

std::string PrettyJson(const json::value& value) {
  std::string out;
  AppendPretty(out, value, 0);
  out += '\n';
  return out;
}

std::string LabelValue(std::string_view text) {
  std::string v;
  for (char c : text) v += LabelChar(c) ? c : '_';
  if (v.size() > 63) v.resize(63);
  size_t begin = 0;
  while (begin < v.size() && !IsAsciiAlnum(v[begin])) ++begin;
  size_t end = v.size();
  while (end > begin && !IsAsciiAlnum(v[end - 1])) --end;
  return v.substr(begin, end - begin);
}

std::string NfdFeatureLines(const Capabilities& caps) {
  std::string out;
  const FfmpegVersion& v = caps.build.version;
  std::string version = v.known ? std::to_string(v.major) + "." + std::to_string(v.minor) + "." +
                                      std::to_string(v.patch)
                                : LabelValue(v.text);
  if (!version.empty()) out += "ffpod.io/ffmpeg.version=" + version + "\n";
  for (const EncoderCapability& e : caps.encoders) {
    if (!e.listed) continue;
    out += "ffpod.io/encoder." + e.name + (e.usable ? "=true\n" : "=false\n");
  }
  return out;
}

int RunProbeCommand(const Config& config, Logger& logger) {
  for (const std::string& name : config.require) {
    if (FindKnownEncoder(name) == nullptr) {
      std::cerr << "ffpod: --require: unknown encoder \"" << name << "\" (expected any of "
                << KnownEncoderNames() << ")\n";
      return 2;
    }
  }

  boost::asio::io_context io;
  ChildReaper reaper(io, ::getpid() == 1);
  OsProcesses processes(io, reaper, config.ffmpeg_env);
  CapabilityProbeOptions options;
  options.ffmpeg = config.ffmpeg;
  options.timeout = std::chrono::milliseconds(std::llround(config.probe_timeout_s * 1000));
  std::optional<Capabilities> result;
  ProbeCapabilities(processes, options, [&](Capabilities caps) {
    result = std::move(caps);
    io.stop();
  });
  io.run();
  if (!result) {
    logger.Error("the capability probe did not finish");
    return 1;
  }
  const Capabilities& caps = *result;

  int listed = 0, usable = 0;
  json::object unusable;
  for (const EncoderCapability& e : caps.encoders) {
    listed += e.listed;
    usable += e.usable;
    if (e.listed && !e.usable) unusable[e.name] = e.reason;
  }
  if (!caps.ffmpeg_error.empty()) {
    logger.Error("ffmpeg cannot be run: " + caps.ffmpeg_error,
                 {{"ffmpeg", caps.ffmpeg_path}, {"error", caps.ffmpeg_error}});
  } else {
    logger.Info("probe finished: " + std::to_string(usable) + " of " + std::to_string(listed) +
                    " listed encoders usable",
                {{"ffmpeg", caps.ffmpeg_path},
                 {"version", caps.build.version.text},
                 {"unusable", unusable},
                 {"probe_ms", caps.probe_ms}});
  }

  bool written;
  if (config.probe_format == "nfd") {
    // No labels at all rather than "everything false" when ffmpeg itself is broken.
    written = caps.ffmpeg_error.empty() ? WriteStdout(NfdFeatureLines(caps)) : true;
  } else {
    written = WriteStdout(PrettyJson(CapabilitiesJson(caps)));
  }
  if (!written) {
    logger.Error("cannot write the probe result to stdout");
    return 1;
  }
  if (!caps.ffmpeg_error.empty()) return 1;

  std::string missing;
  json::object missing_fields;
  for (const std::string& name : config.require) {
    const EncoderCapability* e = caps.Find(name);
    if (e != nullptr && e->usable) continue;
    std::string why = e != nullptr ? e->reason : "not probed";
    if (missing_fields.contains(name)) continue;
    missing_fields[name] = why;
    missing += (missing.empty() ? "" : "; ") + name + " (" + why + ")";
  }
  if (!missing.empty()) {
    logger.Error("required encoders not usable: " + missing, {{"unusable", missing_fields}});
    return 1;
  }
  return 0;
}

}  // namespace ffpod
