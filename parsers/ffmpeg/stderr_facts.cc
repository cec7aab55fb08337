#include "parsers/ffmpeg/stderr_facts.h"

#include "parsers/common/text.h"
#include "parsers/ffmpeg/progress.h"

namespace ffpod {
namespace {

// Drops the `[level] ` tag of -loglevel +level (these lines have no component context).
std::string_view StripLevel(std::string_view line) {
  static constexpr std::string_view kLevels[] = {"[panic] ", "[fatal] ",   "[error] ", "[warning] ",
                                                 "[info] ",  "[verbose] ", "[debug] ", "[trace] "};
  for (auto tag : kLevels) {
    if (line.starts_with(tag)) return line.substr(tag.size());
  }
  return line;
}

}  // namespace

bool StderrFacts::Observe(std::string_view raw) {
  std::string_view line = StripLevel(raw);
  if (line.starts_with("ffmpeg version ")) {
    if (!version_) version_ = ParseFfmpegVersion(line);
    in_banner_ = true;
    return true;
  }
  if (in_banner_) {
    if (line.starts_with("  ")) return true;
    in_banner_ = false;
  }
  if (line.starts_with("Input #")) {
    std::string_view rest = line.substr(7);
    size_t comma = rest.find(',');
    std::optional<int64_t> index =
        comma == std::string_view::npos ? std::nullopt : ParseInt64(rest.substr(0, comma));
    if (index && *index >= 0 && *index < 1024) current_input_ = static_cast<int>(*index);
    return false;
  }
  if (current_input_ >= 0 && line.starts_with("  Duration: ")) {
    std::string_view value = line.substr(12);
    value = value.substr(0, value.find(','));
    if (value == "N/A") {
      durations_[current_input_] = std::nullopt;
    } else if (auto us = ParseClockTime(value); us && *us > 0) {
      durations_[current_input_] = *us;
    } else {
      durations_[current_input_] = std::nullopt;
    }
    current_input_ = -1;
    return false;
  }
  if (line.starts_with("Output #") || line.starts_with("Stream mapping:")) current_input_ = -1;
  if (line.starts_with("Press [q] to stop")) stdin_interaction_ = true;
  return false;
}

std::optional<std::optional<int64_t>> StderrFacts::InputDuration(int index) const {
  auto it = durations_.find(index);
  if (it == durations_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ffpod
