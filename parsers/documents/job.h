// Job and result documents (docs/queue.md).
//
// A job is what producers push to `Q:pending` (a plain LPUSH of JSON from any language);
// ParseJob validates it and names the first thing that is wrong, so the worker can dead-letter
// it as `bad_job` with that sentence. Unknown fields are kept and ignored. A result is what a
// finished attempt reports (stream entry, state hash, termination log). Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "parsers/common/result.h"
#include "parsers/documents/audit.h"
#include "parsers/documents/job_routes.h"
#include "parsers/documents/verify_policy.h"
#include "parsers/ffmpeg/exit_status.h"
#include "parsers/ffmpeg/progress_tracker.h"
#include "parsers/ffmpeg/reasons.h"

namespace ffpod {

struct JobLimits {
  size_t max_document_bytes = 1 << 20;  // 1 MiB
  size_t max_args = 4096;
  size_t max_arg_bytes = 64 * 1024;
  size_t max_labels = 64;
  int max_attempts_cap = 100;
};

struct JobSpec {
  std::string id;
  std::vector<std::string> args;
  std::vector<std::string> outputs;       // local paths published atomically
  std::optional<int> max_attempts;        // falls back to --max-attempts
  std::optional<double> timeout_s;        // falls back to none
  std::optional<double> stall_timeout_s;  // falls back to --stall-timeout
  std::string traceparent;                // valid W3C traceparent, or empty
  std::string tracestate;
  std::map<std::string, std::string> labels;
  // The job group it belongs to (docs/queue.md "Job groups"), same grammar as `id`; empty: none.
  std::string group;
  // How many members the group will have (the field group_size): it does not end before that
  // many have joined. Nullopt: it ends when the members that joined so far have all ended.
  std::optional<int> group_size;
  // When the job was submitted (RFC 3339, set by `ffpod enqueue`): the start of the trace's
  // queue-wait span. Optional; an unparsable value is ignored.
  std::optional<std::chrono::system_clock::time_point> enqueued_at;
  bool traceparent_ignored = false;    // one was given but was not valid W3C (ignored)
  std::optional<VerifyPolicy> verify;  // the field verify; nullopt: the worker's default
  // reroute, reroutes, args_by_queue (parsers/documents/job_routes.h).
  JobRouting routing;
};

// True when `id` is 1-128 characters of [A-Za-z0-9._:-].
bool IsValidJobId(std::string_view id);
// True for a W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>" with non-zero ids.
bool IsValidTraceparent(std::string_view tp);

// Validates a job document. The error names the field and what was expected, e.g.
// `field "args" must be a non-empty array of strings`.
Result<JobSpec> ParseJob(std::string_view document, const JobLimits& limits = {});

// Each of `job.outputs` must be an output position of its ffmpeg arguments (so that it can be
// written under a temporary name). OK when they all are; otherwise the error names the first
// that is not.
Status CheckJobOutputs(const JobSpec& job);

// Best effort: the id of a document that failed validation, when it has a usable one (so its
// state hash can still say bad_job). Empty otherwise.
std::string SalvageJobId(std::string_view document);

// A new job document for `ffpod enqueue`.
std::string MakeJobDocument(const JobSpec& job);

// What an HLS playlist output lists (docs/queue.md): the result names the playlist and counts
// its segments, never lists them.
struct HlsSummary {
  bool master = false;  // a master playlist: `variants` counts its variant playlists
  int64_t variants = 0;
  int64_t segments = 0;       // media segments listed (a media playlist)
  int64_t bytes = 0;          // of the files listed (each file once), and the init section
  double duration_s = 0;      // sum of the segments' #EXTINF
  int64_t missing = 0;        // listed local files that do not exist
  std::string first_missing;  // the first of them, as listed
};

struct OutputFile {
  std::string path;
  int64_t bytes = 0;
  std::string sha256;  // lowercase hex
  // What verification's ffprobe found (docs/verification.md); absent when it did not run.
  std::optional<double> duration_s;
  std::vector<std::string> streams;  // stream kinds, in order
  std::optional<HlsSummary> hls;     // the output is an HLS playlist
};

struct WorkerIdentity {
  std::string id;
  std::string pod;
  std::string node;
};

// Result statuses of one attempt.
// kSuperseded: an attempt whose claim was fenced (docs/queue.md): recorded for the audit only.
// kCancelled: stopped (or not started) on request; terminal, outside the dead list.
// kRerouted: the attempt's reason has a route: the job moved to another queue's pending list.
enum class ResultStatus {
  kSucceeded,
  kFailed,
  kRetrying,
  kPreempted,
  kDead,
  kSuperseded,
  kCancelled,
  kRerouted
};
std::string_view ResultStatusName(ResultStatus status);

struct ResultDoc {
  std::string id;  // may be empty for a bad_job without a usable id
  int attempt = 1;
  ResultStatus status = ResultStatus::kFailed;
  Reason reason = Reason::kUnknown;
  std::string message;
  std::optional<ExitStatus> exit;  // absent when ffmpeg never ran (bad_job, worker_lost)
  std::string started_at;          // RFC 3339
  std::string finished_at;
  double duration_s = 0;
  std::optional<ProgressView> progress;
  std::vector<OutputFile> outputs;
  std::string ffmpeg_path;
  std::string ffmpeg_version;
  // The audit trail: the ffmpeg build, the arguments as run, the inputs, the image.
  ResultAudit audit;
  WorkerIdentity worker;
  std::vector<std::string> stderr_tail;  // redacted
  std::string trace_id;
  std::optional<double> next_attempt_in_s;  // for retrying: when it will run again
  std::string rerouted_to;                  // for rerouted: the queue the job moved to
  // Output verification: "passed", "failed", "skipped" or "off"; empty when it did not come to
  // it (ffmpeg failed, no declared outputs).
  std::string verification;
  std::string verification_message;               // the evidence (failed) or why (skipped)
  std::map<std::string, uint64_t> decode_errors;  // by kind (parsers/ffmpeg/decode_errors.h)
};

boost::json::object ResultToJson(const ResultDoc& result);
std::string SerializeResult(const ResultDoc& result);

// The exit status of `ffpod run`. `classified`: the reason's code (docs/failure-reasons.md).
// `ffmpeg`: ffmpeg's own status, 128+N when it died of signal N, 127/126 when it could not be
// executed; but when ffpod itself stopped ffmpeg and ffmpeg then exited 0 (after `q`), a
// success would be a lie: a drain reports 143 (as if the SIGTERM had reached ffmpeg), a stall,
// timeout or cancel reports 1.
int RunExitCode(bool classified, const ExitStatus& exit, Reason reason);

// The one-line summary `ffpod run` writes to the termination log (<= max_bytes, UTF-8 safe):
// "reason=disk_full exit=0 message=Error writing trailer of /out.mp4: No space left on device".
std::string TerminationSummary(const ResultDoc& result, size_t max_bytes = 4096);

}  // namespace ffpod
