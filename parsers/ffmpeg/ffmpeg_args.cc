#include "parsers/ffmpeg/ffmpeg_args.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "parsers/common/text.h"

namespace ffpod {
namespace {

// ffmpeg options (4.4 to 8.x) that take no value. Everything else, including codec and format
// private options (AVOptions such as -preset or -movflags), takes exactly one value.
constexpr std::string_view kBooleanOptions[] = {
    "y",
    "n",
    "ignore_unknown",
    "copy_unknown",
    "recast_media",
    "benchmark",
    "benchmark_all",
    "stats",
    "stdin",
    "dump",
    "hex",
    "copyts",
    "start_at_zero",
    "xerror",
    "debug_ts",
    "psnr",
    "vstats",
    "qphist",
    "re",
    "shortest",
    "bitexact",
    "copyinkf",
    "accurate_seek",
    "autorotate",
    "autoscale",
    "find_stream_info",
    "vn",
    "an",
    "sn",
    "dn",
    "hide_banner",
    "report",
    "fix_sub_duration",
    "fix_sub_duration_heartbeat",
    "print_graphs",
    "auto_conversion_filters",
    "L",
    "version",
    "buildconf",
    "formats",
    "demuxers",
};

// Information commands: ffmpeg prints something and exits without transcoding.
constexpr std::string_view kInfoOptions[] = {
    "L",        "version",  "buildconf", "formats",     "muxers",       "demuxers",
    "devices",  "codecs",   "decoders",  "encoders",    "bsfs",         "protocols",
    "filters",  "pix_fmts", "layouts",   "sample_fmts", "dispositions", "colors",
    "hwaccels", "h",        "?",         "help",        "-help",        "sources",
};

bool IsBoolean(std::string_view name) {
  if (std::find(std::begin(kBooleanOptions), std::end(kBooleanOptions), name) !=
      std::end(kBooleanOptions)) {
    return true;
  }
  // Information commands without a value.
  static constexpr std::string_view kNoValueInfo[] = {
      "devices",  "codecs",  "decoders",    "encoders",     "bsfs",   "protocols", "filters",
      "pix_fmts", "layouts", "sample_fmts", "dispositions", "colors", "hwaccels",  "muxers"};
  if (std::find(std::begin(kNoValueInfo), std::end(kNoValueInfo), name) != std::end(kNoValueInfo)) {
    return true;
  }
  // `-noX` negates the boolean X.
  if (name.size() > 2 && name.substr(0, 2) == "no") {
    std::string_view rest = name.substr(2);
    return std::find(std::begin(kBooleanOptions), std::end(kBooleanOptions), rest) !=
           std::end(kBooleanOptions);
  }
  return false;
}

// The option name without its leading '-' and stream specifier: "-c:v" -> "c".
std::string_view OptionName(std::string_view arg) {
  std::string_view name = arg.substr(1);
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);  // 7.0+ "-/opt file"
  size_t colon = name.find(':');
  if (colon != std::string_view::npos) name = name.substr(0, colon);
  return name;
}

bool IsOption(std::string_view arg) { return arg.size() > 1 && arg.front() == '-'; }

bool IsStdinUrl(std::string_view url) {
  return url == "-" || url == "pipe:" || url == "pipe:0" || url == "/dev/stdin" || url == "fd:" ||
         url == "fd:0";
}

bool IsStdoutUrl(std::string_view url) {
  return url == "-" || url == "pipe:" || url == "pipe:1" || url == "/dev/stdout";
}

// Parses "123" or "123.456" (no sign, no exponent) into microseconds-scaled value of `unit_us`.
std::optional<int64_t> ParseDecimal(std::string_view s, int64_t unit_us) {
  if (s.empty()) return std::nullopt;
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (whole.empty() && frac.empty()) return std::nullopt;
  if (!std::all_of(whole.begin(), whole.end(), IsDigit) ||
      !std::all_of(frac.begin(), frac.end(), IsDigit)) {
    return std::nullopt;
  }
  int64_t w = 0;
  if (!whole.empty()) {
    auto v = ParseInt64(whole);
    if (!v || *v > std::numeric_limits<int64_t>::max() / unit_us / 2) return std::nullopt;
    w = *v;
  }
  int64_t result = w * unit_us;
  // Fraction: digits beyond the unit's resolution are truncated.
  int64_t scale = unit_us / 10;
  for (char c : frac) {
    if (scale == 0) break;
    result += (c - '0') * scale;
    scale /= 10;
  }
  return result;
}

}  // namespace

