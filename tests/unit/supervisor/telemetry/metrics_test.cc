#include "supervisor/telemetry/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "ffpod_version.h"
#include "supervisor/telemetry/ffpod_metrics.h"

namespace ffpod {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --- MetricsRegistry ---

TEST(MetricsRegistryTest, RendersFamiliesInRegistrationOrderAndSeriesInLabelOrder) {
  MetricsRegistry r;
  Counter& c = r.AddCounter("x_total", "Things (things).", {"kind"});
  Gauge& g = r.AddGauge("y", "Level (ratio).");
  Counter& plain = r.AddCounter("z_total", "Plain (things).");
  c.Inc({"b"}, 2);
  c.Inc({"a"});
  c.Inc({"b"});
  g.Set(0.25);
  plain.Inc(5);
  EXPECT_EQ(r.Render(),
            "# HELP x_total Things (things).\n"
            "# TYPE x_total counter\n"
            "x_total{kind=\"a\"} 1\n"
            "x_total{kind=\"b\"} 3\n"
            "# HELP y Level (ratio).\n"
            "# TYPE y gauge\n"
            "y 0.25\n"
            "# HELP z_total Plain (things).\n"
            "# TYPE z_total counter\n"
            "z_total 5\n");
}

TEST(MetricsRegistryTest, UnlabelledCounterExistsAtZeroLabelledOnlyOnFirstUse) {
  MetricsRegistry r;
  Counter& plain = r.AddCounter("a_total", "h");
  Counter& labelled = r.AddCounter("b_total", "h", {"level"});
  EXPECT_EQ(plain.Value(), 0);
  EXPECT_EQ(labelled.Value({"error"}), std::nullopt);
  labelled.Inc({"error"}, 0);
  EXPECT_EQ(labelled.Value({"error"}), 0);
  EXPECT_EQ(r.Render(),
            "# HELP a_total h\n# TYPE a_total counter\na_total 0\n"
            "# HELP b_total h\n# TYPE b_total counter\nb_total{level=\"error\"} 0\n");
}

TEST(MetricsRegistryTest, CountersOnlyGoUp) {
  MetricsRegistry r;
  Counter& c = r.AddCounter("c_total", "h");
  c.Inc(3);
  c.Inc(-1);
  c.Inc(kNaN);
  c.Inc(kInf);
  c.Inc(-kInf);
  c.Inc(0.5);
  EXPECT_EQ(c.Value(), 3.5);
}

TEST(MetricsRegistryTest, GaugeSetAddRemoveClear) {
  MetricsRegistry r;
  Gauge& g = r.AddGauge("g", "h", {"slot"});
  EXPECT_EQ(g.SeriesCount(), 0u);
  g.Set({"0"}, 0.5);
  g.Set({"1"}, 2);
  g.Add({"1"}, -3);
  g.Add({"2"}, 4);  // created at 0
  EXPECT_EQ(g.Value({"0"}), 0.5);
  EXPECT_EQ(g.Value({"1"}), -1);
  EXPECT_EQ(g.Value({"2"}), 4);
  g.Remove({"1"});
  g.Remove({"7"});  // absent: no effect
  EXPECT_EQ(g.Value({"1"}), std::nullopt);
  EXPECT_EQ(g.SeriesCount(), 2u);
  g.Clear();
  EXPECT_EQ(g.SeriesCount(), 0u);
  EXPECT_EQ(r.Render(), "# HELP g h\n# TYPE g gauge\n");
}

TEST(MetricsRegistryTest, GaugeNeverHoldsNaNOrInf) {
  MetricsRegistry r;
  Gauge& g = r.AddGauge("g", "h", {"slot"});
  g.Set({"0"}, 1);
  g.Set({"0"}, kNaN);
  EXPECT_EQ(g.Value({"0"}), std::nullopt);
  g.Set({"1"}, kInf);
  g.Set({"2"}, -kInf);
  EXPECT_EQ(g.SeriesCount(), 0u);
  g.Set({"3"}, 1e308);
  g.Add({"3"}, 1e308);  // overflows to +Inf: removed
  EXPECT_EQ(g.Value({"3"}), std::nullopt);
  g.Set({"4"}, 1);
  g.Add({"4"}, kNaN);
  EXPECT_EQ(g.Value({"4"}), std::nullopt);
  EXPECT_EQ(r.Render().find("NaN"), std::string::npos);
  EXPECT_EQ(r.Render().find("Inf"), std::string::npos);
}

TEST(MetricsRegistryTest, HistogramBucketsAreUpperBoundInclusive) {
  MetricsRegistry r;
  Histogram& h = r.AddHistogram("d_seconds", "h", {"result"}, {1, 10});
  h.Observe({"ok"}, 1);     // le=1
  h.Observe({"ok"}, 0.5);   // le=1
  h.Observe({"ok"}, -2);    // le=1
  h.Observe({"ok"}, 1.25);  // le=10
  h.Observe({"ok"}, 10);    // le=10
  h.Observe({"ok"}, 11);    // +Inf
  h.Observe({"ok"}, kNaN);  // ignored
  h.Observe({"ok"}, kInf);  // ignored
  EXPECT_EQ(r.Render(),
            "# HELP d_seconds h\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{result=\"ok\",le=\"1\"} 3\n"
            "d_seconds_bucket{result=\"ok\",le=\"10\"} 5\n"
            "d_seconds_bucket{result=\"ok\",le=\"+Inf\"} 6\n"
            "d_seconds_sum{result=\"ok\"} 21.75\n"
            "d_seconds_count{result=\"ok\"} 6\n");
}

TEST(MetricsRegistryTest, UnlabelledHistogramExistsFromRegistration) {
  MetricsRegistry r;
  r.AddHistogram("d_seconds", "h", {}, {0.5});
  EXPECT_EQ(r.Render(),
            "# HELP d_seconds h\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.5\"} 0\n"
            "d_seconds_bucket{le=\"+Inf\"} 0\n"
            "d_seconds_sum 0\n"
            "d_seconds_count 0\n");
}

TEST(MetricsRegistryTest, CollectReturnsSnapshotData) {
  MetricsRegistry r;
  Histogram& h = r.AddHistogram("d_seconds", "help", {"result"}, {1, 2});
  h.Observe({"a"}, 1.5);
  h.Observe({"a"}, 0.5);
  MetricsSnapshot s = r.Collect();
  ASSERT_EQ(s.families.size(), 1u);
  const MetricFamily& f = s.families[0];
  EXPECT_EQ(f.name, "d_seconds");
  EXPECT_EQ(f.help, "help");
  EXPECT_EQ(f.type, MetricType::kHistogram);
  EXPECT_EQ(f.label_names, std::vector<std::string>{"result"});
  EXPECT_EQ(f.bucket_bounds, (std::vector<double>{1, 2}));
  ASSERT_EQ(f.histograms.size(), 1u);
  EXPECT_EQ(
      f.histograms[0],
      (HistogramSample{.label_values = {"a"}, .cumulative_counts = {1, 2}, .count = 2, .sum = 2}));
}

using MetricsRegistryDeathTest = ::testing::Test;

TEST_F(MetricsRegistryDeathTest, MisuseIsFatal) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_DEATH(
      {
        MetricsRegistry r;
        r.AddGauge("dup", "h");
        r.AddCounter("dup", "h");
      },
      "registered twice");
  EXPECT_DEATH({ MetricsRegistry().AddGauge("9bad", "h"); }, "invalid metric name");
  EXPECT_DEATH({ MetricsRegistry().AddGauge("bad-name", "h"); }, "invalid metric name");
  EXPECT_DEATH({ MetricsRegistry().AddGauge("g", "h", {"__x"}); }, "invalid label name");
  EXPECT_DEATH({ MetricsRegistry().AddGauge("g", "h", {"a", "a"}); }, "repeats");
  EXPECT_DEATH({ MetricsRegistry().AddHistogram("h", "h", {"le"}, {1}); }, "label named le");
  EXPECT_DEATH({ MetricsRegistry().AddHistogram("h", "h", {}, {2, 1}); }, "ascending");
  EXPECT_DEATH({ MetricsRegistry().AddHistogram("h", "h", {}, {1, kInf}); }, "ascending");
  EXPECT_DEATH(
      {
        MetricsRegistry r;
        r.AddCounter("c_total", "h", {"a", "b"}).Inc({"x"});
      },
      "has 2 label\\(s\\), got 1 value\\(s\\)");
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAndScrapes) {
  MetricsRegistry r;
  Counter& c = r.AddCounter("c_total", "h", {"t"});
  Gauge& g = r.AddGauge("g", "h", {"slot"});
  Histogram& h = r.AddHistogram("d_seconds", "h", {}, {1});
  constexpr int kThreads = 4;
  constexpr int kIterations = 20000;
  std::atomic<bool> done{false};
  std::atomic<int> scrapes{0};
  bool monotonic = true;
  std::thread scraper([&] {
    double last = 0;
    while (!done.load()) {
      MetricsSnapshot s = r.Collect();
      double total = 0;
      for (const MetricSample& sample : s.families[0].samples) total += sample.value;
      if (total < last) monotonic = false;
      last = total;
      (void)RenderPrometheus(s);
      scrapes.fetch_add(1);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::string label = std::to_string(t % 2);
      std::string slot = std::to_string(t);
      for (int i = 0; i < kIterations; ++i) {
        c.Inc({label});
        g.Set({slot}, i);
        if (i % 100 == 0) g.Remove({slot});
        h.Observe(i % 2 == 0 ? 0.5 : 2);
      }
    });
  }
  for (std::thread& w : writers) w.join();
  // Let the scraper see at least one snapshot after all writes.
  int seen = scrapes.load();
  while (scrapes.load() < seen + 2) std::this_thread::yield();
  done = true;
  scraper.join();
  EXPECT_TRUE(monotonic);
  EXPECT_EQ(c.Value({"0"}), 2.0 * kIterations);
  EXPECT_EQ(c.Value({"1"}), 2.0 * kIterations);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(g.Value({std::to_string(t)}), kIterations - 1);
  MetricsSnapshot s = r.Collect();
  EXPECT_EQ(s.families[2].histograms[0].count, uint64_t{kThreads * kIterations});
  EXPECT_EQ(s.families[2].histograms[0].cumulative_counts[0], uint64_t{kThreads * kIterations / 2});
}

