#include "parsers/ffmpeg/progress_tracker.h"

#include <algorithm>
#include <cmath>

namespace ffpod {

boost::json::object ProgressFields(const ProgressView& v) {
  auto rounded = [](double x, double scale) { return std::round(x * scale) / scale; };
  boost::json::object f;
  if (v.ratio) f["percent"] = rounded(*v.ratio * 100, 10);
  if (v.eta_s) f["eta_s"] = rounded(*v.eta_s, 10);
  if (v.fps) f["fps"] = rounded(*v.fps, 100);
  if (v.speed) f["speed"] = rounded(*v.speed, 1000);
  if (v.out_time_s) f["out_time_s"] = rounded(*v.out_time_s, 1000);
  if (v.frames) f["frames"] = *v.frames;
  if (v.total_size_bytes) f["total_size_bytes"] = *v.total_size_bytes;
  return f;
}

ProgressTracker::ProgressTracker(int64_t start_us)
    : last_block_us_(start_us), last_movement_us_(start_us) {}

void ProgressTracker::Update(const ProgressBlock& block, int64_t now_us) {
  bool moved = false;
  if (block.out_time_us && *block.out_time_us >= 0) {
    if (!max_out_time_us_ || *block.out_time_us > *max_out_time_us_) {
      moved = true;
      max_out_time_us_ = *block.out_time_us;
    }
    samples_.push_back({now_us, *block.out_time_us});
    while (samples_.size() > 2 && samples_.front().wall_us < now_us - kSpeedWindowUs) {
      samples_.pop_front();
    }
  }
  if (block.total_size_bytes) {
    if (!last_total_size_ || *block.total_size_bytes != *last_total_size_) moved = true;
    last_total_size_ = block.total_size_bytes;
  }
  if (moved || blocks_ == 0) last_movement_us_ = now_us;
  last_block_us_ = now_us;
  ++blocks_;
  last_ = block;
}

std::optional<double> ProgressTracker::SmoothedSpeed() const {
  if (samples_.size() >= 2) {
    const Sample& a = samples_.front();
    const Sample& b = samples_.back();
    int64_t wall = b.wall_us - a.wall_us;
    if (wall >= 1'000'000) {
      return std::max(0.0, static_cast<double>(b.out_time_us - a.out_time_us) / wall);
    }
  }
  // Early on: ffmpeg's own figure (media time / wall time since it started).
  if (last_.speed && std::isfinite(*last_.speed) && *last_.speed >= 0) return last_.speed;
  return std::nullopt;
}

std::optional<double> ProgressTracker::RemainingMediaSeconds() const {
  if (!expected_us_) return std::nullopt;
  int64_t done = std::max<int64_t>(0, max_out_time_us_.value_or(0));
  if (last_.end && done >= kCompleteRatio * static_cast<double>(*expected_us_)) {
    done = *expected_us_;
  }
  return std::max<int64_t>(0, *expected_us_ - done) / 1e6;
}

ProgressView ProgressTracker::View() const {
  ProgressView v;
  v.ended = last_.end;
  v.fps = last_.fps;
  v.frames = last_.frame;
  v.total_size_bytes = last_.total_size_bytes;
  if (last_.bitrate_kbps && *last_.bitrate_kbps >= 0) v.bitrate_bps = *last_.bitrate_kbps * 1000;
  v.dup_frames = std::max<int64_t>(0, last_.dup_frames.value_or(0));
  v.drop_frames = std::max<int64_t>(0, last_.drop_frames.value_or(0));
  if (last_.out_time_us) v.out_time_s = std::max<int64_t>(0, *last_.out_time_us) / 1e6;
  v.speed = SmoothedSpeed();
  if (expected_us_ && *expected_us_ > 0) {
    double done = static_cast<double>(std::max<int64_t>(0, max_out_time_us_.value_or(0)));
    double ratio = std::clamp(done / static_cast<double>(*expected_us_), 0.0, 1.0);
    // progress=end also ends failed runs (6.1+): only a block that got (nearly) all the way is
    // complete. The last timestamp sits a frame or an audio packet short of the total.
    if (last_.end && ratio >= kCompleteRatio) ratio = 1.0;
    v.ratio = ratio;
    auto remaining = RemainingMediaSeconds();
    if (last_.end) {
      v.eta_s = 0.0;
    } else if (remaining && v.speed && *v.speed > 0) {
      v.eta_s = *remaining / *v.speed;
    }
  }
  return v;
}

bool ProgressTracker::Stalled(int64_t now_us, int64_t timeout_us) const {
  if (timeout_us <= 0) return false;
  if (now_us - last_block_us_ >= timeout_us) return true;
  return now_us - last_movement_us_ >= timeout_us;
}

}  // namespace ffpod
