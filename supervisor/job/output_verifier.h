// Verification of an attempt's outputs before they are published (docs/verification.md): for
// each, ffprobe (container duration, stream kinds) and a decode of its last seconds, judged by
// parsers/policy/output_verdict.h, then the decode errors ffmpeg reported while encoding. The
// first failure is the evidence of output_invalid; nothing is published then.
//
// Threading: the io_context thread; the commands run as child processes (Processes::Run), one
// at a time, each bounded by the timeout.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/documents/job.h"
#include "parsers/documents/verify_policy.h"
#include "parsers/ffmpeg/decode_errors.h"
#include "parsers/policy/output_verdict.h"
#include "probes/os/process.h"

namespace ffpod {

// One output to verify: where it will be published, where ffmpeg wrote it, what it must hold.
struct VerifyTarget {
  std::string path;
  std::string written;
  OutputExpectation expected;
};

// The targets for `outputs` (final paths) of the ffmpeg arguments `args`, written to their
// `temporaries` (or in place), with `expected_us` the attempt's expected output duration.
std::vector<VerifyTarget> VerifyTargets(const std::vector<std::string>& args,
                                        const std::vector<std::string>& outputs,
                                        const std::map<std::string, std::string>& temporaries,
                                        std::optional<int64_t> expected_us,
                                        const VerifyPolicy& policy);

struct VerifyOutcome {
  // "passed", "failed", or "skipped" (no ffprobe configured, or nothing to verify).
  std::string status = "passed";
  std::string message;  // the evidence when failed, why when skipped
  // What ffprobe found, by final path, for the outputs it probed.
  std::map<std::string, ProbedOutput> probed;
};

struct VerifierTools {
  std::string ffmpeg;
  std::string ffprobe;  // empty: verification is skipped
  std::chrono::milliseconds timeout{30000};
};

// Runs the checks, then `done` once on the loop. `processes` outlives the run.
void VerifyOutputs(Processes& processes, const VerifierTools& tools,
                   std::vector<VerifyTarget> targets, const DecodeErrorCounts& decode_errors,
                   const VerifyPolicy& policy, std::function<void(VerifyOutcome)> done);

// Puts what verification found into the result: each output's duration and streams, and the
// verification's status and message (the decode errors are already there: JobAttempt).
void AddVerification(ResultDoc& result, const VerifyOutcome& outcome);

}  // namespace ffpod
