// The Lua helper that keeps a job group's counts (docs/queue.md "Job groups"), prepended to
// every queue script that changes a job's state, so the counts change in the same atomic step
// as the job.
//
// Keys, for a job hash `Q:job:<id>` whose job belongs to group G: `Q:group:G` (hash: total,
// pending, running, delayed, succeeded, dead, cancelled, created_at, updated_at, reopened; size,
// the largest `group_size` a member's document gave (the group does not end before it);
// once every member ended also outcome, result, finished_at) and `Q:group:G:members` (hash:
// member id -> JSON {state, reason, attempt, message, finished_at}). Both start with the queue
// name, the hash tag of a queue under Redis Cluster, so they live in the queue's slot.
//
// group_step(job_hash, id, doc, state, result, at, ttl, maxlen) records that the job moved to
// `state` (pending|running|delayed|succeeded|dead|cancelled; any other counts as pending, so
// the group does not end while the member is elsewhere). The group comes from the job
// hash's `group` field, else from the document's `group` field (a producer's plain LPUSH; the
// member joins at its first step); its keys are in the queue the hash's `group_queue` names,
// else in the job's own queue (both fields are set when the member joins, so a member moved to
// another queue's pending list with these fields in its hash there stays in its group).
//
// Idempotent: a member already recorded in `state` changes nothing, and a move is counted from
// the member's recorded state, so a repeated step after a lost reply cannot count twice. The
// step that ends the group's last active member writes the group's outcome: one entry on
// Q:results (id = G, status succeeded|partial|failed, kind group, result = the group document)
// and one `group` event. A member that becomes active again (`ffpod dead retry`) reopens a
// finished group; its next end writes a new outcome.
#pragma once

