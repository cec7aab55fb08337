#include "supervisor/queue/queue_scripts.h"

#include "supervisor/queue/group_lua.h"

namespace ffpod {

namespace {

// Prepended to the scripts that dead-letter: trims Q:dead to `max` entries after an LPUSH,
// dropping the oldest (the left end is the newest), and counts the dropped ones in the
// `trimmed` field of Q:dead:stats. Returns how many were dropped.
constexpr const char kTrimDeadLua[] = R"lua(
local function trim_dead(dead, stats, max)
  local over = redis.call('LLEN', dead) - max
  if over <= 0 then return 0 end
  redis.call('LTRIM', dead, 0, max - 1)
  redis.call('HINCRBY', stats, 'trimmed', over)
  return over
end
)lua";

// Prepended to Finish: a rerouted job's state moves to the destination queue's hash (the
// attempts carried, the moves so far), the source's hash keeps `rerouted_to` and the moves, and
// the destination's events channel (ARGV[21]) hears that the job is pending there.
constexpr const char kMoveJobHashLua[] = R"lua(
local function move_job_hash(from, to, id, result)
  local moves = redis.call('HGET', from, 'rerouted')
  if moves and moves ~= '[]' then
    moves = string.sub(moves, 1, -2) .. ',' .. ARGV[18] .. ']'
  else
    moves = '[' .. ARGV[18] .. ']'
  end
  redis.call('HSET', from, 'rerouted', moves, 'rerouted_to', ARGV[16])
  local attempt = redis.call('HGET', from, 'attempt') or '0'
  redis.call('DEL', to)
  redis.call('HSET', to, 'state', 'pending', 'attempt', attempt, 'result', result,
             'updated_at', ARGV[10], 'rerouted', moves, 'rerouted_from', ARGV[22])
  -- A group member stays in its group, whose keys are in the queue it joined in.
  local group = redis.call('HGET', from, 'group')
  if group then
    redis.call('HSET', to, 'group', group, 'group_queue',
               redis.call('HGET', from, 'group_queue') or ARGV[22])
  end
  redis.call('PUBLISH', ARGV[21], cjson.encode({type = 'state', id = id, state = 'pending',
    reason = cjson.decode(ARGV[18]).reason, from = ARGV[22], at = ARGV[10]}))
end
)lua";

// Finish's answer to a fenced attempt: another claim holds the job now (this worker's heartbeat
// had expired and the job was recovered), or it already ended. Recorded for the audit only;
// nothing else changes.
constexpr const char kRecordSupersededLua[] = R"lua(
local function record_superseded(id, result)
  local audit = string.gsub(result, '"status":"[a-z]+"', '"status":"superseded"', 1)
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[7], '*', 'id', id, 'status', 'superseded',
             'result', audit)
  redis.call('PUBLISH', ARGV[9], cjson.encode({type = 'state', id = id, state = 'superseded',
    worker = ARGV[13], at = ARGV[10]}))
end
)lua";

}  // namespace

