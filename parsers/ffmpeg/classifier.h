// The failure classifier: turns how ffmpeg ended (exit status, its stderr lines, the cgroup's
// oom_kill count, and what ffpod itself did to it) into one Reason of docs/failure-reasons.md plus
// the evidence line that decided it.
//
// Evidence comes from the status, the lines and the cgroup together, never from the exit code
// alone: FFmpeg exits 0 after some real failures (`Error writing trailer of ...: No space left
// on device` on <=6.0, `File 'x' already exists. Exiting.` on 6.1+), 6.1+ exit statuses are
// AVERROR values (254, 183, 145, 8, ...), and 255 means "stopped by a signal" only when
// `Exiting normally, received signal N.` was printed. Covers the wording of 4.4, 5.1, 6.1, 7.x
// and 8.x (see shared ffmpeg-facts sections 4-5).
//
// Usage: Observe() every stderr line as it arrives (bounded memory: only the evidence found so
// far is kept, each line cut to kMaxEvidenceBytes), then Classify() (const; may be called more
// than once). A FailureClassifier is not thread-safe; KnownMessageLevel is. The rules, their
// priorities and the decisions on borderline cases are documented in docs/failure-reasons.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/ffmpeg/exit_status.h"
#include "parsers/ffmpeg/ffmpeg_version.h"
#include "parsers/ffmpeg/log_line.h"
#include "parsers/ffmpeg/reasons.h"

namespace ffpod {

// What ffpod itself did to the process. A stop ffpod caused decides the reason first.
enum class StopCause {
  kNone,
  kDrain,    // stopped by the drain (SIGTERM to ffpod) -> preempted
  kStall,    // stopped by the stall watchdog -> stalled
  kTimeout,  // stopped because the job ran past timeout_s -> timeout
  kCancel,   // stopped on request -> cancelled
};

struct ClassifierContext {
  std::vector<std::string> inputs;   // input URLs in the order of their -i options
  std::vector<std::string> outputs;  // output URLs (positional arguments that are not inputs)
  FfmpegVersion version;             // unknown version: rules for every version apply
};

// Evidence lines and messages are cut to this many bytes (FFmpeg's own log line buffer is 1024).
inline constexpr size_t kMaxEvidenceBytes = 1024;

struct Classification {
  Reason reason = Reason::kUnknown;
  // One human sentence: the evidence line itself (redacted) when a line decided, otherwise a
  // sentence built from the exit status, e.g. "ffmpeg was killed by SIGKILL".
  std::string message;
  // The raw stderr line that decided (redacted), empty when none did.
  std::string evidence;
};

// KnownMessageLevel (the level of a known message) is declared in classifier_rules.h.

// The human form of an evidence line for `message`: the level tag and the context's pointer
// dropped, the innermost context kept as a prefix:
//   "[tcp @ 0x55d1c] [error] Connection to tcp://h:1 failed: Connection refused"
//     -> "tcp: Connection to tcp://h:1 failed: Connection refused"
// Trailing spaces are removed; a line without context is its message.
std::string HumanEvidence(std::string_view line);

class FailureClassifier {
 public:
  explicit FailureClassifier(ClassifierContext context);

  // Observes one stderr line (without terminator, with any `[level]` prefix still on it).
  void Observe(std::string_view line);

  // Decides the reason. `oom_kill_rose`: the cgroup's oom_kill count went up while ffmpeg ran.
  Classification Classify(const ExitStatus& exit, StopCause stop, bool oom_kill_rose) const;

  // The N of `Exiting normally, received signal N.`, if ffmpeg printed it.
  std::optional<int> acknowledged_signal() const { return acknowledged_signal_; }
  // The last error-level line seen (redacted), for summaries; empty when none.
  const std::string& last_error_line() const { return last_error_line_; }

 private:
  struct Candidate {
    Reason reason;
    int priority;  // higher wins over an earlier line of lower priority
    std::string line;
  };
  void Offer(std::optional<Candidate>* slot, Reason reason, int priority, std::string_view line);
  // The stop markers (`Exiting normally, received signal N.`, `[q] command received.`, the hard
  // exit): records them and returns true when `m` is one.
  bool ObserveStopMarker(std::string_view m, std::string_view line);

  ClassifierContext context_;
  std::optional<Candidate> best_;       // strongest cause line so far (first of its priority)
  std::optional<Candidate> on_exit_0_;  // cause line that counts even when ffmpeg exited 0
  std::optional<int> acknowledged_signal_;
  std::string signal_line_;         // the `Exiting normally, received signal N.` line
  bool quit_acknowledged_ = false;  // `[q] command received. Exiting.`
  std::string quit_line_;
  bool hard_exit_ = false;  // `Received > 3 system signals, hard exiting`
  std::string hard_exit_line_;
  std::string last_error_line_;
};

}  // namespace ffpod
