// `ffpod probe`: reports the ffmpeg build, which encoders it lists and which of them work here
// (a real test encode each), and the GPU device nodes present (docs/probe.md).
//
//   --format json (default)  the capability document (CapabilitiesJson), pretty-printed with
//                            two-space indentation, on stdout
//   --format nfd             node-feature-discovery "local" source lines on stdout:
//                              ffpod.io/ffmpeg.version=5.1.9
//                              ffpod.io/encoder.libx264=true     (usable)
//                              ffpod.io/encoder.h264_nvenc=false (listed but not usable)
//                            encoders the build does not list get no line
//   --require ENC[,ENC]      exit 1 unless each is usable, naming those that are not on stderr
//   --probe-timeout SECONDS  the limit of each test encode
//
// Exit status: 0; 1 when a required encoder is not usable or ffmpeg cannot be run; 2 when
// --require names an encoder ffpod does not know (nothing is probed then).
//
// Threading: runs its own io_context on the calling thread until the probe ended.
#pragma once

#include <string>

#include "parsers/config/config.h"
#include "probes/capabilities.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

// Runs `ffpod probe` and returns the process exit status.
int RunProbeCommand(const Config& config, Logger& logger);

// The document pretty-printed: two-space indentation, one member per line, empty arrays and
// objects as [] and {}, numbers as JsonText writes them. Ends with a newline.
std::string PrettyJson(const boost::json::value& value);

// The `--format nfd` lines (each ending in '\n'). Label values are valid Kubernetes label
// values: ffmpeg's release number (5.1.9), or the version text with every character outside
// [A-Za-z0-9._-] replaced by '_' and cut to 63 characters; no version line when none is known.
std::string NfdFeatureLines(const Capabilities& caps);

// A Kubernetes label value made from `text` (at most 63 characters of [A-Za-z0-9._-], starting
// and ending with an alphanumeric; other characters become '_'); empty when nothing is left.
std::string LabelValue(std::string_view text);

}  // namespace ffpod
