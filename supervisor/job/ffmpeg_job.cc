#include "supervisor/job/ffmpeg_job.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <cstring>

#include "parsers/ffmpeg/stats_line.h"
#include "parsers/telemetry/redact.h"
#include "probes/input_probe.h"

namespace ffpod {

namespace asio = boost::asio;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace {

Severity SeverityOf(LogLevel level) {
  switch (level) {
    case LogLevel::kPanic:
    case LogLevel::kFatal:
    case LogLevel::kError:
      return Severity::kError;
    case LogLevel::kWarning:
      return Severity::kWarning;
    case LogLevel::kVerbose:
    case LogLevel::kDebug:
    case LogLevel::kTrace:
      return Severity::kDebug;
    case LogLevel::kInfo:
    case LogLevel::kUnknown:
      return Severity::kInfo;
  }
  return Severity::kInfo;
}

bool IsErrorLevel(LogLevel level) {
  return level == LogLevel::kError || level == LogLevel::kFatal || level == LogLevel::kPanic;
}

}  // namespace

FfmpegJob::FfmpegJob(asio::io_context& io, ChildReaper& reaper, Logger& logger,
                     FfmpegJobOptions options, Callbacks callbacks)
    : io_(io),
      reaper_(reaper),
      logger_(logger),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      command_(AnalyzeFfmpegArgs(options_.args)),
      classifier_(ClassifierContext{}),
      tracker_(0),
      stdin_pipe_(io),
      stderr_pipe_(io),
      progress_pipe_(io),
      watchdog_(io),
      progress_log_timer_(io),
      kill_timer_(io),
      drain_timer_(io) {
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
    ::kill(-pid_, SIGKILL);
    reaper_.Forget(pid_);
  }
}

int64_t FfmpegJob::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() -
                                                               started_steady_)
      .count();
}

boost::json::object FfmpegJob::Fields() const { return options_.log_fields; }

void FfmpegJob::Emit(std::string_view name, const boost::json::object& attributes) const {
  if (callbacks_.on_event) callbacks_.on_event(name, attributes);
}

