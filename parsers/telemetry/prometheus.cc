#include "parsers/telemetry/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>

namespace ffpod {
namespace {

// Integral values below this magnitude print as plain integers; above it the shortest form is
// usually an exponent ("1e+15"), which is also what other Prometheus clients print.
constexpr double kPlainIntegerLimit = 1e15;

void AppendValue(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[32];
  std::to_chars_result r;
  if (std::fabs(value) < kPlainIntegerLimit && value == std::trunc(value)) {
    // Exact: every integral double of this magnitude fits int64_t. -0 prints as "0".
    r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, value);  // shortest round-trip form
  }
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

void AppendUnsigned(uint64_t value, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

// Appends `text` with each character in `specials` escaped (`\\`, `\"`, newline as `\n`).
// Runs without a special character, the common case, are appended in one piece.
void AppendEscaped(std::string_view text, std::string_view specials, std::string* out) {
  while (!text.empty()) {
    size_t i = text.find_first_of(specials);
    if (i == std::string_view::npos) {
      out->append(text);
      return;
    }
    out->append(text.substr(0, i));
    out->push_back('\\');
    out->push_back(text[i] == '\n' ? 'n' : text[i]);
    text.remove_prefix(i + 1);
  }
}

// HELP text: backslash and newline are escaped; quotes are not (format 0.0.4).
void AppendHelp(std::string_view text, std::string* out) { AppendEscaped(text, "\\\n", out); }

// Label values: backslash, double quote and newline are escaped.
void AppendLabelValue(std::string_view text, std::string* out) {
  AppendEscaped(text, "\\\"\n", out);
}

// `{a="x",b="y"}`, with `le` appended for histogram buckets; nothing when there is no label.
void AppendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  const std::string* le, std::string* out) {
  size_t n = std::min(names.size(), values.size());
  if (n == 0 && le == nullptr) return;
  out->push_back('{');
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out->push_back(',');
    out->append(names[i]);
    out->append("=\"");
    AppendLabelValue(values[i], out);
    out->push_back('"');
  }
  if (le != nullptr) {
    if (n > 0) out->push_back(',');
    out->append("le=\"");
    out->append(*le);
    out->push_back('"');
  }
  out->push_back('}');
}

void AppendHistogram(const MetricFamily& family, const HistogramSample& h,
                     const std::vector<std::string>& le_values, std::string* out) {
  for (size_t i = 0; i < le_values.size(); ++i) {
    out->append(family.name);
    out->append("_bucket");
    AppendLabels(family.label_names, h.label_values, &le_values[i], out);
    out->push_back(' ');
    AppendUnsigned(i < h.cumulative_counts.size() ? h.cumulative_counts[i] : h.count, out);
    out->push_back('\n');
  }
  out->append(family.name);
  out->append("_sum");
  AppendLabels(family.label_names, h.label_values, nullptr, out);
  out->push_back(' ');
  AppendValue(h.sum, out);
  out->push_back('\n');
  out->append(family.name);
  out->append("_count");
  AppendLabels(family.label_names, h.label_values, nullptr, out);
  out->push_back(' ');
  AppendUnsigned(h.count, out);
  out->push_back('\n');
}

void AppendFamily(const MetricFamily& family, std::string* out) {
  out->append("# HELP ");
  out->append(family.name);
  out->push_back(' ');
  AppendHelp(family.help, out);
  out->append("\n# TYPE ");
  out->append(family.name);
  out->push_back(' ');
  out->append(MetricTypeName(family.type));
  out->push_back('\n');

  if (family.type == MetricType::kHistogram) {
    if (family.histograms.empty()) return;
    // The `le` values are the same for every series: format them once.
    std::vector<std::string> le_values;
    le_values.reserve(family.bucket_bounds.size() + 1);
    for (double bound : family.bucket_bounds) le_values.push_back(FormatPrometheusValue(bound));
    le_values.emplace_back("+Inf");
    for (const HistogramSample& h : family.histograms) AppendHistogram(family, h, le_values, out);
    return;
  }
  for (const MetricSample& s : family.samples) {
    out->append(family.name);
    AppendLabels(family.label_names, s.label_values, nullptr, out);
    out->push_back(' ');
    AppendValue(s.value, out);
    out->push_back('\n');
  }
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string FormatPrometheusValue(double value) {
  std::string out;
  AppendValue(value, &out);
  return out;
}

void AppendPrometheus(const MetricsSnapshot& snapshot, std::string* out) {
  for (const MetricFamily& family : snapshot.families) AppendFamily(family, out);
}

std::string RenderPrometheus(const MetricsSnapshot& snapshot) {
  std::string out;
  // A rough size guess: one line of ~64 bytes per series plus the HELP/TYPE lines.
  size_t lines = 0;
  for (const MetricFamily& f : snapshot.families) {
    lines += 2 + f.samples.size() + f.histograms.size() * (f.bucket_bounds.size() + 3);
  }
  out.reserve(lines * 64);
  AppendPrometheus(snapshot, &out);
  return out;
}

}  // namespace ffpod