// --- FfpodMetrics ---

// The full text of a fresh metric set: every name in docs/metrics.md, type, label set and HELP.
std::string FreshFfpodMetricsText() {  // NOLINT(readability-function-size): the expected text
  return std::string() +
         "# HELP ffpod_build_info Version of this ffpod build and of the ffmpeg it runs (labels; "
         "the value is always 1).\n"
         "# TYPE ffpod_build_info gauge\n"
         "ffpod_build_info{version=\"" +
         kVersion +
         "\",ffmpeg_version=\"unknown\"} 1\n"
         "# HELP ffpod_jobs_total Job attempts finished, by result (succeeded, failed, retrying, "
         "preempted, dead) and failure reason (attempts).\n"
         "# TYPE ffpod_jobs_total counter\n"
         "# HELP ffpod_job_duration_seconds Wall-clock duration of finished job attempts, by "
         "result (seconds).\n"
         "# TYPE ffpod_job_duration_seconds histogram\n"
         "# HELP ffpod_jobs_in_flight Jobs held now: busy slots, from claim to reported result "
         "(jobs).\n"
         "# TYPE ffpod_jobs_in_flight gauge\n"
         "ffpod_jobs_in_flight 0\n"
         "# HELP ffpod_draining 1 while ffpod drains after a stop signal, else 0 (boolean).\n"
         "# TYPE ffpod_draining gauge\n"
         "ffpod_draining 0\n"
         "# HELP ffpod_ready 1 while /readyz answers 200 (work can be taken), else 0 (boolean).\n"
         "# TYPE ffpod_ready gauge\n"
         "ffpod_ready 0\n"
         "# HELP ffpod_progress_ratio Fraction of the running job's input done, per slot (ratio, "
         "0 to 1); absent when the slot is idle or the input duration is unknown.\n"
         "# TYPE ffpod_progress_ratio gauge\n"
         "# HELP ffpod_eta_seconds Estimated time until the running job finishes, per slot "
         "(seconds); absent when idle or unknown.\n"
         "# TYPE ffpod_eta_seconds gauge\n"
         "# HELP ffpod_encode_speed_ratio Encoding speed of the running job relative to real "
         "time, per slot (ratio, 1 = real time; ffmpeg's speed).\n"
         "# TYPE ffpod_encode_speed_ratio gauge\n"
         "# HELP ffpod_encode_fps Frames encoded per second by the running job, per slot "
         "(frames/s).\n"
         "# TYPE ffpod_encode_fps gauge\n"
         "# HELP ffpod_out_time_seconds Media time written to the output by the running job so "
         "far, per slot (seconds).\n"
         "# TYPE ffpod_out_time_seconds gauge\n"
         "# HELP ffpod_output_bitrate_bytes_per_second Output bitrate of the running job, per "
         "slot (bytes of output per second of media).\n"
         "# TYPE ffpod_output_bitrate_bytes_per_second gauge\n"
         "# HELP ffpod_frames_total Frames encoded, over all jobs since start (frames).\n"
         "# TYPE ffpod_frames_total counter\n"
         "ffpod_frames_total 0\n"
         "# HELP ffpod_output_bytes_total Bytes written to outputs, over all jobs since start "
         "(bytes).\n"
         "# TYPE ffpod_output_bytes_total counter\n"
         "ffpod_output_bytes_total 0\n"
         "# HELP ffpod_dropped_frames_total Frames ffmpeg dropped to keep the output frame rate, "
         "over all jobs (frames).\n"
         "# TYPE ffpod_dropped_frames_total counter\n"
         "ffpod_dropped_frames_total 0\n"
         "# HELP ffpod_duplicated_frames_total Frames ffmpeg duplicated to keep the output frame "
         "rate, over all jobs (frames).\n"
         "# TYPE ffpod_duplicated_frames_total counter\n"
         "ffpod_duplicated_frames_total 0\n"
         "# HELP ffpod_stderr_lines_total ffmpeg stderr lines, by log level (lines).\n"
         "# TYPE ffpod_stderr_lines_total counter\n"
         "# HELP ffpod_decode_errors_total Decode errors ffmpeg reported while encoding, by kind "
         "(lines).\n"
         "# TYPE ffpod_decode_errors_total counter\n"
         "# HELP ffpod_progress_parse_errors_total Progress lines from ffmpeg that could not be "
         "parsed (lines).\n"
         "# TYPE ffpod_progress_parse_errors_total counter\n"
         "ffpod_progress_parse_errors_total 0\n"
         "# HELP ffpod_stalls_total Jobs that made no progress for the stall timeout (stalls).\n"
         "# TYPE ffpod_stalls_total counter\n"
         "ffpod_stalls_total 0\n"
         "# HELP ffpod_encoder_usable 1 when the encoder passed its capability probe, else 0, by "
         "encoder (boolean).\n"
         "# TYPE ffpod_encoder_usable gauge\n"
         "# HELP ffpod_queue_pending_jobs Jobs waiting in the queue's pending list when last "
         "read, by queue (jobs); absent when unknown.\n"
         "# TYPE ffpod_queue_pending_jobs gauge\n"
         "# HELP ffpod_queue_oldest_pending_seconds Age of the oldest pending job (the next "
         "claimed) from its enqueued_at, by queue (seconds); 0 when none waits, absent when "
         "unknown.\n"
         "# TYPE ffpod_queue_oldest_pending_seconds gauge\n"
         "# HELP ffpod_redis_up 1 while the Redis command connection is up, else 0 (boolean).\n"
         "# TYPE ffpod_redis_up gauge\n"
         "# HELP ffpod_redis_errors_total Redis connection losses and failed queue steps "
         "(errors).\n"
         "# TYPE ffpod_redis_errors_total counter\n"
         "ffpod_redis_errors_total 0\n"
         "# HELP ffpod_otlp_spans_dropped_total Trace spans dropped because the export queue was "
         "full or export failed (spans).\n"
         "# TYPE ffpod_otlp_spans_dropped_total counter\n"
         "ffpod_otlp_spans_dropped_total 0\n"
         "# HELP ffpod_dead_trimmed_total Oldest dead-letter entries dropped to keep the dead "
         "list at --dead-max (jobs).\n"
         "# TYPE ffpod_dead_trimmed_total counter\n"
         "ffpod_dead_trimmed_total 0\n";
}

