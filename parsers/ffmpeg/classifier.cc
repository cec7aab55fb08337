#include "parsers/ffmpeg/classifier.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <csignal>
#include <memory>
#include <utility>

#include "parsers/common/text.h"
#include "parsers/ffmpeg/classifier_rules.h"
#include "parsers/telemetry/redact.h"

namespace ffpod {
namespace {

using rules::Direction;
using rules::kCausePriority;
using rules::kDiskFullPriority;
using rules::kGpuBusyPriority;
using rules::Kind;
using rules::kUndirectedPenalty;
using rules::kWeakPriority;
using rules::kWrapperPriority;
using rules::Rule;

const Rule& RuleAt(int i) { return rules::Table()[static_cast<size_t>(i)]; }

bool IsInfoOrBelow(LogLevel l) {
  return l == LogLevel::kInfo || l == LogLevel::kVerbose || l == LogLevel::kDebug ||
         l == LogLevel::kTrace;
}
bool IsErrorOrWorse(LogLevel l) {
  return l == LogLevel::kError || l == LogLevel::kFatal || l == LogLevel::kPanic;
}

// `line` cut to kMaxEvidenceBytes without splitting a UTF-8 sequence.
std::string Cut(std::string s) {
  if (s.size() <= kMaxEvidenceBytes) return s;
  size_t end = kMaxEvidenceBytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

std::string Evidence(std::string_view line) { return Cut(RedactText(line)); }

bool IsUrlStart(char c) {
  return c == ' ' || c == '\'' || c == '"' || c == '(' || c == '<' || c == '=';
}
bool IsUrlEnd(std::string_view rest) {
  if (rest.empty()) return true;
  char c = rest[0];
  if (c == '.') return rest.size() == 1 || rest[1] == ' ';
  return c == ' ' || c == '\'' || c == '"' || c == ':' || c == ',' || c == ')' || c == '>';
}

// `url` appears in `line` as a whole word (not as part of a longer name).
bool NamesUrl(std::string_view line, std::string_view url) {
  if (url.empty()) return false;
  for (size_t at = line.find(url); at != std::string_view::npos; at = line.find(url, at + 1)) {
    if ((at == 0 || IsUrlStart(line[at - 1])) && IsUrlEnd(line.substr(at + url.size()))) {
      return true;
    }
  }
  return false;
}

bool HasScheme(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (IsAsciiAlnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')) ++i;
  return i > 0 && IsAsciiAlpha(s[0]) && s.substr(i).starts_with("://");
}

// A URL that reaches over the network (not a file, a pipe or a device).
bool IsNetworkUrl(std::string_view url) {
  if (!HasScheme(url)) return false;
  return !url.starts_with("file:") && !url.starts_with("pipe:") && !url.starts_with("fd:");
}

bool ContainsNetworkUrl(std::string_view line) {
  for (size_t at = line.find("://"); at != std::string_view::npos; at = line.find("://", at + 3)) {
    size_t start = at;
    while (start > 0 && (IsAsciiAlnum(line[start - 1]) || line[start - 1] == '+' ||
                         line[start - 1] == '-' || line[start - 1] == '.')) {
      --start;
    }
    if (IsNetworkUrl(line.substr(start))) return true;
  }
  return false;
}

bool ComponentIsInput(std::string_view c) {
  // in#0, in#0/mov,..., vist#0:0/h264, aist#, sist#, dist#, tist#
  return c.starts_with("in#") || (c.size() > 4 && c.substr(1, 4) == "ist#");
}
bool ComponentIsOutput(std::string_view c) {
  return c.starts_with("out#") || (c.size() > 4 && c.substr(1, 4) == "ost#");
}

// AVERROR exit statuses of FFmpeg 6.1+ (status = AVERROR & 0xFF on POSIX).
struct AverrorStatus {
  int status;
  std::string_view meaning;
};
constexpr AverrorStatus kAverrorStatuses[] = {
    {255, "AVERROR(EPERM), Operation not permitted"},
    {254, "AVERROR(ENOENT), No such file or directory"},
    {251, "AVERROR(EIO), Input/output error"},
    {245, "AVERROR(EAGAIN), Resource temporarily unavailable"},
    {244, "AVERROR(ENOMEM), Cannot allocate memory"},
    {243, "AVERROR(EACCES), Permission denied"},
    {234, "AVERROR(EINVAL), Invalid argument"},
    {228, "AVERROR(ENOSPC), No space left on device"},
    {224, "AVERROR(EPIPE), Broken pipe"},
    {218, "AVERROR(ENOSYS), Function not implemented"},
    {190, "AVERROR_BUG, Internal bug, should not have happened"},
    {187, "AVERROR_EXTERNAL or AVERROR_EOF, Generic error in an external library / End of file"},
    {183, "AVERROR_INVALIDDATA, Invalid data found when processing input"},
    {176, "AVERROR_PATCHWELCOME, Not yet implemented in FFmpeg"},
    {171, "AVERROR_UNKNOWN, Unknown error occurred"},
    {152, "AVERROR(ECONNRESET), Connection reset by peer"},
    {146, "AVERROR(ETIMEDOUT), Connection timed out"},
    {145, "AVERROR(ECONNREFUSED), Connection refused"},
    {88, "AVERROR_EXPERIMENTAL, Experimental feature"},
    {8,
     "a *_NOT_FOUND or HTTP error AVERROR (encoder, decoder, filter, protocol not found, "
     "or an HTTP 4xx/5xx)"},
};

// What an exit status usually means, or empty.
std::string StatusMeaning(int code, const FfmpegVersion& v) {
  if (code == 69) return "the decode error rate passed -max_error_rate";
  if (code == 123) return "more than 3 signals made ffmpeg hard-exit";
  const bool before_6_1 = v.known && !v.ExitsWithAverror();
  if (code == 255 && before_6_1) {
    return "FFmpeg " + v.text +
           " uses 255 after SIGINT/SIGTERM, but it printed no "
           "`Exiting normally` line";
  }
  if (code == 1) return "a fatal error";
  if (before_6_1) return "";
  for (const AverrorStatus& s : kAverrorStatuses) {
    if (s.status == code) {
      return (v.ExitsWithAverror() ? std::string() : std::string("from FFmpeg 6.1 on: ")) +
             std::string(s.meaning);
    }
  }
  return "";
}

std::string DescribeExit(const ExitStatus& exit) {
  switch (exit.kind) {
    case ExitStatus::Kind::kExited:
      return "exit status " + std::to_string(exit.code);
    case ExitStatus::Kind::kSignaled:
      return "killed by " + SignalName(exit.signal) + " (signal " + std::to_string(exit.signal) +
             ")" + (exit.core_dumped ? ", core dumped" : "");
    case ExitStatus::Kind::kNotStarted:
      return exit.code == 127 ? "not found, exit 127" : "not executable, exit 126";
  }
  return "";
}

Classification Sentence(Reason reason, std::string message, std::string evidence = {}) {
  return Classification{reason, Cut(std::move(message)), std::move(evidence)};
}

// Which side a line is about: the longest input or output URL it names, else its context
// (`[in#0/...]`, `[vost#0:0]`). Rules' wording can still decide when this is unknown.
Direction LineDirection(const ClassifierContext& context, const LogLine& d) {
  std::string_view m = d.message;
  Direction direction = Direction::kUnknown;
  size_t longest = 0;
  for (const std::string& url : context.inputs) {
    if (url.size() > longest && NamesUrl(m, url)) {
      direction = Direction::kInput;
      longest = url.size();
    }
  }
  for (const std::string& url : context.outputs) {
    if (url.size() > longest && NamesUrl(m, url)) {
      direction = Direction::kOutput;
      longest = url.size();
    }
  }
  if (direction != Direction::kUnknown) return direction;
  if (ComponentIsInput(d.component) || ComponentIsInput(d.parent)) return Direction::kInput;
  if (ComponentIsOutput(d.component) || ComponentIsOutput(d.parent)) return Direction::kOutput;
  return Direction::kUnknown;
}

// What the matching rules of one line allow: whether it is evidence at all, the highest
// priority it may count at, the reason a wrapper rule carries, and the side it is about.
struct LineLimits {
  bool ignored = false;
  Reason wrapper_reason = Reason::kUnknown;
  int cap = kDiskFullPriority;
  Direction direction = Direction::kUnknown;
};

LineLimits LimitsOf(const std::vector<int>& matches, Direction direction) {
  LineLimits limits;
  limits.direction = direction;
  for (int i : matches) {
    const Rule& rule = RuleAt(i);
    if (rule.kind == Kind::kIgnore || rule.kind == Kind::kMarker) {
      limits.ignored = true;
      return limits;
    }
    if (rule.kind == Kind::kWrapper) {
      if (limits.wrapper_reason == Reason::kUnknown) limits.wrapper_reason = rule.reason;
      limits.cap = std::min(limits.cap, kWrapperPriority);
    }
    if (rule.caps_line) limits.cap = std::min(limits.cap, rule.priority);
    if (limits.direction == Direction::kUnknown && rule.hint != Direction::kUnknown) {
      limits.direction = rule.hint;
    }
  }
  return limits;
}

struct LineVerdict {
  Reason reason = Reason::kUnknown;
  int priority = 0;
  bool exit0 = false;  // a rule says FFmpeg exits 0 after this line
};

// The reason and priority of one rule on this line, or nullopt for rules that give none.
std::optional<std::pair<Reason, int>> RuleReason(const ClassifierContext& context, const Rule& rule,
                                                 std::string_view m, Direction direction) {
  Reason r = rule.reason;
  int p = rule.priority;
  switch (rule.kind) {
    case Kind::kCause:
      break;
    case Kind::kDirectional:
      if (direction == Direction::kOutput) {
        r = rule.out_reason;
      } else if (direction == Direction::kUnknown) {
        p -= kUndirectedPenalty;
      }
      break;
    case Kind::kBrokenPipe: {
      bool network_outputs = !context.outputs.empty();
      for (const std::string& url : context.outputs) {
        network_outputs = network_outputs && IsNetworkUrl(url);
      }
      r = (ContainsNetworkUrl(m) || network_outputs) ? Reason::kNetwork : Reason::kOutputFailed;
      break;
    }
    default:
      return std::nullopt;  // wrappers and hints give no reason of their own here
  }
  return std::make_pair(r, p);
}

// The strongest rule of the line decides its reason; a wrapper's own reason counts only when
// no rule gives one. Nullopt when the line is no evidence.
std::optional<LineVerdict> JudgeLine(const ClassifierContext& context, const LogLine& d,
                                     const std::vector<int>& matches) {
  LineLimits limits = LimitsOf(matches, LineDirection(context, d));
  if (limits.ignored) return std::nullopt;
  std::optional<LineVerdict> verdict;
  bool exit0 = false;
  for (int i : matches) {
    const Rule& rule = RuleAt(i);
    exit0 = exit0 || rule.exit0;
    auto rp = RuleReason(context, rule, d.message, limits.direction);
    if (!rp) continue;
    int p = rp->second == kDiskFullPriority ? rp->second : std::min(rp->second, limits.cap);
    if (p > (verdict ? verdict->priority : 0)) verdict = LineVerdict{rp->first, p, false};
  }
  if (!verdict && limits.wrapper_reason != Reason::kUnknown) {
    verdict = LineVerdict{limits.wrapper_reason, kWrapperPriority, false};
  }
  if (verdict) verdict->exit0 = exit0;
  return verdict;
}

// 4.4-6.0 report a mid-stream read error as `<input url>: <error>` (6.1+: `Error during
// demuxing: <error>`) and then finish normally with exit 0.
bool ReportedAsReadError(const ClassifierContext& context, std::string_view m, Reason reason) {
  if (reason != Reason::kNetwork && reason != Reason::kInputInvalid) return false;
  size_t colon = m.find(": ");
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view head = m.substr(0, colon);
  bool is_input =
      std::find(context.inputs.begin(), context.inputs.end(), head) != context.inputs.end();
  bool is_output =
      std::find(context.outputs.begin(), context.outputs.end(), head) != context.outputs.end();
  return is_input || (context.inputs.empty() && !is_output &&
                      head.find(' ') == std::string_view::npos && HasScheme(head));
}

}  // namespace

std::string HumanEvidence(std::string_view line) {
  LogLine d = DecodeLogLine(line);
  std::string_view message = d.message;
  while (!message.empty() &&
         (message.back() == ' ' || message.back() == '\t' || message.back() == '\r')) {
    message.remove_suffix(1);
  }
  if (d.component.empty()) return std::string(message);
  return std::string(d.component) + ": " + std::string(message);
}

FailureClassifier::FailureClassifier(ClassifierContext context) : context_(std::move(context)) {}

void FailureClassifier::Offer(std::optional<Candidate>* slot, Reason reason, int priority,
                              std::string_view line) {
  if (*slot && (*slot)->priority >= priority) return;
  *slot = Candidate{reason, priority, Evidence(line)};
}

void FailureClassifier::Observe(std::string_view line) {
  if (line.empty()) return;
  LogLine d = DecodeLogLine(line);
  std::string_view m = d.message;
  if (IsErrorOrWorse(d.level)) last_error_line_ = Evidence(line);
  if (ObserveStopMarker(m, line)) return;

  // Only warnings and worse are evidence (tagged, or known without a tag); dumps (indented) and
  // stats lines never are.
  if (IsInfoOrBelow(d.level)) return;
  if (m.empty() || m[0] == ' ' || m[0] == '\t') return;
  if (m.starts_with("frame=") || m.starts_with("size=") || m.starts_with("Lsize=")) return;

  // Error lines external libraries write themselves (`libva error: ...`).
  if (d.level_tagged && d.component == "libva" && IsErrorOrWorse(d.level)) {
    Offer(&best_, Reason::kEncoderUnavailable, kCausePriority, line);
    return;
  }

  thread_local std::vector<int> matches;
  rules::Match(m, &matches);
  std::erase_if(matches, [&](int i) {
    std::string_view needed = RuleAt(i).component;
    return !needed.empty() && d.component.find(needed) == std::string_view::npos;
  });
  if (matches.empty()) return;

  std::optional<LineVerdict> verdict = JudgeLine(context_, d, matches);
  if (!verdict) return;
  Reason reason = verdict->reason;
  bool exit0 = verdict->exit0 || ReportedAsReadError(context_, m, reason);
  // FFmpeg exits 0 only after output, disk and input-read failures.
  exit0 = exit0 && (reason == Reason::kDiskFull || reason == Reason::kOutputFailed ||
                    reason == Reason::kNetwork || reason == Reason::kInputInvalid);
  Offer(&best_, reason, verdict->priority, line);
  if (exit0) Offer(&on_exit_0_, reason, verdict->priority, line);
}

bool FailureClassifier::ObserveStopMarker(std::string_view m, std::string_view line) {
  // Stop markers (info level, or no level at all).
  constexpr std::string_view kSignal = "Exiting normally, received signal ";
  if (m.starts_with(kSignal)) {
    int n = 0;
    size_t i = kSignal.size();
    bool digits = false;
    while (i < m.size() && IsDigit(m[i]) && n < 1000) {
      n = n * 10 + (m[i] - '0');
      digits = true;
      ++i;
    }
    if (digits) {
      acknowledged_signal_ = n;
      signal_line_ = Evidence(line);
    }
    return true;
  }
  if (m.starts_with("[q] command received. Exiting.")) {
    quit_acknowledged_ = true;
    quit_line_ = Evidence(line);
    return true;
  }
  if (m.starts_with("Received > 3 system signals, hard exiting")) {
    hard_exit_ = true;
    hard_exit_line_ = Evidence(line);
    return true;
  }
  return false;
}

Classification FailureClassifier::Classify(const ExitStatus& exit, StopCause stop,
                                           bool oom_kill_rose) const {
  const std::string status = DescribeExit(exit);
  switch (stop) {
    case StopCause::kDrain:
      return Sentence(Reason::kPreempted, "ffpod stopped ffmpeg for the drain (" + status + ")");
    case StopCause::kStall:
      return Sentence(
          Reason::kStalled,
          "ffmpeg made no progress for the stall timeout and ffpod stopped it (" + status + ")");
    case StopCause::kTimeout:
      return Sentence(Reason::kTimeout,
                      "the job ran past its timeout and ffpod stopped ffmpeg (" + status + ")");
    case StopCause::kCancel:
      return Sentence(Reason::kCancelled,
                      "the job was cancelled and ffpod stopped ffmpeg (" + status + ")");
    case StopCause::kNone:
      break;
  }

  switch (exit.kind) {
    case ExitStatus::Kind::kNotStarted:
      return Sentence(Reason::kUnknown, "ffmpeg could not be started (" + status + ")");
    case ExitStatus::Kind::kSignaled:
      if (exit.signal == SIGKILL && oom_kill_rose) {
        return Sentence(Reason::kOomKilled,
                        "ffmpeg was killed by SIGKILL (signal 9) and the cgroup's oom_kill count "
                        "rose: it ran out of memory");
      }
      return Sentence(Reason::kKilled, "ffmpeg was " + status + " that ffpod did not send");
    case ExitStatus::Kind::kExited:
      break;
  }

  if (hard_exit_ && exit.code == 123) {
    return Sentence(Reason::kKilled,
                    "ffmpeg hard-exited (exit status 123) after more than 3 signals that ffpod "
                    "did not send",
                    hard_exit_line_);
  }
  if (acknowledged_signal_) {
    return Sentence(Reason::kKilled,
                    "ffmpeg stopped on " + SignalName(*acknowledged_signal_) + " (signal " +
                        std::to_string(*acknowledged_signal_) + ") that ffpod did not send (" +
                        status + ")",
                    signal_line_);
  }
  if (exit.code == 0) {
    if (on_exit_0_) {
      return Sentence(on_exit_0_->reason, HumanEvidence(on_exit_0_->line), on_exit_0_->line);
    }
    if (quit_acknowledged_) {
      return Sentence(Reason::kOk, "ffmpeg stopped after a q command on its stdin (exit status 0)",
                      quit_line_);
    }
    return Sentence(Reason::kOk, "ffmpeg exited with status 0");
  }
  if (best_) return Sentence(best_->reason, HumanEvidence(best_->line), best_->line);
  std::string meaning = StatusMeaning(exit.code, context_.version);
  return Sentence(Reason::kUnknown, "ffmpeg exited with status " + std::to_string(exit.code) +
                                        " without an error line ffpod recognises" +
                                        (meaning.empty() ? "" : " (" + meaning + ")"));
}

}  // namespace ffpod
