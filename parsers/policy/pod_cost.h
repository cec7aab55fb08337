// The `controller.kubernetes.io/pod-deletion-cost` annotation of a worker pod (`ffpod worker
// --pod-deletion-cost`): what it should be, the merge patch that sets it, and where the
// Kubernetes API takes that patch. When a Deployment scales in, the ReplicaSet deletes the pods
// with the lowest cost first, so idle workers go before busy ones and a job near its end is the
// last to be interrupted (docs/kubernetes.md, "Scale-in").
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ffpod {

inline constexpr std::string_view kPodDeletionCostAnnotation =
    "controller.kubernetes.io/pod-deletion-cost";

// 0 for an idle worker. Each busy slot adds 100, plus 10 for each tenth of its job done (a job
// whose progress is unknown adds only the 100). So the cost changes at most 12 times per job:
// claimed, every tenth, finished.
//
// `busy_slot_progress`: one entry per busy slot, the job's progress ratio when known.
int64_t PodDeletionCost(const std::vector<std::optional<double>>& busy_slot_progress);

// The JSON merge patch (`application/merge-patch+json`) that sets the annotation to `cost`.
std::string PodDeletionCostPatch(int64_t cost);

// `/api/v1/namespaces/<ns>/pods/<pod>`.
std::string PodApiPath(std::string_view ns, std::string_view pod);

// Whether `name` can be a namespace or pod name: an RFC 1123 subdomain (lowercase letters,
// digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters).
bool IsKubernetesName(std::string_view name);

}  // namespace ffpod
