// FfmpegJob with a played child and simulated time: the graceful stop (`q` once transcoding
// runs, one SIGINT before), the SIGKILL of the process group at the deadline, the stall
// watchdog, an exec failure, the bounded wait for pipes a grandchild holds open, the duration
// probe and the classification of what the child printed. The real-ffmpeg behaviour of the same
// paths is covered by the integration tests (tests/integration/modes/run_test.cc, drain_test.cc).
#include "supervisor/job/ffmpeg_job.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_processes.h"
#include "tests/fakes/null_logger.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;
using fakes::FakeProcesses;

// One progress block as ffmpeg writes it to the -progress pipe.
std::string ProgressBlockText(int64_t out_time_us, std::string_view progress = "continue") {
  return "frame=25\nfps=25.0\nbitrate=1000.0kbits/s\ntotal_size=1000\nout_time_us=" +
         std::to_string(out_time_us) + "\nspeed=1.0x\nprogress=" + std::string(progress) + "\n";
}

class FfmpegJobTest : public ::testing::Test {
 protected:
  FfmpegJobOptions Options() {
    FfmpegJobOptions o;
    o.ffmpeg = "ffmpeg";
    o.ffprobe = "";  // no duration probes unless a test asks for them
    o.args = {"-i", "in.mkv", "-c:v", "libx264", "out.mp4"};
    o.stall_timeout = 60s;
    o.stop_timeout = 10s;
    return o;
  }

  void Start(FfmpegJobOptions options) {
    FfmpegJob::Callbacks callbacks;
    callbacks.on_progress = [this](const ProgressBlock&) { ++blocks_; };
    callbacks.on_finished = [this](const JobOutcome& o) { outcome_ = o; };
    job_ = std::make_unique<FfmpegJob>(io_, clock_, processes_, log_.get(), std::move(options),
                                       std::move(callbacks));
    job_->Start();
    Pump();
  }

  // Lets the job read what the child wrote (the pipes are real).
  void Pump() {
    for (int i = 0; i < 5; ++i) {
      io_.restart();
      io_.poll();
    }
  }

  pid_t Pid() { return processes_.child().pid; }
  void Progress(int64_t out_time_us) {
    ASSERT_TRUE(processes_.Write(Pid(), 3, ProgressBlockText(out_time_us)));
    Pump();
  }
  void Stderr(std::string_view line) {
    ASSERT_TRUE(processes_.Write(Pid(), 2, line));
    Pump();
  }
  void Exit(int wait_status, bool keep_outputs = false) {
    ASSERT_TRUE(processes_.Exit(Pid(), wait_status, keep_outputs));
    Pump();
  }

  boost::asio::io_context io_;
  fakes::FakeClock clock_;
  fakes::NullLogger log_;
  FakeProcesses processes_;
  std::unique_ptr<FfmpegJob> job_;
  int blocks_ = 0;
  std::optional<JobOutcome> outcome_;
};

TEST_F(FfmpegJobTest, SpawnsWithTheProgressPipeAndItsOwnStdinAndReadsTheBlocks) {
  Start(Options());
  ASSERT_EQ(processes_.children().size(), 1u);
  const auto& spawned = processes_.child().options;
  EXPECT_EQ(spawned.executable, "ffmpeg");
  ASSERT_EQ(spawned.extra_fds.size(), 1u);
  EXPECT_EQ(spawned.extra_fds[0].first, 3);
  EXPECT_GE(spawned.stdin_fd, 0);  // ffpod owns stdin: `q` is possible
  EXPECT_TRUE(processes_.watched(Pid()));
  EXPECT_TRUE(job_->running());

  Progress(1'000'000);
  Progress(2'000'000);
  EXPECT_EQ(blocks_, 2);
  ASSERT_TRUE(job_->View().out_time_s);
  EXPECT_DOUBLE_EQ(*job_->View().out_time_s, 2.0);
}

