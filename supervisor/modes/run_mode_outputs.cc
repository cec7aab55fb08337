// RunMode, the outputs' part (--output): ffmpeg writes each declared output to a hidden
// temporary beside it; only a run whose ffmpeg succeeded renames them onto the final paths
// (then removes the temporaries earlier, killed runs of the same outputs left); any other end
// removes them (JobAttempt). A drained Job's retry so finds nothing partial at a final path.
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <utility>

#include "parsers/ffmpeg/ffmpeg_args.h"
#include "supervisor/job/output_verifier.h"
#include "supervisor/job/outputs.h"
#include "supervisor/modes/run_mode.h"

namespace ffpod {

namespace asio = boost::asio;

Status RunMode::CheckOutputs() const {
  if (config_.outputs.empty()) return Status::Ok();
  if (wrapper_) {
    return Error{"--output needs ffpod to run ffmpeg itself: the arguments of a wrapper (" +
                 config_.ffmpeg_argv.front() +
                 ") are passed untouched, so the output cannot be written to a temporary"};
  }
  FfmpegCommand cmd = AnalyzeFfmpegArgs(
      std::vector<std::string>(config_.ffmpeg_argv.begin() + 1, config_.ffmpeg_argv.end()));
  std::string listed;
  for (const auto& o : cmd.outputs) listed += (listed.empty() ? "" : ", ") + o.url;
  for (const auto& path : config_.outputs) {
    bool found = false;
    for (const auto& o : cmd.outputs) found = found || o.url == path;
    if (!found) {
      return Error{"--output " + path + " is not an output of the ffmpeg command (" +
                   (listed.empty() ? std::string("it has none") : "its outputs: " + listed) + ")"};
    }
    if (path == "-" || path.starts_with("pipe:") || path.find("://") != std::string::npos) {
      return Error{"--output " + path + " is not a local file: only files can be published"};
    }
    for (const auto& in : cmd.inputs) {
      if (in.url == path) {
        return Error{"--output " + path +
                     " is also an input: publishing it would replace what ffmpeg reads"};
      }
    }
  }
  return Status::Ok();
}

// One name per process: a Job's new pod never meets the temporary of an earlier one, whose
// leftovers (a SIGKILLed pod's) are removed once this run has published.
std::map<std::string, std::string> RunMode::MakeTemporaries() const {
  if (config_.outputs.empty()) return {};
  return TemporaryOutputs(config_.outputs, identity_.id + "-run" + std::to_string(::getpid()));
}

void RunMode::Publish(ResultDoc result, JobOutcome outcome) {
  published_ = true;
  if (result.reason != Reason::kOk || temporaries_.empty()) {
    OnFinished(std::move(result), outcome);
    return;
  }
  VerifyPolicy policy;
  policy.enabled = config_.verify_outputs;
  if (!policy.enabled) {
    VerifyOutcome off;
    off.status = "off";
    Rename(std::move(result), std::move(outcome), std::move(off));
    return;
  }
  VerifierTools tools{.ffmpeg = attempt_->spec().ffmpeg, .ffprobe = config_.ffprobe};
  std::vector<std::string> args(config_.ffmpeg_argv.begin() + 1, config_.ffmpeg_argv.end());
  std::vector<VerifyTarget> targets =
      VerifyTargets(args, config_.outputs, temporaries_, outcome.expected_duration_us, policy);
  attempt_->trace().VerifyStarted(targets.size());
  VerifyOutputs(service_.processes(), tools, std::move(targets), attempt_->decode_errors(), policy,
                [this, result = std::move(result),
                 outcome = std::move(outcome)](VerifyOutcome verified) mutable {
                  attempt_->trace().VerifyEnded(verified.status, verified.message);
                  if (verified.status != "failed") {
                    Rename(std::move(result), std::move(outcome), std::move(verified));
                    return;
                  }
                  RemoveTemporaries(temporaries_);
                  publish_failed_ = true;
                  result.reason = Reason::kOutputInvalid;
                  result.message = verified.message;
                  AddVerification(result, verified);
                  OnFinished(std::move(result), outcome);
                });
}

// Renames and hashes off the loop, then finishes on it.
void RunMode::Rename(ResultDoc result, JobOutcome outcome, VerifyOutcome verified) {
  asio::post(publish_pool_, [this, result = std::move(result), outcome = std::move(outcome),
                             verified = std::move(verified), temporaries = temporaries_,
                             outputs = config_.outputs]() mutable {
    // Hashed where ffmpeg wrote them, so that a playlist with a hole is never published.
    PublishedOutputs published = HashBeforePublishing(temporaries, outputs);
    std::optional<std::string> hole;
    if (published.status.ok() && verified.status != "off") hole = JudgeHlsOutputs(published.files);
    if (published.status.ok() && !hole) published.status = PublishOutputs(temporaries);
    if (!published.status.ok() || hole) RemoveTemporaries(temporaries);
    int removed = published.status.ok() && !hole ? RemoveOtherTemporaries(outputs, temporaries) : 0;
    asio::post(service_.io(), [this, result = std::move(result), outcome = std::move(outcome),
                               verified = std::move(verified), published = std::move(published),
                               hole = std::move(hole), removed]() mutable {
      result.outputs = std::move(published.files);
      if (hole) {
        verified.status = "failed";
        verified.message = *hole;
      }
      AddVerification(result, verified);
      if (hole) {
        publish_failed_ = true;
        result.reason = Reason::kOutputInvalid;
        result.message = *hole;
      } else if (!published.status.ok()) {
        publish_failed_ = true;
        result.reason = Reason::kOutputFailed;
        result.message = published.status.error().message;
      }
      if (removed > 0) {
        logger_.Info("removed temporary outputs of earlier runs", {{"temporaries", removed}});
      }
      OnFinished(std::move(result), outcome);
    });
  });
}

}  // namespace ffpod
