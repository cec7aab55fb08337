#include "supervisor/queue/dead_scripts.h"

#include "supervisor/queue/group_lua.h"

namespace ffpod {

const RedisScript& DeadScripts::Retry() {
  static const RedisScript script(std::string(kGroupStepLua) + R"lua(
local has_id = ARGV[6] == '1'
if has_id then
  local state = redis.call('HGET', KEYS[3], 'state')
  if state and state ~= 'dead' then
    -- Another copy of the job is queued, running or ended since: retrying this entry would
    -- duplicate it (or rerun an ended job).
    return {0, state}
  end
end
if redis.call('LREM', KEYS[1], tonumber(ARGV[#ARGV]), ARGV[1]) == 0 then
  return {0, ''}
end
redis.call('RPUSH', KEYS[2], ARGV[2])
if has_id then
  redis.call('HSET', KEYS[3], 'state', 'pending', 'attempt', 0, 'updated_at', ARGV[3],
             'dead_retried_at', ARGV[3])
  redis.call('HINCRBY', KEYS[3], 'dead_retries', 1)
  redis.call('HDEL', KEYS[3], 'progress', 'start_token', 'cancel_requested')
  redis.call('PERSIST', KEYS[3])
  -- A member of a group that had ended reopens it (docs/queue.md "Job groups").
  group_step(KEYS[3], ARGV[5], ARGV[2], 'pending', nil, ARGV[3])
end
redis.call('HINCRBY', KEYS[4], 'retried', 1)
redis.call('PUBLISH', ARGV[4], cjson.encode({type = 'state', id = ARGV[5], state = 'pending',
  reason = 'dead_retry', at = ARGV[3]}))
return {1, 'pending'}
)lua");
  return script;
}

const RedisScript& DeadScripts::Purge() {
  static const RedisScript script(R"lua(
if redis.call('LREM', KEYS[1], tonumber(ARGV[#ARGV]), ARGV[1]) == 0 then
  return 0
end
if ARGV[5] == '1' and redis.call('HGET', KEYS[2], 'state') == 'dead' then
  redis.call('DEL', KEYS[2])
end
redis.call('HINCRBY', KEYS[3], 'purged', 1)
redis.call('PUBLISH', ARGV[3], cjson.encode({type = 'state', id = ARGV[4], state = 'purged',
  at = ARGV[2]}))
return 1
)lua");
  return script;
}

}  // namespace ffpod