TEST_F(FfmpegJobTest, AStopOnceTranscodingRunsWritesQAndKillsTheGroupOnlyAtTheDeadline) {
  Start(Options());
  Progress(1'000'000);
  job_->Stop(StopCause::kDrain, clock_.Now() + 20s);
  Pump();
  EXPECT_EQ(processes_.ReadStdin(Pid()), "q");
  EXPECT_TRUE(processes_.child().signals.empty());  // `q`, not SIGINT
  EXPECT_TRUE(job_->stopping());

  clock_.Advance(19s);
  EXPECT_TRUE(processes_.child().group_signals.empty());
  clock_.Advance(1s);
  EXPECT_EQ(processes_.child().group_signals, (std::vector<int>{SIGKILL}));

  Exit(FakeProcesses::KilledBy(SIGKILL));
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->stop, StopCause::kDrain);
  EXPECT_EQ(outcome_->classification.reason, Reason::kPreempted);
  EXPECT_EQ(outcome_->exit.kind, ExitStatus::Kind::kSignaled);
}

TEST_F(FfmpegJobTest, AStopBeforeTheFirstBlockSendsOneSigintAndALaterStopOnlyMovesTheDeadline) {
  Start(Options());
  job_->Stop(StopCause::kDrain, clock_.Now() + 20s);
  EXPECT_EQ(processes_.child().signals, (std::vector<int>{SIGINT}));
  job_->Stop(StopCause::kDrain, clock_.Now() + 5s);   // a second SIGTERM's earlier deadline
  job_->Stop(StopCause::kDrain, clock_.Now() + 30s);  // never later
  EXPECT_EQ(processes_.child().signals, (std::vector<int>{SIGINT}));  // never a second signal
  Pump();
  EXPECT_EQ(processes_.ReadStdin(Pid()), "");

  clock_.Advance(5s);
  EXPECT_EQ(processes_.child().group_signals, (std::vector<int>{SIGKILL}));
  clock_.Advance(30s);
  EXPECT_EQ(processes_.child().group_signals.size(), 1u);
}

TEST_F(FfmpegJobTest, AJobThatStopsProgressingIsStoppedAtTheStallTimeoutAndReportedStalled) {
  Start(Options());
  Progress(1'000'000);
  clock_.Advance(59s);
  EXPECT_FALSE(job_->stopping());
  Progress(2'000'000);  // progress resets the watchdog
  clock_.Advance(59s);
  EXPECT_FALSE(job_->stopping());
  clock_.Advance(2s);
  ASSERT_TRUE(job_->stopping());
  EXPECT_EQ(job_->stop_cause(), StopCause::kStall);
  Pump();
  EXPECT_EQ(processes_.ReadStdin(Pid()), "q");

  Exit(FakeProcesses::ExitedWith(255));
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->classification.reason, Reason::kStalled);
  EXPECT_TRUE(processes_.child().group_signals == std::vector<int>{SIGKILL})
      << "the group is killed once ffmpeg has exited (whatever it left behind)";
}

TEST_F(FfmpegJobTest, AnExecFailureIsReportedAsNotStartedWithItsExitCode) {
  processes_.FailNextSpawn(127, "executable \"ffmpeg\" was not found on PATH");
  Start(Options());
  EXPECT_TRUE(processes_.children().empty());
  ASSERT_TRUE(outcome_);
  EXPECT_FALSE(outcome_->spawned);
  EXPECT_EQ(outcome_->exit.kind, ExitStatus::Kind::kNotStarted);
  EXPECT_EQ(outcome_->exit.code, 127);
  EXPECT_NE(outcome_->classification.message.find("could not be started"), std::string::npos)
      << outcome_->classification.message;
}

TEST_F(FfmpegJobTest, PipesAGrandchildHoldsOpenAreGivenTwoSecondsAfterTheExit) {
  Start(Options());
  Progress(1'000'000);
  Exit(FakeProcesses::ExitedWith(0), /*keep_outputs=*/true);
  EXPECT_FALSE(outcome_) << "stderr and progress are still open";
  clock_.Advance(1900ms);
  Pump();
  EXPECT_FALSE(outcome_);
  clock_.Advance(100ms);
  Pump();
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->exit.code, 0);
}

