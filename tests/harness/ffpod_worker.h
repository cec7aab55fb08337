// Test helpers for worker-mode tests: a real `ffpod worker` process against a RedisServer, and
// producers that push jobs the way any language would (a plain LPUSH of the JSON document).
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/harness/harness.h"
#include "tests/harness/redis_server.h"

namespace ffpod::testing {

class FfpodWorker {
 public:
  // Starts `ffpod worker --redis <url> --worker-id <id> --listen 127.0.0.1:0 <flags>`, logging
  // to <dir>/<id>.log.
  FfpodWorker(const std::string& redis_url, const std::string& id, const TempDir& dir,
              const std::vector<std::string>& flags = {},
              const std::vector<std::string>& extra_env = {});
  BackgroundProcess& process() { return *process_; }
  const std::string& id() const { return id_; }
  std::string Log() const { return ReadFile(log_path_); }
  std::vector<boost::json::object> Records() const;
  // The HTTP port it logged, waiting for it.
  int Port();

 private:
  std::string id_;
  std::string log_path_;
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
};

// A job document for `args` (and `outputs`), with optional extra fields.
std::string JobDocument(const std::string& id, const std::vector<std::string>& args,
                        const std::vector<std::string>& outputs = {},
                        const boost::json::object& extra = {});

// LPUSH the document onto <queue>:pending, as a producer in any language would.
void Produce(const RedisServer& redis, const std::string& document,
             const std::string& queue = "ffpod");

// The job's state hash field (empty when absent).
std::string JobField(const RedisServer& redis, const std::string& id, const std::string& field,
                     const std::string& queue = "ffpod");

// Every entry of <queue>:results as (id, status, kind, result JSON object).
struct ResultEntry {
  std::string id;
  std::string status;
  std::string kind;  // "group" for a job group's entry; empty for an attempt's result
  boost::json::object result;
};
std::vector<ResultEntry> Results(const RedisServer& redis, const std::string& queue = "ffpod");

long long ListLength(const RedisServer& redis, const std::string& key);

// Checks (gtest EXPECTs) that `result` has the shape docs/queue.md gives every result
// document: each key present, `outputs` and `stderr_tail` arrays, `args` and `inputs` arrays or
// null, `exit`, `progress`, `ffmpeg`, `image` and `worker` objects or null, `ffmpeg` with its
// four keys. `context` names the document in failure messages.
void ExpectResultShape(const boost::json::object& result, const std::string& context);

// ffmpeg arguments for a short real encode of `seconds` of lavfi video into `out`.
std::vector<std::string> EncodeArgs(const std::string& out, double seconds, bool realtime = false);

}  // namespace ffpod::testing
