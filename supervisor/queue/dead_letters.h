// The operator's side of the dead-letter list Q:dead (docs/queue.md "Operating the dead
// list"): reading it in pages, its counters, and retrying or purging one entry at a time with
// the scripts of supervisor/queue/dead_scripts.h. Every callback gets a Result: on failure the
// error says why the step did not run or its outcome is unknown (Redis down, connection lost),
// or carries Redis' error reply. Threading: the io_context thread of the client.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "parsers/common/result.h"
#include "parsers/documents/dead_entry.h"
#include "supervisor/queue/job_queue.h"
#include "supervisor/queue/redis_client.h"

namespace ffpod {

// Q:dead's length and the counters in Q:dead:stats.
struct DeadStats {
  long long length = 0;
  long long trimmed = 0;  // dropped from the old end to keep the list at --dead-max
  long long retried = 0;
  long long purged = 0;
};

class DeadLetters {
 public:
  DeadLetters(RedisClient& redis, QueueKeys keys) : redis_(redis), keys_(std::move(keys)) {}

  template <typename T>
  using Reply = std::function<void(Result<T>)>;

  void Stats(Reply<DeadStats> done);
  // The raw entries at positions [start, start + count) from the newest; fewer at the end.
  void Page(long long start, long long count, Reply<std::vector<std::string>> done);
  // What a retry or purge of one entry did.
  struct Outcome {
    bool done = false;
    std::string state;  // retry refused: the job's state now; "" when the entry was gone
  };
  // `from_oldest`: the entry was read nearer the list's oldest end (the search starts there).
  void Retry(const DeadEntry& entry, bool from_oldest, Reply<Outcome> done);
  void Purge(const DeadEntry& entry, bool from_oldest, Reply<Outcome> done);

 private:
  RedisClient& redis_;
  QueueKeys keys_;
};

}  // namespace ffpod