TEST_F(FfmpegJobTest, TheLineThatExplainsTheExitClassifiesIt) {
  Start(Options());
  Stderr("[vost#0:0 @ 0x55d0c0] Unknown encoder 'libx264'\n");
  Stderr("Error selecting an encoder\n");
  Exit(FakeProcesses::ExitedWith(1));
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->classification.reason, Reason::kEncoderUnavailable);
  EXPECT_NE(outcome_->classification.evidence.find("Unknown encoder 'libx264'"), std::string::npos);
  ASSERT_FALSE(outcome_->stderr_tail.empty());
  EXPECT_EQ(outcome_->stderr_tail.back(), "Error selecting an encoder");
}

// With -loglevel debug ffmpeg echoes every option with its value, and sends a -headers list
// again in its request dump, one header a line (Debian's 5.1, recorded).
TEST_F(FfmpegJobTest, SecretOptionValuesNeverReachTheTailOrTheOutcome) {
  FfmpegJobOptions o = Options();
  o.args = {"-loglevel",   "debug",       "-headers", "X-Team: t34m-s3cret\r\n",
            "-passphrase", "SRTsecret99", "-i",       "http://h/in.mp4",
            "out.mp4"};
  Start(o);
  Stderr(
      "Reading option '-headers' ... matched as AVOption 'headers' with argument 'X-Team: "
      "t34m-s3cret\n");
  Stderr("'.\n");
  Stderr(
      "Reading option '-passphrase' ... matched as AVOption 'passphrase' with argument "
      "'SRTsecret99'.\n");
  Stderr("[http @ 0x5571] request: GET /in.mp4 HTTP/1.1\n");
  Stderr("X-Team: t34m-s3cret\n");
  Stderr("[in#0 @ 0x5572] [error] passphrase SRTsecret99 was refused: No such file or directory\n");
  Exit(FakeProcesses::ExitedWith(1));
  ASSERT_TRUE(outcome_);
  ASSERT_EQ(outcome_->stderr_tail.size(), 6u);
  for (const std::string& line : outcome_->stderr_tail) {
    EXPECT_EQ(line.find("t34m-s3cret"), std::string::npos) << line;
    EXPECT_EQ(line.find("SRTsecret99"), std::string::npos) << line;
  }
  EXPECT_EQ(outcome_->stderr_tail[4], "X-Team: REDACTED");
  for (const std::string& text :
       {outcome_->classification.message, outcome_->classification.evidence}) {
    EXPECT_EQ(text.find("SRTsecret99"), std::string::npos) << text;
  }
}

TEST_F(FfmpegJobTest, TheProbedDurationGivesTheFractionAndTheEndWaitsForTheProbe) {
  FfmpegJobOptions o = Options();
  o.ffprobe = "ffprobe";
  Start(std::move(o));
  ASSERT_EQ(processes_.commands().size(), 1u);
  EXPECT_EQ(processes_.commands()[0].executable, "ffprobe");
  EXPECT_EQ(processes_.commands()[0].args.back(), "in.mkv");
  EXPECT_FALSE(job_->probes_done());

  CommandOutput probed;
  probed.exit = ExitStatus::Exited(0);
  probed.out = R"({"format": {"duration": "10.000000"}})";
  processes_.EndCommand(0, probed);
  EXPECT_TRUE(job_->probes_done());
  Progress(2'500'000);
  EXPECT_EQ(job_->tracker().expected_duration_us(), 10'000'000);
  ASSERT_TRUE(job_->View().ratio);
  EXPECT_DOUBLE_EQ(*job_->View().ratio, 0.25);
}

// ffmpeg was quicker than ffprobe: the job waits a moment for the probe, whose facts go in the
// audit trail.
TEST_F(FfmpegJobTest, AProbeStillRunningAtTheExitIsAwaitedAndItsFactsReported) {
  FfmpegJobOptions o = Options();
  o.ffprobe = "ffprobe";
  Start(std::move(o));
  Exit(FakeProcesses::ExitedWith(0));
  EXPECT_FALSE(processes_.commands()[0].stop_requested);
  EXPECT_FALSE(outcome_) << "the probe's end is still to come";
  CommandOutput probed;
  probed.exit = ExitStatus::Exited(0);
  probed.out = R"({"format": {"duration": "10.000000", "format_name": "matroska,webm"},)"
               R"( "streams": [{"index": 0, "codec_type": "video", "codec_name": "vp9"}]})";
  processes_.EndCommand(0, probed);
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->classification.reason, Reason::kOk);
  ASSERT_EQ(outcome_->input_probes.size(), 1u);
  ASSERT_TRUE(outcome_->input_probes[0].facts);
  EXPECT_EQ(outcome_->input_probes[0].facts->format, "matroska,webm");
  EXPECT_EQ(outcome_->input_probes[0].facts->streams.at(0).codec, "vp9");
  EXPECT_EQ(outcome_->input_probes[0].skipped, "");
}

