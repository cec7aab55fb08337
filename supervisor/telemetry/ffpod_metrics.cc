#include "supervisor/telemetry/ffpod_metrics.h"

#include <algorithm>

#include "ffpod_version.h"

namespace ffpod {

SlotProgress SlotProgressFrom(const ProgressView& v) {
  SlotProgress p;
  p.ratio = v.ratio;
  p.eta_seconds = v.eta_s;
  p.speed_ratio = v.speed;
  p.fps = v.fps;
  p.out_time_seconds = v.out_time_s;
  // ffmpeg reports bits; Prometheus' base unit is the byte.
  if (v.bitrate_bps) p.bitrate_bytes_per_second = *v.bitrate_bps / 8;
  p.frames = v.frames;
  p.total_size_bytes = v.total_size_bytes;
  p.dropped_frames = v.drop_frames;
  p.duplicated_frames = v.dup_frames;
  return p;
}
namespace {

std::vector<std::string> SlotLabels(const FfpodMetricsOptions& options) {
  std::vector<std::string> labels = {"slot"};
  if (options.queue_label) labels.emplace_back("queue");
  if (options.job_id_label) labels.emplace_back("job_id");
  return labels;
}

// Adds the increase of a per-process total to `counter` and moves the baseline. A total that
// went down (it should not within one process) becomes the new baseline without counting.
void AddIncrease(std::optional<int64_t> total, int64_t* baseline, Counter& counter) {
  if (!total || *total < 0) return;
  if (*total > *baseline) counter.Inc(static_cast<double>(*total - *baseline));
  *baseline = *total;
}

}  // namespace

const std::vector<double>& FfpodMetrics::JobDurationBuckets() {
  // 1 s .. 6 h, roughly doubling: short clips, thumbnails, episodes, feature films.
  static const std::vector<double> kBuckets = {1,   2.5,  5,    10,   30,   60,    120,   300,
                                               600, 1200, 1800, 3600, 7200, 10800, 14400, 21600};
  return kBuckets;
}

FfpodMetrics::FfpodMetrics(FfpodMetricsOptions options)
    : options_(options),
      build_info_(registry_.AddGauge(
          "ffpod_build_info",
          "Version of this ffpod build and of the ffmpeg it runs (labels; the value is always 1).",
          {"version", "ffmpeg_version"})),
      jobs_total_(registry_.AddCounter(
          "ffpod_jobs_total",
          "Job attempts finished, by result (succeeded, failed, retrying, preempted, dead) and "
          "failure reason (attempts).",
          {"result", "reason"})),
      job_duration_seconds_(registry_.AddHistogram(
          "ffpod_job_duration_seconds",
          "Wall-clock duration of finished job attempts, by result (seconds).", {"result"},
          JobDurationBuckets())),
      jobs_in_flight_(
          registry_.AddGauge("ffpod_jobs_in_flight",
                             "Jobs held now: busy slots, from claim to reported result (jobs).")),
      draining_(registry_.AddGauge("ffpod_draining",
                                   "1 while ffpod drains after a stop signal, else 0 (boolean).")),
      ready_(registry_.AddGauge(
          "ffpod_ready", "1 while /readyz answers 200 (work can be taken), else 0 (boolean).")),
      progress_ratio_(registry_.AddGauge(
          "ffpod_progress_ratio",
          "Fraction of the running job's input done, per slot (ratio, 0 to 1); absent when the "
          "slot is idle or the input duration is unknown.",
          SlotLabels(options))),
      eta_seconds_(registry_.AddGauge(
          "ffpod_eta_seconds",
          "Estimated time until the running job finishes, per slot (seconds); absent when idle "
          "or unknown.",
          SlotLabels(options))),
      encode_speed_ratio_(registry_.AddGauge(
          "ffpod_encode_speed_ratio",
          "Encoding speed of the running job relative to real time, per slot (ratio, 1 = real "
          "time; ffmpeg's speed).",
          SlotLabels(options))),
      encode_fps_(registry_.AddGauge(
          "ffpod_encode_fps", "Frames encoded per second by the running job, per slot (frames/s).",
          SlotLabels(options))),
      out_time_seconds_(registry_.AddGauge(
          "ffpod_out_time_seconds",
          "Media time written to the output by the running job so far, per slot (seconds).",
          SlotLabels(options))),
      output_bitrate_(registry_.AddGauge(
          "ffpod_output_bitrate_bytes_per_second",
          "Output bitrate of the running job, per slot (bytes of output per second of media).",
          SlotLabels(options))),
      frames_total_(registry_.AddCounter("ffpod_frames_total",
                                         "Frames encoded, over all jobs since start (frames).")),
      output_bytes_total_(
          registry_.AddCounter("ffpod_output_bytes_total",
                               "Bytes written to outputs, over all jobs since start (bytes).")),
      dropped_frames_total_(registry_.AddCounter(
          "ffpod_dropped_frames_total",
          "Frames ffmpeg dropped to keep the output frame rate, over all jobs (frames).")),
      duplicated_frames_total_(registry_.AddCounter(
          "ffpod_duplicated_frames_total",
          "Frames ffmpeg duplicated to keep the output frame rate, over all jobs (frames).")),
      stderr_lines_total_(registry_.AddCounter(
          "ffpod_stderr_lines_total", "ffmpeg stderr lines, by log level (lines).", {"level"})),
      decode_errors_total_(registry_.AddCounter(
          "ffpod_decode_errors_total",
          "Decode errors ffmpeg reported while encoding, by kind (lines).", {"kind"})),
      progress_parse_errors_total_(
          registry_.AddCounter("ffpod_progress_parse_errors_total",
                               "Progress lines from ffmpeg that could not be parsed (lines).")),
      stalls_total_(registry_.AddCounter(
          "ffpod_stalls_total", "Jobs that made no progress for the stall timeout (stalls).")),
      encoder_usable_(registry_.AddGauge(
          "ffpod_encoder_usable",
          "1 when the encoder passed its capability probe, else 0, by encoder (boolean).",
          {"encoder"})),
      queue_pending_jobs_(registry_.AddGauge(
          "ffpod_queue_pending_jobs",
          "Jobs waiting in the queue's pending list when last read, by queue (jobs); absent when "
          "unknown.",
          {"queue"})),
      queue_oldest_pending_seconds_(registry_.AddGauge(
          "ffpod_queue_oldest_pending_seconds",
          "Age of the oldest pending job (the next claimed) from its enqueued_at, by queue "
          "(seconds); 0 when none waits, absent when unknown.",
          {"queue"})),
      redis_up_(registry_.AddGauge(
          "ffpod_redis_up", "1 while the Redis command connection is up, else 0 (boolean).")),
      redis_errors_total_(registry_.AddCounter(
          "ffpod_redis_errors_total", "Redis connection losses and failed queue steps (errors).")),
      otlp_spans_dropped_total_(registry_.AddCounter(
          "ffpod_otlp_spans_dropped_total",
          "Trace spans dropped because the export queue was full or export failed (spans).")),
      dead_trimmed_total_(registry_.AddCounter(
          "ffpod_dead_trimmed_total",
          "Oldest dead-letter entries dropped to keep the dead list at --dead-max (jobs).")) {
  build_info_.Set({kVersion, "unknown"}, 1);
  jobs_in_flight_.Set(0);
  draining_.Set(0);
  ready_.Set(0);
}

void FfpodMetrics::SetBuildInfo(std::string_view ffmpeg_version) {
  build_info_.Clear();
  build_info_.Set({kVersion, ffmpeg_version}, 1);
}

void FfpodMetrics::RecordJobFinished(std::string_view result, std::string_view reason,
                                     double duration_seconds) {
  jobs_total_.Inc({result, reason});
  job_duration_seconds_.Observe({result}, duration_seconds);
}

void FfpodMetrics::SetJobsInFlight(int64_t count) {
  jobs_in_flight_.Set(static_cast<double>(count));
}
void FfpodMetrics::SetDraining(bool draining) { draining_.Set(draining ? 1 : 0); }
void FfpodMetrics::SetReady(bool ready) { ready_.Set(ready ? 1 : 0); }

void FfpodMetrics::SetSlotGauge(Gauge& gauge, const std::string& slot, const SlotState& state,
                                std::optional<double> value) const {
  const std::string& q = state.queue;
  const std::string& id = state.job_id;
  const bool queue = options_.queue_label, job = options_.job_id_label;
  if (!value) {
    if (queue && job) return gauge.Remove({slot, q, id});
    if (queue) return gauge.Remove({slot, q});
    if (job) return gauge.Remove({slot, id});
    return gauge.Remove({slot});
  }
  if (queue && job) return gauge.Set({slot, q, id}, *value);
  if (queue) return gauge.Set({slot, q}, *value);
  if (job) return gauge.Set({slot, id}, *value);
  gauge.Set({slot}, *value);
}

void FfpodMetrics::RemoveSlotGauges(const std::string& slot, const SlotState& state) {
  for (Gauge* g : {&progress_ratio_, &eta_seconds_, &encode_speed_ratio_, &encode_fps_,
                   &out_time_seconds_, &output_bitrate_}) {
    SetSlotGauge(*g, slot, state, std::nullopt);
  }
}

void FfpodMetrics::SetSlotProgress(int slot, std::string_view job_id, const SlotProgress& progress,
                                   std::string_view queue) {
  const std::string slot_label = std::to_string(slot);
  std::lock_guard lock(slots_mu_);
  auto [it, inserted] = slots_.try_emplace(slot);
  SlotState& state = it->second;
  if (!inserted && (state.job_id != job_id || state.queue != queue)) {
    // Another job on this slot: its ffmpeg counts from 0, and its old series must go.
    if (options_.job_id_label || options_.queue_label) RemoveSlotGauges(slot_label, state);
    state = SlotState{};
  }
  state.job_id = std::string(job_id);
  state.queue = std::string(queue);

  std::optional<double> ratio = progress.ratio;
  if (ratio) ratio = std::clamp(*ratio, 0.0, 1.0);
  std::optional<double> eta = progress.eta_seconds;
  if (eta) eta = std::max(*eta, 0.0);
  SetSlotGauge(progress_ratio_, slot_label, state, ratio);
  SetSlotGauge(eta_seconds_, slot_label, state, eta);
  SetSlotGauge(encode_speed_ratio_, slot_label, state, progress.speed_ratio);
  SetSlotGauge(encode_fps_, slot_label, state, progress.fps);
  SetSlotGauge(out_time_seconds_, slot_label, state, progress.out_time_seconds);
  SetSlotGauge(output_bitrate_, slot_label, state, progress.bitrate_bytes_per_second);

  AddIncrease(progress.frames, &state.frames, frames_total_);
  AddIncrease(progress.total_size_bytes, &state.bytes, output_bytes_total_);
  AddIncrease(progress.dropped_frames, &state.dropped, dropped_frames_total_);
  AddIncrease(progress.duplicated_frames, &state.duplicated, duplicated_frames_total_);
}

void FfpodMetrics::ClearSlot(int slot) {
  const std::string slot_label = std::to_string(slot);
  std::lock_guard lock(slots_mu_);
  auto it = slots_.find(slot);
  if (it != slots_.end()) {
    RemoveSlotGauges(slot_label, it->second);
    slots_.erase(it);
  } else if (!options_.job_id_label && !options_.queue_label) {
    RemoveSlotGauges(slot_label, SlotState{});
  }
}

void FfpodMetrics::CountStderrLine(std::string_view level, uint64_t lines) {
  stderr_lines_total_.Inc({level}, static_cast<double>(lines));
}
void FfpodMetrics::CountDecodeError(std::string_view kind) { decode_errors_total_.Inc({kind}); }
void FfpodMetrics::CountProgressParseErrors(uint64_t errors) {
  progress_parse_errors_total_.Inc(static_cast<double>(errors));
}
void FfpodMetrics::CountStall() { stalls_total_.Inc(); }

void FfpodMetrics::SetEncoderUsable(std::string_view encoder, bool usable) {
  encoder_usable_.Set({encoder}, usable ? 1 : 0);
}
void FfpodMetrics::SetQueuePending(std::string_view queue, int64_t jobs,
                                   std::optional<double> oldest_age_seconds) {
  queue_pending_jobs_.Set({queue}, static_cast<double>(jobs));
  if (oldest_age_seconds) {
    queue_oldest_pending_seconds_.Set({queue}, std::max(0.0, *oldest_age_seconds));
  } else {
    queue_oldest_pending_seconds_.Remove({queue});
  }
}
void FfpodMetrics::ClearQueuePending(std::string_view queue) {
  queue_pending_jobs_.Remove({queue});
  queue_oldest_pending_seconds_.Remove({queue});
}
void FfpodMetrics::SetRedisUp(bool up) { redis_up_.Set(up ? 1 : 0); }
void FfpodMetrics::CountRedisError(uint64_t errors) {
  redis_errors_total_.Inc(static_cast<double>(errors));
}
void FfpodMetrics::CountOtlpSpansDropped(uint64_t spans) {
  otlp_spans_dropped_total_.Inc(static_cast<double>(spans));
}
void FfpodMetrics::CountDeadTrimmed(uint64_t jobs) {
  dead_trimmed_total_.Inc(static_cast<double>(jobs));
}

}  // namespace ffpod
