// The audit trail of a result (docs/queue.md, "The result document"): which ffmpeg build, which
// arguments and which inputs made an output, in which image. The shell fills these values (it
// runs `ffmpeg -buildconf`, hashes the input files off the loop, reads the configuration); here
// is what they are, how an input is told apart (a local file is hashed, a URL or a filter graph
// is not), and how they become JSON, bounded so that a result stays small whatever the job
// holds. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "parsers/documents/probe_facts.h"
#include "parsers/ffmpeg/ffmpeg_args.h"

namespace ffpod {

// What the stream entry keeps at most (docs/queue.md): past these, the JSON lists no more and
// counts what it left out (`args_omitted`, `inputs_omitted`); a longer argument or URL is cut.
inline constexpr size_t kAuditMaxInputs = 64;
inline constexpr size_t kAuditMaxArgBytes = 4096;    // one argument, or one input's URL
inline constexpr size_t kAuditMaxArgsBytes = 65536;  // all the arguments listed together

// The build of the ffmpeg that ran; each part is unknown (JSON null) until its probe answered.
struct FfmpegBuildAudit {
  // sha256 (lowercase hex) of `ffmpeg -buildconf`'s standard output, byte for byte.
  std::optional<std::string> buildconf_sha256;
  // The loaded library versions as `ffmpeg -version` prints them, in its order, normalised
  // ("libavutil      57. 28.100 / 57. 28.100" -> {"libavutil", "57.28.100"}).
  std::optional<std::vector<std::pair<std::string, std::string>>> libraries;
};

enum class InputKind {
  kFile,    // a local path (or file:PATH): hashed when it is a regular file
  kUrl,     // protocol:... (http://, rtmp://, srt://, concat:, ...)
  kLavfi,   // -f lavfi: a filter graph, no file
  kPipe,    // stdin, pipe:N, fd:N
  kDevice,  // a capture device (-f v4l2, x11grab, alsa, pulse, ...)
};
// "file", "url", "lavfi", "pipe", "device".
std::string_view InputKindName(InputKind kind);

// How ffmpeg will read `input`: by its -f (lavfi, capture devices), its stdin forms, a
// `protocol:` prefix other than `file:`, else a local file.
InputKind ClassifyInput(const FfmpegInput& input);
// The path a kFile input opens: the URL without a leading `file:`.
std::string InputFilePath(std::string_view url);

struct InputRecord {
  std::string url;  // as written in the arguments, redacted
  InputKind kind = InputKind::kFile;
  // kFile only; each null when unknown (not found, not a regular file).
  std::optional<int64_t> bytes;
  std::optional<std::string> mtime;   // RFC 3339 UTC
  std::optional<std::string> sha256;  // lowercase hex
  std::string sha256_skipped;         // kFile without sha256: why not (never empty then)
  // kFile and kUrl: what ffprobe found, else why there is nothing (never empty then).
  std::optional<InputProbe> probe;
  std::string probe_skipped;
};

// Where ffpod ran: --image (FFPOD_IMAGE), its own version, NODE_NAME and POD_NAME (empty:
// null).
struct ImageAudit {
  std::string image;
  std::string ffpod_version;
  std::string node;
  std::string pod;
};

struct ResultAudit {
  FfmpegBuildAudit build;
  // The arguments ffmpeg was executed with (after ffpod's rewrite, without the program),
  // redacted; nullopt when no ffmpeg ran for this result (JSON null).
  std::optional<std::vector<std::string>> args;
  // Each input of those arguments, in order; nullopt when no ffmpeg ran (JSON null).
  std::optional<std::vector<InputRecord>> inputs;
  std::optional<ImageAudit> image;  // nullopt: not known (JSON null)
};

// The result's `ffmpeg` object: {"path", "version", "buildconf_sha256", "libraries"}.
boost::json::object FfmpegAuditJson(const std::string& path, const std::string& version,
                                    const FfmpegBuildAudit& build);
// Adds `args` (and `args_omitted`), `inputs` (and `inputs_omitted`) and `image` to `result`,
// within the bounds above.
void AddAuditJson(const ResultAudit& audit, boost::json::object& result);

}  // namespace ffpod