TEST(FfpodMetricsTest, FreshSetRendersExactly) {
  FfpodMetrics m;
  EXPECT_EQ(m.Render(), FreshFfpodMetricsText());
}

TEST(FfpodMetricsTest, NamesTypesAndLabelsAreThoseOfTheSpec) {
  struct Expected {
    const char* name;
    MetricType type;
    std::vector<std::string> labels;
  };
  const std::vector<Expected> spec = {
      {"ffpod_build_info", MetricType::kGauge, {"version", "ffmpeg_version"}},
      {"ffpod_jobs_total", MetricType::kCounter, {"result", "reason"}},
      {"ffpod_job_duration_seconds", MetricType::kHistogram, {"result"}},
      {"ffpod_jobs_in_flight", MetricType::kGauge, {}},
      {"ffpod_draining", MetricType::kGauge, {}},
      {"ffpod_ready", MetricType::kGauge, {}},
      {"ffpod_progress_ratio", MetricType::kGauge, {"slot"}},
      {"ffpod_eta_seconds", MetricType::kGauge, {"slot"}},
      {"ffpod_encode_speed_ratio", MetricType::kGauge, {"slot"}},
      {"ffpod_encode_fps", MetricType::kGauge, {"slot"}},
      {"ffpod_out_time_seconds", MetricType::kGauge, {"slot"}},
      {"ffpod_output_bitrate_bytes_per_second", MetricType::kGauge, {"slot"}},
      {"ffpod_frames_total", MetricType::kCounter, {}},
      {"ffpod_output_bytes_total", MetricType::kCounter, {}},
      {"ffpod_dropped_frames_total", MetricType::kCounter, {}},
      {"ffpod_duplicated_frames_total", MetricType::kCounter, {}},
      {"ffpod_stderr_lines_total", MetricType::kCounter, {"level"}},
      {"ffpod_decode_errors_total", MetricType::kCounter, {"kind"}},
      {"ffpod_progress_parse_errors_total", MetricType::kCounter, {}},
      {"ffpod_stalls_total", MetricType::kCounter, {}},
      {"ffpod_encoder_usable", MetricType::kGauge, {"encoder"}},
      {"ffpod_queue_pending_jobs", MetricType::kGauge, {"queue"}},
      {"ffpod_queue_oldest_pending_seconds", MetricType::kGauge, {"queue"}},
      {"ffpod_redis_up", MetricType::kGauge, {}},
      {"ffpod_redis_errors_total", MetricType::kCounter, {}},
      {"ffpod_otlp_spans_dropped_total", MetricType::kCounter, {}},
      {"ffpod_dead_trimmed_total", MetricType::kCounter, {}},
  };
  for (bool job_id_label : {false, true}) {
    FfpodMetrics m(FfpodMetricsOptions{.job_id_label = job_id_label});
    MetricsSnapshot s = m.Collect();
    ASSERT_EQ(s.families.size(), spec.size());
    for (size_t i = 0; i < spec.size(); ++i) {
      const MetricFamily& f = s.families[i];
      std::vector<std::string> labels = spec[i].labels;
      if (job_id_label && labels == std::vector<std::string>{"slot"}) labels.push_back("job_id");
      EXPECT_EQ(f.name, spec[i].name);
      EXPECT_EQ(f.type, spec[i].type) << f.name;
      EXPECT_EQ(f.label_names, labels) << f.name;
      // Every HELP states its unit in parentheses.
      EXPECT_NE(f.help.find('('), std::string::npos) << f.name;
    }
  }
}

