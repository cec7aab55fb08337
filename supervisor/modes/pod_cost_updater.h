// Keeps this pod's `controller.kubernetes.io/pod-deletion-cost` annotation current (`ffpod
// worker --pod-deletion-cost`, parsers/policy/pod_cost.h) by PATCHing the pod through the
// Kubernetes API over HTTPS, with the service account's bearer token and CA certificate.
//
// Set(cost) only records the wanted value and wakes the thread of the updater's background
// sender (supervisor/net/https_sender.h); it never waits for the network. That thread sends one
// request at a time, always with the latest value, so a burst of changes costs one request. Each
// request (connect, TLS handshake, write, read) must complete within `request_timeout`, on a
// connection of its own: there are a handful per job. A failed request is retried with
// exponential backoff (1 s doubling to 60 s by default, with jitter) for as long as a value is
// waiting. Failures are logged once when they start, saying what to fix for 401, 403 and 404,
// and once when updates work again. The token file is read for every request, so a rotated token
// is picked up.
//
// Threading: Set and stats are thread-safe; Shutdown is called by the owner (the destructor
// calls it too).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "parsers/common/result.h"
#include "supervisor/telemetry/logger.h"

namespace ffpod {

class HttpsSender;

struct PodCostUpdaterOptions {
  std::string host;  // the API server: an address (KUBERNETES_SERVICE_HOST) or a name
  int port = 443;
  std::string ca_file;     // verifies the API server's certificate
  std::string token_file;  // the bearer token, read for every request
  std::string ns;          // this pod's namespace
  std::string pod;         // this pod's name
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  Logger* logger = nullptr;  // optional
};

class PodCostUpdater {
 public:
  struct Stats {
    int64_t applied = -1;   // the last value the API server accepted; -1: none yet
    uint64_t requests = 0;  // PATCH requests that got an answer or failed
    uint64_t failures = 0;  // of those, not accepted
  };

  // Fails with one sentence when the CA file cannot be loaded.
  static Result<std::unique_ptr<PodCostUpdater>> Create(PodCostUpdaterOptions options);
  ~PodCostUpdater();
  PodCostUpdater(const PodCostUpdater&) = delete;
  PodCostUpdater& operator=(const PodCostUpdater&) = delete;

  void Set(int64_t cost);
  // Stops at once: a request in flight is abandoned. Idempotent.
  void Shutdown();
  Stats stats() const;

  class State;  // what to PATCH and when; the sender's delegate

 private:
  explicit PodCostUpdater(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
  std::unique_ptr<HttpsSender> sender_;
};

}  // namespace ffpod
