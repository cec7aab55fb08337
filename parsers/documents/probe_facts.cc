#include "parsers/documents/probe_facts.h"

#include <boost/json.hpp>
#include <cmath>

#include "parsers/common/text.h"
#include "parsers/telemetry/log_format.h"

namespace ffpod {

namespace json = boost::json;

std::string_view FfprobeFactsEntries() {
  return "format=format_name,duration,bit_rate:stream=index,codec_type,codec_name,profile,"
         "width,height,pix_fmt,avg_frame_rate,bit_rate,channels,sample_rate,channel_layout";
}

namespace {

// Bounds ffprobe's own strings (a crafted file can name its codec anything).
constexpr size_t kMaxText = 128;

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  std::string_view s = v->as_string();
  return SanitizeUtf8(s.substr(0, kMaxText));
}

std::optional<double> Number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  std::optional<double> d;
  if (v->is_string()) {
    d = ParseDouble(std::string_view(v->as_string()));
  } else if (v->is_number()) {
    d = v->to_number<double>();
  }
  if (!d || !std::isfinite(*d) || *d < 0) return std::nullopt;
  return d;
}

// A decimal ffprobe writes as a string ("12.345000"): never a JSON number, for the duration
// that sets a job's percent.
std::optional<double> DecimalText(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  std::optional<double> d = ParseDouble(std::string_view(v->as_string()));
  if (!d || *d < 0) return std::nullopt;
  return d;
}

std::optional<int64_t> Integer(const json::object& o, std::string_view key) {
  std::optional<double> d = Number(o, key);
  if (!d || *d > 9e15) return std::nullopt;
  return static_cast<int64_t>(std::llround(*d));
}

// "30000/1001" -> 29.97; "0/0" (unknown) -> nullopt.
std::optional<double> Rational(const json::object& o, std::string_view key) {
  std::string s = Text(o, key);
  size_t slash = s.find('/');
  if (slash == std::string::npos) return Number(o, key);
  std::optional<double> num = ParseDouble(std::string_view(s).substr(0, slash));
  std::optional<double> den = ParseDouble(std::string_view(s).substr(slash + 1));
  if (!num || !den || *den <= 0 || *num <= 0) return std::nullopt;
  return std::round(*num / *den * 1000) / 1000;
}

ProbedStream Stream(const json::object& s) {
  ProbedStream p;
  p.index = Integer(s, "index").value_or(0);
  p.type = Text(s, "codec_type");
  p.codec = Text(s, "codec_name");
  p.profile = Text(s, "profile");
  p.width = Integer(s, "width");
  p.height = Integer(s, "height");
  p.pix_fmt = Text(s, "pix_fmt");
  p.frame_rate = Rational(s, "avg_frame_rate");
  p.bit_rate = Integer(s, "bit_rate");
  p.channels = Integer(s, "channels");
  p.sample_rate = Integer(s, "sample_rate");
  p.channel_layout = Text(s, "channel_layout");
  return p;
}

template <typename T>
json::value OrNull(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value(*v);
}

json::value TextOrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

json::object StreamJson(const ProbedStream& s) {
  json::object o;
  o["index"] = s.index;
  o["type"] = TextOrNull(s.type);
  o["codec"] = TextOrNull(s.codec);
  if (!s.profile.empty()) o["profile"] = s.profile;
  if (s.type == "video") {
    o["width"] = OrNull(s.width);
    o["height"] = OrNull(s.height);
    o["pix_fmt"] = TextOrNull(s.pix_fmt);
    o["frame_rate"] = OrNull(s.frame_rate);
  } else if (s.type == "audio") {
    o["channels"] = OrNull(s.channels);
    o["sample_rate"] = OrNull(s.sample_rate);
    o["channel_layout"] = TextOrNull(s.channel_layout);
  }
  o["bit_rate"] = OrNull(s.bit_rate);
  return o;
}

}  // namespace

std::optional<InputProbe> ParseInputProbe(std::string_view text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return std::nullopt;
  const json::value* format = root.as_object().if_contains("format");
  if (format == nullptr || !format->is_object()) return std::nullopt;
  InputProbe p;
  const json::object& f = format->as_object();
  p.format = Text(f, "format_name");
  p.duration_s = DecimalText(f, "duration");
  p.bit_rate = Integer(f, "bit_rate");
  if (const json::value* streams = root.as_object().if_contains("streams");
      streams != nullptr && streams->is_array()) {
    for (const json::value& s : streams->as_array()) {
      if (s.is_object()) p.streams.push_back(Stream(s.as_object()));
    }
  }
  return p;
}

json::object InputProbeJson(const InputProbe& probe) {
  json::object o;
  o["format"] = TextOrNull(probe.format);
  o["duration_s"] = OrNull(probe.duration_s);
  o["bit_rate"] = OrNull(probe.bit_rate);
  json::array streams;
  for (size_t i = 0; i < probe.streams.size() && i < kProbeMaxStreams; ++i) {
    streams.emplace_back(StreamJson(probe.streams[i]));
  }
  o["streams"] = std::move(streams);
  if (probe.streams.size() > kProbeMaxStreams) {
    o["streams_omitted"] = probe.streams.size() - kProbeMaxStreams;
  }
  return o;
}

}  // namespace ffpod
