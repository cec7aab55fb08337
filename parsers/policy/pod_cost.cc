#include "parsers/policy/pod_cost.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "parsers/common/json_text.h"
#include "parsers/common/text.h"

namespace ffpod {

int64_t PodDeletionCost(const std::vector<std::optional<double>>& busy_slot_progress) {
  int64_t cost = 0;
  for (const std::optional<double>& ratio : busy_slot_progress) {
    cost += 100;
    if (ratio && std::isfinite(*ratio)) {
      cost += 10 * static_cast<int64_t>(std::floor(std::clamp(*ratio, 0.0, 1.0) * 10));
    }
  }
  return cost;
}

std::string PodDeletionCostPatch(int64_t cost) {
  boost::json::object annotations;
  annotations[kPodDeletionCostAnnotation] = std::to_string(cost);  // annotations are strings
  return JsonText(boost::json::object{{"metadata", {{"annotations", std::move(annotations)}}}});
}

std::string PodApiPath(std::string_view ns, std::string_view pod) {
  std::string path = "/api/v1/namespaces/";
  path += ns;
  path += "/pods/";
  path += pod;
  return path;
}

bool IsKubernetesName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  auto alnum = [](char c) { return IsAsciiLower(c) || IsDigit(c); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

}  // namespace ffpod