const RedisScript& QueueScripts::Start() {
  static const RedisScript script(std::string(kGroupStepLua) + R"lua(
if not redis.call('LPOS', KEYS[3], ARGV[1]) then
  -- No longer this worker's: an earlier call handed it back, or another worker recovered it
  -- (even one this claim had started: it runs elsewhere now).
  return {3, 0}
end
if redis.call('HGET', KEYS[1], 'start_token') == ARGV[6] then
  -- This claim already started it (a repeated call after a lost reply), or found it cancelled.
  local code = redis.call('HEXISTS', KEYS[1], 'cancel_requested') == 1 and 2 or 1
  return {code, tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0') or 0}
end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0') or 0
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'succeeded' or state == 'dead' or state == 'cancelled' or state == 'rerouted' then
  -- The job ended (here: a rerouted job runs in the queue it moved to): its first terminal
  -- state is final. A copy that turns up again is not run.
  redis.call('LREM', KEYS[3], 1, ARGV[1])
  return {4, attempts}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('LREM', KEYS[3], 1, ARGV[1]) == 1 then
    redis.call('RPUSH', KEYS[4], ARGV[1])
  end
  return {0, 0}
end
if redis.call('HEXISTS', KEYS[1], 'cancel_requested') == 1 then
  -- This claim records the cancelled outcome: it holds the job's token.
  redis.call('HSET', KEYS[1], 'start_token', ARGV[6], 'worker', ARGV[2])
  return {2, attempts}
end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
redis.call('HSET', KEYS[1], 'state', 'running', 'worker', ARGV[2], 'updated_at', ARGV[3],
           'start_token', ARGV[6])
redis.call('HDEL', KEYS[1], 'progress')
redis.call('PERSIST', KEYS[1])
group_step(KEYS[1], ARGV[5], ARGV[1], 'running', nil, ARGV[3])
redis.call('PUBLISH', ARGV[4], cjson.encode({type = 'state', id = ARGV[5], state = 'running',
  attempt = attempt, worker = ARGV[2], at = ARGV[3]}))
return {1, attempt}
)lua");
  return script;
}

const RedisScript& QueueScripts::Finish() {
  static const RedisScript script(std::string(kTrimDeadLua) + kMoveJobHashLua + kGroupStepLua +
                                  kRecordSupersededLua + R"lua(
local doc, status, result, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local has_id = ARGV[11] == '1'
if has_id and redis.call('HGET', KEYS[1], 'done_token') == ARGV[8] then
  return {-1, 0, 0}
end
local owned = redis.call('LPOS', KEYS[2], doc) ~= false
local fenced = status == 'superseded'  -- the worker found out first
if has_id and not fenced and redis.call('EXISTS', KEYS[1]) == 1 then
  local state = redis.call('HGET', KEYS[1], 'state')
  fenced = redis.call('HGET', KEYS[1], 'start_token') ~= ARGV[14] or not owned or
           state == 'succeeded' or state == 'dead' or state == 'cancelled' or state == 'rerouted'
end
if fenced then
  record_superseded(id, result)
  return {2, 0, 0}
end
-- Rerouted: unless the destination queue holds a live job with this id; then the attempt
-- takes its path here (the fallback status and result).
local fell_back = 0
if status == 'rerouted' then
  local there = redis.call('HGET', KEYS[9], 'state')
  if there and there ~= 'succeeded' and there ~= 'dead' and there ~= 'cancelled' and
     there ~= 'rerouted' then
    status, result, fell_back = ARGV[19], ARGV[20], 1
  end
end
-- This claim holds the job (or Redis lost the job's hash: no other claim can hold it).
local trimmed = 0
if owned then
  redis.call('LREM', KEYS[2], 1, doc)
  if status == 'retrying' then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('ZADD', KEYS[4], now + tonumber(ARGV[5]), doc)
  elseif status == 'dead' then
    redis.call('LPUSH', KEYS[5], ARGV[12])
    trimmed = trim_dead(KEYS[5], KEYS[7], tonumber(ARGV[15]))
  elseif status == 'preempted' then
    redis.call('RPUSH', KEYS[3], doc)
  elseif status == 'rerouted' then
    redis.call('RPUSH', KEYS[8], ARGV[17])
  end
end
if has_id then
  local state = ({succeeded = 'succeeded', retrying = 'delayed', dead = 'dead',
                  preempted = 'pending', cancelled = 'cancelled', rerouted = 'rerouted'})[status]
  redis.call('HSET', KEYS[1], 'state', state, 'result', result, 'updated_at', ARGV[10],
             'done_token', ARGV[8], 'worker', ARGV[13])
  -- The attempt is over: no claim holds the job until the next Start.
  redis.call('HDEL', KEYS[1], 'progress', 'start_token')
  if status == 'preempted' and owned then
    redis.call('HINCRBY', KEYS[1], 'attempt', -1)
  end
  if state == 'succeeded' or state == 'dead' or state == 'cancelled' or state == 'rerouted' then
    redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
  else
    redis.call('PERSIST', KEYS[1])
  end
  if status == 'rerouted' and owned then
    move_job_hash(KEYS[1], KEYS[9], id, result)
  end
end
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[7], '*', 'id', id, 'status', status,
           'result', result)
redis.call('PUBLISH', ARGV[9], cjson.encode({type = 'state', id = id, state = status,
  to = status == 'rerouted' and ARGV[16] or nil, at = ARGV[10]}))
if has_id then
  -- A rerouted member's source hash says `rerouted`: it counts as pending until it ends in the
  -- queue it moved to (its group and group_queue moved with its hash).
  group_step(KEYS[1], id, doc, redis.call('HGET', KEYS[1], 'state'), result, ARGV[10], ARGV[6],
             ARGV[7])
end
return {1, trimmed, fell_back}
)lua");
  return script;
}

const RedisScript& QueueScripts::Hold() {
  static const RedisScript script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 and
   (redis.call('HGET', KEYS[1], 'start_token') ~= ARGV[2] or
    not redis.call('LPOS', KEYS[2], ARGV[1])) then
  return 0
end
-- Still this claim's: renewing the heartbeat keeps recovery off the job for the whole TTL.
redis.call('SET', KEYS[3], ARGV[3], 'PX', tonumber(ARGV[4]))
redis.call('SADD', KEYS[4], ARGV[5])
return 1
)lua");
  return script;
}

