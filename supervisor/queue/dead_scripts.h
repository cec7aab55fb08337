// The Lua scripts behind `ffpod dead retry` and `ffpod dead purge` (docs/queue.md "Operating
// the dead list"). Each acts on one Q:dead entry, named by its exact bytes, atomically: the
// entry is taken out of Q:dead (LREM) in the same step that puts the job back or removes it,
// so of a retry, a purge and a trim racing for one entry exactly one wins and the job stays in
// exactly one place. Keys as in supervisor/queue/queue_scripts.h.
#pragma once

#include "supervisor/queue/redis_client.h"

namespace ffpod {

struct DeadScripts {
  // KEYS: Q:dead, Q:pending, job hash, Q:dead:stats.
  // ARGV: entry, document, updated_at, events channel, id, has_id (1|0), direction (1: look for
  // the entry from the newest end, -1: from the oldest; a 100000-entry list is scanned from the
  // end it is nearer to).
  // Puts the job back at the head of pending (the right end, claimed next) with its attempts
  // reset: state `pending`, `attempt` 0, `dead_retried_at` and `dead_retries` (+1) recorded, no
  // expiry; Q:dead:stats `retried` +1; a group member counts pending again (reopening its
  // group when it had ended). Returns {1, "pending"}; {0, state} when the job's hash
  // says it is no longer dead (enqueued again meanwhile, or retried already): nothing changes;
  // {0, ""} when the entry is no longer in Q:dead (retried, purged or trimmed meanwhile).
  static const RedisScript& Retry();
  // KEYS: Q:dead, job hash, Q:dead:stats.
  // ARGV: entry, updated_at, events channel, id, has_id, direction (as for Retry).
  // Removes the entry and, while it still says `dead`, the job's hash; Q:dead:stats `purged`
  // +1. Returns 1, or 0 when the entry is no longer in Q:dead (nothing changes).
  static const RedisScript& Purge();
};

}  // namespace ffpod
