// EncoderWatch's re-probe schedule and readiness on simulated time: a fake clock and a prober
// whose answers the test gives (the real probe is covered by
// tests/integration/modes/probe_test.cc).
#include "supervisor/modes/encoder_watch.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <sstream>

#include "tests/fakes/fake_clock.h"
#include "tests/harness/harness.h"

namespace ffpod {
namespace {

using namespace std::chrono_literals;

EncoderCapability Encoder(std::string name, bool usable, std::string reason = "") {
  EncoderCapability e;
  e.name = std::move(name);
  e.listed = true;
  e.usable = usable;
  e.reason = std::move(reason);
  if (!usable) e.failure = Reason::kEncoderUnavailable;
  return e;
}

class EncoderWatchSchedule : public ::testing::Test {
 protected:
  EncoderWatchSchedule()
      : board_("worker"),
        log_fd_(
            ::open((dir_.path() / "log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)),
        logger_(LogFormat::kJson, Severity::kDebug, log_fd_) {}
  ~EncoderWatchSchedule() override { ::close(log_fd_); }

  EncoderWatch::Prober Prober() {
    return [this](const CapabilityProbeOptions& options, std::function<void(Capabilities)> done) {
      asked_.push_back({clock_.Now(), options.encoders, options.timeout});
      waiting_.push_back(std::move(done));
    };
  }
  // Answers the oldest probe in flight with these encoders.
  void Answer(std::vector<EncoderCapability> encoders) {
    ASSERT_FALSE(waiting_.empty());
    auto done = std::move(waiting_.front());
    waiting_.pop_front();
    Capabilities caps;
    caps.encoders = std::move(encoders);
    done(std::move(caps));
  }
  std::optional<std::string> Check() {
    auto checks = board_.Readiness().checks;
    auto it = checks.find(EncoderWatch::kCheckName);
    if (it == checks.end()) return "absent";
    return it->second;
  }
  std::string Usable(const std::string& encoder) {
    std::string prefix = "ffpod_encoder_usable{encoder=\"" + encoder + "\"} ";
    std::istringstream lines(metrics_.Render());
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(prefix)) return line.substr(prefix.size());
    }
    return "";
  }
  std::vector<std::string> Messages() {
    std::vector<std::string> out;
    for (const auto& r : testing::JsonLines(testing::ReadFile(dir_.path() / "log"))) {
      out.emplace_back(r.at("msg").as_string());
    }
    return out;
  }

  struct Asked {
    SteadyTime at;
    std::vector<std::string> encoders;
    std::chrono::milliseconds timeout;
  };
  testing::TempDir dir_;
  fakes::FakeClock clock_;
  FfpodMetrics metrics_;
  StatusBoard board_;
  int log_fd_;
  Logger logger_;
  std::vector<Asked> asked_;
  std::deque<std::function<void(Capabilities)>> waiting_;
};

TEST_F(EncoderWatchSchedule, ProbesAtStartThenEveryIntervalAfterEachProbeEnded) {
  EncoderWatch watch(clock_, Prober(), metrics_, board_, logger_, "ffmpeg",
                     {"h264_nvenc", "libx264", "h264_nvenc"}, 60s, 15s);
  SteadyTime t0 = clock_.Now();
  watch.Start();
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_EQ(asked_[0].encoders, (std::vector<std::string>{"h264_nvenc", "libx264"}));
  EXPECT_EQ(asked_[0].timeout, 15s);
  EXPECT_EQ(Check(), "waiting for the first probe of h264_nvenc, libx264");
  EXPECT_FALSE(watch.AllUsable());

  // The probe takes 20 s: the next one starts 60 s after it ended, not after it started.
  clock_.Advance(20s);
  Answer({Encoder("h264_nvenc", true), Encoder("libx264", true)});
  EXPECT_TRUE(watch.AllUsable());
  EXPECT_EQ(Check(), std::nullopt);
  EXPECT_EQ(Usable("h264_nvenc"), "1");
  clock_.Advance(59s);
  EXPECT_EQ(asked_.size(), 1u);
  clock_.Advance(1s);
  ASSERT_EQ(asked_.size(), 2u);
  EXPECT_EQ(asked_[1].at - t0, 80s);
  // No second probe is started while one is in flight, however long it takes.
  clock_.Advance(10min);
  EXPECT_EQ(asked_.size(), 2u);
}

TEST_F(EncoderWatchSchedule, ReadinessFollowsEachProbeAndLogsEachChangeOnce) {
  EncoderWatch watch(clock_, Prober(), metrics_, board_, logger_, "ffmpeg",
                     {"h264_nvenc", "libx264"}, 30s, 15s);
  std::vector<bool> updates;
  watch.OnUpdate([&](bool all) { updates.push_back(all); });
  watch.Start();
  Answer({Encoder("h264_nvenc", true), Encoder("libx264", true)});
  for (int i = 0; i < 3; ++i) {  // the GPU goes away, and stays away for three probes
    clock_.Advance(30s);
    Answer({Encoder("h264_nvenc", false, "Cannot load libcuda.so.1"), Encoder("libx264", true)});
    EXPECT_EQ(Check(), "h264_nvenc: Cannot load libcuda.so.1");
    EXPECT_FALSE(board_.Readiness().Ready());
    EXPECT_EQ(Usable("h264_nvenc"), "0");
    EXPECT_EQ(Usable("libx264"), "1");
  }
  clock_.Advance(30s);
  Answer({Encoder("h264_nvenc", true), Encoder("libx264", true)});
  EXPECT_EQ(Check(), std::nullopt);
  EXPECT_EQ(updates, (std::vector<bool>{true, false, false, false, true}));
  EXPECT_EQ(watch.probes(), 5);

  std::vector<std::string> msgs = Messages();
  auto count = [&](const std::string& m) { return std::count(msgs.begin(), msgs.end(), m); };
  EXPECT_EQ(count("encoder usable"), 2);  // both, at the first probe
  EXPECT_EQ(count("encoder no longer usable: h264_nvenc: Cannot load libcuda.so.1"), 1);
  EXPECT_EQ(count("encoder usable again"), 1);
}

TEST_F(EncoderWatchSchedule, StopEndsReprobingAndIgnoresTheProbeInFlight) {
  EncoderWatch watch(clock_, Prober(), metrics_, board_, logger_, "ffmpeg", {"h264_nvenc"}, 30s,
                     15s);
  watch.Start();
  Answer({Encoder("h264_nvenc", true)});
  clock_.Advance(30s);
  ASSERT_EQ(asked_.size(), 2u);
  watch.Stop();
  Answer({Encoder("h264_nvenc", false, "Cannot load libcuda.so.1")});  // arrives after Stop
  EXPECT_EQ(watch.probes(), 1);
  EXPECT_TRUE(watch.AllUsable());
  EXPECT_EQ(Check(), std::nullopt);  // the check keeps its last value
  clock_.Advance(1h);
  EXPECT_EQ(asked_.size(), 2u);
  EXPECT_EQ(clock_.pending(), 0u);
}

TEST_F(EncoderWatchSchedule, StopWhileWaitingCancelsTheNextProbe) {
  EncoderWatch watch(clock_, Prober(), metrics_, board_, logger_, "ffmpeg", {"libx264"}, 30s, 15s);
  watch.Start();
  Answer({Encoder("libx264", true)});
  EXPECT_EQ(clock_.pending(), 1u);
  watch.Stop();
  clock_.Advance(1h);
  EXPECT_EQ(asked_.size(), 1u);
}

TEST_F(EncoderWatchSchedule, NothingRequiredMeansNoProbeAndNoCheck) {
  EncoderWatch watch(clock_, Prober(), metrics_, board_, logger_, "ffmpeg", {}, 30s, 15s);
  watch.Start();
  clock_.Advance(1h);
  EXPECT_TRUE(asked_.empty());
  EXPECT_TRUE(watch.AllUsable());
  EXPECT_EQ(Check(), "absent");
}

}  // namespace
}  // namespace ffpod
