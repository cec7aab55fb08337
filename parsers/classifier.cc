#include "parsers/classifier.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <memory>
#include <utility>

#include "parsers/redact.h"

namespace ffpod {
namespace {

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

constexpr Rule Cause(std::string_view p, Reason r, LogLevel l) {
  return Rule{.pattern = p, .kind = Kind::kCause, .reason = r, .level = l};
}
constexpr Rule ErrStr(std::string_view p, Reason r) {
  return Rule{.pattern = p, .kind = Kind::kCause, .reason = r, .errstr = true};
}
constexpr Rule Directional(std::string_view p, Reason in, Reason out, int prio = kCausePriority,
                           LogLevel l = LogLevel::kUnknown) {
  return Rule{.pattern = p,
              .kind = Kind::kDirectional,
              .reason = in,
              .out_reason = out,
              .priority = prio,
              .level = l,
              .errstr = l == LogLevel::kUnknown};
}
constexpr Rule Wrapper(std::string_view p, LogLevel l, Reason own = Reason::kUnknown,
                       Direction hint = Direction::kUnknown) {
  return Rule{.pattern = p,
              .kind = Kind::kWrapper,
              .reason = own,
              .priority = kWrapperPriority,
              .hint = hint,
              .level = l};
}
constexpr Rule Hint(std::string_view p, Direction d, LogLevel l) {
  return Rule{.pattern = p, .kind = Kind::kHint, .hint = d, .level = l};
}
constexpr Rule With(Rule r, int priority, bool exit0 = false,
                    Direction hint = Direction::kUnknown) {
  r.priority = priority;
  r.exit0 = exit0;
  r.hint = hint;
  return r;
}
// Non-fatal per-packet lines: whatever error text they carry, they decide only when nothing else
// does.
constexpr Rule CapsLine(Rule r, int priority) {
  r.priority = priority;
  r.caps_line = true;
  return r;
}
constexpr Rule ForComponent(Rule r, std::string_view component) {
  r.component = component;
  return r;
}

using L = LogLevel;
using R = Reason;
using D = Direction;

// Sources: shared ffmpeg-facts sections 3.5, 4 and 5 (FFmpeg 4.4 to 8.x source and real logs),
// and the recordings in tests/fixtures/failures (5.1, with `-loglevel +level` for the levels).
const Rule kRules[] = {
    // --- markers (Observe handles them; listed for their levels)
    {.pattern = R"(^Exiting normally, received signal -?\d+\.)",
     .kind = Kind::kMarker,
     .level = L::kInfo},
    {.pattern = R"(^\[q\] command received\. Exiting\.)", .kind = Kind::kMarker, .level = L::kInfo},
    {.pattern = R"(^Received > 3 system signals, hard exiting)", .kind = Kind::kMarker},

    // --- never evidence
    // A signal made blocking I/O give up: the stop itself, not its cause.
    {.pattern = R"(Immediate exit requested)", .kind = Kind::kIgnore, .errstr = true},
    // `-reconnect`: the error is being retried; a final failure prints its own line.
    {.pattern = R"(Will reconnect at \d+ in -?\d+ second)",
     .kind = Kind::kIgnore,
     .level = L::kWarning},
    // ffpod's own -progress channel; the job's outputs are not affected.
    {.pattern = R"(Error closing progress log)", .kind = Kind::kIgnore, .level = L::kError},

    // --- disk full: anywhere, and also after exit 0 (<= 6.0 exits 0 on trailer errors)
    With(ErrStr(R"(No space left on device)", R::kDiskFull), kDiskFullPriority, true),
    With(ErrStr(R"(Disk quota exceeded)", R::kDiskFull), kDiskFullPriority, true),

    // --- GPU busy: NVENC session limit (consumer GPUs) or GPU memory exhausted
    With(Cause(R"(OpenEncodeSessionEx failed: out of memory \(10\))", R::kGpuBusy, L::kError),
         kGpuBusyPriority),
    With(Cause(R"(OpenEncodeSessionEx failed: incompatible client key \(21\))", R::kGpuBusy,
               L::kError),
         kGpuBusyPriority),
    With(ErrStr(R"(CUDA_ERROR_OUT_OF_MEMORY)", R::kGpuBusy), kGpuBusyPriority),

    // --- encoder/decoder/device unavailable on this host or build
    Cause(R"(Unknown encoder ')", R::kEncoderUnavailable, L::kFatal),
    Cause(R"(Unknown decoder ')", R::kEncoderUnavailable, L::kFatal),
    ErrStr(R"(\b(?:En|De)coder not found)", R::kEncoderUnavailable),
    Cause(R"(Automatic encoder selection failed)", R::kEncoderUnavailable, L::kFatal),
    Cause(R"((?:En|De)coder \(codec [^)]*\) not found for)", R::kEncoderUnavailable, L::kFatal),
    Cause(
        R"(Cannot load (?:lib(?:cuda|nvidia-encode|nvcuvid)\b|nvcuda\.dll|nvEncodeAPI|nvcuvid|cu[A-Z]\w*))",
        R::kEncoderUnavailable, L::kError),
    Cause(R"(Could not dynamically load CUDA)", R::kEncoderUnavailable, L::kError),
    Cause(R"(Failed loading nvcuvid)", R::kEncoderUnavailable, L::kError),
    Cause(R"(No (?:NVENC |CUDA )?capable devices found)", R::kEncoderUnavailable, L::kError),
    ErrStr(R"(CUDA_ERROR_NO_DEVICE|no CUDA-capable device is detected)", R::kEncoderUnavailable),
    Cause(R"(OpenEncodeSessionEx failed)", R::kEncoderUnavailable, L::kError),
    Cause(R"(Driver does not support the required nvenc API version)", R::kEncoderUnavailable,
          L::kError),
    Cause(R"(The minimum required Nvidia driver for nvenc is)", R::kEncoderUnavailable, L::kError),
    Cause(R"(Provided device doesn't support required NVENC features)", R::kEncoderUnavailable,
          L::kError),
    // NVENC capability checks (warnings, then `No capable devices found`)
    ForComponent(
        Cause(
            R"(^(?:YUV444P|YUV422P|10 bit encode|Lossless encoding|Alpha channel encoding|B frames as references|Weighted Prediction|Interlaced encoding|Temporal AQ|Lookahead|Multiple reference frames|Unidirectional B-Frames|Split frame encoding)\b.*not supported)",
            R::kEncoderUnavailable, L::kWarning),
        "nvenc"),
    ForComponent(Cause(R"(^(?:Width|Height) \d+ exceeds \d+)", R::kEncoderUnavailable, L::kWarning),
                 "nvenc"),
    // Whatever a hardware device context reports (Direct3D, DRM node permissions, drivers).
    ForComponent(Cause(R"(.)", R::kEncoderUnavailable, L::kUnknown), "AVHWDeviceContext"),
    Cause(R"(No VA display found)", R::kEncoderUnavailable, L::kError),
    Cause(R"(Failed to initialise VAAPI connection)", R::kEncoderUnavailable, L::kError),
    Cause(R"(No usable encoding (?:profile|entrypoint) found)", R::kEncoderUnavailable, L::kError),
    Cause(R"(Device creation failed)", R::kEncoderUnavailable, L::kError),
    Cause(R"(No device available for decoder)", R::kEncoderUnavailable, L::kError),
    Cause(R"(Error (?:initializing|creating) (?:an internal |a )?MFX session)",
          R::kEncoderUnavailable, L::kError),

    // --- bad arguments: the command itself is wrong
    Cause(R"(Unrecognized option ')", R::kBadArguments, L::kError),
    Cause(R"(Missing argument for option ')", R::kBadArguments, L::kError),
    Cause(R"(^Option \S+ not found)", R::kBadArguments, L::kFatal),
    Cause(R"(No such filter: ')", R::kBadArguments, L::kError),
    Cause(R"(Error parsing (?:filterchain|a filter description))", R::kBadArguments, L::kError),
    Cause(R"(Error applying option ')", R::kBadArguments, L::kError),
    Cause(R"(Error initializing filter ')", R::kBadArguments, L::kError),
    Cause(R"(Invalid size ')", R::kBadArguments, L::kError),
    Cause(R"(invalid preset ')", R::kBadArguments, L::kError),
    Cause(R"(Error setting preset/tune)", R::kBadArguments, L::kError),
    Cause(R"(Unknown input format: ')", R::kBadArguments, L::kFatal),
    Cause(R"(Requested output format '[^']*' is not)", R::kBadArguments, L::kError),
    Cause(R"(Unable to (?:find a suitable|choose an) output format)", R::kBadArguments, L::kError),
    Cause(R"(At least one output file must be specified)", R::kBadArguments, L::kFatal),
    Cause(R"(^Invalid loglevel ")", R::kBadArguments, L::kFatal),
    Cause(R"( same as Input #\d+ - exiting)", R::kBadArguments, L::kFatal),
    Cause(R"(FFmpeg cannot edit existing files in-place)", R::kBadArguments, L::kFatal),
    Cause(R"(is experimental but experimental codecs are not enabled)", R::kBadArguments,
          L::kError),
    Cause(R"(Could not find tag for codec)", R::kBadArguments, L::kError),
    Cause(R"(Unsupported codec id in stream)", R::kBadArguments, L::kError),
    Cause(R"(does not contain any stream)", R::kBadArguments, L::kError),
    Cause(R"(^Invalid frame size: )", R::kBadArguments, L::kFatal),
    Cause(R"(^Invalid framerate value: )", R::kBadArguments, L::kFatal),
    Cause(R"(^Unknown pixel format requested: )", R::kBadArguments, L::kFatal),
    Cause(R"(^Invalid duration specification)", R::kBadArguments, L::kError),
    Cause(R"(^Stream map '[^']*' matches no streams)", R::kBadArguments, L::kFatal),
    Cause(R"(^Invalid input file index: )", R::kBadArguments, L::kFatal),
    Cause(R"(^Invalid stream specifier: )", R::kBadArguments, L::kError),
    Cause(R"(Undefined constant or missing '\(' in)", R::kBadArguments, L::kError),
    Cause(R"(Unable to parse option value ")", R::kBadArguments, L::kError),
    Cause(R"(Error setting option \S+ to value )", R::kBadArguments, L::kError),
    ErrStr(R"(Protocol not (?:found|on whitelist))", R::kBadArguments),
    Cause(R"(A hardware device reference is required)", R::kBadArguments, L::kError),
    Cause(R"(Impossible to convert between the formats supported by the filter)", R::kBadArguments,
          L::kError),
    Cause(R"(InitializeEncoder failed: invalid param \(8\))", R::kBadArguments, L::kError),
    Cause(R"(Requested GPU \d+, but only \d+ GPUs are available)", R::kBadArguments, L::kError),

    // --- network
    ErrStr(R"(Connection refused)", R::kNetwork),
    ErrStr(R"(Connection timed out|Operation timed out)", R::kNetwork),
    ErrStr(R"(Connection reset by peer)", R::kNetwork),
    ErrStr(R"(Network is unreachable|No route to host|Host is unreachable)", R::kNetwork),
    Cause(R"(Failed to resolve hostname)", R::kNetwork, L::kError),
    ErrStr(R"(Temporary failure in name resolution)", R::kNetwork),
    ErrStr(R"(Server returned (?:5\d\d|5XX|429))", R::kNetwork),
    With(Cause(R"(HTTP error (?:5\d\d|429))", R::kNetwork, L::kWarning), kWeakPriority),
    Cause(R"(^Cannot open connection )", R::kNetwork, L::kError),
    Cause(R"(^Connection to \S+ failed)", R::kNetwork, L::kError),
    Cause(R"(Error in the pull function)", R::kNetwork, L::kError),

    // --- input missing or invalid; output failures (by direction)
    Directional(R"(No such file or directory)", R::kInputMissing, R::kOutputFailed),
    Directional(R"(Permission denied)", R::kInputMissing, R::kOutputFailed),
    Directional(R"(Server returned (?:4(?:[01]\d|2[0-8]|[3-9]\d)|4XX)\b)", R::kInputMissing,
                R::kOutputFailed),
    Directional(R"(HTTP error 4(?:[01]\d|2[0-8]|[3-9]\d)\b)", R::kInputMissing, R::kOutputFailed,
                kWeakPriority, L::kWarning),
    Directional(R"(Is a directory)", R::kInputInvalid, R::kOutputFailed),
    {.pattern = R"(Broken pipe)", .kind = Kind::kBrokenPipe, .errstr = true},
    ErrStr(R"(Invalid data found when processing input)", R::kInputInvalid),
    Cause(R"(moov atom not found)", R::kInputInvalid, L::kError),
    Cause(R"(could not find codec parameters)", R::kInputInvalid, L::kFatal),
    Cause(R"(EBML header parsing failed)", R::kInputInvalid, L::kError),
    Cause(R"(Decode error rate \S+ exceeds maximum)", R::kInputInvalid, L::kFatal),
    // Per-packet decode errors are not fatal: they decide only when nothing else does.
    CapsLine(Cause(R"(^Error while decoding stream #)", R::kInputInvalid, L::kError),
             kWeakPriority),
    CapsLine(Cause(R"(^Decoding error: )", R::kInputInvalid, L::kError), kWeakPriority),
    // 6.1+ mid-stream read error (exit 0 without -xerror): the payload says which reason.
    With(Cause(R"(^Error during demuxing: )", R::kNetwork, L::kError), kWeakPriority, true,
         D::kInput),

    // --- outputs
    With(Cause(R"(already exists\. Exiting\.)", R::kOutputFailed, L::kFatal), kCausePriority, true,
         D::kOutput),
    With(Cause(R"(Not overwriting - exiting)", R::kOutputFailed, L::kFatal), kCausePriority, true,
         D::kOutput),
    With(Cause(R"(Nothing was written into output file)", R::kOutputFailed, L::kError),
         kCausePriority, true, D::kOutput),
    With(ErrStr(R"(Read-only file system)", R::kOutputFailed), kCausePriority, false, D::kOutput),
    With(ErrStr(R"(File too large)", R::kOutputFailed), kCausePriority, false, D::kOutput),
    With(Cause(R"(^Empty output)", R::kOutputFailed, L::kFatal), kCausePriority, false, D::kOutput),
    With(Cause(R"(Could not write header)", R::kOutputFailed, L::kError), kWeakPriority, false,
         D::kOutput),
    With(Cause(R"(^Error writing trailer)", R::kOutputFailed, L::kError), kWeakPriority, true,
         D::kOutput),
    With(Cause(R"(^Error closing file)", R::kOutputFailed, L::kError), kWeakPriority, true,
         D::kOutput),
    With(Cause(R"(^av_interleaved_write_frame\(\): )", R::kOutputFailed, L::kError), kWeakPriority,
         false, D::kOutput),
    With(Cause(R"(^Error submitting a packet to the muxer)", R::kOutputFailed, L::kError),
         kWeakPriority, false, D::kOutput),
    With(Cause(R"(^Output file is empty, nothing was encoded)", R::kOutputFailed, L::kWarning),
         kWeakPriority, false, D::kOutput),

    // --- wrappers: they repeat the cause that came before them
    Wrapper(R"(^Conversion failed!)", L::kInfo),
    Wrapper(R"(^Error opening input files: )", L::kFatal, R::kUnknown, D::kInput),
    Wrapper(R"(^Error opening output files: )", L::kFatal, R::kUnknown, D::kOutput),
    Wrapper(R"(^Error opening input file )", L::kError, R::kUnknown, D::kInput),
    Wrapper(R"(^Error opening output file )", L::kError, R::kUnknown, D::kOutput),
    Wrapper(R"(^Error selecting an encoder)", L::kError),
    Wrapper(R"(^Error splitting the argument list)", L::kFatal, R::kBadArguments),
    Wrapper(R"(^Error parsing global options)", L::kFatal, R::kBadArguments),
    Wrapper(R"(^Error parsing options for (?:input|output) file)", L::kError, R::kBadArguments),
    Wrapper(R"(^Failed to set value '.*' for option ')", L::kError, R::kBadArguments),
    Wrapper(R"(^Error initializing complex filters)", L::kFatal, R::kBadArguments),
    Wrapper(R"(^Error binding filtergraph (?:inputs|outputs))", L::kError, R::kBadArguments),
    Wrapper(R"(^Error initializing output stream)", L::kError),
    Wrapper(R"(^Error while opening encoder)", L::kError),
    Wrapper(R"(^Error while opening decoder)", L::kError),
    Wrapper(R"(^(?:Hardware )?[Dd]evice setup failed for decoder)", L::kError,
            R::kEncoderUnavailable, D::kInput),
    Wrapper(R"(^Could not open encoder before EOF)", L::kError),
    Wrapper(R"(^Error sending frames to consumers)", L::kError),
    Wrapper(R"(^Task finished with error)", L::kError),
    Wrapper(R"(^Terminating thread with)", L::kError),
    Wrapper(R"(^Error reinitializing filters!)", L::kError),
    Wrapper(R"(^Failed to inject frame into filter network)", L::kError),
    Wrapper(R"(^Error while processing the decoded data for stream)", L::kFatal),
    Wrapper(R"(^Error while filtering)", L::kError),
    Wrapper(R"(^Error configuring (?:the )?filter ?graph)", L::kError),
    Wrapper(R"(^Error muxing a packet)", L::kError, R::kUnknown, D::kOutput),
    Wrapper(R"(^Error : )", L::kError),

    // --- which side a line is about (after the wrappers: their levels come first)
    Hint(R"(^Error opening input: )", D::kInput, L::kError),
    Hint(R"(^Error opening output )", D::kOutput, L::kFatal),
    Hint(R"(^Failed to open progress URL)", D::kOutput, L::kError),
};

constexpr size_t kRuleCount = sizeof(kRules) / sizeof(kRules[0]);

// All patterns in one RE2::Set, built once.
class RuleSet {
 public:
  RuleSet() : set_(Options(), RE2::UNANCHORED) {
    for (const Rule& rule : kRules) {
      std::string error;
      int index = set_.Add(rule.pattern, &error);
      ok_ = ok_ && index >= 0;
    }
    ok_ = ok_ && set_.Compile();
  }
  // Indices of the matching rules, in table order.
  void Match(std::string_view text, std::vector<int>* out) const {
    out->clear();
    if (!ok_) return;
    set_.Match(text, out);
    std::sort(out->begin(), out->end());
  }
  bool ok() const { return ok_; }

