// The pod-deletion-cost: the value for a worker's slots, the merge patch, the API path, name
// checks, and the flag's configuration from the pod's environment.
#include "parsers/policy/pod_cost.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "parsers/config/config.h"

namespace ffpod {
namespace {

TEST(PodDeletionCost, IdleIsZeroAndBusySlotsRankByProgress) {
  EXPECT_EQ(PodDeletionCost({}), 0);
  EXPECT_EQ(PodDeletionCost({std::nullopt}), 100);
  EXPECT_EQ(PodDeletionCost({0.0}), 100);
  EXPECT_EQ(PodDeletionCost({0.099}), 100);
  EXPECT_EQ(PodDeletionCost({0.1}), 110);
  EXPECT_EQ(PodDeletionCost({0.55}), 150);
  EXPECT_EQ(PodDeletionCost({0.999}), 190);
  EXPECT_EQ(PodDeletionCost({1.0}), 200);
  // Out of range and non-finite ratios are clamped or ignored, never negative or huge.
  EXPECT_EQ(PodDeletionCost({-0.5}), 100);
  EXPECT_EQ(PodDeletionCost({7.0}), 200);
  EXPECT_EQ(PodDeletionCost({std::numeric_limits<double>::quiet_NaN()}), 100);
  // Slots add up: two jobs just started cost more than one about to end.
  EXPECT_EQ(PodDeletionCost({0.25, std::nullopt}), 220);
  EXPECT_GT(PodDeletionCost({0.0, 0.0}), PodDeletionCost({0.95}));
}

TEST(PodDeletionCost, MergePatchSetsTheAnnotationAsAString) {
  boost::json::value patch = boost::json::parse(PodDeletionCostPatch(150));
  EXPECT_EQ(boost::json::serialize(patch),
            R"({"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"150"}}})");
  EXPECT_EQ(patch.at("metadata").at("annotations").at(kPodDeletionCostAnnotation), "150");
}

TEST(PodDeletionCost, ApiPathAndNames) {
  EXPECT_EQ(PodApiPath("video", "ffpod-7d9f-x2"), "/api/v1/namespaces/video/pods/ffpod-7d9f-x2");
  EXPECT_TRUE(IsKubernetesName("ffpod-worker-7d9f8c6b5-x2mzq"));
  EXPECT_TRUE(IsKubernetesName("a.b-c"));
  EXPECT_TRUE(IsKubernetesName("0"));
  EXPECT_FALSE(IsKubernetesName(""));
  EXPECT_FALSE(IsKubernetesName("Ffpod"));
  EXPECT_FALSE(IsKubernetesName("-ffpod"));
  EXPECT_FALSE(IsKubernetesName("ffpod-"));
  EXPECT_FALSE(IsKubernetesName("ffpod/../../secrets"));
  EXPECT_FALSE(IsKubernetesName("a b"));
  EXPECT_FALSE(IsKubernetesName(std::string(254, 'a')));
  EXPECT_TRUE(IsKubernetesName(std::string(253, 'a')));
}

std::map<std::string, std::string> PodEnv() {
  return {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
          {"KUBERNETES_SERVICE_PORT", "443"},
          {"POD_NAME", "ffpod-abc"},
          {"POD_NAMESPACE", "video"}};
}

