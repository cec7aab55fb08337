#include "supervisor/job/output_verifier.h"

#include <utility>

namespace ffpod {

namespace {

// The first line of a command's stderr, for the evidence.
std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

struct VerifyRun : std::enable_shared_from_this<VerifyRun> {
  Processes& processes;
  VerifierTools tools;
  std::vector<VerifyTarget> targets;
  DecodeErrorCounts decode_errors;
  VerifyPolicy policy;
  std::function<void(VerifyOutcome)> done;
  VerifyOutcome outcome;
  size_t next = 0;

  VerifyRun(Processes& p, VerifierTools t, std::vector<VerifyTarget> v, DecodeErrorCounts d,
            VerifyPolicy pol, std::function<void(VerifyOutcome)> cb)
      : processes(p),
        tools(std::move(t)),
        targets(std::move(v)),
        decode_errors(std::move(d)),
        policy(std::move(pol)),
        done(std::move(cb)) {}

  void Fail(std::string message) {
    outcome.status = "failed";
    outcome.message = std::move(message);
    done(std::move(outcome));
  }

  // The outputs are done (or cannot be checked): the decode errors still count.
  void Finish() {
    if (auto evidence = JudgeDecodeErrors(decode_errors, policy)) {
      Fail(*evidence);
      return;
    }
    done(std::move(outcome));
  }

  // A tool that cannot be executed says nothing about the output: verification is skipped, and
  // the worker's readiness and logs already say the tool is missing.
  void Skip(const std::string& tool, const CommandOutput& out) {
    outcome.status = "skipped";
    outcome.message = tool + " could not be run (exit " + std::to_string(out.exit.code) +
                      "): " + FirstLine(out.err);
    Finish();
  }

  void ProbeNext() {
    if (next == targets.size()) {
      Finish();
      return;
    }
    const VerifyTarget& t = targets[next];
    processes.Run(tools.ffprobe, OutputProbeArgs(t.written), tools.timeout,
                  [self = shared_from_this()](const CommandOutput& out) { self->OnProbed(out); });
  }

  void OnProbed(const CommandOutput& out) {
    const VerifyTarget& t = targets[next];
    if (out.exit.kind == ExitStatus::Kind::kNotStarted) {
      Skip(tools.ffprobe, out);
      return;
    }
    Result<ProbedOutput> probed = ParseProbedOutput(out.out);
    if (out.timed_out || !out.exit.Succeeded() || !probed.ok()) {
      std::string why = out.timed_out ? "ffprobe timed out" : FirstLine(out.err);
      Fail("output " + t.path +
           " cannot be read: " + (why.empty() ? std::string("ffprobe printed nothing") : why));
      return;
    }
    outcome.probed[t.path] = *probed;
    if (auto evidence = JudgeOutput(t.path, *probed, t.expected, policy)) {
      Fail(*evidence);
      return;
    }
    processes.Run(
        tools.ffmpeg, TailDecodeArgs(t.written), tools.timeout,
        [self = shared_from_this()](const CommandOutput& decoded) { self->OnTail(decoded); });
  }

  void OnTail(const CommandOutput& out) {
    const VerifyTarget& t = targets[next];
    if (out.exit.kind == ExitStatus::Kind::kNotStarted) {
      Skip(tools.ffmpeg, out);
      return;
    }
    if (out.timed_out || !out.exit.Succeeded() || !out.err.empty()) {
      std::string why = out.timed_out ? "the decode timed out" : FirstLine(out.err);
      if (why.empty()) why = "ffmpeg exited with status " + std::to_string(out.exit.ShellCode());
      Fail("output " + t.path + " does not decode to its end: " + why);
      return;
    }
    ++next;
    ProbeNext();
  }
};

}  // namespace

std::vector<VerifyTarget> VerifyTargets(const std::vector<std::string>& args,
                                        const std::vector<std::string>& outputs,
                                        const std::map<std::string, std::string>& temporaries,
                                        std::optional<int64_t> expected_us,
                                        const VerifyPolicy& policy) {
  FfmpegCommand cmd = AnalyzeFfmpegArgs(args);
  std::vector<VerifyTarget> targets;
  for (const auto& path : outputs) {
    for (const auto& o : cmd.outputs) {
      if (o.url != path) continue;
      auto temp = temporaries.find(path);
      targets.push_back({.path = path,
                         .written = temp == temporaries.end() ? path : temp->second,
                         .expected = ExpectationFor(cmd, o, expected_us, policy)});
      break;
    }
  }
  return targets;
}

void VerifyOutputs(Processes& processes, const VerifierTools& tools,
                   std::vector<VerifyTarget> targets, const DecodeErrorCounts& decode_errors,
                   const VerifyPolicy& policy, std::function<void(VerifyOutcome)> done) {
  if (tools.ffprobe.empty() || targets.empty()) {
    VerifyOutcome skipped;
    skipped.status = "skipped";
    skipped.message = tools.ffprobe.empty() ? "no ffprobe (--ffprobe is empty)" : "no outputs";
    done(std::move(skipped));
    return;
  }
  auto run = std::make_shared<VerifyRun>(processes, tools, std::move(targets), decode_errors,
                                         policy, std::move(done));
  run->ProbeNext();
}

void AddVerification(ResultDoc& result, const VerifyOutcome& outcome) {
  for (auto& file : result.outputs) {
    auto probed = outcome.probed.find(file.path);
    if (probed == outcome.probed.end()) continue;
    file.duration_s = probed->second.duration_s;
    file.streams = probed->second.stream_kinds;
  }
  result.verification = outcome.status;
  result.verification_message = outcome.message;
}

}  // namespace ffpod
