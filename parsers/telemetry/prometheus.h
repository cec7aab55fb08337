// Prometheus text exposition format 0.0.4: the value types of a metrics snapshot and the
// stateless renderer that turns one into the body of `GET /metrics`.
//
// A snapshot is plain data: families in the order they are to be printed, each with its name,
// HELP text, type, label names and samples. The renderer escapes HELP text (`\`, newline) and
// label values (`\`, `"`, newline), prints histogram buckets cumulatively with a final
// `le="+Inf"` bucket, `_sum` and `_count`, and formats numbers so that they parse back to the
// same double (`NaN`, `+Inf`, `-Inf`; integral values below 1e15 as plain integers).
//
// Counters are named with their `_total` suffix (as docs/metrics.md names them); the renderer
// prints names as given. It does not validate names: the registry that builds the snapshot does.
//
// Pure: no I/O, no clocks, no global state. Thread-compatible (the types are values).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ffpod {

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge" or "histogram": the word of the `# TYPE` line.
std::string_view MetricTypeName(MetricType type);

// One counter or gauge series. `label_values` pairs with the family's `label_names`.
struct MetricSample {
  std::vector<std::string> label_values{};
  double value = 0;

  bool operator==(const MetricSample&) const = default;
};

// One histogram series. `cumulative_counts[i]` counts observations <= the family's
// `bucket_bounds[i]`; `count` is the number of all observations (the `+Inf` bucket).
struct HistogramSample {
  std::vector<std::string> label_values{};
  std::vector<uint64_t> cumulative_counts{};
  uint64_t count = 0;
  double sum = 0;

  bool operator==(const HistogramSample&) const = default;
};

struct MetricFamily {
  std::string name{};  // e.g. "ffpod_jobs_total"
  std::string help{};  // one sentence that states the unit; escaped by the renderer
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_names{};
  std::vector<MetricSample> samples{};  // counters and gauges
  // Histograms only: finite upper bounds in ascending order (`+Inf` is implied) and series.
  std::vector<double> bucket_bounds{};
  std::vector<HistogramSample> histograms{};

  bool operator==(const MetricFamily&) const = default;
};

struct MetricsSnapshot {
  std::vector<MetricFamily> families{};

  bool operator==(const MetricsSnapshot&) const = default;
};

// The exposition text of `snapshot`: for each family `# HELP` and `# TYPE` lines (printed even
// when the family has no series), then one line per sample. Empty for an empty snapshot.
// A sample whose label values are fewer than the label names prints only the pairs it has.
std::string RenderPrometheus(const MetricsSnapshot& snapshot);

// Appends the same text to `*out` (lets a caller reuse a buffer).
void AppendPrometheus(const MetricsSnapshot& snapshot, std::string* out);

// A sample value as the format writes it: "NaN", "+Inf", "-Inf", an integer for integral
// values with magnitude below 1e15 ("0", "-3", "123456789"), else the shortest decimal or
// exponent form that parses back to exactly `value` ("0.1", "2.5e-07", "1e+15").
std::string FormatPrometheusValue(double value);

}  // namespace ffpod
