// Input probing with ffprobe: how long each input is, so that `run` and `worker` can report
// percent complete and an ETA. Unknown durations (live inputs, pipes, lavfi sources, raw
// streams) stay unknown: ffpod never shows a percent it cannot stand behind.
#pragma once

#include <optional>

#include <string>
#include <string_view>
#include <vector>
#include "parsers/documents/probe_facts.h"

namespace ffpod {

// The ffprobe arguments that print one input's container duration as JSON, with the facts
// the audit trail keeps (parsers/documents/probe_facts.h).
std::vector<std::string> FfprobeDurationArgs(std::string_view input_url);

// Parses the JSON that FfprobeDurationArgs makes ffprobe print. Returns the duration in
// microseconds, or nullopt when ffprobe could not tell (its JSON writer omits N/A keys). The
// duration is the decimal string ffprobe writes ("12.345000"), read by ParseDouble
// (parsers/common/text.h); it must be above 0 and at most 1e9 seconds.
std::optional<int64_t> ParseFfprobeDuration(std::string_view json);
// The same duration from facts already parsed (ParseInputProbe of that JSON).
std::optional<int64_t> ProbedDurationUs(const InputProbe& probe);

// True when probing this input makes sense: not stdin, not a lavfi graph, not a device.
bool IsProbeableInput(std::string_view url, std::string_view format);

}  // namespace ffpod
