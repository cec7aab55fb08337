// The Lua scripts behind every multi-key step of the queue (docs/queue.md). Each runs
// atomically in Redis, so a job is always in exactly one of pending, active:<worker>, delayed,
// dead, or finished with a result, whatever crashes in between.
//
// Key layout for queue Q: Q:pending (list; producers LPUSH, workers take from the right, so the
// right end is the head), Q:active:<worker> (list), Q:worker:<worker> (heartbeat string with
// TTL), Q:workers (set), Q:delayed (sorted set, score = due time in ms), Q:dead (list of
// {"job": <document as claimed>, "result": {...}}; newest at the left, trimmed to the dead
// maximum), Q:dead:stats (hash: trimmed, retried, purged counts), Q:job:<id> (hash: state, attempt,
// worker, progress, result, updated_at), Q:results (stream: id, status, result), Q:events
// (channel), Q:paused (string), Q:group:<g> and Q:group:<g>:members (hashes: a job group's
// counts and members, kept by the helper of supervisor/queue/group_lua.h in every script below
// that changes a job's state).
//
// Job hash `state`: pending, running, delayed, succeeded, dead, cancelled, rerouted (moved to
// the queue named in `rerouted_to`; ended in this queue). `attempt` counts
// attempts that started; a preempted attempt is handed back (it does not count). `start_token`
// is the fencing token of the claim running the job: only that claim may publish outputs or
// record an outcome, and the first terminal state (succeeded, dead, cancelled) is final (until
// an operator retries a dead job: supervisor/queue/dead_scripts.h).
//
// Every script that adds to Q:dead trims it to the dead maximum (the oldest entries go) and
// adds the number dropped to Q:dead:stats `trimmed`; its reply says how many it dropped.
//
// Scripts that need Q:job:<id> for an id taken from a document build the key inside the script
// (Redis Cluster is therefore not supported; a single primary, with replicas or Sentinel, is).
// Finish takes a rerouted job's destination keys as KEYS, never builds them: on Redis Cluster
// the move becomes two idempotent steps, one per queue's slot (docs/queue.md).
#pragma once

#include "supervisor/queue/redis_client.h"

namespace ffpod {

struct QueueScripts {
  // KEYS: job hash, Q:paused, Q:active:<w>, Q:pending.
  // ARGV: document, worker id, updated_at, events channel, id, start token (unique per claim).
  // Returns {1, attempt} when the attempt starts: the token becomes the job's fencing token,
  // held until the attempt's Finish or until a recovery removes it (a repeated call after a
  // lost reply counts no second attempt). {0, 0} when the queue is paused (the job was handed
  // back to the head of pending), {2, attempts so far} when a cancel was requested (the caller
  // records it as cancelled, holding the token; nothing runs), {3, 0} when the document is no
  // longer in Q:active:<w> (handed back by an earlier call, or recovered by another worker):
  // nothing to do; {4, attempts} when the job already ended (succeeded, dead, cancelled, or
  // rerouted away): the copy is removed from Q:active:<w> and not run.
  static const RedisScript& Start();
  // KEYS: job hash, Q:active:<w>, Q:pending, Q:delayed, Q:dead, Q:results, Q:dead:stats,
  // D:pending, D:job:<id> (D: the destination queue of a rerouted job, else Q itself).
  // ARGV: document, status (succeeded|retrying|dead|preempted|cancelled|rerouted), result JSON,
  // id, delay ms, ttl s, results maxlen, done token (unique per attempt), events channel,
  // updated_at, has_id (1|0), dead entry JSON, worker id, start token (the claim's), dead max,
  // then for rerouted: D, the document for D:pending, the move JSON, the fallback status
  // (retrying|dead) and result JSON, D's events channel, Q.
  // Returns {code, dead entries trimmed, fell back}. Code 1 when the claim still held the job:
  // it moved where `status` says (cancelled: out of every list, state `cancelled`; rerouted:
  // the new document to the head of D:pending, the state to D:job:<id> with the attempts and
  // the moves, Q's hash `rerouted` with `rerouted_to`), the state hash has the result, the
  // token is released. `fell back` is 1 when a rerouted job stayed, because D holds a live job
  // with its id: the fallback status and result were recorded instead. 2 when it was fenced
  // (another claim holds the job, or it already ended): only a `superseded` entry is added to
  // Q:results. -1 when this done token was already recorded (a repeated call after a lost
  // reply: nothing changes).
  static const RedisScript& Finish();
  // KEYS: job hash, Q:active:<w>, Q:worker:<w>, Q:workers.
  // ARGV: document, start token, heartbeat JSON, heartbeat TTL ms, worker id.
  // Returns 1 when the claim still holds the job, having renewed the heartbeat: no recovery can
  // take the job before the TTL runs out, so the caller may publish until then (its lease).
  // 0 when the claim was fenced: it must not publish.
  static const RedisScript& Hold();
  // KEYS: Q:active:<w>, Q:dead, Q:results, job hash, Q:dead:stats.
  // ARGV: document, dead entry, result JSON, id, results maxlen, ttl s, events channel,
  // updated_at, dead max. Returns {1, dead entries trimmed}, or {0, 0} when the document was no
  // longer in Q:active:<w> (nothing written).
  static const RedisScript& DeadLetterBadJob();

  // KEYS: Q:worker:<w>, Q:active:<w>, Q:pending, Q:dead, Q:results, Q:workers, Q:dead:stats.
  // ARGV: worker w, queue name, default max_attempts, recovering worker, updated_at, results
  // maxlen, ttl s, events channel, force (1: recover even though the heartbeat exists; for a
  // worker restarting under its own id), dead max.
  // Moves every job of a worker whose heartbeat expired back to the head of pending (or to dead
  // when its attempts are used up), reason worker_lost, fencing the attempts it had started.
  // Returns {jobs recovered, {document, attempt, ...}, dead entries trimmed} with each started
  // attempt (whose temporary outputs the caller removes: they can no longer be published).
  static const RedisScript& Recover();

  // KEYS: Q:active:<w>, Q:pending. ARGV: the documents this worker's busy slots hold (one
  // argument per slot, duplicates allowed).
  // Hands every other document of the worker's own active list back to the head of pending:
  // a claim whose BLMOVE ran but whose reply was lost with the connection leaves its document
  // there with no slot working on it. Returns how many were handed back.
  static const RedisScript& ReturnUnheld();

  // KEYS: Q:delayed, Q:pending. ARGV: queue name, limit, events channel, updated_at.
  // Moves due retries (score <= Redis TIME) to the head of pending. Returns how many.
  static const RedisScript& PromoteDelayed();

  // KEYS: job hash. ARGV: updated_at, events channel, id, ttl s.
  // Marks the job for cancellation (`cancel_requested`): a worker running it stops it, a worker
  // about to start it does not. Returns the job's state ("" when it has no state hash yet, e.g.
  // pushed with a plain LPUSH and not claimed).
  static const RedisScript& Cancel();

  // KEYS: job hash, Q:pending. ARGV: document, updated_at, events channel, id, group ("" for
  // none). Returns {1, "pending"} when queued (a member of the group, counted pending), {0,
  // state} when a job with this id is still pending, running or delayed, {2, outcome} when the
  // group has already ended (its outcome: succeeded, partial or failed): nothing is queued.
  static const RedisScript& Enqueue();
};

}  // namespace ffpod
