#include "supervisor/job/duration_probes.h"

#include "parsers/telemetry/redact.h"
#include "probes/input_probe.h"

namespace ffpod {

using std::chrono::system_clock;

DurationProbes::DurationProbes(Processes& processes, Logger& logger,
                               const boost::json::object& fields, std::string ffprobe,
                               std::chrono::milliseconds timeout, Hooks hooks)
    : processes_(processes),
      logger_(logger),
      fields_(fields),
      ffprobe_(std::move(ffprobe)),
      timeout_(timeout),
      hooks_(std::move(hooks)) {}

DurationProbes::~DurationProbes() { *alive_ = false; }

void DurationProbes::Start(const FfmpegCommand& command) {
  command_ = &command;
  probed_.assign(command.inputs.size(), std::nullopt);
  answers_.assign(command.inputs.size(), InputProbeAnswer{});
  for (size_t i = 0; i < command.inputs.size(); ++i) {
    const FfmpegInput& in = command.inputs[i];
    // Local files only: a network input is not fetched twice (signed URLs, egress); ffmpeg's own
    // `Duration:` line covers it.
    bool local = in.url.find("://") == std::string::npos || in.url.starts_with("file:");
    if (!local) {
      answers_[i].skipped = "not a local file: ffpod never reads a network input twice";
    } else if (!IsProbeableInput(in.url, in.format)) {
      answers_[i].skipped = "not a file ffprobe can read twice";
    } else if (ffprobe_.empty()) {
      answers_[i].skipped = "no ffprobe to run (--ffprobe)";
    }
    if (!answers_[i].skipped.empty()) continue;
    answers_[i].skipped = "ffprobe had not answered when the result was taken";
    ++pending_;
    auto args = FfprobeDurationArgs(in.url);
    if (!in.format.empty()) args.insert(args.end() - 2, {"-f", in.format});
    auto started = system_clock::now();
    stops_.push_back(
        processes_.Run(ffprobe_, args, timeout_,
                       [this, i, args, started, alive = alive_](const CommandOutput& out) {
                         if (*alive) OnEnded(i, args, started, out);
                       }));
  }
}

void DurationProbes::StopAll() {
  if (pending_ == 0) return;
  for (auto& stop : stops_) stop();
}

void DurationProbes::OnEnded(size_t input, const std::vector<std::string>& args,
                             system_clock::time_point started, const CommandOutput& out) {
  if (detached_) {  // abandoned: the job was reported without it
    --pending_;
    return;
  }
  if (hooks_.on_run) {
    hooks_.on_run(ProbeRun{ffprobe_, RedactArgs(args), started, system_clock::now(), out.exit,
                           out.timed_out, out.cancelled});
  }
  InputProbeAnswer& answer = answers_[input];
  if (out.exit.Succeeded()) {
    answer.facts = ParseInputProbe(out.out);
    if (answer.facts) probed_[input] = ProbedDurationUs(*answer.facts);
  }
  if (answer.facts) {
    answer.skipped.clear();
  } else if (out.cancelled) {
    answer.skipped = "ffmpeg exited before ffprobe answered";
  } else if (out.timed_out) {
    answer.skipped = "ffprobe timed out";
  } else {
    std::string why = RedactText(out.err.substr(0, 200));
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    answer.skipped = "ffprobe failed" + (why.empty() ? std::string() : ": " + why);
  }
  if (!probed_[input] && !out.cancelled) {
    boost::json::object f = fields_;
    f["input"] = RedactUrl(command_->inputs[input].url);
    f["reason"] =
        out.timed_out ? std::string("ffprobe timed out") : RedactText(out.err.substr(0, 300));
    logger_.Debug("ffprobe could not tell the input's duration", f);
  }
  --pending_;
  if (hooks_.on_answer) hooks_.on_answer();
}

}  // namespace ffpod
