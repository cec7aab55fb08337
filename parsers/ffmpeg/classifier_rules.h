// The classifier's knowledge of FFmpeg's messages: one table of rules (pattern, what the line
// is evidence of, the level FFmpeg prints it at), matched all at once with one RE2::Set. Both
// the failure classifier (classifier.h) and the stderr line decoder (log_line.h, for the level
// of untagged lines) read it. Pure; the table and the compiled set are immutable and
// thread-safe once built.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "parsers/ffmpeg/log_line.h"
#include "parsers/ffmpeg/reasons.h"

namespace ffpod {
namespace rules {

// ---------------------------------------------------------------------------------------------
// The rule table. Every rule is an RE2 pattern matched (unanchored) against the message of a
// stderr line, i.e. the text after the 8.0 time prefix, the `[ctx @ ptr]` contexts and the
// `[level]` tag; all rules are matched at once with one RE2::Set. A line can match several
// rules: `Could not write header ...: No space left on device` matches a weak output rule and
// the disk-full rule; the line then counts with its strongest rule.
//
// Priorities: a later line replaces the current candidate only with a strictly higher priority,
// so among equals the FIRST cause wins, and the wrappers FFmpeg prints after the cause
// (`Conversion failed!`, `Error opening input files: ...`) never displace it.
// ---------------------------------------------------------------------------------------------

enum class Kind : uint8_t {
  kCause,        // the line is evidence for `reason`
  kDirectional,  // `reason` when the line is about an input, `out_reason` for an output
  kBrokenPipe,   // network when the peer is a network URL, else output_failed
  kWrapper,      // repeats a cause: its error text counts at wrapper priority; own `reason` too
  kHint,         // says whether the line is about an input or an output; no reason by itself
  kIgnore,       // never evidence: self-inflicted (`Immediate exit requested`) or retried
  kMarker,       // a stop marker, handled by Observe itself; here for its level only
};

enum class Direction : uint8_t { kUnknown, kInput, kOutput };

constexpr int kDiskFullPriority = 100;  // `No space left on device` anywhere decides
constexpr int kGpuBusyPriority = 90;    // beats the `No capable devices found` that follows
constexpr int kCausePriority = 50;
constexpr int kUndirectedPenalty = 5;  // a later line that names the input/output wins
constexpr int kWeakPriority = 30;      // generic lines that a specific one should override
constexpr int kWrapperPriority = 10;

struct Rule {
  std::string_view pattern;
  Kind kind = Kind::kCause;
  Reason reason = Reason::kUnknown;      // kUnknown on a wrapper: no reason of its own
  Reason out_reason = Reason::kUnknown;  // kDirectional only
  int priority = kCausePriority;
  bool exit0 = false;  // also evidence when ffmpeg exited 0 (FFmpeg exits 0 after it)
  Direction hint = Direction::kUnknown;
  LogLevel level = LogLevel::kUnknown;  // the level FFmpeg prints the message at; see errstr
  bool errstr = false;                  // an av_err2str() text: carried by error lines
  std::string_view component;           // required substring of the line's component
  bool caps_line = false;  // the line counts at most at this rule's priority, whatever it carries
};

// The rules, in table order (docs/failure-reasons.md explains each group).
std::span<const Rule> Table();

// Indices (into Table()) of the rules whose pattern matches `text`, in table order.
void Match(std::string_view text, std::vector<int>* out);

}  // namespace rules

// The level FFmpeg logs `message` at (the text after any `[ctx @ ptr]` and `[level]` prefixes),
// when it is a message the classifier knows: a cause, a wrapper such as `Conversion failed!`
// (info) or a marker such as `Exiting normally, received signal N.` (info). A line that only
// carries an error string (`<url>: No such file or directory`) is an error. Nullopt when the
// message is not known or has no level (`Received > 3 system signals, hard exiting` is written
// outside the logger). Levels are those FFmpeg 5.1 prints; DecodeLogLine uses this for lines
// without a `[level]` tag.
std::optional<LogLevel> KnownMessageLevel(std::string_view message);

}  // namespace ffpod
