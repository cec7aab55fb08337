// Progress of one running ffmpeg, from its progress blocks: percent complete, a smoothed encode
// speed, the ETA, and the stall rule. (The Prometheus counters take ffmpeg's per-process totals
// from FfpodMetrics::SetSlotProgress, which turns them into increases.)
//
// Time is passed in (a steady-clock reading in microseconds), so every rule is tested with
// simulated time. Percent and ETA exist only when the expected output duration is known;
// ffpod never reports a percent it cannot stand behind. Pure; not thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <deque>
#include <optional>

#include "parsers/ffmpeg/progress.h"

namespace ffpod {

// The current view of a job's progress, as /status, metrics and logs show it.
struct ProgressView {
  std::optional<double> ratio;       // 0..1; absent without a known total
  std::optional<double> eta_s;       // seconds left; absent without total or speed
  std::optional<double> speed;       // media seconds per wall second (smoothed)
  std::optional<double> fps;         // ffmpeg's fps
  std::optional<double> out_time_s;  // media time written so far
  std::optional<int64_t> frames;
  std::optional<int64_t> total_size_bytes;
  std::optional<double> bitrate_bps;  // bits per second
  int64_t dup_frames = 0;             // so far, as ffmpeg counts them
  int64_t drop_frames = 0;
  bool ended = false;  // ffmpeg wrote progress=end
};

// The known figures of `view`, rounded for people, as JSON fields (percent, eta_s, fps, speed,
// out_time_s, frames, total_size_bytes); unknown ones are left out. Used by the progress log
// record and the progress events published to Redis.
boost::json::object ProgressFields(const ProgressView& view);

class ProgressTracker {
 public:
  // `expected_us`: expected output duration, if known (may be set later: probing runs
  // alongside the encode). `start_us`: when ffmpeg was started.
  explicit ProgressTracker(int64_t start_us);

  void SetExpectedDuration(std::optional<int64_t> expected_us) { expected_us_ = expected_us; }
  std::optional<int64_t> expected_duration_us() const { return expected_us_; }

  // Takes one block received at `now_us`.
  void Update(const ProgressBlock& block, int64_t now_us);

  ProgressView View() const;

  // Seconds of media still to encode, when the total is known.
  std::optional<double> RemainingMediaSeconds() const;
  // Smoothed speed over the last kSpeedWindowUs (media seconds per wall second).
  std::optional<double> SmoothedSpeed() const;

  // True when ffmpeg is stalled at `now_us`: no block for `timeout_us`, or blocks arriving but
  // neither out_time nor total_size moved for `timeout_us`. Measured from the start before the
  // first block.
  bool Stalled(int64_t now_us, int64_t timeout_us) const;
  // When the last block arrived and when the position last moved (steady µs).
  int64_t last_block_us() const { return last_block_us_; }
  int64_t last_movement_us() const { return last_movement_us_; }
  bool has_block() const { return blocks_ > 0; }
  uint64_t blocks() const { return blocks_; }

  static constexpr int64_t kSpeedWindowUs = 10'000'000;
  // At progress=end, this share of the expected duration counts as complete.
  static constexpr double kCompleteRatio = 0.95;

 private:
  struct Sample {
    int64_t wall_us;
    int64_t out_time_us;
  };
  std::optional<int64_t> expected_us_;
  int64_t last_block_us_;
  int64_t last_movement_us_;
  uint64_t blocks_ = 0;
  ProgressBlock last_;
  std::optional<int64_t> max_out_time_us_;
  std::optional<int64_t> last_total_size_;
  std::deque<Sample> samples_;
};

}  // namespace ffpod
