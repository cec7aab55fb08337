// ffpod's metric set (docs/metrics.md): every `ffpod_*` family registered once with its exact
// name, labels and a HELP text that states its unit, plus typed update methods so that callers
// never spell a metric name or label themselves. docs/metrics.md describes each metric.
//
// Per-slot gauges (`ffpod_progress_ratio{slot}` and the five others) are set together by
// `SetSlotProgress` and removed together by `ClearSlot`: a value that is unknown in a progress
// report is removed rather than left at its previous value, and an idle slot has no series at
// all, so /metrics never shows a finished job's progress as current. The cumulative counters
// (`ffpod_frames_total`, `ffpod_output_bytes_total`, dropped and duplicated frames) are fed from
// the same reports: ffmpeg reports per-process totals, and this class adds the increase since
// the slot's previous report, so the counters survive across jobs and never go down.
//
// Optional `job_id` label (`FfpodMetricsOptions::job_id_label`, off by default): adds the
// running job's id to the per-slot gauges. Every job id is then a new series that stays in
// Prometheus' head block for hours after the job ended: fine for a handful of pods running a
// few long jobs, a cardinality problem for a fleet. See docs/metrics.md.
//
// Threading: every method is thread-safe (see supervisor/telemetry/metrics.h). Slot bookkeeping has
// its own mutex; a scrape that runs during `SetSlotProgress` may see some of that slot's gauges
// updated and others not yet.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/ffmpeg/progress_tracker.h"
#include "supervisor/telemetry/metrics.h"

namespace ffpod {

struct FfpodMetricsOptions {
  // Adds a `job_id` label to the per-slot gauges: Config::metrics_job_label, the flag
  // `--metrics-job-label` (env FFPOD_METRICS_JOB_LABEL). Off by default (cardinality, above).
  bool job_id_label = false;
  // Adds a `queue` label (the queue the slot's job came from) to the per-slot gauges: on for a
  // worker that serves several queues (--queue a,b), off otherwise (one queue, run mode).
  bool queue_label = false;
};

// One progress report of the job running on a slot. Absent fields are unknown (ffmpeg printed
// N/A, or the input duration is unknown so there is no ratio or ETA): their gauges are removed.
struct SlotProgress {
  std::optional<double> ratio = std::nullopt;        // 0..1 (clamped), fraction of the input done
  std::optional<double> eta_seconds = std::nullopt;  // >= 0 (clamped), time left
  std::optional<double> speed_ratio = std::nullopt;  // ffmpeg `speed=`, 1 = real time
  std::optional<double> fps = std::nullopt;          // frames per second
  std::optional<double> out_time_seconds = std::nullopt;          // media time written so far
  std::optional<double> bitrate_bytes_per_second = std::nullopt;  // output bitrate
  // Totals of the current ffmpeg process so far (`frame`, `total_size`, `drop_frames`,
  // `dup_frames`), as ffmpeg reports them. Negative values are ignored.
  std::optional<int64_t> frames = std::nullopt;
  std::optional<int64_t> total_size_bytes = std::nullopt;
  std::optional<int64_t> dropped_frames = std::nullopt;
  std::optional<int64_t> duplicated_frames = std::nullopt;
};

// The per-slot gauges' values from a job's current progress view.
SlotProgress SlotProgressFrom(const ProgressView& view);

class FfpodMetrics {
 public:
  // Upper bounds of `ffpod_job_duration_seconds`: transcodes from about 1 s to 6 h.
  static const std::vector<double>& JobDurationBuckets();

  // Registers every family. `ffpod_build_info` starts with ffmpeg_version="unknown";
  // `ffpod_jobs_in_flight`, `ffpod_draining` and `ffpod_ready` start at 0.
  explicit FfpodMetrics(FfpodMetricsOptions options = {});
  FfpodMetrics(const FfpodMetrics&) = delete;
  FfpodMetrics& operator=(const FfpodMetrics&) = delete;

  // ffpod_build_info{version=<this build>, ffmpeg_version} = 1, replacing the previous series.
  void SetBuildInfo(std::string_view ffmpeg_version);

  // A job attempt ended: ffpod_jobs_total{result,reason} += 1 and its wall-clock duration goes
  // into ffpod_job_duration_seconds{result}. `result` is the result document's `status`
  // (succeeded|failed|retrying|preempted|dead|cancelled), `reason` a reason name of
  // docs/failure-reasons.md.
  void RecordJobFinished(std::string_view result, std::string_view reason, double duration_seconds);

