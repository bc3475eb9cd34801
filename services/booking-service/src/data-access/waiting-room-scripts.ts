/**
 * The waiting room's Redis scripts (Lua: each runs atomically, in one round trip). KEYS and ARGV are documented
 * where the store calls them (waiting-room-store.ts, which also lists the keys).
 */

// KEYS: config, early, queue, admitted, joined. ARGV: user, now.
export const JOIN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
local cfg = redis.call('HMGET', KEYS[1], 'state', 'sold_out')
if cfg[2] == '1' then return {'sold_out'} end
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then return {'admitted'} end
if cfg[1] == 'pre' then
  if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then redis.call('HSET', KEYS[5], ARGV[1], ARGV[2]) end
  return {'early'}
end
local place = redis.call('ZSCORE', KEYS[3], ARGV[1])
if place then return {'queued', place} end
place = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('ZADD', KEYS[3], place, ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
return {'queued', tostring(place)}
`;

// KEYS: config, early, queue, admitted. ARGV: user.
export const STATUS = `
local cfg = redis.call('HGETALL', KEYS[1])
local early = redis.call('SISMEMBER', KEYS[2], ARGV[1])
local rank = redis.call('ZRANK', KEYS[3], ARGV[1])
local admitted = redis.call('ZSCORE', KEYS[4], ARGV[1])
local place = redis.call('ZSCORE', KEYS[3], ARGV[1])
return {cfg, early, rank or -1, admitted or '', redis.call('ZCARD', KEYS[3]), redis.call('SCARD', KEYS[2]), place or ''}
`;

// KEYS: config, early, queue. ARGV: now, then the early joiners in the drawn order. Anyone who joined between the SMEMBERS the order was
// drawn from and this script goes behind them (they joined at the opening moment).
export const OPEN = `
if redis.call('HGET', KEYS[1], 'state') ~= 'pre' then return 0 end
local place = 0
for i = 2, #ARGV do
  place = place + 1
  redis.call('ZADD', KEYS[3], place, ARGV[i])
end
for _, user in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not redis.call('ZSCORE', KEYS[3], user) then
    place = place + 1
    redis.call('ZADD', KEYS[3], place, user)
  end
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'state', 'open', 'seq', place, 'opened_at', ARGV[1], 'credit', 0, 'last_tick', ARGV[1])
return place
`;

// KEYS: config, early, queue, admitted, held, joined. ARGV: now, admissions wanted, expected last_tick, credit after admitting them all, hold ms, slots.
export const ADMIT = `
if redis.call('HGET', KEYS[1], 'last_tick') ~= ARGV[3] then return {0} end
local now = tonumber(ARGV[1])
local abandoned = 0
for _, user in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)) do
  if redis.call('SREM', KEYS[5], user) == 0 then abandoned = abandoned + 1 end
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local free = tonumber(ARGV[6]) - (redis.call('ZCARD', KEYS[4]) - redis.call('SCARD', KEYS[5]))
local wanted = math.min(tonumber(ARGV[2]), math.max(free, 0))
local out = {1, abandoned}
local admitted = 0
if wanted > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[3], wanted)
  for i = 1, #popped, 2 do
    local user = popped[i]
    redis.call('ZADD', KEYS[4], now + tonumber(ARGV[5]), user)
    out[#out + 1] = user
    out[#out + 1] = redis.call('HGET', KEYS[6], user) or ''
    redis.call('HDEL', KEYS[6], user)
    admitted = admitted + 1
  end
end
local credit = tonumber(ARGV[4]) - admitted
if admitted < tonumber(ARGV[2]) then credit = math.min(credit, 1) end
redis.call('HSET', KEYS[1], 'last_tick', ARGV[1], 'credit', tostring(credit))
local head = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
out[#out + 1] = head[2] or ''
out[#out + 1] = redis.call('ZCARD', KEYS[3])
return out
`;

// KEYS: config, sessions. ARGV: opens_at ms, rate, hold seconds, session id.
export const CONFIGURE = `
if redis.call('HGET', KEYS[1], 'state') == 'open' then
  redis.call('HSET', KEYS[1], 'rate', ARGV[2], 'hold_seconds', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'state', 'pre', 'opens_at', ARGV[1], 'rate', ARGV[2], 'hold_seconds', ARGV[3])
end
redis.call('SADD', KEYS[2], ARGV[4])
return 1
`;

// KEYS: admitted, held. ARGV: user.
export const MARK_HELD = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return redis.call('SADD', KEYS[2], ARGV[1]) end
return 0
`;

// KEYS: all six of the session. ARGV: seconds the keys live on. Sold out: everyone still waiting is told through the flag; their places are no longer needed.
export const SELL_OUT = `
if redis.call('HGET', KEYS[1], 'sold_out') == '1' then return -1 end
local waiting = redis.call('ZCARD', KEYS[3]) + redis.call('SCARD', KEYS[2])
redis.call('HSET', KEYS[1], 'sold_out', '1')
redis.call('DEL', KEYS[2], KEYS[3], KEYS[6])
for i = 1, 6 do redis.call('EXPIRE', KEYS[i], ARGV[1]) end
return waiting
`;

// KEYS: ticker. ARGV: instance id, lease ms. Takes the lease, or renews it when this instance holds it.
export const LEAD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;

// KEYS: ticker. ARGV: instance id.
export const RESIGN = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