TEST(FfpodMetricsTest, JobDurationBucketsSpanOneSecondToSixHours) {
  const std::vector<double>& b = FfpodMetrics::JobDurationBuckets();
  EXPECT_EQ(b.front(), 1);
  EXPECT_EQ(b.back(), 6 * 3600);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(FfpodMetricsTest, SlotProgressSetsRemovesAndClears) {
  FfpodMetrics m;
  m.SetSlotProgress(0, "a",
                    {.ratio = 0.25,
                     .eta_seconds = 30,
                     .speed_ratio = 2.5,
                     .fps = 60,
                     .out_time_seconds = 10,
                     .bitrate_bytes_per_second = 300000});
  m.SetSlotProgress(1, "b", {.ratio = 0.5, .fps = 25});
  std::string text = m.Render();
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"0\"} 0.25\n"), std::string::npos);
  EXPECT_NE(text.find("ffpod_eta_seconds{slot=\"0\"} 30\n"), std::string::npos);
  EXPECT_NE(text.find("ffpod_encode_speed_ratio{slot=\"0\"} 2.5\n"), std::string::npos);
  EXPECT_NE(text.find("ffpod_encode_fps{slot=\"0\"} 60\n"), std::string::npos);
  EXPECT_NE(text.find("ffpod_out_time_seconds{slot=\"0\"} 10\n"), std::string::npos);
  EXPECT_NE(text.find("ffpod_output_bitrate_bytes_per_second{slot=\"0\"} 300000\n"),
            std::string::npos);
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"1\"} 0.5\n"), std::string::npos);
  EXPECT_EQ(text.find("ffpod_eta_seconds{slot=\"1\"}"), std::string::npos);

  // A report where the ETA and bitrate became unknown removes them; the rest is updated.
  m.SetSlotProgress(0, "a", {.ratio = 0.5, .speed_ratio = 2, .fps = 61, .out_time_seconds = 20});
  text = m.Render();
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"0\"} 0.5\n"), std::string::npos);
  EXPECT_EQ(text.find("ffpod_eta_seconds{slot=\"0\"}"), std::string::npos);
  EXPECT_EQ(text.find("ffpod_output_bitrate_bytes_per_second{slot=\"0\"}"), std::string::npos);

  m.ClearSlot(0);
  text = m.Render();
  EXPECT_EQ(text.find("{slot=\"0\"}"), std::string::npos);
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"1\"} 0.5\n"), std::string::npos);
  m.ClearSlot(1);
  m.ClearSlot(5);  // never used: no effect
  EXPECT_EQ(m.Render(), FreshFfpodMetricsText());
}