const RedisScript& QueueScripts::DeadLetterBadJob() {
  static const RedisScript script(std::string(kTrimDeadLua) + kGroupStepLua + R"lua(
-- Only the worker that still holds the document writes anything: a repeat after a lost reply,
-- or a document another worker recovered meanwhile, must not add a second dead entry.
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
  return {0, 0}
end
redis.call('LPUSH', KEYS[2], ARGV[2])
local trimmed = trim_dead(KEYS[2], KEYS[5], tonumber(ARGV[9]))
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[4], 'state', 'dead', 'result', ARGV[3], 'updated_at', ARGV[8])
  redis.call('EXPIRE', KEYS[4], tonumber(ARGV[6]))
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'id', ARGV[4], 'status', 'dead',
           'result', ARGV[3])
redis.call('PUBLISH', ARGV[7], cjson.encode({type = 'state', id = ARGV[4], state = 'dead',
  reason = 'bad_job', at = ARGV[8]}))
if ARGV[4] ~= '' then
  group_step(KEYS[4], ARGV[4], ARGV[1], 'dead', ARGV[3], ARGV[8], ARGV[6], ARGV[5])
end
return {1, trimmed}
)lua");
  return script;
}

// The recovery script, outside Recover() so that the function stays within the size limit.
constexpr const char kRecoverLua[] = R"lua(
local w, queue, default_max = ARGV[1], ARGV[2], tonumber(ARGV[3])
if ARGV[9] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, {}, 0}
end
local n = 0
local trimmed = 0
local started = {}
while true do
  local doc = redis.call('RPOP', KEYS[2])
  if not doc then break end
  n = n + 1
  local ok, job = pcall(cjson.decode, doc)
  local id = nil
  local max = default_max
  if ok and type(job) == 'table' then
    if type(job.id) == 'string' and string.len(job.id) <= 128 and
       string.match(job.id, '^[%w%._:%-]+$') then
      id = job.id
    end
    if type(job.max_attempts) == 'number' and job.max_attempts >= 1 then
      max = job.max_attempts
    end
  end
  local attempt, state, ran = 0, nil, false
  local hash = nil
  if id then
    hash = queue .. ':job:' .. id
    attempt = tonumber(redis.call('HGET', hash, 'attempt') or '0') or 0
    state = redis.call('HGET', hash, 'state')
    -- Started by this worker's claim: the claim's token is still the job's (whatever `state`
    -- says). Removing it fences that attempt: it can no longer publish or record an outcome.
    ran = redis.call('HEXISTS', hash, 'start_token') == 1 and
          redis.call('HGET', hash, 'worker') == w
  end
  if ran then
    redis.call('HDEL', hash, 'start_token')
    local dead = attempt >= max
    table.insert(started, doc)
    table.insert(started, attempt)
    table.insert(started, dead and 1 or 0)
    local status = dead and 'dead' or 'retrying'
    -- Built by hand, in the documented key order (docs/queue.md): cjson writes an empty table as {} where the document has
    -- arrays. What only the lost worker knew (start, progress, ffmpeg, audit, trace) is null.
    local result_json = '{"id":' .. cjson.encode(id) ..
      ',"attempt":' .. cjson.encode(attempt) ..
      ',"status":' .. cjson.encode(status) ..
      ',"reason":"worker_lost","retryable":true' ..
      ',"message":' .. cjson.encode('worker ' .. w ..
          ' stopped heartbeating while running this job; recovered by ' .. ARGV[4]) ..
      ',"exit":null,"started_at":null,"finished_at":' .. cjson.encode(ARGV[5]) ..
      ',"duration_s":null,"progress":null,"outputs":[]' ..
      ',"ffmpeg":{"path":null,"version":null,"buildconf_sha256":null,"libraries":null}' ..
      ',"args":null,"inputs":null,"image":null' ..
      ',"worker":{"id":' .. cjson.encode(w) .. ',"pod":null,"node":null}' ..
      ',"stderr_tail":[],"trace_id":null}'
    if dead then
      redis.call('LPUSH', KEYS[4], '{"job":' .. cjson.encode(doc) .. ',"result":' .. result_json ..
                 '}')
      trimmed = trimmed + trim_dead(KEYS[4], KEYS[7], tonumber(ARGV[10]))
      redis.call('HSET', hash, 'state', 'dead', 'result', result_json, 'updated_at', ARGV[5])
      redis.call('HDEL', hash, 'progress')
      redis.call('EXPIRE', hash, tonumber(ARGV[7]))
    else
      redis.call('RPUSH', KEYS[3], doc)
      redis.call('HSET', hash, 'state', 'pending', 'result', result_json, 'updated_at', ARGV[5])
      redis.call('HDEL', hash, 'progress')
    end
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[6], '*', 'id', id, 'status', status,
               'result', result_json)
    redis.call('PUBLISH', ARGV[8], cjson.encode({type = 'state', id = id,
      state = dead and 'dead' or 'pending', reason = 'worker_lost', at = ARGV[5]}))
    group_step(hash, id, doc, dead and 'dead' or 'pending', result_json, ARGV[5], ARGV[7],
               ARGV[6])
  else
    -- Claimed but never started: no attempt was used. Back to the head of pending (a copy of
    -- a job that ended stays ended: Start drops it).
    redis.call('RPUSH', KEYS[3], doc)
    if hash and state and state ~= 'succeeded' and state ~= 'dead' and state ~= 'cancelled' then
      redis.call('HSET', hash, 'state', 'pending', 'updated_at', ARGV[5])
      group_step(hash, id, doc, 'pending', nil, ARGV[5])
    end
  end
