#include "parsers/telemetry/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace ffpod {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(PrometheusRenderTest, EmptySnapshotRendersNothing) {
  EXPECT_EQ(RenderPrometheus(MetricsSnapshot{}), "");
}

TEST(PrometheusRenderTest, CounterWithLabels) {
  MetricsSnapshot s;
  s.families.push_back({.name = "ffpod_jobs_total",
                        .help = "Job attempts finished (attempts).",
                        .type = MetricType::kCounter,
                        .label_names = {"result", "reason"},
                        .samples = {{{"failed", "input_missing"}, 2}, {{"succeeded", "ok"}, 40}}});
  EXPECT_EQ(RenderPrometheus(s),
            "# HELP ffpod_jobs_total Job attempts finished (attempts).\n"
            "# TYPE ffpod_jobs_total counter\n"
            "ffpod_jobs_total{result=\"failed\",reason=\"input_missing\"} 2\n"
            "ffpod_jobs_total{result=\"succeeded\",reason=\"ok\"} 40\n");
}

TEST(PrometheusRenderTest, GaugeWithoutLabelsAndFamilyWithoutSamples) {
  MetricsSnapshot s;
  s.families.push_back({.name = "ffpod_ready",
                        .help = "Ready (boolean).",
                        .type = MetricType::kGauge,
                        .samples = {{{}, 1}}});
  s.families.push_back({.name = "ffpod_progress_ratio",
                        .help = "Progress (ratio).",
                        .type = MetricType::kGauge,
                        .label_names = {"slot"}});
  EXPECT_EQ(RenderPrometheus(s),
            "# HELP ffpod_ready Ready (boolean).\n"
            "# TYPE ffpod_ready gauge\n"
            "ffpod_ready 1\n"
            "# HELP ffpod_progress_ratio Progress (ratio).\n"
            "# TYPE ffpod_progress_ratio gauge\n");
}

TEST(PrometheusRenderTest, EscapesHelpText) {
  // HELP escapes backslash and newline but leaves quotes alone.
  MetricsSnapshot s;
  s.families.push_back(
      {.name = "m", .help = "a \\ b\nc \"d\"", .type = MetricType::kGauge, .samples = {{{}, 0}}});
  EXPECT_EQ(RenderPrometheus(s),
            "# HELP m a \\\\ b\\nc \"d\"\n"
            "# TYPE m gauge\n"
            "m 0\n");
}

TEST(PrometheusRenderTest, EscapesLabelValues) {
  MetricsSnapshot s;
  s.families.push_back({.name = "ffpod_encoder_usable",
                        .help = "h",
                        .type = MetricType::kGauge,
                        .label_names = {"encoder"},
                        .samples = {{{"C:\\x \"q\"\nz"}, 1}, {{""}, 0}, {{"ütf-8 ✓"}, 1}}});
  EXPECT_EQ(RenderPrometheus(s),
            "# HELP ffpod_encoder_usable h\n"
            "# TYPE ffpod_encoder_usable gauge\n"
            "ffpod_encoder_usable{encoder=\"C:\\\\x \\\"q\\\"\\nz\"} 1\n"
            "ffpod_encoder_usable{encoder=\"\"} 0\n"
            "ffpod_encoder_usable{encoder=\"ütf-8 ✓\"} 1\n");
}

TEST(PrometheusRenderTest, SpecialValues) {
  MetricsSnapshot s;
  s.families.push_back({.name = "g",
                        .help = "h",
                        .type = MetricType::kGauge,
                        .label_names = {"k"},
                        .samples = {{{"nan"}, kNaN},
                                    {{"pinf"}, kInf},
                                    {{"ninf"}, -kInf},
                                    {{"neg"}, -2.5},
                                    {{"small"}, 2.5e-7},
                                    {{"zero"}, -0.0}}});
  EXPECT_EQ(RenderPrometheus(s),
            "# HELP g h\n"
            "# TYPE g gauge\n"
            "g{k=\"nan\"} NaN\n"
            "g{k=\"pinf\"} +Inf\n"
            "g{k=\"ninf\"} -Inf\n"
            "g{k=\"neg\"} -2.5\n"
            "g{k=\"small\"} 2.5e-07\n"
            "g{k=\"zero\"} 0\n");
}

