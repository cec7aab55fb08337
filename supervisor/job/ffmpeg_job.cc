#include "supervisor/job/ffmpeg_job.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "parsers/ffmpeg/stats_line.h"
#include "parsers/telemetry/redact.h"
#include "supervisor/job/child_pipes.h"

namespace ffpod {

namespace asio = boost::asio;

FfmpegJob::FfmpegJob(asio::io_context& io, Clock& clock, Processes& processes, Logger& logger,
                     FfmpegJobOptions options, Callbacks callbacks)
    : io_(io),
      clock_(clock),
      processes_(processes),
      logger_(logger),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      command_(options_.wrapper ? FfmpegCommand{} : AnalyzeFfmpegArgs(options_.args)),
      secrets_(options_.args),
      classifier_(ClassifierContext{}),
      tracker_(0),
      stdin_pipe_(io),
      stderr_pipe_(io),
      progress_pipe_(io),
      stderr_(
          logger, options_.log_fields, secrets_, options_.stderr_tail_lines,
          options_.stderr_log_level,
          {.inspect = [this](const SplitLine& l) { return InspectStderrLine(l); },
           .on_line =
               [this](const LogLine& line) {
                 if (callbacks_.on_stderr_line) callbacks_.on_stderr_line(line);
               },
           .on_event = [this](std::string_view n, const boost::json::object& a) { Emit(n, a); }}),
      probes_(processes, logger, options_.log_fields, options_.ffprobe, options_.probe_timeout,
              {.on_run =
                   [this](const ProbeRun& run) {
                     if (callbacks_.on_probe) callbacks_.on_probe(run);
                   },
               .on_answer =
                   [this] {
                     UpdateExpectedDuration();
                     MaybeFinish();
                   }}),
      stop_(clock, [this] { Kill(); }),
      watchdog_(clock, tracker_, options_.stall_timeout,
                options_.timeout ? std::optional<Duration>(*options_.timeout) : std::nullopt,
                {.stopping = [this] { return stopping(); },
                 .timeout =
                     [this](SteadyTime now) {
                       OnStopDue(StopCause::kTimeout, "job ran past its timeout; stopping ffmpeg",
                                 "timeout", "timeout_s", *options_.timeout, now);
                     },
                 .stall =
                     [this](SteadyTime now) {
                       OnStopDue(StopCause::kStall,
                                 "ffmpeg made no progress for the stall timeout; stopping it",
                                 "stall", "stall_timeout_s", options_.stall_timeout, now);
                     }}),
      reporter_(clock, logger, tracker_, options_.progress_log_period, options_.log_fields,
                [this](std::string_view n, const boost::json::object& a) { Emit(n, a); }),
      drain_timer_(clock.MakeTimer()),
      probe_kill_timer_(clock.MakeTimer()) {
  ClassifierContext ctx;
  for (const auto& in : command_.inputs) ctx.inputs.push_back(in.url);
  for (const auto& out : command_.outputs) {
    auto renamed = options_.rewrite.output_renames.find(out.url);
    ctx.outputs.push_back(out.url);
    if (renamed != options_.rewrite.output_renames.end()) ctx.outputs.push_back(renamed->second);
  }
  ctx.version = options_.version;
  classifier_ = FailureClassifier(std::move(ctx));
}

FfmpegJob::~FfmpegJob() {
  *alive_ = false;
  if (pid_ > 0 && !reaped_) {
    // Never leave an ffmpeg behind: the owner is going away.
    processes_.SignalGroup(pid_, SIGKILL);
    processes_.Forget(pid_);
  }
}

void FfmpegJob::Emit(std::string_view name, const boost::json::object& attributes) const {
  if (callbacks_.on_event) callbacks_.on_event(name, attributes);
}

void FfmpegJob::Start() {
  started_ = true;
  started_at_ = clock_.WallNow();
  started_steady_ = clock_.Now();
  tracker_ = ProgressTracker(0);
  if (options_.read_oom_kills) oom_before_ = options_.read_oom_kills();

  RewrittenArgs rewritten;
  if (options_.wrapper) {
    rewritten.args = options_.args;  // a script's arguments are its own
    rewritten.progress_channel = options_.rewrite.progress_fd >= 0;
  } else {
    rewritten = RewriteFfmpegArgs(options_.args, command_, options_.rewrite);
  }
  progress_channel_ = rewritten.progress_channel;
  exec_args_ = rewritten.args;
  stdin_owned_ = !command_.ReadsStdin();

  ChildPipes pipes;
  if (!pipes.Open(stdin_owned_, progress_channel_)) {
    NotStarted(ExitStatus::NotStarted(126),
               std::string("cannot create pipes: ") + std::strerror(errno));
    return;
  }
  // Our ends go to the loop before the spawn: when they cannot be watched, nothing starts.
  if (Status attached =
          AttachPipes(ChildPipes::Take(pipes.stdin_fds[1]), ChildPipes::Take(pipes.stderr_fds[0]),
                      ChildPipes::Take(pipes.progress_fds[0]));
      !attached.ok()) {
    NotStarted(ExitStatus::NotStarted(126), attached.error().message);
    return;
  }
  SpawnOptions spawn;
  spawn.executable = options_.ffmpeg;
  spawn.args = rewritten.args;
  spawn.stdin_fd = stdin_owned_ ? pipes.stdin_fds[0] : SpawnOptions::kInherit;
  spawn.stdout_fd = options_.pass_stdout ? SpawnOptions::kInherit : -1;
  spawn.stderr_fd = pipes.stderr_fds[1];
  if (progress_channel_) {
    spawn.extra_fds.push_back({options_.rewrite.progress_fd, pipes.progress_fds[1]});
    // The script passes `-progress pipe:$FFPOD_PROGRESS_FD` to its ffmpeg.
    if (options_.wrapper) {
      spawn.extra_env.push_back("FFPOD_PROGRESS_FD=" +
                                std::to_string(options_.rewrite.progress_fd));
    }
  }
  SpawnOutcome spawned = processes_.Spawn(spawn);
  pipes.CloseChildEnds();
  if (spawned.pid <= 0) {
    ClosePipes();
    resolved_ffmpeg_ = options_.ffmpeg;
    ExitStatus exit = spawned.not_started.value_or(ExitStatus::NotStarted(126));
    boost::json::object f = Fields();
    f["error"] = spawned.error;
    f["exit_code"] = exit.code;
    logger_.Error("ffmpeg could not be started", f);
    NotStarted(exit, spawned.error);
    return;
  }
  pid_ = spawned.pid;
  resolved_ffmpeg_ = processes_.Resolve(options_.ffmpeg);
  processes_.Watch(pid_, [this, alive = alive_](int status) {
    if (*alive) OnReaped(status);
  });
  LogStarted(rewritten.args);

  ReadStderr();
  if (progress_channel_) ReadProgress();
  probes_.Start(command_);
  UpdateExpectedDuration();
  watchdog_.Start(started_steady_);
  reporter_.Start();
}

// The exec (or the pipes before it) failed: reported as not started, after this turn.
void FfmpegJob::NotStarted(ExitStatus exit, const std::string& why) {
  exit_ = exit;
  classifier_.Observe("ffpod: " + why);
  reaped_ = true;
  asio::post(io_, [this, alive = alive_] {
    if (*alive) MaybeFinish();
  });
}

Status FfmpegJob::AttachPipes(int stdin_fd, int stderr_fd, int progress_fd) {
  boost::system::error_code ec;
  auto attach = [&ec](asio::posix::stream_descriptor& pipe, int& fd) {
    if (ec || fd < 0) return;
    pipe.assign(fd, ec);
    if (!ec) fd = -1;  // the descriptor owns it now
  };
  if (stdin_owned_) attach(stdin_pipe_, stdin_fd);
  attach(stderr_pipe_, stderr_fd);
  if (progress_channel_) attach(progress_pipe_, progress_fd);
  for (int fd : {stdin_fd, stderr_fd, progress_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (ec) {
    ClosePipes();
    return Error{"cannot watch ffmpeg's pipes: " + ec.message()};
  }
  stderr_open_ = true;
  progress_open_ = progress_channel_;
  return Status::Ok();
}

void FfmpegJob::ClosePipes() {
  boost::system::error_code ignored;
  stdin_pipe_.close(ignored);
  stderr_pipe_.close(ignored);
  progress_pipe_.close(ignored);
  stderr_open_ = false;
  progress_open_ = false;
}

void FfmpegJob::LogStarted(const std::vector<std::string>& args) {
  boost::json::object f = Fields();
  f["pid"] = pid_;
  f["ffmpeg"] = resolved_ffmpeg_;
  if (options_.wrapper) f["command_kind"] = "wrapper";
  boost::json::array redacted;
  for (const auto& a : RedactArgs(args)) redacted.emplace_back(a);
  f["args"] = std::move(redacted);
  logger_.Info("ffmpeg started", f);
}

const FfmpegVersion& FfmpegJob::version() const {
  return facts_.version() ? *facts_.version() : options_.version;
}

std::optional<double> FfmpegJob::EtaSeconds() const {
  auto remaining = tracker_.RemainingMediaSeconds();
  if (!remaining) return std::nullopt;
  auto speed = tracker_.SmoothedSpeed();
  if (!speed || *speed <= 0) return std::nullopt;
  return *remaining / *speed;
}

void FfmpegJob::UpdateExpectedDuration() {
  std::vector<std::optional<int64_t>> durations(command_.inputs.size());
  for (size_t i = 0; i < durations.size(); ++i) {
    // ffprobe's figure is exact; ffmpeg's banner rounds to 1/100 s.
    if (auto probed = probes_.duration(i)) {
      durations[i] = probed;
    } else if (auto printed = facts_.InputDuration(static_cast<int>(i))) {
      durations[i] = *printed;
    }
  }
  tracker_.SetExpectedDuration(ExpectedOutputDurationUs(command_, durations));
}

void FfmpegJob::ReadStderr() {
  stderr_pipe_.async_read_some(
      asio::buffer(stderr_buf_),
      [this, alive = alive_](const boost::system::error_code& ec, size_t n) {
        if (!*alive) return;
        if (ec) {
          stderr_.Finish();
          boost::system::error_code ignored;
          stderr_pipe_.close(ignored);
          stderr_open_ = false;
          MaybeFinish();
          return;
        }
        stderr_.Feed(std::string_view(stderr_buf_.data(), n));
        ReadStderr();
      });
}

void FfmpegJob::ReadProgress() {
  progress_pipe_.async_read_some(
      asio::buffer(progress_buf_),
      [this, alive = alive_](const boost::system::error_code& ec, size_t n) {
        if (!*alive) return;
        if (ec) {
          boost::system::error_code ignored;
          progress_pipe_.close(ignored);
          progress_open_ = false;
          MaybeFinish();
          return;
        }
        std::vector<ProgressBlock> blocks;
        uint64_t errors_before = progress_parser_.errors();
        progress_parser_.Feed(std::string_view(progress_buf_.data(), n), &blocks);
        if (progress_parser_.errors() != errors_before && callbacks_.on_progress_parse_errors) {
          callbacks_.on_progress_parse_errors(progress_parser_.errors() - errors_before);
        }
        if (!blocks.empty()) progress_from_fd_ = true;
        for (const auto& b : blocks) OnProgressBlock(b);
        ReadProgress();
      });
}

// Progress stats lines and the version banner are ffpod's own; every other line is observed by
// the classifier and goes on to the log.
bool FfmpegJob::InspectStderrLine(const SplitLine& line) {
  std::string_view raw = line.text;
  if (auto stats = ParseStatsLine(raw)) {
    // The stats line is progress, not a log line. It is the progress source only when the user
    // took -progress for themselves, or when a wrapper's ffmpeg does not use the progress fd.
    if (!progress_channel_ || (options_.wrapper && !progress_from_fd_)) {
      ProgressBlock block = ToProgressBlock(*stats);
      // The final report ends with '\n' (periodic ones with '\r'); an audio-only or 6.1/7.0
      // stream-copy job has no `L` to mark it.
      if (line.end == LineEnd::kNewline) block.end = true;
      OnProgressBlock(block);
    }
    return true;
  }
  size_t inputs_before = facts_.inputs_seen();
  if (facts_.Observe(raw)) {
    // The version banner: known from its first line, forwarded for debugging only.
    if (logger_.Enabled(Severity::kDebug)) {
      boost::json::object f = Fields();
      f["source"] = "ffmpeg";
      logger_.Debug(secrets_.Redact(DecodeLogLine(raw).message), f);
    }
    return true;
  }
  if (facts_.inputs_seen() != inputs_before) UpdateExpectedDuration();
  classifier_.Observe(raw);
  return false;
}

void FfmpegJob::OnProgressBlock(const ProgressBlock& block) {
  if (options_.wrapper && command_.inputs.empty() && tracker_.blocks() < kWrapperLookups) {
    FindWrappedFfmpeg();
  }
  tracker_.Update(block, TrackerTimeUs(started_steady_, clock_.Now()));
  if (callbacks_.on_progress) callbacks_.on_progress(block);
  reporter_.OnBlock();
}

// A wrapper's ffmpeg runs (its progress arrives): its own arguments tell the inputs to probe
// and the limits that make the expected duration, hence percent and ETA.
void FfmpegJob::FindWrappedFfmpeg() {
  auto inner_ffmpeg = processes_.FfmpegIn(pid_);
  if (!inner_ffmpeg) return;
  FfmpegCommand inner = AnalyzeFfmpegArgs(inner_ffmpeg->args);
  if (inner.inputs.empty()) return;
  // Its relative paths are relative to its own directory, not to ffpod's.
  for (auto& in : inner.inputs) {
    if (in.url.starts_with("file:") && !in.url.starts_with("file:/")) return;
    bool relative = !in.url.empty() && in.url.front() != '/' &&
                    in.url.find(':') == std::string::npos && !in.reads_stdin;
    if (!relative) continue;
    if (inner_ffmpeg->cwd.empty()) return;  // unknown: no probe of another file by that name
    in.url = inner_ffmpeg->cwd + "/" + in.url;
  }
  command_ = std::move(inner);
  boost::json::object f = Fields();
  f["inputs"] = command_.inputs.size();
  logger_.Debug("found the wrapper's ffmpeg", f);
  probes_.Start(command_);
  UpdateExpectedDuration();
}

// The watchdog found a stop due (the job timeout or a stall).
void FfmpegJob::OnStopDue(StopCause cause, std::string_view why, std::string_view event,
                          std::string_view timeout_field, Duration timeout, SteadyTime now) {
  boost::json::object f = Fields();
  f[timeout_field] = std::chrono::duration<double>(timeout).count();
  if (cause == StopCause::kStall) f["blocks"] = tracker_.blocks();
  logger_.Warn(std::string(why), f);
  Emit(event, {{timeout_field, f[timeout_field]}});
  Stop(cause, now + options_.stop_timeout);
}

void FfmpegJob::Stop(StopCause cause, SteadyTime kill_at) {
  if (finished_ || reaped_ || pid_ <= 0) return;
  if (!stop_.Begin(cause, kill_at)) return;  // already stopping: at most the deadline moved
  // `q` works on every version, but only once transcoding runs and only when ffmpeg reads the
  // stdin ffpod owns. Before that (inputs still opening), one SIGINT aborts the blocking I/O.
  // A wrapper's ffmpeg may read media from a pipe (curl | ffmpeg -i -): one SIGINT to the whole
  // process group reaches it, and the shell waits for it to finish.
  bool use_q = !options_.wrapper && stdin_owned_ && !command_.has_nostdin && tracker_.has_block() &&
               stdin_pipe_.is_open();
  boost::json::object f = Fields();
  f["method"] = use_q ? "q" : options_.wrapper ? "SIGINT to the process group" : "SIGINT";
  f["kill_in_s"] =
      std::round(std::chrono::duration<double>(kill_at - clock_.Now()).count() * 10) / 10;
  logger_.Info("stopping ffmpeg gracefully", f);
  Emit("stop", {{"method", f["method"]}, {"kill_in_s", f["kill_in_s"]}});
  if (use_q) {
    static const char kQuit[] = "q";
    asio::async_write(stdin_pipe_, asio::buffer(kQuit, 1),
                      [](const boost::system::error_code&, size_t) {});
  } else if (options_.wrapper) {
    processes_.SignalGroup(pid_, SIGINT);
  } else {
    processes_.Signal(pid_, SIGINT);
  }
}

void FfmpegJob::Kill() {
  if (pid_ <= 0 || reaped_) return;
  killed_by_us_ = true;
  boost::json::object f = Fields();
  f["pid"] = pid_;
  logger_.Warn("ffmpeg did not stop in time; SIGKILL to its process group", f);
  processes_.SignalGroup(pid_, SIGKILL);
}

void FfmpegJob::OnReaped(int wait_status) {
  reaped_ = true;
  reaped_steady_ = clock_.Now();
  exit_ = DecodeWaitStatus(wait_status);
  stop_.Disarm();
  watchdog_.Stop();
  reporter_.Stop();
  // Whatever ffmpeg left in its process group goes with it. Probes still running (ffmpeg was
  // quicker than ffprobe) may finish within the wait below for the audit trail, unless ffpod
  // stopped the job: a drain or a cancel does not wait for them.
  processes_.SignalGroup(pid_, SIGKILL);
  if (stop_.cause() != StopCause::kNone) probes_.StopAll();
  boost::system::error_code ignored;
  stdin_pipe_.close(ignored);
  // A grandchild could hold the pipes open: wait for EOF, but not forever.
  drain_timer_->ArmAfter(std::chrono::seconds(2), [this] {
    boost::system::error_code e;
    stderr_pipe_.close(e);
    progress_pipe_.close(e);
    if (probes_.pending() > 0) {
      // Killed now, their ends (and spans) arrive at once; a probe that even SIGKILL does not
      // end (a hung mount) is abandoned after a moment.
      probes_.StopAll();
      probe_kill_timer_->ArmAfter(std::chrono::seconds(1), [this] {
        probes_abandoned_ = true;
        MaybeFinish();
      });
    }
    MaybeFinish();
  });
  MaybeFinish();
}

void FfmpegJob::MaybeFinish() {
  if (finished_ || !reaped_ || stderr_open_ || progress_open_) return;
  if (probes_.pending() > 0 && !probes_abandoned_) return;
  Finish();
}

void FfmpegJob::Finish() {
  finished_ = true;
  drain_timer_->Cancel();
  probe_kill_timer_->Cancel();
  watchdog_.Stop();
  reporter_.Stop();
  stop_.Disarm();
  probes_.Detach();
  JobOutcome outcome = Outcome();
  if (progress_parser_.errors() > 0) {
    boost::json::object f = Fields();
    f["errors"] = progress_parser_.errors();
    logger_.Debug("progress lines that could not be parsed", f);
  }
  auto cb = callbacks_.on_finished;
  if (cb) cb(outcome);
}

JobOutcome FfmpegJob::Outcome() {
  JobOutcome outcome;
  outcome.exit = exit_;
  outcome.spawned = pid_ > 0;
  outcome.stop = stop_.cause();
  bool oom_rose = false;
  if (options_.read_oom_kills && oom_before_) {
    auto after = options_.read_oom_kills();
    oom_rose = after && *after > *oom_before_;
  }
  // SIGKILL that ffpod sent at a stop deadline belongs to the stop, not to the kernel.
  outcome.classification = classifier_.Classify(exit_, stop_.cause(), oom_rose && !killed_by_us_);
  // The classifier sees raw lines (its rules match the job's own URLs); what it quotes does not.
  outcome.classification.message = secrets_.Redact(outcome.classification.message);
  outcome.classification.evidence = secrets_.Redact(outcome.classification.evidence);
  outcome.progress = tracker_.View();
  outcome.started_at = started_at_;
  outcome.finished_at = clock_.WallNow();
  outcome.duration_s = std::chrono::duration<double>(clock_.Now() - started_steady_).count();
  outcome.spawned_steady = started_steady_;
  outcome.exited_steady = reaped_ ? reaped_steady_ : clock_.Now();
  outcome.stderr_tail = stderr_.Tail();
  outcome.ffmpeg_path = resolved_ffmpeg_;
  outcome.expected_duration_us = tracker_.expected_duration_us();
  for (const auto& a : RedactArgs(exec_args_)) outcome.args.push_back(secrets_.Redact(a));
  outcome.input_probes = probes_.answers();
  return outcome;
}

}  // namespace ffpod