void FfmpegJob::Start() {
  started_ = true;
  started_at_ = system_clock::now();
  started_steady_ = steady_clock::now();
  tracker_ = ProgressTracker(0);
  if (options_.read_oom_kills) oom_before_ = options_.read_oom_kills();

  RewrittenArgs rewritten = RewriteFfmpegArgs(options_.args, command_, options_.rewrite);
  progress_channel_ = rewritten.progress_channel;
  stdin_owned_ = !command_.ReadsStdin();

  int stdin_fds[2] = {-1, -1}, stderr_fds[2] = {-1, -1}, progress_fds[2] = {-1, -1};
  auto fail = [&](const std::string& what) {
    for (int fd : {stdin_fds[0], stdin_fds[1], stderr_fds[0], stderr_fds[1], progress_fds[0],
                   progress_fds[1]}) {
      if (fd >= 0) ::close(fd);
    }
    exit_ = ExitStatus::NotStarted(126);
    classifier_.Observe("ffpod: " + what);
    reaped_ = true;
    asio::post(io_, [this, alive = alive_] {
      if (*alive) MaybeFinish();
    });
  };
  if ((stdin_owned_ && !MakePipe(stdin_fds)) || !MakePipe(stderr_fds) ||
      (progress_channel_ && !MakePipe(progress_fds))) {
    fail(std::string("cannot create pipes: ") + std::strerror(errno));
    return;
  }

  SpawnOptions spawn;
  spawn.executable = options_.ffmpeg;
  spawn.args = rewritten.args;
  spawn.stdin_fd = stdin_owned_ ? stdin_fds[0] : SpawnOptions::kInherit;
  spawn.stdout_fd = options_.pass_stdout ? SpawnOptions::kInherit : -1;
  spawn.stderr_fd = stderr_fds[1];
  if (progress_channel_) {
    spawn.extra_fds.push_back({options_.rewrite.progress_fd, progress_fds[1]});
  }
  SpawnOutcome spawned = Spawn(io_, spawn);
  // The child has its own copies now.
  if (stdin_fds[0] >= 0) ::close(stdin_fds[0]);
  ::close(stderr_fds[1]);
  if (progress_fds[1] >= 0) ::close(progress_fds[1]);
  if (spawned.pid <= 0) {
    if (stdin_fds[1] >= 0) ::close(stdin_fds[1]);
    ::close(stderr_fds[0]);
    if (progress_fds[0] >= 0) ::close(progress_fds[0]);
    exit_ = spawned.not_started.value_or(ExitStatus::NotStarted(126));
    resolved_ffmpeg_ = options_.ffmpeg;
    boost::json::object f = Fields();
    f["error"] = spawned.error;
    f["exit_code"] = exit_.code;
    logger_.Error("ffmpeg could not be started", f);
    classifier_.Observe("ffpod: " + spawned.error);
    reaped_ = true;
    asio::post(io_, [this, alive = alive_] {
      if (*alive) MaybeFinish();
    });
    return;
  }
  pid_ = spawned.pid;
  resolved_ffmpeg_ = FindExecutable(options_.ffmpeg);
  if (stdin_owned_) stdin_pipe_.assign(stdin_fds[1]);
  stderr_pipe_.assign(stderr_fds[0]);
  stderr_open_ = true;
  if (progress_channel_) {
    progress_pipe_.assign(progress_fds[0]);
    progress_open_ = true;
  }
  reaper_.Watch(pid_, [this, alive = alive_](int status) {
    if (*alive) OnReaped(status);
  });

  boost::json::object f = Fields();
  f["pid"] = pid_;
  f["ffmpeg"] = resolved_ffmpeg_;
  boost::json::array args;
  for (const auto& a : RedactArgs(rewritten.args)) args.emplace_back(a);
  f["args"] = std::move(args);
  logger_.Info("ffmpeg started", f);

  ReadStderr();
  if (progress_channel_) ReadProgress();
  StartProbes(command_);
  ArmWatchdog();
  ArmProgressLog();  // the job timeout shares the watchdog's 250 ms check
}

const FfmpegVersion& FfmpegJob::version() const {
  return facts_.version() ? *facts_.version() : options_.version;
}

void FfmpegJob::StartProbes(const FfmpegCommand& cmd) {
  probed_.assign(cmd.inputs.size(), std::nullopt);
  for (size_t i = 0; i < cmd.inputs.size(); ++i) {
    const FfmpegInput& in = cmd.inputs[i];
    // Local files only: a network input is not fetched twice (signed URLs, egress); ffmpeg's own
    // `Duration:` line covers it.
    bool local = in.url.find("://") == std::string::npos || in.url.starts_with("file:");
    if (options_.ffprobe.empty() || !local || !IsProbeableInput(in.url, in.format)) continue;
    ++probes_pending_;
    auto args = FfprobeDurationArgs(in.url);
    if (!in.format.empty()) args.insert(args.end() - 2, {"-f", in.format});
    auto started = system_clock::now();
    probe_stops_.push_back(
        RunCommand(io_, reaper_, options_.ffprobe, args, options_.probe_timeout,
                   [this, i, args, started, alive = alive_](const CommandOutput& out) {
                     if (!*alive) return;
                     if (finished_) {  // abandoned (see OnReaped): the job was reported without it
                       --probes_pending_;
                       return;
                     }
                     if (callbacks_.on_probe) {
                       callbacks_.on_probe(ProbeRun{options_.ffprobe, RedactArgs(args), started,
                                                    system_clock::now(), out.exit, out.timed_out,
                                                    out.cancelled});
                     }
                     if (out.exit.Succeeded()) probed_[i] = ParseFfprobeDuration(out.out);
                     if (!probed_[i] && !out.cancelled) {
                       boost::json::object f = Fields();
                       f["input"] = RedactUrl(command_.inputs[i].url);
                       f["reason"] = out.timed_out ? std::string("ffprobe timed out")
                                                   : RedactText(out.err.substr(0, 300));
                       logger_.Debug("ffprobe could not tell the input's duration", f);
                     }
                     --probes_pending_;
                     UpdateExpectedDuration();
                     MaybeFinish();
                   }));
  }
  UpdateExpectedDuration();
}

