#include "parsers/policy/fair_share.h"

#include <algorithm>
#include <limits>

#include "parsers/common/text.h"
#include "parsers/documents/job_routes.h"

namespace ffpod {

namespace {

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// True when `tail` (the text after an element's last colon) is meant as a weight.
bool LooksLikeWeight(std::string_view tail) {
  return tail.find_first_not_of("+-0123456789") == std::string_view::npos;
}

Result<WeightedQueue> ParseElement(std::string_view element) {
  WeightedQueue q;
  std::string_view name = element;
  size_t colon = element.rfind(':');
  if (colon != std::string_view::npos && LooksLikeWeight(element.substr(colon + 1))) {
    std::string_view weight = element.substr(colon + 1);
    std::optional<uint64_t> n = ParseUint64(weight);  // digits only: no sign, not empty
    if (!n || *n < static_cast<uint64_t>(kMinQueueWeight) ||
        *n > static_cast<uint64_t>(kMaxQueueWeight)) {
      return Error{"queue names with an optional :WEIGHT from 1 to 1000 (" + Quoted(element) +
                   " has weight " + Quoted(weight) + ")"};
    }
    q.weight = static_cast<int>(*n);
    q.weight_given = true;
    name = element.substr(0, colon);
  }
  if (!IsValidQueueName(name)) {
    return Error{"queue names of 1-200 characters without spaces (" + Quoted(element) +
                 " is not one)"};
  }
  q.name = std::string(name);
  return q;
}

}  // namespace

Result<std::vector<WeightedQueue>> ParseQueueList(std::string_view text) {
  std::vector<WeightedQueue> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view element =
        Trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start), " ");
    if (element.empty()) {
      return Error{"a comma-separated list of queue names (element " +
                   std::to_string(out.size() + 1) + " is empty)"};
    }
    auto q = ParseElement(element);
    if (!q.ok()) return q.error();
    for (const auto& seen : out) {
      if (seen.name == q->name) {
        return Error{"each queue once (" + Quoted(q->name) + " is listed twice)"};
      }
    }
    out.push_back(std::move(*q));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string QueueListText(const std::vector<WeightedQueue>& queues) {
  std::string out;
  for (const auto& q : queues) {
    if (!out.empty()) out += ",";
    out += q.name;
    if (q.weight_given) out += ":" + std::to_string(q.weight);
  }
  return out;
}

FairShare::FairShare(const std::vector<int>& weights) {
  for (int w : weights) {
    Lane lane;
    lane.stride = kStrideUnit / std::clamp(w, kMinQueueWeight, kMaxQueueWeight);
    lanes_.push_back(lane);
  }
}

std::vector<size_t> FairShare::Order(const std::vector<bool>& eligible) const {
  std::vector<size_t> order;
  for (size_t i = 0; i < lanes_.size() && i < eligible.size(); ++i) {
    if (eligible[i]) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    return lanes_[a].pass + lanes_[a].stride < lanes_[b].pass + lanes_[b].stride;
  });
  return order;
}

void FairShare::Claimed(size_t i) {
  Lane& lane = lanes_[i];
  if (lane.idle) {
    // The virtual time now: the lowest start (pass before its last claim) of the busy lanes.
    int64_t now = std::numeric_limits<int64_t>::max();
    for (size_t j = 0; j < lanes_.size(); ++j) {
      if (j != i && !lanes_[j].idle) now = std::min(now, lanes_[j].pass - lanes_[j].stride);
    }
    if (now != std::numeric_limits<int64_t>::max()) lane.pass = std::max(lane.pass, now);
    lane.idle = false;
  }
  lane.pass += lane.stride;
  Rebase();
}

void FairShare::Empty(size_t i) { lanes_[i].idle = true; }

void FairShare::Rebase() {
  int64_t lowest = std::numeric_limits<int64_t>::max();
  for (const Lane& lane : lanes_) {
    if (!lane.idle) lowest = std::min(lowest, lane.pass);
  }
  if (lowest == std::numeric_limits<int64_t>::max() || lowest < kStrideUnit * 1000) return;
  for (Lane& lane : lanes_) lane.pass = std::max<int64_t>(0, lane.pass - lowest);
}

}  // namespace ffpod