 private:
  static RE2::Options Options() {
    RE2::Options o;
    o.set_log_errors(false);
    o.set_never_capture(true);
    return o;
  }
  RE2::Set set_;
  bool ok_ = true;
};

const RuleSet& Rules() {
  static const RuleSet* rules = new RuleSet();  // never destroyed: safe during static teardown
  return *rules;
}

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
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' ||
                          s[i] == '-' || s[i] == '.')) {
    ++i;
  }
  return i > 0 && std::isalpha(static_cast<unsigned char>(s[0])) && s.substr(i).starts_with("://");
}

// A URL that reaches over the network (not a file, a pipe or a device).
bool IsNetworkUrl(std::string_view url) {
  if (!HasScheme(url)) return false;
  return !url.starts_with("file:") && !url.starts_with("pipe:") && !url.starts_with("fd:");
}

bool ContainsNetworkUrl(std::string_view line) {
  for (size_t at = line.find("://"); at != std::string_view::npos; at = line.find("://", at + 3)) {
    size_t start = at;
    while (start > 0 &&
           (std::isalnum(static_cast<unsigned char>(line[start - 1])) || line[start - 1] == '+' ||
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

std::optional<LogLevel> KnownMessageLevel(std::string_view message) {
  thread_local std::vector<int> matches;
  Rules().Match(message, &matches);
  bool errstr = false;
  for (int i : matches) {
    const Rule& rule = kRules[i];
    if (rule.level != LogLevel::kUnknown) return rule.level;
    if (rule.kind == Kind::kMarker) return std::nullopt;  // written outside the logger
    errstr = errstr || rule.errstr;
  }
  if (errstr) return LogLevel::kError;
  return std::nullopt;
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

  // Stop markers (info level, or no level at all).
  constexpr std::string_view kSignal = "Exiting normally, received signal ";
  if (m.starts_with(kSignal)) {
    int n = 0;
    size_t i = kSignal.size();
    bool digits = false;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9' && n < 1000) {
      n = n * 10 + (m[i] - '0');
      digits = true;
      ++i;
    }
    if (digits) {
      acknowledged_signal_ = n;
      signal_line_ = Evidence(line);
    }
    return;
  }
  if (m.starts_with("[q] command received. Exiting.")) {
    quit_acknowledged_ = true;
    quit_line_ = Evidence(line);
    return;
  }
  if (m.starts_with("Received > 3 system signals, hard exiting")) {
    hard_exit_ = true;
    hard_exit_line_ = Evidence(line);
    return;
  }

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
  Rules().Match(m, &matches);
  std::erase_if(matches, [&](int i) {
    std::string_view needed = kRules[i].component;
    return !needed.empty() && d.component.find(needed) == std::string_view::npos;
  });
  if (matches.empty()) return;

  // Which side the line is about: a URL it names, its context (`[in#0/...]`, `[vost#0:0]`),
  // or the wording of one of its rules.
  Direction direction = Direction::kUnknown;
  size_t longest = 0;
  for (const std::string& url : context_.inputs) {
    if (url.size() > longest && NamesUrl(m, url)) {
      direction = Direction::kInput;
      longest = url.size();
    }
  }
  for (const std::string& url : context_.outputs) {
    if (url.size() > longest && NamesUrl(m, url)) {
      direction = Direction::kOutput;
      longest = url.size();
    }
  }
  if (direction == Direction::kUnknown) {
    if (ComponentIsInput(d.component) || ComponentIsInput(d.parent)) {
      direction = Direction::kInput;
    } else if (ComponentIsOutput(d.component) || ComponentIsOutput(d.parent)) {
      direction = Direction::kOutput;
    }
  }
  Reason wrapper_reason = Reason::kUnknown;
  int cap = kDiskFullPriority;
  for (int i : matches) {
    const Rule& rule = kRules[i];
    if (rule.kind == Kind::kIgnore || rule.kind == Kind::kMarker) return;
    if (rule.kind == Kind::kWrapper) {
      if (wrapper_reason == Reason::kUnknown) wrapper_reason = rule.reason;
      cap = std::min(cap, kWrapperPriority);
    }
    if (rule.caps_line) cap = std::min(cap, rule.priority);
    if (direction == Direction::kUnknown && rule.hint != Direction::kUnknown) {
      direction = rule.hint;
    }
  }

  // The strongest rule of the line decides its reason.
  std::optional<Reason> reason;
  int priority = 0;
  bool exit0 = false;
  for (int i : matches) {
    const Rule& rule = kRules[i];
    exit0 = exit0 || rule.exit0;
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
        bool network_outputs = !context_.outputs.empty();
        for (const std::string& url : context_.outputs) {
          network_outputs = network_outputs && IsNetworkUrl(url);
        }
        r = (ContainsNetworkUrl(m) || network_outputs) ? Reason::kNetwork : Reason::kOutputFailed;
        break;
      }
      default:
        continue;  // wrappers and hints give no reason of their own here
    }
    if (p != kDiskFullPriority) p = std::min(p, cap);
    if (p > priority) {
      reason = r;
      priority = p;
    }
  }
  if (!reason && wrapper_reason != Reason::kUnknown) {
    reason = wrapper_reason;
    priority = kWrapperPriority;
  }
  if (!reason) return;

  // 4.4-6.0 report a mid-stream read error as `<input url>: <error>` (6.1+: `Error during
  // demuxing: <error>`) and then finish normally with exit 0.
  if (!exit0 && (*reason == Reason::kNetwork || *reason == Reason::kInputInvalid)) {
    size_t colon = m.find(": ");
    if (colon != std::string_view::npos && colon > 0) {
      std::string_view head = m.substr(0, colon);
      bool is_input =
          std::find(context_.inputs.begin(), context_.inputs.end(), head) != context_.inputs.end();
      bool is_output = std::find(context_.outputs.begin(), context_.outputs.end(), head) !=
                       context_.outputs.end();
      exit0 = is_input || (context_.inputs.empty() && !is_output &&
                           head.find(' ') == std::string_view::npos && HasScheme(head));
    }
  }
  // FFmpeg exits 0 only after output, disk and input-read failures.
  exit0 = exit0 && (*reason == Reason::kDiskFull || *reason == Reason::kOutputFailed ||
                    *reason == Reason::kNetwork || *reason == Reason::kInputInvalid);
  Offer(&best_, *reason, priority, line);
  if (exit0) Offer(&on_exit_0_, *reason, priority, line);
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