void FfmpegJob::UpdateExpectedDuration() {
  std::vector<std::optional<int64_t>> durations(command_.inputs.size());
  for (size_t i = 0; i < durations.size(); ++i) {
    // ffprobe's figure is exact; ffmpeg's banner rounds to 1/100 s.
    if (probed_[i]) {
      durations[i] = probed_[i];
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
          stderr_splitter_.Finish([this](const SplitLine& l) { OnStderrLine(l); });
          FlushRepeats();
          boost::system::error_code ignored;
          stderr_pipe_.close(ignored);
          stderr_open_ = false;
          MaybeFinish();
          return;
        }
        OnStderrBytes(std::string_view(stderr_buf_.data(), n));
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
        for (const auto& b : blocks) OnProgressBlock(b);
        ReadProgress();
      });
}

void FfmpegJob::OnStderrBytes(std::string_view bytes) {
  stderr_splitter_.Feed(bytes, [this](const SplitLine& l) { OnStderrLine(l); });
}

void FfmpegJob::OnStderrLine(const SplitLine& line) {
  std::string_view raw = line.text;
  if (auto stats = ParseStatsLine(raw)) {
    // The stats line is progress, not a log line. It is the progress source only when the user
    // took -progress for themselves.
    if (!progress_channel_) {
      ProgressBlock block = ToProgressBlock(*stats);
      // The final report ends with '\n' (periodic ones with '\r'); an audio-only or 6.1/7.0
      // stream-copy job has no `L` to mark it.
      if (line.end == LineEnd::kNewline) block.end = true;
      OnProgressBlock(block);
    }
    return;
  }
  size_t inputs_before = facts_.inputs_seen();
  if (facts_.Observe(raw)) {
    // The version banner: known from its first line, forwarded for debugging only.
    if (logger_.Enabled(Severity::kDebug)) {
      boost::json::object f = Fields();
      f["source"] = "ffmpeg";
      logger_.Debug(DecodeLogLine(raw).message, f);
    }
    return;
  }
  if (facts_.inputs_seen() != inputs_before) UpdateExpectedDuration();
  classifier_.Observe(raw);
  LogLine decoded = DecodeLogLine(raw);
  if (callbacks_.on_stderr_line) callbacks_.on_stderr_line(decoded);
  std::string redacted = RedactText(raw);
  tail_.push_back(redacted);
  while (tail_.size() > options_.stderr_tail_lines) tail_.pop_front();
  if (IsErrorLevel(decoded.level) && error_events_ < 5) {
    ++error_events_;
    Emit("ffmpeg.error", {{"line", redacted}});
  }
  ForwardLine(decoded, raw);
}

void FfmpegJob::ForwardLine(const LogLine& decoded, std::string_view raw) {
  (void)raw;
  std::string message = RedactText(decoded.message);
  std::string key = std::string(decoded.component) + "\x1f" + message;
  if (key == last_forwarded_) {
    ++repeats_;
    return;
  }
  FlushRepeats();
  last_forwarded_ = key;
  last_level_ = decoded.level;
  Severity sev = SeverityOf(decoded.level);
  if (!logger_.Enabled(sev)) return;
  boost::json::object f = Fields();
  f["source"] = "ffmpeg";
  f["ffmpeg_level"] = LogLevelName(decoded.level);
  if (!decoded.component.empty()) f["component"] = RedactText(decoded.component);
  logger_.Log(sev, message, f);
}

