#include "supervisor/telemetry/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "parsers/common/text.h"

namespace ffpod {
namespace {

[[noreturn]] void Fatal(const std::string& message) {
  std::fprintf(stderr, "ffpod: fatal: metrics: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool ValidMetricName(std::string_view s) {
  if (s.empty() || IsDigit(s[0])) return false;
  for (char c : s) {
    if (!IsAsciiAlpha(c) && !IsDigit(c) && c != '_' && c != ':') return false;
  }
  return true;
}

// [a-zA-Z_][a-zA-Z0-9_]*, and not `__`-prefixed (reserved for Prometheus itself).
bool ValidLabelName(std::string_view s) {
  if (s.empty() || IsDigit(s[0]) || s.starts_with("__")) return false;
  for (char c : s) {
    if (!IsAsciiAlpha(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

MetricFamilyBase::MetricFamilyBase(std::string name, std::string help,
                                   std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  if (!ValidMetricName(name_)) Fatal("invalid metric name \"" + name_ + "\"");
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (!ValidLabelName(label_names_[i])) {
      Fatal("invalid label name \"" + label_names_[i] + "\" in " + name_);
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names_[i] == label_names_[j]) {
        Fatal("label \"" + label_names_[i] + "\" repeats in " + name_);
      }
    }
  }
}

void MetricFamilyBase::CheckArity(MetricLabels labels) const {
  if (labels.size() != label_names_.size()) {
    Fatal(name_ + " has " + std::to_string(label_names_.size()) + " label(s), got " +
          std::to_string(labels.size()) + " value(s)");
  }
}

MetricFamily MetricFamilyBase::Header(MetricType type) const {
  MetricFamily f;
  f.name = name_;
  f.help = help_;
  f.type = type;
  f.label_names = label_names_;
  return f;
}

// --- Counter ---

Counter::Counter(std::string name, std::string help, std::vector<std::string> label_names)
    : MetricFamilyBase(std::move(name), std::move(help), std::move(label_names)) {
  if (label_names_.empty()) children_.emplace(std::vector<std::string>{}, 0.0);
}

void Counter::Inc(MetricLabels labels, double delta) {
  CheckArity(labels);
  if (!(delta >= 0) || std::isinf(delta)) return;  // also rejects NaN
  std::lock_guard lock(mu_);
  auto it = children_.find(labels);
  if (it == children_.end()) it = children_.emplace(Key(labels), 0.0).first;
  it->second += delta;
}

std::optional<double> Counter::Value(MetricLabels labels) const {
  CheckArity(labels);
  std::lock_guard lock(mu_);
  auto it = children_.find(labels);
  if (it == children_.end()) return std::nullopt;
  return it->second;
}

MetricFamily Counter::Collect() const {
  MetricFamily f = Header(MetricType::kCounter);
  std::lock_guard lock(mu_);
  f.samples.reserve(children_.size());
  for (const auto& [labels, value] : children_) f.samples.push_back({labels, value});
  return f;
}

// --- Gauge ---

Gauge::Gauge(std::string name, std::string help, std::vector<std::string> label_names)
    : MetricFamilyBase(std::move(name), std::move(help), std::move(label_names)) {}

void Gauge::Set(MetricLabels labels, double value) {
  CheckArity(labels);
  std::lock_guard lock(mu_);
  auto it = children_.find(labels);
  if (!std::isfinite(value)) {
    if (it != children_.end()) children_.erase(it);
    return;
  }
  if (it == children_.end()) {
    children_.emplace(Key(labels), value);
  } else {
    it->second = value;
  }
}

void Gauge::Add(MetricLabels labels, double delta) {
  CheckArity(labels);
  std::lock_guard lock(mu_);
  auto it = children_.find(labels);
  if (it == children_.end()) it = children_.emplace(Key(labels), 0.0).first;
  it->second += delta;
  if (!std::isfinite(it->second)) children_.erase(it);
}

void Gauge::Remove(MetricLabels labels) {
  CheckArity(labels);
  std::lock_guard lock(mu_);
  auto it = children_.find(labels);
  if (it != children_.end()) children_.erase(it);
}

void Gauge::Clear() {
  std::lock_guard lock(mu_);
  children_.clear();
}

std::optional<double> Gauge::Value(MetricLabels labels) const {
  CheckArity(labels);
  std::lock_guard lock(mu_);
  auto it = children_.find(labels);
  if (it == children_.end()) return std::nullopt;
  return it->second;
}

size_t Gauge::SeriesCount() const {
  std::lock_guard lock(mu_);
  return children_.size();
}

MetricFamily Gauge::Collect() const {
  MetricFamily f = Header(MetricType::kGauge);
  std::lock_guard lock(mu_);
  f.samples.reserve(children_.size());
  for (const auto& [labels, value] : children_) f.samples.push_back({labels, value});
  return f;
}

// --- Histogram ---

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> bucket_bounds)
    : MetricFamilyBase(std::move(name), std::move(help), std::move(label_names)),
      bounds_(std::move(bucket_bounds)) {
  for (const std::string& label : label_names_) {
    if (label == "le") Fatal("histogram " + name_ + " may not have a label named le");
  }
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && !(bounds_[i] > bounds_[i - 1]))) {
      Fatal("histogram " + name_ + " needs finite, strictly ascending bucket bounds");
    }
  }
  if (label_names_.empty()) {
    children_.emplace(std::vector<std::string>{}, Child{std::vector<uint64_t>(bounds_.size() + 1)});
  }
}

void Histogram::Observe(MetricLabels labels, double value) {
  CheckArity(labels);
  if (!std::isfinite(value)) return;
  // Bucket i holds values in (bound[i-1], bound[i]]; the last one is (bound[n-1], +Inf).
  size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                      bounds_.begin());
  std::lock_guard lock(mu_);
  auto it = children_.find(labels);
  if (it == children_.end()) {
    it = children_.emplace(Key(labels), Child{std::vector<uint64_t>(bounds_.size() + 1)}).first;
  }
  Child& c = it->second;
  c.counts[bucket] += 1;
  c.sum += value;
  c.count += 1;
}