TEST(PrometheusRenderTest, HistogramWithLabels) {
  MetricsSnapshot s;
  s.families.push_back(
      {.name = "ffpod_job_duration_seconds",
       .help = "Duration (seconds).",
       .type = MetricType::kHistogram,
       .label_names = {"result"},
       .bucket_bounds = {0.5, 1, 2.5},
       .histograms = {{{"failed"}, {0, 0, 1}, 3, 130.25}, {{"succeeded"}, {1, 2, 2}, 2, 1.25}}});
  EXPECT_EQ(RenderPrometheus(s),
            "# HELP ffpod_job_duration_seconds Duration (seconds).\n"
            "# TYPE ffpod_job_duration_seconds histogram\n"
            "ffpod_job_duration_seconds_bucket{result=\"failed\",le=\"0.5\"} 0\n"
            "ffpod_job_duration_seconds_bucket{result=\"failed\",le=\"1\"} 0\n"
            "ffpod_job_duration_seconds_bucket{result=\"failed\",le=\"2.5\"} 1\n"
            "ffpod_job_duration_seconds_bucket{result=\"failed\",le=\"+Inf\"} 3\n"
            "ffpod_job_duration_seconds_sum{result=\"failed\"} 130.25\n"
            "ffpod_job_duration_seconds_count{result=\"failed\"} 3\n"
            "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"0.5\"} 1\n"
            "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"1\"} 2\n"
            "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"2.5\"} 2\n"
            "ffpod_job_duration_seconds_bucket{result=\"succeeded\",le=\"+Inf\"} 2\n"
            "ffpod_job_duration_seconds_sum{result=\"succeeded\"} 1.25\n"
            "ffpod_job_duration_seconds_count{result=\"succeeded\"} 2\n");
}

TEST(PrometheusRenderTest, HistogramWithoutLabels) {
  MetricsSnapshot s;
  s.families.push_back({.name = "h_seconds",
                        .help = "h",
                        .type = MetricType::kHistogram,
                        .bucket_bounds = {1e-3, 21600},
                        .histograms = {{{}, {4, 5}, 7, 1e6}}});
  EXPECT_EQ(RenderPrometheus(s),
            "# HELP h_seconds h\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"0.001\"} 4\n"
            "h_seconds_bucket{le=\"21600\"} 5\n"
            "h_seconds_bucket{le=\"+Inf\"} 7\n"
            "h_seconds_sum 1000000\n"
            "h_seconds_count 7\n");
}

TEST(PrometheusRenderTest, HistogramWithoutSeriesPrintsOnlyMetadata) {
  MetricsSnapshot s;
  s.families.push_back({.name = "h_seconds",
                        .help = "h",
                        .type = MetricType::kHistogram,
                        .label_names = {"result"},
                        .bucket_bounds = {1}});
  EXPECT_EQ(RenderPrometheus(s), "# HELP h_seconds h\n# TYPE h_seconds histogram\n");
}

TEST(PrometheusRenderTest, AppendKeepsExistingText) {
  MetricsSnapshot s;
  s.families.push_back(
      {.name = "c_total", .help = "h", .type = MetricType::kCounter, .samples = {{{}, 3}}});
  std::string out = "prefix\n";
  AppendPrometheus(s, &out);
  EXPECT_EQ(out, "prefix\n# HELP c_total h\n# TYPE c_total counter\nc_total 3\n");
}

TEST(PrometheusValueTest, FormatsExactly) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {-0.0, "0"},
      {1, "1"},
      {-1, "-1"},
      {42, "42"},
      {123456789, "123456789"},
      {9007199254740992.0 / 16, "562949953421312"},  // 2^49: still a plain integer
      {999999999999999, "999999999999999"},
      {1e15, "1e+15"},
      {1e21, "1e+21"},
      {0.1, "0.1"},
      {0.5, "0.5"},
      {1.5, "1.5"},
      {2.5e-7, "2.5e-07"},
      {1e-3, "0.001"},
      {123456.789, "123456.789"},
      {kNaN, "NaN"},
      {kInf, "+Inf"},
      {-kInf, "-Inf"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatPrometheusValue(c.value), c.text) << c.value;
  }
}

TEST(PrometheusValueTest, RoundTripsThroughStrtod) {
  const double values[] = {1.0 / 3,
                           2.0 / 3,
                           0.1 + 0.2,
                           1e-300,
                           5e-324,
                           1.7976931348623157e308,
                           -1e-5,
                           123.456e9,
                           3.14159,
                           1e15 + 1,
                           0.30000000000000004,
                           86399.999};
  for (double v : values) {
    std::string text = FormatPrometheusValue(v);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
    EXPECT_EQ(text.find(' '), std::string::npos);
  }
}

TEST(PrometheusValueTest, TypeNames) {
  EXPECT_EQ(MetricTypeName(MetricType::kCounter), "counter");
  EXPECT_EQ(MetricTypeName(MetricType::kGauge), "gauge");
  EXPECT_EQ(MetricTypeName(MetricType::kHistogram), "histogram");
}

}  // namespace
}  // namespace ffpod