void FfmpegJob::FlushRepeats() {
  if (repeats_ == 0) return;
  Severity sev = SeverityOf(last_level_);
  if (logger_.Enabled(sev)) {
    boost::json::object f = Fields();
    f["source"] = "ffmpeg";
    f["ffmpeg_level"] = LogLevelName(last_level_);
    f["repeated"] = repeats_;
    size_t sep = last_forwarded_.find('\x1f');
    logger_.Log(sev,
                "previous line repeated " + std::to_string(repeats_) +
                    " times: " + last_forwarded_.substr(sep + 1),
                f);
  }
  repeats_ = 0;
}

void FfmpegJob::OnProgressBlock(const ProgressBlock& block) {
  tracker_.Update(block, NowUs());
  if (callbacks_.on_progress) callbacks_.on_progress(block);
  ProgressView v = tracker_.View();
  if (v.ratio) {
    int pct = static_cast<int>(std::floor(*v.ratio * 100));
    while (milestone_ < 75 && pct >= milestone_ + 25) {
      milestone_ += 25;
      Emit("progress", {{"percent", milestone_}});
    }
  }
}

void FfmpegJob::ArmWatchdog() {
  watchdog_.expires_after(std::chrono::milliseconds(250));
  watchdog_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || reaped_) return;
    auto now = steady_clock::now();
    if (options_.timeout && !stopping() && now - started_steady_ >= *options_.timeout) {
      boost::json::object f = Fields();
      f["timeout_s"] = std::chrono::duration<double>(*options_.timeout).count();
      logger_.Warn("job ran past its timeout; stopping ffmpeg", f);
      Emit("timeout", {{"timeout_s", f["timeout_s"]}});
      Stop(StopCause::kTimeout, now + options_.stop_timeout);
    }
    int64_t stall_us =
        std::chrono::duration_cast<std::chrono::microseconds>(options_.stall_timeout).count();
    if (!stopping() && tracker_.Stalled(NowUs(), stall_us)) {
      boost::json::object f = Fields();
      f["stall_timeout_s"] = std::chrono::duration<double>(options_.stall_timeout).count();
      f["blocks"] = tracker_.blocks();
      logger_.Warn("ffmpeg made no progress for the stall timeout; stopping it", f);
      Emit("stall", {{"stall_timeout_s", f["stall_timeout_s"]}});
      Stop(StopCause::kStall, now + options_.stop_timeout);
    }
    ArmWatchdog();
  });
}

void FfmpegJob::ArmProgressLog() {
  progress_log_timer_.expires_after(options_.progress_log_period);
  progress_log_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || reaped_) return;
    boost::json::object f = Fields();
    for (auto& kv : ProgressFields(tracker_.View())) f[kv.key()] = kv.value();
    logger_.Info("progress", f);
    ArmProgressLog();
  });
}

void FfmpegJob::Stop(StopCause cause, steady_clock::time_point kill_at) {
  if (finished_ || reaped_ || pid_ <= 0) return;
  if (stop_cause_ != StopCause::kNone) {
    // Already stopping: never a second signal; only the SIGKILL deadline may come forward.
    if (!kill_at_ || kill_at < *kill_at_) {
      kill_at_ = kill_at;
      kill_timer_.expires_at(kill_at);
      kill_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
        if (!ec && *alive) Kill();
      });
    }
    return;
  }
  stop_cause_ = cause;
  // `q` works on every version, but only once transcoding runs and only when ffmpeg reads the
  // stdin ffpod owns. Before that (inputs still opening), one SIGINT aborts the blocking I/O.
  bool use_q =
      stdin_owned_ && !command_.has_nostdin && tracker_.has_block() && stdin_pipe_.is_open();
  boost::json::object f = Fields();
  f["method"] = use_q ? "q" : "SIGINT";
  f["kill_in_s"] =
      std::round(std::chrono::duration<double>(kill_at - steady_clock::now()).count() * 10) / 10;
  logger_.Info("stopping ffmpeg gracefully", f);
  Emit("stop", {{"method", f["method"]}, {"kill_in_s", f["kill_in_s"]}});
  if (use_q) {
    static const char kQuit[] = "q";
    asio::async_write(stdin_pipe_, asio::buffer(kQuit, 1),
                      [](const boost::system::error_code&, size_t) {});
  } else {
    ::kill(pid_, SIGINT);
  }
  kill_at_ = kill_at;
  kill_timer_.expires_at(kill_at);
  kill_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) Kill();
  });
}

