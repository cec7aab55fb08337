#include "parsers/ffmpeg/classifier_rules.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <string>

namespace ffpod {
namespace rules {
namespace {

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
    // 4.3's QSV (libmfx) opens a VAAPI device first and says only this on a host without one.
    Cause(R"(Failed to create a VAAPI device)", R::kEncoderUnavailable, L::kError),

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
    // 7.0+ (real 9.0.2, `[dec:h264]`) for each packet the decoder refuses.
    CapsLine(Cause(R"(^Error submitting packet to decoder: )", R::kInputInvalid, L::kError),
             kWeakPriority),
    // 9.0's h264 decoder, a warning that quotes the error text: `Failed to parse header of NALU
    // (type 0): "Invalid data found when processing input". Skipping NALU.`
    CapsLine(Cause(R"(^Failed to parse header of NALU)", R::kInputInvalid, L::kWarning),
             kWeakPriority),
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
    Wrapper(R"(^Error selecting an encoder)", L::kFatal),  // fatal in the real 7.1.5 and 9.0.2
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

}  // namespace

std::span<const Rule> Table() { return kRules; }

void Match(std::string_view text, std::vector<int>* out) { Rules().Match(text, out); }

}  // namespace rules

std::optional<LogLevel> KnownMessageLevel(std::string_view message) {
  thread_local std::vector<int> matches;
  rules::Match(message, &matches);
  bool errstr = false;
  for (int i : matches) {
    const rules::Rule& rule = rules::Table()[static_cast<size_t>(i)];
    if (rule.level != LogLevel::kUnknown) return rule.level;
    if (rule.kind == rules::Kind::kMarker) return std::nullopt;  // written outside the logger
    errstr = errstr || rule.errstr;
  }
  if (errstr) return LogLevel::kError;
  return std::nullopt;
}

}  // namespace ffpod