end
if ARGV[9] ~= '1' then
  redis.call('SREM', KEYS[6], w)
end
return {n, started, trimmed}
)lua";

const RedisScript& QueueScripts::Recover() {
  static const RedisScript script(std::string(kTrimDeadLua) + kGroupStepLua + kRecoverLua);
  return script;
}

const RedisScript& QueueScripts::ReturnUnheld() {
  static const RedisScript script(R"lua(
local held = {}
for i = 1, #ARGV do held[ARGV[i]] = (held[ARGV[i]] or 0) + 1 end
local n = 0
for _, doc in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if (held[doc] or 0) > 0 then
    held[doc] = held[doc] - 1
  else
    redis.call('LREM', KEYS[1], 1, doc)
    redis.call('RPUSH', KEYS[2], doc)
    n = n + 1
  end
end
return n
)lua");
  return script;
}

const RedisScript& QueueScripts::PromoteDelayed() {
  static const RedisScript script(std::string(kGroupStepLua) + R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local docs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, doc in ipairs(docs) do
  redis.call('ZREM', KEYS[1], doc)
  redis.call('RPUSH', KEYS[2], doc)
  local ok, job = pcall(cjson.decode, doc)
  if ok and type(job) == 'table' and type(job.id) == 'string' and string.len(job.id) <= 128
     and string.match(job.id, '^[%w%._:%-]+$') then
    local hash = ARGV[1] .. ':job:' .. job.id
    if redis.call('HGET', hash, 'state') == 'delayed' then
      redis.call('HSET', hash, 'state', 'pending', 'updated_at', ARGV[4])
      group_step(hash, job.id, doc, 'pending', nil, ARGV[4])
    end
    redis.call('PUBLISH', ARGV[3], cjson.encode({type = 'state', id = job.id, state = 'pending',
      at = ARGV[4]}))
  end
end
return #docs
)lua");
  return script;
}

const RedisScript& QueueScripts::Cancel() {
  static const RedisScript script(R"lua(
local state = redis.call('HGET', KEYS[1], 'state') or ''
if state == 'succeeded' or state == 'dead' or state == 'cancelled' then
  return state
end
redis.call('HSET', KEYS[1], 'cancel_requested', ARGV[1], 'updated_at', ARGV[1])
if state == '' then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
end
redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'cancel', id = ARGV[3], state = state,
  at = ARGV[1]}))
return state
)lua");
  return script;
}

const RedisScript& QueueScripts::Enqueue() {
  static const RedisScript script(std::string(kGroupStepLua) + R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'succeeded' and state ~= 'dead' and state ~= 'cancelled' then
  return {0, state}
end
local group = ARGV[5]
if group ~= '' then
  local outcome = redis.call('HGET', string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[4] - 5) ..
                             ':group:' .. group, 'outcome')
  if outcome then return {2, outcome} end  -- the group has ended (docs/queue.md "Job groups")
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'pending', 'attempt', 0, 'updated_at', ARGV[2])
if group ~= '' then
  redis.call('HSET', KEYS[1], 'group', group)
  group_step(KEYS[1], ARGV[4], ARGV[1], 'pending', nil, ARGV[2])
end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[3], cjson.encode({type = 'state', id = ARGV[4], state = 'pending',
  at = ARGV[2]}))
return {1, 'pending'}
)lua");
  return script;
}

}  // namespace ffpod