TEST(FfpodMetricsTest, RatioAndEtaAreClamped) {
  FfpodMetrics m;
  m.SetSlotProgress(0, "a", {.ratio = 1.2, .eta_seconds = -3});
  std::string text = m.Render();
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"0\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ffpod_eta_seconds{slot=\"0\"} 0\n"), std::string::npos);
  m.SetSlotProgress(0, "a", {.ratio = -0.1, .eta_seconds = kNaN, .fps = kInf});
  text = m.Render();
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"0\"} 0\n"), std::string::npos);
  EXPECT_EQ(text.find("ffpod_eta_seconds{slot=\"0\"}"), std::string::npos);
  EXPECT_EQ(text.find("ffpod_encode_fps{slot=\"0\"}"), std::string::npos);
}

double CounterValue(const FfpodMetrics& m, const std::string& name) {
  for (const MetricFamily& f : m.Collect().families) {
    if (f.name == name && !f.samples.empty()) return f.samples[0].value;
  }
  return -1;
}

TEST(FfpodMetricsTest, ProcessTotalsBecomeCumulativeCounters) {
  FfpodMetrics m;
  m.SetSlotProgress(
      0, "a",
      {.frames = 100, .total_size_bytes = 1000, .dropped_frames = 1, .duplicated_frames = 2});
  m.SetSlotProgress(1, "b", {.frames = 10, .total_size_bytes = 50});
  m.SetSlotProgress(
      0, "a",
      {.frames = 250, .total_size_bytes = 4000, .dropped_frames = 1, .duplicated_frames = 5});
  m.SetSlotProgress(0, "a", {.frames = std::nullopt, .total_size_bytes = -1});  // unknown
  EXPECT_EQ(CounterValue(m, "ffpod_frames_total"), 260);
  EXPECT_EQ(CounterValue(m, "ffpod_output_bytes_total"), 4050);
  EXPECT_EQ(CounterValue(m, "ffpod_dropped_frames_total"), 1);
  EXPECT_EQ(CounterValue(m, "ffpod_duplicated_frames_total"), 5);

  // A total that goes down is a new baseline, never a decrease.
  m.SetSlotProgress(0, "a", {.frames = 200});
  m.SetSlotProgress(0, "a", {.frames = 210});
  EXPECT_EQ(CounterValue(m, "ffpod_frames_total"), 270);

  // A new job on slot 0 counts from 0 again; the counters keep what earlier jobs added.
  m.SetSlotProgress(0, "c", {.frames = 30, .total_size_bytes = 100});
  EXPECT_EQ(CounterValue(m, "ffpod_frames_total"), 300);
  EXPECT_EQ(CounterValue(m, "ffpod_output_bytes_total"), 4150);
  m.ClearSlot(0);
  m.SetSlotProgress(0, "c", {.frames = 5});  // after a clear: a new process, from 0
  EXPECT_EQ(CounterValue(m, "ffpod_frames_total"), 305);
}

