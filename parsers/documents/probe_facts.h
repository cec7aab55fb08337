// What ffprobe found in an input, for the result's audit trail (docs/queue.md, "inputs"): the
// container, its duration and bit rate, and each stream's codec, picture or sound. Read from the
// JSON of the one ffprobe run per local input that also gives the progress its total
// (probes/input_probe.h), so the facts cost no second probe. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace ffpod {

// The streams the audit lists per input at most; past that it counts them (`streams_omitted`).
inline constexpr size_t kProbeMaxStreams = 16;

struct ProbedStream {
  int64_t index = 0;
  std::string type;   // codec_type: video, audio, subtitle, data, attachment
  std::string codec;  // codec_name; empty when ffprobe has none (unknown codec)
  std::string profile;
  std::optional<int64_t> width, height;  // video
  std::string pix_fmt;                   // video
  std::optional<double> frame_rate;      // video: avg_frame_rate, frames per second
  std::optional<int64_t> bit_rate;       // bits per second
  std::optional<int64_t> channels;       // audio
  std::optional<int64_t> sample_rate;    // audio, Hz
  std::string channel_layout;            // audio
};

struct InputProbe {
  std::string format;                 // format_name ("mov,mp4,m4a,3gp,3g2,mj2")
  std::optional<double> duration_s;   // the container's duration (ffprobe's decimal string)
  std::optional<int64_t> bit_rate;    // bits per second
  std::vector<ProbedStream> streams;  // in ffprobe's order
};

// The `-show_entries` value of that ffprobe run.
std::string_view FfprobeFactsEntries();

// Parses ffprobe's JSON (`-of json`). nullopt when it is not ffprobe's document (no `format`
// object). Keys ffprobe omits (its JSON writer leaves out N/A) stay unknown; numbers arrive as
// strings ("25/1", "128000") or numbers, both are read.
std::optional<InputProbe> ParseInputProbe(std::string_view text);

// {"format", "duration_s", "bit_rate", "streams": [...]} (unknown values null, at most
// kProbeMaxStreams streams, then `streams_omitted`). Only the keys a stream's type has: no
// `width` on an audio stream.
boost::json::object InputProbeJson(const InputProbe& probe);

}  // namespace ffpod
