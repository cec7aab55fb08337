// A small registry of Prometheus metric families (counter, gauge, histogram), each with fixed
// label names and one child series per label-value set, created on first use. `Collect()`
// copies the current values into a `MetricsSnapshot` that `RenderPrometheus` prints.
//
// Rules the types enforce:
// - Counters only go up: a negative, NaN or infinite increment is ignored. A counter family
//   without labels exists (at 0) from registration, so `rate()` and `absent()` work at once.
// - Gauges hold finite values only: setting NaN or +-Inf removes the series instead, so an
//   unknown value is absent from /metrics, never `NaN`. `Remove(labels)` drops one series (a
//   per-slot gauge of a slot that went idle); `Clear()` drops all. A gauge family is empty until
//   its first `Set`.
// - Histograms count observations into fixed buckets (`le`, upper bound inclusive); NaN and
//   infinite observations are ignored. A histogram without labels exists from registration.
// - Misuse is a programming error and fatal (message on stderr, abort): an invalid metric or
//   label name, a duplicate family name, a label named `le` on a histogram, unsorted or
//   non-finite buckets, or a call whose label-value count differs from the label names.
//
// Threading: every method is thread-safe. Each family has its own mutex, held for one map lookup
// and one arithmetic operation on update (the event loop updates: a few times per second per
// slot), and for a copy of the family's series on `Collect()` (HTTP threads scrape). A snapshot
// is consistent per family; updates to two families are not atomic together. References
// returned by the `Add*` methods stay valid for the registry's lifetime.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/telemetry/prometheus.h"

namespace ffpod {

// Label values of one series, in the order of the family's label names: `{"0"}`, `{"ok", "x"}`.
using MetricLabels = std::initializer_list<std::string_view>;

// Shared by the three family types: name, HELP text, label names, and the per-family lock.
class MetricFamilyBase {
 public:
  virtual ~MetricFamilyBase() = default;
  MetricFamilyBase(const MetricFamilyBase&) = delete;
  MetricFamilyBase& operator=(const MetricFamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // The family's current series as snapshot data, in label-value order.
  virtual MetricFamily Collect() const = 0;

 protected:
  // Fatal when `name` or a label name is invalid or a label name repeats.
  MetricFamilyBase(std::string name, std::string help, std::vector<std::string> label_names);

  // Fatal when `labels` does not have one value per label name.
  void CheckArity(MetricLabels labels) const;
  MetricFamily Header(MetricType type) const;

  // Orders label-value sets of any string type (lookups need no allocation).
  struct LabelsLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::lexicographical_compare(
          a.begin(), a.end(), b.begin(), b.end(),
          [](std::string_view x, std::string_view y) { return x < y; });
    }
  };
  template <typename Child>
  using ChildMap = std::map<std::vector<std::string>, Child, LabelsLess>;
  static std::vector<std::string> Key(MetricLabels labels) {
    return std::vector<std::string>(labels.begin(), labels.end());
  }

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mu_;
};

class Counter : public MetricFamilyBase {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> label_names);

  // Adds `delta` (>= 0, finite; anything else is ignored) to the series, creating it at 0.
  void Inc(MetricLabels labels, double delta = 1);
  void Inc(double delta = 1) { Inc({}, delta); }  // families without labels

  // The series' value, or nullopt when it does not exist yet.
  std::optional<double> Value(MetricLabels labels = {}) const;

  MetricFamily Collect() const override;

 private:
  ChildMap<double> children_;
};

class Gauge : public MetricFamilyBase {
 public:
  Gauge(std::string name, std::string help, std::vector<std::string> label_names);

  // Sets the series to `value`, creating it; NaN or +-Inf removes the series instead.
  void Set(MetricLabels labels, double value);
  void Set(double value) { Set({}, value); }
  // Adds `delta` to the series (created at 0); a non-finite result removes it.
  void Add(MetricLabels labels, double delta);
  // Removes the series; no effect when it does not exist.
  void Remove(MetricLabels labels = {});
  // Removes every series of the family.
  void Clear();

  std::optional<double> Value(MetricLabels labels = {}) const;
  size_t SeriesCount() const;

  MetricFamily Collect() const override;

 private:
  ChildMap<double> children_;
};

class Histogram : public MetricFamilyBase {
 public:
  // `bucket_bounds`: finite, strictly ascending upper bounds; `+Inf` is implied.
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bucket_bounds);

  // Counts `value` into the first bucket whose bound is >= value (creating the series).
  // NaN and infinite values are ignored.
  void Observe(MetricLabels labels, double value);
  void Observe(double value) { Observe({}, value); }

  const std::vector<double>& bucket_bounds() const { return bounds_; }
  MetricFamily Collect() const override;

 private:
  struct Child {
    std::vector<uint64_t> counts;  // per bucket, not cumulative; last one is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  const std::vector<double> bounds_;
  ChildMap<Child> children_;
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers a family; fatal when the name is taken or invalid (see the header comment).
  Counter& AddCounter(std::string name, std::string help,
                      std::vector<std::string> label_names = {});
  Gauge& AddGauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Histogram& AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                          std::vector<double> bucket_bounds);

  // Every family in registration order, with its current series.
  MetricsSnapshot Collect() const;
  // RenderPrometheus(Collect()): the body of GET /metrics.
  std::string Render() const;

 private:
  template <typename T>
  T& Add(std::unique_ptr<T> family);

  mutable std::mutex mu_;  // guards families_ (registration may race with scrapes)
  std::vector<std::unique_ptr<MetricFamilyBase>> families_;
};

}  // namespace ffpod