// A worker that serves several queues names the queue of each slot's job on its gauges.
TEST(FfpodMetricsTest, QueueLabelWithSeveralQueues) {
  FfpodMetrics m(FfpodMetricsOptions{.queue_label = true});
  m.SetSlotProgress(0, "clip-1", {.ratio = 0.5}, "acme");
  m.SetSlotProgress(1, "clip-2", {.fps = 30}, "globex");
  std::string text = m.Render();
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"0\",queue=\"acme\"} 0.5\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ffpod_encode_fps{slot=\"1\",queue=\"globex\"} 30\n"), std::string::npos);
  // The slot's next job comes from another queue: the old series goes.
  m.SetSlotProgress(0, "clip-3", {.ratio = 0.25}, "globex");
  text = m.Render();
  EXPECT_EQ(text.find("queue=\"acme\""), std::string::npos) << text;
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"0\",queue=\"globex\"} 0.25\n"),
            std::string::npos);
  m.ClearSlot(0);
  m.ClearSlot(1);
  EXPECT_EQ(m.Render().find("queue=\"globex\""), std::string::npos);

  FfpodMetrics both(FfpodMetricsOptions{.job_id_label = true, .queue_label = true});
  both.SetSlotProgress(0, "clip-1", {.ratio = 0.5}, "acme");
  EXPECT_NE(both.Render().find("ffpod_progress_ratio{slot=\"0\",queue=\"acme\",job_id=\"clip-1\"} "
                               "0.5\n"),
            std::string::npos);
}