Result<Config> Worker(std::vector<std::string> flags, std::map<std::string, std::string> env) {
  std::vector<std::string> argv = {"worker", "--redis", "redis://127.0.0.1:6379"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return ParseConfig(argv, env);
}

TEST(PodDeletionCostConfig, TheShellPassesOnlyTheVariablesTheParserReads) {
  EXPECT_TRUE(ConfigReadsVariable("FFPOD_SLOTS"));
  EXPECT_TRUE(ConfigReadsVariable("POD_NAME"));
  EXPECT_TRUE(ConfigReadsVariable("POD_NAMESPACE"));
  EXPECT_TRUE(ConfigReadsVariable("KUBERNETES_SERVICE_HOST"));
  EXPECT_TRUE(ConfigReadsVariable("KUBERNETES_SERVICE_PORT"));
  EXPECT_FALSE(ConfigReadsVariable("PATH"));
  EXPECT_FALSE(ConfigReadsVariable("KUBERNETES_PORT"));
  EXPECT_FALSE(ConfigReadsVariable("ffpod_slots"));
}

TEST(PodDeletionCostConfig, ReadsThePodAndTheApiFromTheEnvironment) {
  auto off = Worker({}, PodEnv());
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_FALSE(off->pod_deletion_cost);
  EXPECT_EQ(off->kube_api_host, "");  // read only when the flag is on

  auto c = Worker({"--pod-deletion-cost"}, PodEnv());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->pod_deletion_cost);
  EXPECT_EQ(c->kube_api_host, "10.96.0.1");
  EXPECT_EQ(c->kube_api_port, 443);
  EXPECT_EQ(c->pod_name, "ffpod-abc");
  EXPECT_EQ(c->pod_namespace, "video");
  EXPECT_EQ(c->serviceaccount_dir, "/var/run/secrets/kubernetes.io/serviceaccount");

  auto env = PodEnv();
  env["FFPOD_POD_DELETION_COST"] = "true";
  env["FFPOD_SERVICEACCOUNT_DIR"] = "/sa";
  env["KUBERNETES_SERVICE_PORT"] = "6443";
  env.erase("POD_NAMESPACE");  // then the namespace file is read at start
  auto e = Worker({}, env);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->pod_deletion_cost);
  EXPECT_EQ(e->serviceaccount_dir, "/sa");
  EXPECT_EQ(e->kube_api_port, 6443);
  EXPECT_EQ(e->pod_namespace, "");
}

TEST(PodDeletionCostConfig, MissingOrBadPodEnvironmentIsOneSentence) {
  auto env = PodEnv();
  env.erase("POD_NAME");
  auto no_name = Worker({"--pod-deletion-cost"}, env);
  ASSERT_FALSE(no_name.ok());
  EXPECT_EQ(no_name.error().message,
            "--pod-deletion-cost needs POD_NAME (set it from the Downward API's metadata.name)");

  env = PodEnv();
  env.erase("KUBERNETES_SERVICE_HOST");
  auto no_api = Worker({"--pod-deletion-cost"}, env);
  ASSERT_FALSE(no_api.ok());
  EXPECT_NE(no_api.error().message.find("KUBERNETES_SERVICE_HOST is not set"), std::string::npos);

  env = PodEnv();
  env["KUBERNETES_SERVICE_PORT"] = "https";
  auto bad_port = Worker({"--pod-deletion-cost"}, env);
  ASSERT_FALSE(bad_port.ok());
  EXPECT_EQ(bad_port.error().message,
            "KUBERNETES_SERVICE_PORT expects a port from 1 to 65535, got \"https\"");

  env = PodEnv();
  env["POD_NAME"] = "../secrets";
  auto bad_name = Worker({"--pod-deletion-cost"}, env);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.error().message.find("POD_NAME \"../secrets\" is not a pod name"),
            std::string::npos);

  env = PodEnv();
  env["POD_NAMESPACE"] = "Video";
  auto bad_ns = Worker({"--pod-deletion-cost"}, env);
  ASSERT_FALSE(bad_ns.ok());
  EXPECT_NE(bad_ns.error().message.find("POD_NAMESPACE \"Video\" is not a namespace name"),
            std::string::npos);

  // Only the worker has the flag.
  auto run = ParseConfig({"run", "--pod-deletion-cost", "--", "ffmpeg", "-version"}, PodEnv());
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.error().message.find("unknown flag --pod-deletion-cost for ffpod run"),
            std::string::npos);
}

}  // namespace
}  // namespace ffpod