std::optional<int64_t> ParseFfmpegDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  std::optional<int64_t> us;
  if (text.find(':') != std::string_view::npos) {
    // [HH:]MM:SS[.frac]
    size_t first = text.find(':');
    size_t second = text.find(':', first + 1);
    int64_t hours = 0;
    std::string_view mm, ss;
    if (second != std::string_view::npos) {
      auto h = ParseInt64(text.substr(0, first));
      if (!h || *h < 0) return std::nullopt;
      hours = *h;
      mm = text.substr(first + 1, second - first - 1);
      ss = text.substr(second + 1);
    } else {
      mm = text.substr(0, first);
      ss = text.substr(first + 1);
    }
    auto m = ParseInt64(mm);
    auto s = ParseDecimal(ss, 1000000);
    if (!m || *m < 0 || *m > 59 || !s || *s >= 60 * 1000000LL) return std::nullopt;
    if (hours > 1000000000) return std::nullopt;
    us = (hours * 3600 + *m * 60) * 1000000LL + *s;
  } else {
    int64_t unit = 1000000;
    if (text.ends_with("ms")) {
      unit = 1000;
      text.remove_suffix(2);
    } else if (text.ends_with("us")) {
      unit = 1;
      text.remove_suffix(2);
    } else if (text.ends_with("s")) {
      text.remove_suffix(1);
    }
    if (unit == 1) {
      if (text.find('.') != std::string_view::npos) {
        // Sub-microsecond fractions are dropped.
        text = text.substr(0, text.find('.'));
      }
      us = ParseInt64(text);
      if (us && *us < 0) us.reset();
    } else {
      us = ParseDecimal(text, unit);
    }
  }
  if (!us) return std::nullopt;
  return negative ? -*us : *us;
}

bool FfmpegCommand::ReadsStdin() const {
  return std::any_of(inputs.begin(), inputs.end(),
                     [](const FfmpegInput& in) { return in.reads_stdin; });
}

FfmpegCommand AnalyzeFfmpegArgs(const std::vector<std::string>& args) {
  FfmpegCommand cmd;
  // Options seen since the last input or output, applied to whichever comes next.
  std::string format;
  std::optional<int64_t> seek, duration, stop, loop;
  std::map<std::string, std::string> options;
  std::vector<std::string> maps;
  auto reset_pending = [&] {
    format.clear();
    options.clear();
    maps.clear();
    seek.reset();
    duration.reset();
    stop.reset();
    loop.reset();
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!IsOption(arg)) {
      FfmpegOutput out;
      out.url = arg;
      out.arg_index = i;
      out.format = format;
      out.seek_us = seek;
      out.duration_us = duration;
      out.stop_us = stop;
      out.writes_stdout = IsStdoutUrl(arg);
      out.options = options;
      out.maps = maps;
      cmd.outputs.push_back(std::move(out));
      reset_pending();
      continue;
    }
    std::string_view name = OptionName(arg);
    if (std::find(std::begin(kInfoOptions), std::end(kInfoOptions), name) !=
        std::end(kInfoOptions)) {
      cmd.info_only = true;
    }
    if (name == "y" || name == "n") cmd.has_overwrite_choice = true;
    if (name == "hide_banner") cmd.has_hide_banner = true;
    if (name == "nostdin") cmd.has_nostdin = true;
    if (name == "shortest") cmd.shortest = true;
    if (IsBoolean(name)) continue;
    if (i + 1 >= args.size()) {
      cmd.missing_value_for = arg;
      break;
    }
    const std::string& value = args[++i];
    options[std::string(name)] = value;
    if (name == "map") maps.push_back(value);
    if (name == "i") {
      FfmpegInput in;
      in.url = value;
      in.format = format;
      in.seek_us = seek;
      in.duration_us = duration;
      in.stop_us = stop;
      in.stream_loop = loop;
      in.reads_stdin = IsStdinUrl(value);
      cmd.inputs.push_back(std::move(in));
      reset_pending();
    } else if (name == "f") {
      format = value;
    } else if (name == "ss") {
      seek = ParseFfmpegDuration(value);
    } else if (name == "t") {
      duration = ParseFfmpegDuration(value);
    } else if (name == "to") {
      stop = ParseFfmpegDuration(value);
    } else if (name == "stream_loop") {
      loop = ParseInt64(value);
    } else if (name == "progress") {
      cmd.has_progress = true;
    } else if (name == "loglevel" || name == "v") {
      cmd.has_loglevel = true;
    }
  }
  return cmd;
}

namespace {

// Length of media one input contributes, or nullopt when unbounded/unknown.
std::optional<int64_t> InputLength(const FfmpegInput& in, std::optional<int64_t> probed) {
  std::optional<int64_t> length = probed;
  if (length && in.stream_loop) {
    if (*in.stream_loop < 0) {
      length.reset();
    } else {
      length = *length * (*in.stream_loop + 1);
    }
  }
  int64_t seek = std::max<int64_t>(0, in.seek_us.value_or(0));
  if (length) length = std::max<int64_t>(0, *length - seek);
  // -t wins over -to when both are given (ffmpeg's rule).
  std::optional<int64_t> limit = in.duration_us;
  if (!limit && in.stop_us) limit = std::max<int64_t>(0, *in.stop_us - seek);
  if (limit) length = length ? std::min(*length, *limit) : *limit;
  return length;
}

}  // namespace