TEST(FfpodMetricsTest, JobIdLabelOptIn) {
  FfpodMetrics m(FfpodMetricsOptions{.job_id_label = true});
  EXPECT_TRUE(m.job_id_label());
  m.SetSlotProgress(0, "clip-1", {.ratio = 0.5, .fps = 30});
  std::string text = m.Render();
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"0\",job_id=\"clip-1\"} 0.5\n"),
            std::string::npos);
  EXPECT_NE(text.find("ffpod_encode_fps{slot=\"0\",job_id=\"clip-1\"} 30\n"), std::string::npos);

  // The next job on the slot replaces the old job's series instead of adding to them.
  m.SetSlotProgress(0, "clip-2", {.ratio = 0.1});
  text = m.Render();
  EXPECT_EQ(text.find("clip-1"), std::string::npos);
  EXPECT_NE(text.find("ffpod_progress_ratio{slot=\"0\",job_id=\"clip-2\"} 0.1\n"),
            std::string::npos);
  m.ClearSlot(0);
  EXPECT_EQ(m.Render().find("clip-2"), std::string::npos);
}

TEST(FfpodMetricsTest, JobsBuildInfoAndStateGauges) {
  FfpodMetrics m;
  m.SetBuildInfo("5.1.6-0+deb12u1");
  m.SetBuildInfo("6.1.1");
  m.RecordJobFinished("succeeded", "ok", 12.5);
  m.RecordJobFinished("succeeded", "ok", 0.5);
  m.RecordJobFinished("failed", "input_missing", 0.2);
  m.SetJobsInFlight(2);
  m.SetDraining(true);
  m.SetReady(true);
  m.SetEncoderUsable("libx264", true);
  m.SetEncoderUsable("h264_nvenc", false);
  m.SetQueuePending("acme", 17, 42.5);
  m.SetQueuePending("globex", 0, 0.0);
  m.SetQueuePending("legacy", 3, std::nullopt);
  m.SetRedisUp(true);
  m.CountRedisError(2);
  m.CountStderrLine("error");
  m.CountStderrLine("warning", 3);
  m.CountProgressParseErrors(4);
  m.CountStall();
  m.CountOtlpSpansDropped(6);
  m.CountDeadTrimmed(7);
  std::string text = m.Render();
  const char* expected[] = {
      "ffpod_build_info{version=\"",
      "\",ffmpeg_version=\"6.1.1\"} 1\n",
      "ffpod_jobs_total{result=\"failed\",reason=\"input_missing\"} 1\n",
      "ffpod_jobs_total{result=\"succeeded\",reason=\"ok\"} 2\n",
      "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"1\"} 1\n",
      "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"10\"} 1\n",
      "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"30\"} 2\n",
      "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"21600\"} 2\n",
      "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"+Inf\"} 2\n",
      "ffpod_job_duration_seconds_sum{result=\"succeeded\"} 13\n",
      "ffpod_job_duration_seconds_count{result=\"failed\"} 1\n",
      "ffpod_jobs_in_flight 2\n",
      "ffpod_draining 1\n",
      "ffpod_ready 1\n",
      "ffpod_encoder_usable{encoder=\"h264_nvenc\"} 0\n",
      "ffpod_encoder_usable{encoder=\"libx264\"} 1\n",
      "ffpod_queue_pending_jobs{queue=\"acme\"} 17\n",
      "ffpod_queue_pending_jobs{queue=\"globex\"} 0\n",
      "ffpod_queue_pending_jobs{queue=\"legacy\"} 3\n",
      "ffpod_queue_oldest_pending_seconds{queue=\"acme\"} 42.5\n",
      "ffpod_queue_oldest_pending_seconds{queue=\"globex\"} 0\n",
      "ffpod_redis_up 1\n",
      "ffpod_redis_errors_total 2\n",
      "ffpod_stderr_lines_total{level=\"error\"} 1\n",
      "ffpod_stderr_lines_total{level=\"warning\"} 3\n",
      "ffpod_progress_parse_errors_total 4\n",
      "ffpod_stalls_total 1\n",
      "ffpod_otlp_spans_dropped_total 6\n",
      "ffpod_dead_trimmed_total 7\n",
  };
  for (const char* line : expected) EXPECT_NE(text.find(line), std::string::npos) << line;
  EXPECT_EQ(text.find("5.1.6"), std::string::npos);  // the old build_info series is gone

  EXPECT_EQ(text.find("ffpod_queue_oldest_pending_seconds{queue=\"legacy\"}"), std::string::npos);

  m.ClearQueuePending("acme");
  m.SetDraining(false);
  text = m.Render();
  EXPECT_EQ(text.find("{queue=\"acme\"}"), std::string::npos);
  EXPECT_NE(text.find("ffpod_queue_pending_jobs{queue=\"globex\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ffpod_draining 0\n"), std::string::npos);
}

}  // namespace
}  // namespace ffpod