  void SetJobsInFlight(int64_t count);
  void SetDraining(bool draining);
  void SetReady(bool ready);

  // Sets the per-slot gauges of `slot` from `progress` (absent values are removed) and adds
  // the increase of the process totals to the cumulative counters. `job_id` identifies the
  // job on the slot: when it differs from the previous call's, the totals start again from 0
  // (a new ffmpeg process) and, with the job_id label on, the old job's series are removed.
  // Feed the final report (`progress=end`) before `ClearSlot` so that the counters are whole.
  // `queue`: the queue the job came from (the `queue` label, when on; ignored otherwise).
  void SetSlotProgress(int slot, std::string_view job_id, const SlotProgress& progress,
                       std::string_view queue = {});
  // The slot went idle: removes all its per-slot series and forgets its totals.
  void ClearSlot(int slot);

  // One ffmpeg stderr line of `level` (a LogLevelName: "error", "warning", ...).
  void CountStderrLine(std::string_view level, uint64_t lines = 1);
  // One decode error of `kind` (parsers/ffmpeg/decode_errors.h).
  void CountDecodeError(std::string_view kind);
  void CountProgressParseErrors(uint64_t errors = 1);
  void CountStall();

  // ffpod_encoder_usable{encoder} = 1 or 0, from the capability probe.
  void SetEncoderUsable(std::string_view encoder, bool usable);
  // `<queue>:pending` as last read: ffpod_queue_pending_jobs{queue} = `jobs` and
  // ffpod_queue_oldest_pending_seconds{queue} = the age of its head (0 for an empty list; the
  // series is removed when the age is unknown). Clear when it cannot be read (absent = unknown).
  void SetQueuePending(std::string_view queue, int64_t jobs,
                       std::optional<double> oldest_age_seconds);
  void ClearQueuePending(std::string_view queue);
  void SetRedisUp(bool up);
  void CountRedisError(uint64_t errors = 1);
  void CountOtlpSpansDropped(uint64_t spans = 1);
  // Dead-letter entries this worker's dead-lettering dropped from the list's old end.
  void CountDeadTrimmed(uint64_t jobs);

  // The body of GET /metrics.
  std::string Render() const { return registry_.Render(); }
  MetricsSnapshot Collect() const { return registry_.Collect(); }
  // For metrics outside docs/metrics.md (none today); registering them here keeps one listener.
  MetricsRegistry& registry() { return registry_; }

  bool job_id_label() const { return options_.job_id_label; }

 private:
  struct SlotState {
    std::string job_id;
    std::string queue;
    // Last reported process totals, the baseline of the next increase.
    int64_t frames = 0;
    int64_t bytes = 0;
    int64_t dropped = 0;
    int64_t duplicated = 0;
  };

  void SetSlotGauge(Gauge& gauge, const std::string& slot, const SlotState& state,
                    std::optional<double> value) const;
  void RemoveSlotGauges(const std::string& slot, const SlotState& state);

  const FfpodMetricsOptions options_;
  MetricsRegistry registry_;

  Gauge& build_info_;
  Counter& jobs_total_;
  Histogram& job_duration_seconds_;
  Gauge& jobs_in_flight_;
  Gauge& draining_;
  Gauge& ready_;
  Gauge& progress_ratio_;
  Gauge& eta_seconds_;
  Gauge& encode_speed_ratio_;
  Gauge& encode_fps_;
  Gauge& out_time_seconds_;
  Gauge& output_bitrate_;
  Counter& frames_total_;
  Counter& output_bytes_total_;
  Counter& dropped_frames_total_;
  Counter& duplicated_frames_total_;
  Counter& stderr_lines_total_;
  Counter& decode_errors_total_;
  Counter& progress_parse_errors_total_;
  Counter& stalls_total_;
  Gauge& encoder_usable_;
  Gauge& queue_pending_jobs_;
  Gauge& queue_oldest_pending_seconds_;
  Gauge& redis_up_;
  Counter& redis_errors_total_;
  Counter& otlp_spans_dropped_total_;
  Counter& dead_trimmed_total_;

  std::mutex slots_mu_;  // guards slots_; taken before any family's lock
  std::map<int, SlotState> slots_;
};

}  // namespace ffpod
