#include "probes/input_probe.h"

#include <boost/json.hpp>
#include <cmath>

#include "parsers/common/text.h"
#include "parsers/documents/probe_facts.h"

namespace ffpod {

std::vector<std::string> FfprobeDurationArgs(std::string_view input_url) {
  return {"-v",  "error", "-hide_banner", "-show_entries",       std::string(FfprobeFactsEntries()),
          "-of", "json",  "-i",           std::string(input_url)};
}

std::optional<int64_t> ParseFfprobeDuration(std::string_view json) {
  std::optional<InputProbe> probe = ParseInputProbe(json);
  return probe ? ProbedDurationUs(*probe) : std::nullopt;
}

std::optional<int64_t> ProbedDurationUs(const InputProbe& probe) {
  std::optional<double> seconds = probe.duration_s;
  if (!seconds || *seconds <= 0 || *seconds > 1e9) return std::nullopt;
  return static_cast<int64_t>(std::llround(*seconds * 1e6));
}

bool IsProbeableInput(std::string_view url, std::string_view format) {
  if (format == "lavfi" || format == "concat" || format == "v4l2" || format == "alsa" ||
      format == "pulse" || format == "x11grab" || format == "kmsgrab" || format == "fbdev") {
    return false;
  }
  if (url == "-" || url.starts_with("pipe:") || url.starts_with("fd:") || url == "/dev/stdin") {
    return false;
  }
  return !url.empty();
}

}  // namespace ffpod