MetricFamily Histogram::Collect() const {
  MetricFamily f = Header(MetricType::kHistogram);
  f.bucket_bounds = bounds_;
  std::lock_guard lock(mu_);
  f.histograms.reserve(children_.size());
  for (const auto& [labels, child] : children_) {
    HistogramSample h;
    h.label_values = labels;
    h.cumulative_counts.resize(bounds_.size());
    uint64_t running = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      running += child.counts[i];
      h.cumulative_counts[i] = running;
    }
    h.count = child.count;
    h.sum = child.sum;
    f.histograms.push_back(std::move(h));
  }
  return f;
}

// --- MetricsRegistry ---

template <typename T>
T& MetricsRegistry::Add(std::unique_ptr<T> family) {
  std::lock_guard lock(mu_);
  for (const auto& f : families_) {
    if (f->name() == family->name()) Fatal("metric " + family->name() + " registered twice");
  }
  T& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

Counter& MetricsRegistry::AddCounter(std::string name, std::string help,
                                     std::vector<std::string> label_names) {
  return Add(std::make_unique<Counter>(std::move(name), std::move(help), std::move(label_names)));
}

Gauge& MetricsRegistry::AddGauge(std::string name, std::string help,
                                 std::vector<std::string> label_names) {
  return Add(std::make_unique<Gauge>(std::move(name), std::move(help), std::move(label_names)));
}

Histogram& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                         std::vector<std::string> label_names,
                                         std::vector<double> bucket_bounds) {
  return Add(std::make_unique<Histogram>(std::move(name), std::move(help), std::move(label_names),
                                         std::move(bucket_bounds)));
}

MetricsSnapshot MetricsRegistry::Collect() const {
  MetricsSnapshot snapshot;
  std::lock_guard lock(mu_);
  snapshot.families.reserve(families_.size());
  for (const auto& f : families_) snapshot.families.push_back(f->Collect());
  return snapshot;
}

std::string MetricsRegistry::Render() const { return RenderPrometheus(Collect()); }

}  // namespace ffpod