namespace ffpod {

inline constexpr char kGroupStepLua[] = R"lua(
local function group_of(job_hash, doc)
  local g = redis.call('HGET', job_hash, 'group')
  if not g and doc and string.find(doc, '"group"', 1, true) then  -- decode only a member's
    local ok, job = pcall(cjson.decode, doc)
    if ok and type(job) == 'table' then g = job.group end
  end
  if type(g) ~= 'string' or string.len(g) > 128 or not string.match(g, '^[%w%._:%-]+$') then
    return nil
  end
  return g
end

-- The member's record for `state`: what its result says when it ended.
local function group_member(state, result, at)
  local m = {state = state}
  if state == 'succeeded' or state == 'dead' or state == 'cancelled' then
    m.finished_at = at
    local ok, r = pcall(cjson.decode, result or '')
    if ok and type(r) == 'table' then
      if type(r.reason) == 'string' then m.reason = r.reason end
      if type(r.attempt) == 'number' then m.attempt = r.attempt end
      if type(r.message) == 'string' then
        -- At most 300 bytes, cut before a character (a UTF-8 continuation byte is 128-191).
        local n = math.min(#r.message, 300)
        while n < #r.message and n > 0 and string.byte(r.message, n + 1) >= 128 and
              string.byte(r.message, n + 1) < 192 do
          n = n - 1
        end
        m.message = string.sub(r.message, 1, n)
      end
    end
  end
  return m
end

local function group_finish(prefix, gid, at, ttl, maxlen)
  local key = prefix .. ':group:' .. gid
  local g = redis.call('HGETALL', key)
  local c = {}
  for i = 1, #g, 2 do c[g[i]] = g[i + 1] end
  local function n(f) return tonumber(c[f] or '0') or 0 end
  if n('pending') + n('running') + n('delayed') > 0 or n('total') < n('size') or c.outcome then
    return
  end
  local raw = redis.call('HGETALL', key .. ':members')
  local ids, recs = {}, {}
  for i = 1, #raw, 2 do
    table.insert(ids, raw[i])
    recs[raw[i]] = cjson.decode(raw[i + 1])
  end
  table.sort(ids)
  local members, failed, first, last = {}, {}, nil, nil
  for _, id in ipairs(ids) do
    local m = recs[id]
    local fa = m.finished_at
    if fa and (not first or fa < first) then first = fa end
    if fa and (not last or fa > last) then last = fa end
    table.insert(members, '{"id":' .. cjson.encode(id) .. ',"status":' .. cjson.encode(m.state) ..
      ',"reason":' .. cjson.encode(m.reason) .. ',"attempt":' .. cjson.encode(m.attempt) ..
      ',"finished_at":' .. cjson.encode(fa) .. '}')
    if m.state ~= 'succeeded' then
      table.insert(failed, '{"id":' .. cjson.encode(id) .. ',"status":' ..
        cjson.encode(m.state) .. ',"reason":' .. cjson.encode(m.reason) .. ',"message":' ..
        cjson.encode(m.message) .. '}')
    end
  end
  local total, ok = n('total'), n('succeeded')
  local status = (ok == total and 'succeeded') or (ok == 0 and 'failed') or 'partial'
  local counts = '{'
  for i, f in ipairs({'pending', 'running', 'delayed', 'succeeded', 'dead', 'cancelled'}) do
    counts = counts .. (i > 1 and ',' or '') .. '"' .. f .. '":' .. n(f)
  end
  local doc = '{"id":' .. cjson.encode(gid) .. ',"status":' .. cjson.encode(status) ..
    ',"total":' .. total .. ',"size":' .. cjson.encode(tonumber(c.size)) ..
    ',"counts":' .. counts .. '}' ..
    ',"members":[' .. table.concat(members, ',') .. ']' ..
    ',"failed":[' .. table.concat(failed, ',') .. ']' ..
    ',"created_at":' .. cjson.encode(c.created_at) ..
    ',"first_finished_at":' .. cjson.encode(first) ..
    ',"last_finished_at":' .. cjson.encode(last) ..
    ',"finished_at":' .. cjson.encode(at) .. ',"reopened":' .. n('reopened') .. '}'
  redis.call('HSET', key, 'outcome', status, 'result', doc, 'finished_at', at)
  redis.call('EXPIRE', key, tonumber(ttl))
  redis.call('EXPIRE', key .. ':members', tonumber(ttl))
  redis.call('XADD', prefix .. ':results', 'MAXLEN', '~', maxlen, '*',
             'id', gid, 'status', status, 'result', doc, 'kind', 'group')
  redis.call('PUBLISH', prefix .. ':events', cjson.encode({type = 'group',
    id = gid, state = status, total = total, succeeded = ok, failed = total - ok, at = at}))
end

local kGroupStates = {pending = true, running = true, delayed = true, succeeded = true,
                     dead = true, cancelled = true}

local function group_step(job_hash, id, doc, state, result, at, ttl, maxlen)
  local gid = group_of(job_hash, doc)
  if not gid then return end
  -- A state of no count (a move to another queue, say) waits like pending: the group stays open.
  if not kGroupStates[state] then state = 'pending' end
  -- The group's queue: where the member joined (a member moved to another queue stays in it).
  local prefix = redis.call('HGET', job_hash, 'group_queue') or
                 string.sub(job_hash, 1, #job_hash - #id - 5)  -- Q, from Q:job:<id>
  redis.call('HSET', job_hash, 'group', gid, 'group_queue', prefix)
  local key = prefix .. ':group:' .. gid
  local prev = redis.call('HGET', key .. ':members', id)
  prev = prev and cjson.decode(prev).state or nil
  if prev == state then return end
  if prev then
    redis.call('HINCRBY', key, prev, -1)
  else
    redis.call('HINCRBY', key, 'total', 1)
    redis.call('HSETNX', key, 'created_at', at)
    local ok, job = pcall(cjson.decode, doc or '')
    local size = ok and type(job) == 'table' and tonumber(job.group_size)
    if size and size > tonumber(redis.call('HGET', key, 'size') or '0') then
      redis.call('HSET', key, 'size', size)  -- the group waits for that many members
    end
  end
  redis.call('HINCRBY', key, state, 1)
  redis.call('HSET', key, 'updated_at', at)
  redis.call('HSET', key .. ':members', id, cjson.encode(group_member(state, result, at)))
  if state == 'pending' or state == 'running' or state == 'delayed' then
    if redis.call('HEXISTS', key, 'outcome') == 1 then
      redis.call('HDEL', key, 'outcome', 'result', 'finished_at')
      redis.call('HINCRBY', key, 'reopened', 1)
    end
    redis.call('PERSIST', key)
    redis.call('PERSIST', key .. ':members')
    return
  end
  group_finish(prefix, gid, at, ttl, maxlen)
end
)lua";

}  // namespace ffpod
