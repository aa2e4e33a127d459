// The Lua scripts of the Redis L2. Times are Redis' own clock (ms), so replicas with skewed
// clocks compare them correctly. Stored values are laid out in value.ts.

/** The value is a token's lock owner id; returns the new fencing token, or false when held. */
export const LOCK = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return fence
end
return false`;

/** Deletes the lock only if we still own it (a holder whose lease lapsed must not free another's). */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Extends the lease only if we still own the lock (fenced by the owner id): 1, else 0. */
export const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** Redis' clock, ms: the written-at of a value is sealed with it, so it is read before the write. */
export const TIME = `
local t = redis.call('TIME')
return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Writes a value unless a newer lock holder exists (fencing: 0) or its written-at (sealed into the
 * value) is ahead of Redis' clock (2). 1 when written.
 */
export const SET = `
if ARGV[3] ~= '' then
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if current > tonumber(ARGV[3]) then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[4]) > now then return 2 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * Reads a value with Redis' time, in one round trip: false when it is absent, expired, or one of
 * its tags was invalidated at or after it was written. The fields it decides on are the ones the
 * client then authenticates (the AES-GCM associated data), so a tampered prefix cannot make it
 * serve a value: such a value fails to decrypt. A value of another layout is returned as it is,
 * for the client to refuse.
 */
export const GET = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local w, e, tags = string.match(v, '^v2|(%d+)|(%d+)|([^|]*)|')
if not w then return {v, now} end
if tonumber(e) <= now then return false end
local written = tonumber(w)
for tag in string.gmatch(tags, '[^,]+') do
  local at = redis.call('GET', ARGV[1] .. tag)
  if at and tonumber(at) >= written then return false end
end
return {v, now}`;

/** Records "every entry with this tag written until now is invalid", on the server's clock. */
export const INVALIDATE = `
local t = redis.call('TIME')
redis.call('SET', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), 'PX', ARGV[1])
return 1`;