// ... but not for long: 2 s after the exit the probe is stopped, and the job ends with its end.
TEST_F(FfmpegJobTest, AProbeThatDoesNotAnswerSoonAfterTheExitIsStopped) {
  FfmpegJobOptions o = Options();
  o.ffprobe = "ffprobe";
  Start(std::move(o));
  Exit(FakeProcesses::ExitedWith(0));
  clock_.Advance(1900ms);
  EXPECT_FALSE(processes_.commands()[0].stop_requested);
  clock_.Advance(100ms);
  EXPECT_TRUE(processes_.commands()[0].stop_requested);
  EXPECT_FALSE(outcome_) << "the killed probe's end (and its span) is still to come";
  CommandOutput cancelled;
  cancelled.exit = ExitStatus::Signaled(SIGKILL);
  cancelled.cancelled = true;
  processes_.EndCommand(0, cancelled);
  ASSERT_TRUE(outcome_);
  EXPECT_EQ(outcome_->classification.reason, Reason::kOk);
  ASSERT_EQ(outcome_->input_probes.size(), 1u);
  EXPECT_FALSE(outcome_->input_probes[0].facts);
  EXPECT_EQ(outcome_->input_probes[0].skipped, "ffmpeg exited before ffprobe answered");
}

// A probe that even SIGKILL does not end (a hung mount) is abandoned a second later.
TEST_F(FfmpegJobTest, AProbeThatSigkillDoesNotEndIsAbandoned) {
  FfmpegJobOptions o = Options();
  o.ffprobe = "ffprobe";
  Start(std::move(o));
  Exit(FakeProcesses::ExitedWith(0));
  clock_.Advance(2s);
  EXPECT_TRUE(processes_.commands()[0].stop_requested);
  clock_.Advance(900ms);
  EXPECT_FALSE(outcome_);
  clock_.Advance(100ms);
  ASSERT_TRUE(outcome_);
  ASSERT_EQ(outcome_->input_probes.size(), 1u);
  EXPECT_EQ(outcome_->input_probes[0].skipped,
            "ffprobe had not answered when the result was taken");
}

// A job ffpod stopped (a drain, a cancel) does not wait for its probes at all.
TEST_F(FfmpegJobTest, AStoppedJobStopsItsProbesAtTheExit) {
  FfmpegJobOptions o = Options();
  o.ffprobe = "ffprobe";
  Start(std::move(o));
  job_->Stop(StopCause::kDrain, clock_.Now() + 20s);
  Exit(FakeProcesses::ExitedWith(255));
  EXPECT_TRUE(processes_.commands()[0].stop_requested);
  EXPECT_FALSE(outcome_) << "the probe's end is still to come";
  CommandOutput cancelled;
  cancelled.exit = ExitStatus::Signaled(SIGKILL);
  cancelled.cancelled = true;
  processes_.EndCommand(0, cancelled);
  ASSERT_TRUE(outcome_);
  ASSERT_EQ(outcome_->input_probes.size(), 1u);
  EXPECT_EQ(outcome_->input_probes[0].skipped, "ffmpeg exited before ffprobe answered");
}

TEST_F(FfmpegJobTest, DestroyingARunningJobKillsItsGroupAndStopsWatchingIt) {
  Start(Options());
  pid_t pid = Pid();
  job_.reset();
  EXPECT_EQ(processes_.child().group_signals, (std::vector<int>{SIGKILL}));
  EXPECT_FALSE(processes_.watched(pid));
}

}  // namespace
}  // namespace ffpod