std::optional<int64_t> ExpectedOutputDurationUs(const FfmpegCommand& cmd,
                                                const std::vector<std::optional<int64_t>>& probed) {
  if (cmd.inputs.empty() || cmd.outputs.empty()) return std::nullopt;
  std::vector<std::optional<int64_t>> lengths;
  for (size_t i = 0; i < cmd.inputs.size(); ++i) {
    lengths.push_back(InputLength(cmd.inputs[i], i < probed.size() ? probed[i] : std::nullopt));
  }
  // The media all outputs are made from: the longest input, or the shortest with -shortest.
  std::optional<int64_t> source;
  if (cmd.shortest) {
    for (const auto& l : lengths) {
      if (l) source = source ? std::min(*source, *l) : *l;
    }
  } else {
    bool all_known = std::all_of(lengths.begin(), lengths.end(),
                                 [](const std::optional<int64_t>& l) { return l.has_value(); });
    if (all_known) {
      for (const auto& l : lengths) source = source ? std::max(*source, *l) : *l;
    }
  }
  // -progress reports one global out_time: the longest output is what completes last.
  std::optional<int64_t> expected;
  for (const auto& out : cmd.outputs) {
    int64_t seek = std::max<int64_t>(0, out.seek_us.value_or(0));
    std::optional<int64_t> length;
    if (source) length = std::max<int64_t>(0, *source - seek);
    std::optional<int64_t> limit = out.duration_us;
    if (!limit && out.stop_us) limit = std::max<int64_t>(0, *out.stop_us - seek);
    if (limit) length = length ? std::min(*length, *limit) : *limit;
    if (!length) return std::nullopt;  // one unbounded output: no honest total
    expected = expected ? std::max(*expected, *length) : *length;
  }
  if (expected && *expected <= 0) return std::nullopt;
  return expected;
}

RewrittenArgs RewriteFfmpegArgs(const std::vector<std::string>& args, const FfmpegCommand& cmd,
                                const RewriteOptions& options) {
  RewrittenArgs out;
  // Global options go first: they are valid anywhere before the first input.
  if (options.hide_banner && !cmd.has_hide_banner) out.args.push_back("-hide_banner");
  if (options.add_level_tags && !cmd.has_loglevel) {
    out.args.push_back("-loglevel");
    out.args.push_back("+level");
  }
  if (!cmd.has_overwrite_choice) out.args.push_back(options.overwrite ? "-y" : "-n");
  if (options.progress_fd >= 0 && !cmd.has_progress) {
    out.args.push_back("-nostats");
    out.args.push_back("-progress");
    out.args.push_back("pipe:" + std::to_string(options.progress_fd));
    out.progress_channel = true;
  }
  std::map<size_t, const FfmpegOutput*> outputs;
  for (const auto& o : cmd.outputs) outputs[o.arg_index] = &o;
  for (size_t i = 0; i < args.size(); ++i) {
    auto output = outputs.find(i);
    auto renamed = output == outputs.end() ? options.output_renames.end()
                                           : options.output_renames.find(args[i]);
    if (renamed == options.output_renames.end()) {
      out.args.push_back(args[i]);
      continue;
    }
    const FfmpegOutput& o = *output->second;
    if (IsHlsOutput(o) && !o.options.contains("hls_segment_filename")) {
      out.args.push_back("-hls_segment_filename");
      out.args.push_back(DefaultHlsSegmentPattern(o.url, o));
    }
    out.args.push_back(renamed->second);
  }
  return out;
}

bool IsHlsOutput(const FfmpegOutput& output) {
  if (!output.format.empty()) return output.format == "hls";
  return output.url.ends_with(".m3u8");
}

std::string DefaultHlsSegmentPattern(const std::string& playlist, const FfmpegOutput& output) {
  auto option = [&output](const char* name) {
    auto it = output.options.find(name);
    return it == output.options.end() ? std::string() : it->second;
  };
  std::string type = option("hls_segment_type");
  std::string extension = type == "fmp4" || type == "1" ? ".m4s" : ".ts";
  std::string pattern = "%d" + extension;
  if (option("hls_flags").find("single_file") != std::string::npos) {
    pattern = extension;
  } else if (std::string strftime =
                 option("strftime").empty() ? option("use_localtime") : option("strftime");
             !strftime.empty() && strftime != "0") {
    pattern = "-%s" + extension;
  }
  // ffmpeg cuts at the last `.` of the whole URL, as here.
  size_t dot = playlist.rfind('.');
  return (dot == std::string::npos ? playlist : playlist.substr(0, dot)) + pattern;
}

}  // namespace ffpod
