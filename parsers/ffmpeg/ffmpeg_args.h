// Understanding and rewriting an ffmpeg command line, without running it.
//
// ffmpeg's grammar: `ffmpeg [global opts] {[input opts] -i input}... {[output opts] output}...`.
// Options apply to the next input (`-i`) or output (a positional argument) that follows them;
// a few are global. Every option takes one value except the boolean ones (and their `-no`
// forms, e.g. `-nostdin`) and the information commands; stream specifiers (`-c:v`) do not
// change that. ffpod uses this to find the inputs (to probe their duration and to tell whether
// one reads stdin), the outputs (atomic publishing, failure classification) and the time
// limits (`-ss`, `-t`, `-to`, `-stream_loop`) that make percent complete honest.
//
// Pure; arguments are never passed through a shell.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ffpod {

// Parses an ffmpeg time duration: `[-][HH:]MM:SS[.frac]` or `[-]S+[.frac][s|ms|us]`.
// Returns microseconds, or nullopt when `text` is not a duration.
std::optional<int64_t> ParseFfmpegDuration(std::string_view text);

struct FfmpegInput {
  std::string url;
  std::string format;                  // -f before it, or empty
  std::optional<int64_t> seek_us;      // -ss
  std::optional<int64_t> duration_us;  // -t
  std::optional<int64_t> stop_us;      // -to
  std::optional<int64_t> stream_loop;  // -stream_loop (-1: forever)
  bool reads_stdin = false;            // `-`, `pipe:`, `pipe:0`, `/dev/stdin`, `fd:`, `fd:0`
};

struct FfmpegOutput {
  std::string url;
  size_t arg_index = 0;                // position of the URL in the argument vector
  std::string format;                  // -f before it, or empty
  std::optional<int64_t> seek_us;      // -ss (output seek: decode and discard)
  std::optional<int64_t> duration_us;  // -t
  std::optional<int64_t> stop_us;      // -to
  bool writes_stdout = false;          // `-`, `pipe:`, `pipe:1`, `/dev/stdout`
  // Every option with a value given for this output, by name without the dash (the last
  // value when one is given twice): what the muxer options below read.
  std::map<std::string, std::string> options;
  std::vector<std::string> maps;  // every -map value for this output, in order
};

// The output is an HLS playlist: `-f hls`, or no -f and a name ending in `.m3u8`.
bool IsHlsOutput(const FfmpegOutput& output);

// The segment file names ffmpeg's HLS muxer derives from the playlist name `playlist` when the
// output has no -hls_segment_filename (libavformat/hlsenc.c, 4.x to 9.0): the name up to its
// last `.`, then `%d.ts` (`%d.m4s` with -hls_segment_type fmp4); `.ts`/`.m4s` alone with
// -hls_flags single_file; `-%s.ts` with -strftime 1 (or the older -use_localtime 1).
std::string DefaultHlsSegmentPattern(const std::string& playlist, const FfmpegOutput& output);

struct FfmpegCommand {
  std::vector<FfmpegInput> inputs;
  std::vector<FfmpegOutput> outputs;
  bool has_progress = false;          // -progress given by the user
  bool has_overwrite_choice = false;  // -y or -n given
  bool has_loglevel = false;          // -loglevel or -v given
  bool has_hide_banner = false;
  bool has_nostdin = false;  // -nostdin (or -stdin 0)
  bool shortest = false;     // -shortest
  bool info_only = false;    // -version, -encoders, -h, ... (no transcoding)
  // An option expected a value but the arguments ended (ffmpeg will refuse it too).
  std::optional<std::string> missing_value_for;

  bool ReadsStdin() const;
};

FfmpegCommand AnalyzeFfmpegArgs(const std::vector<std::string>& args);

// Expected output media duration in microseconds, from the inputs' probed durations (same
// order as `cmd.inputs`; nullopt = unknown) and the -ss/-t/-to/-stream_loop/-shortest options.
// Returns nullopt when the total cannot be known (live input, pipe, endless loop without a
// limit): percent complete is then not reported at all, rather than reported wrong.
std::optional<int64_t> ExpectedOutputDurationUs(const FfmpegCommand& cmd,
                                                const std::vector<std::optional<int64_t>>& probed);

// How ffpod rewrites the arguments it was given before running them.
struct RewriteOptions {
  int progress_fd = 3;         // add `-nostats -progress pipe:N` unless the user gave -progress
  bool add_level_tags = true;  // add `-loglevel +level` unless the user gave -loglevel/-v
  // add `-hide_banner`. Off by default: ffpod reads the version from the banner's first line
  // and forwards the rest at debug level.
  bool hide_banner = false;
  // When neither -y nor -n is given: true adds `-y`, false adds `-n`. Either way ffmpeg never
  // stops at its "Overwrite? [y/N]" prompt.
  bool overwrite = false;
  // Output URL -> replacement (atomic outputs write to temporaries first). A renamed HLS
  // playlist without -hls_segment_filename gets one naming the segments after the playlist's
  // own URL, not the temporary's: the segments are written in place, under the names the
  // published playlist lists.
  std::map<std::string, std::string> output_renames;
};

struct RewrittenArgs {
  std::vector<std::string> args;
  bool progress_channel = false;  // the -progress fd was added: read progress there
};

RewrittenArgs RewriteFfmpegArgs(const std::vector<std::string>& args, const FfmpegCommand& cmd,
                                const RewriteOptions& options);

}  // namespace ffpod
