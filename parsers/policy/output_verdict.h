// Whether an output holds what its job asked for (docs/verification.md), from what ffprobe says
// about it, what the command implies and the decode errors ffmpeg reported: the pure half of
// the verification that runs before publishing (supervisor/job/output_verifier.h runs the
// commands).
//
// Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/documents/job.h"
#include "parsers/documents/verify_policy.h"
#include "parsers/ffmpeg/decode_errors.h"
#include "parsers/ffmpeg/ffmpeg_args.h"

namespace ffpod {

// ffprobe's view of an output: container duration and the kinds of its streams.
struct ProbedOutput {
  std::optional<double> duration_s;
  std::vector<std::string> stream_kinds;  // "video", "audio", "subtitle", "data", ...; in order
};

// `ffprobe -v error -show_entries format=duration:stream=codec_type -of json PATH`.
std::vector<std::string> OutputProbeArgs(const std::string& path);
// Parses what OutputProbeArgs prints; the error says what was not there.
Result<ProbedOutput> ParseProbedOutput(std::string_view text);

// `ffmpeg -nostdin -v error -sseof -1 -i PATH -f null -`: decodes the last second (from the
// keyframe before it), which is where a file without its end (a lost moov, a cut upload) fails.
std::vector<std::string> TailDecodeArgs(const std::string& path);

// What one output must hold.
struct OutputExpectation {
  std::optional<double> duration_s;  // nullopt: not checked (unknown, or -frames given)
  std::vector<std::string> kinds;    // stream kinds it must have
};

// The expectation for `output` of `cmd`: the duration when the command has this one output and
// no -frames/-vframes/-aframes (`expected_us`: the attempt's expected output duration), and the
// kinds of its -map specifiers (`0:v`, `1:a:0`, `v`; not optional `?` ones, labels or whole
// inputs) plus the policy's `require`.
OutputExpectation ExpectationFor(const FfmpegCommand& cmd, const FfmpegOutput& output,
                                 std::optional<int64_t> expected_us, const VerifyPolicy& policy);

// The tolerance for an expected duration: the policy's, else max(0.5 s, 1 %).
double DurationTolerance(double expected_s, const VerifyPolicy& policy);

// nullopt when `probed` meets `expected`; otherwise the evidence, e.g.
// `output /out/a.mp4 is 3512.4 s, the input declares 3677.0 s (tolerance 36.8 s)` or
// `output /out/a.mp4 has no audio stream (its streams: video)`.
std::optional<std::string> JudgeOutput(const std::string& path, const ProbedOutput& probed,
                                       const OutputExpectation& expected,
                                       const VerifyPolicy& policy);

// nullopt when the decode errors are within the policy; otherwise the evidence, e.g.
// `ffmpeg reported 412 decode errors while encoding (corrupt_frame 12, macroblock 400), more
// than max_decode_errors 100`.
std::optional<std::string> JudgeDecodeErrors(const DecodeErrorCounts& errors,
                                             const VerifyPolicy& policy);

// nullopt when every HLS playlist among `files` has all its local files; otherwise the
// evidence, e.g. `playlist /out/hls/index.m3u8 lists 2 files that do not exist (first:
// index3.ts)`. A player would stop at the hole.
std::optional<std::string> JudgeHlsOutputs(const std::vector<OutputFile>& files);

}  // namespace ffpod
