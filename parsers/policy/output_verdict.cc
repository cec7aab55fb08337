#include "parsers/policy/output_verdict.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

#include "parsers/common/text.h"

namespace ffpod {

namespace json = boost::json;

namespace {

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  return buf;
}

// The stream kind a -map value asks for, when it names one and is not optional.
std::optional<std::string> MappedKind(std::string_view map) {
  if (map.empty() || map.front() == '-' || map.front() == '[' || map.back() == '?') {
    return std::nullopt;
  }
  size_t colon = map.find(':');
  if (colon == std::string_view::npos || colon + 1 >= map.size()) return std::nullopt;
  std::string_view spec = map.substr(colon + 1);
  if (spec.size() > 1 && spec[1] != ':') return std::nullopt;  // 0:1, 0:m:key, ...
  switch (spec[0]) {
    case 'v':
    case 'V':
      return "video";
    case 'a':
      return "audio";
    case 's':
      return "subtitle";
    default:
      return std::nullopt;
  }
}

void AddKind(std::vector<std::string>& kinds, const std::string& kind) {
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
}

}  // namespace

std::vector<std::string> OutputProbeArgs(const std::string& path) {
  return {"-v", "error", "-show_entries", "format=duration:stream=codec_type", "-of", "json", path};
}

Result<ProbedOutput> ParseProbedOutput(std::string_view text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return Error{"ffprobe printed no JSON document"};
  ProbedOutput out;
  if (const json::value* format = root.as_object().if_contains("format");
      format && format->is_object()) {
    if (const json::value* d = format->as_object().if_contains("duration"); d && d->is_string()) {
      std::optional<double> seconds = ParseDouble(d->as_string());
      if (seconds && *seconds >= 0) out.duration_s = seconds;
    }
  }
  if (const json::value* streams = root.as_object().if_contains("streams");
      streams && streams->is_array()) {
    for (const auto& s : streams->as_array()) {
      const json::value* type = s.is_object() ? s.as_object().if_contains("codec_type") : nullptr;
      if (type && type->is_string()) out.stream_kinds.emplace_back(type->as_string());
    }
  }
  return out;
}

std::vector<std::string> TailDecodeArgs(const std::string& path) {
  return {"-nostdin", "-v", "error", "-sseof", "-1", "-i", path, "-f", "null", "-"};
}

OutputExpectation ExpectationFor(const FfmpegCommand& cmd, const FfmpegOutput& output,
                                 std::optional<int64_t> expected_us, const VerifyPolicy& policy) {
  OutputExpectation e;
  bool frames = false;
  for (const auto& [name, value] : output.options) {
    frames = frames || name.starts_with("frames") || name == "vframes" || name == "aframes";
  }
  if (cmd.outputs.size() == 1 && !frames && expected_us) e.duration_s = *expected_us / 1e6;
  for (const auto& map : output.maps) {
    if (auto kind = MappedKind(map)) AddKind(e.kinds, *kind);
  }
  for (const auto& kind : policy.require) AddKind(e.kinds, kind);
  return e;
}

double DurationTolerance(double expected_s, const VerifyPolicy& policy) {
  if (policy.duration_tolerance_s) return *policy.duration_tolerance_s;
  return std::max(0.5, 0.01 * expected_s);
}

std::optional<std::string> JudgeOutput(const std::string& path, const ProbedOutput& probed,
                                       const OutputExpectation& expected,
                                       const VerifyPolicy& policy) {
  for (const auto& kind : expected.kinds) {
    if (std::find(probed.stream_kinds.begin(), probed.stream_kinds.end(), kind) ==
        probed.stream_kinds.end()) {
      std::string streams;
      for (const auto& k : probed.stream_kinds) streams += (streams.empty() ? "" : ", ") + k;
      return "output " + path + " has no " + kind +
             " stream (its streams: " + (streams.empty() ? std::string("none") : streams) + ")";
    }
  }
  if (expected.duration_s) {
    if (!probed.duration_s) {
      return "output " + path + " has no duration ffprobe can read (expected " +
             Seconds(*expected.duration_s) + " s)";
    }
    double tolerance = DurationTolerance(*expected.duration_s, policy);
    if (std::abs(*probed.duration_s - *expected.duration_s) > tolerance) {
      return "output " + path + " is " + Seconds(*probed.duration_s) + " s, the input declares " +
             Seconds(*expected.duration_s) + " s (tolerance " + Seconds(tolerance) + " s)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> JudgeDecodeErrors(const DecodeErrorCounts& errors,
                                             const VerifyPolicy& policy) {
  if (errors.total() <= policy.max_decode_errors) return std::nullopt;
  std::string kinds;
  for (const auto& [kind, n] : errors.by_kind()) {
    kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(n);
  }
  return "ffmpeg reported " + std::to_string(errors.total()) + " decode errors while encoding (" +
         kinds + "), more than max_decode_errors " + std::to_string(policy.max_decode_errors);
}

std::optional<std::string> JudgeHlsOutputs(const std::vector<OutputFile>& files) {
  for (const auto& f : files) {
    if (!f.hls || f.hls->missing == 0) continue;
    return "playlist " + f.path + " lists " + std::to_string(f.hls->missing) +
           (f.hls->missing == 1 ? " file that does not" : " files that do not") +
           " exist (first: " + f.hls->first_missing + ")";
  }
  return std::nullopt;
}

}  // namespace ffpod