void FfmpegJob::Kill() {
  if (pid_ <= 0 || reaped_) return;
  killed_by_us_ = true;
  boost::json::object f = Fields();
  f["pid"] = pid_;
  logger_.Warn("ffmpeg did not stop in time; SIGKILL to its process group", f);
  ::kill(-pid_, SIGKILL);
}

void FfmpegJob::OnReaped(int wait_status) {
  reaped_ = true;
  reaped_steady_ = steady_clock::now();
  exit_ = DecodeWaitStatus(wait_status);
  kill_timer_.cancel();
  watchdog_.cancel();
  progress_log_timer_.cancel();
  // Whatever ffmpeg left in its process group goes with it, and so do probes still running
  // (ffmpeg finished before ffprobe could tell the duration; the job waits for their ends).
  ::kill(-pid_, SIGKILL);
  if (probes_pending_ > 0) {
    for (auto& stop : probe_stops_) stop();
  }
  boost::system::error_code ignored;
  stdin_pipe_.close(ignored);
  // A grandchild could hold the pipes open: wait for EOF, but not forever.
  drain_timer_.expires_after(std::chrono::seconds(2));
  drain_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    boost::system::error_code e;
    stderr_pipe_.close(e);
    progress_pipe_.close(e);
    probes_abandoned_ = true;  // a probe that even SIGKILL does not end (a hung mount)
    MaybeFinish();
  });
  MaybeFinish();
}

void FfmpegJob::MaybeFinish() {
  if (finished_ || !reaped_ || stderr_open_ || progress_open_) return;
  if (probes_pending_ > 0 && !probes_abandoned_) return;
  Finish();
}

void FfmpegJob::Finish() {
  finished_ = true;
  drain_timer_.cancel();
  watchdog_.cancel();
  progress_log_timer_.cancel();
  kill_timer_.cancel();
  JobOutcome outcome;
  outcome.exit = exit_;
  outcome.spawned = pid_ > 0;
  outcome.stop = stop_cause_;
  bool oom_rose = false;
  if (options_.read_oom_kills && oom_before_) {
    auto after = options_.read_oom_kills();
    oom_rose = after && *after > *oom_before_;
  }
  // SIGKILL that ffpod sent at a stop deadline belongs to the stop, not to the kernel.
  outcome.classification = classifier_.Classify(exit_, stop_cause_, oom_rose && !killed_by_us_);
  outcome.progress = tracker_.View();
  outcome.started_at = started_at_;
  outcome.finished_at = system_clock::now();
  outcome.duration_s = std::chrono::duration<double>(steady_clock::now() - started_steady_).count();
  outcome.spawned_steady = started_steady_;
  outcome.exited_steady = reaped_ ? reaped_steady_ : steady_clock::now();
  outcome.stderr_tail.assign(tail_.begin(), tail_.end());
  outcome.ffmpeg_path = resolved_ffmpeg_;
  if (progress_parser_.errors() > 0) {
    boost::json::object f = Fields();
    f["errors"] = progress_parser_.errors();
    logger_.Debug("progress lines that could not be parsed", f);
  }
  auto cb = callbacks_.on_finished;
  if (cb) cb(outcome);
}

}  // namespace ffpod
